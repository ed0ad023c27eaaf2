"""The simulated users' wording: hand-written, unseen by the parser, deterministic for a seed."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np
import pytest

import generec
from generec.datasets import instructions
from generec.datasets.instructions import CONCEPT_PHRASES, KINDS, LOOK_PHRASES, TEMPLATES, user_rng, write_instruction
from generec.errors import InputError

SRC = Path(generec.__file__).parent
CONCEPTS = tuple(CONCEPT_PHRASES)
WORD = re.compile(r"[a-z]+")


def literals(paths) -> set[str]:
    """Every string literal in these Python files, whole and split into words (the form the
    parser's tables are written in: '''cat kitten ...'''.split())."""
    out: set[str] = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value.lower().strip()
                out.add(text)
                out.update(text.split())
    return out


def forms(word: str) -> set[str]:
    """A table word and the plurals a parser derives from it."""
    return {word, word + "s", word + "es", word[:-1] + "ies" if word.endswith("y") else word}


def parser_lexicon() -> set[str]:
    """Every phrase the instructor's code holds (its synonym, style and cue tables), with plurals."""
    words = literals(sorted((SRC / "instructor").rglob("*.py")))
    return {f for w in words for f in forms(w)}


def parser_sentences() -> set[str]:
    """Every instruction the instructor's labelled sets and exemplars hold."""
    out = {t for t in literals(sorted((SRC / "instructor").rglob("*.py"))) if " " in t}
    for path in [*(SRC / "instructor").rglob("*.jsonl"), *(SRC.parents[1] / "tests" / "instructor").rglob("*.jsonl")]:
        out.update(m.lower().strip() for m in re.findall(r'"text"\s*:\s*"((?:[^"\\]|\\.)*)"', path.read_text()))
    return out


def every_text(seeds=range(3), users=40) -> list[str]:
    out = []
    for seed in seeds:
        for u in range(users):
            rng = user_rng(seed, f"u{u:05d}")
            x, y = CONCEPTS[u % len(CONCEPTS)], CONCEPTS[(u + 3) % len(CONCEPTS)]
            look = tuple(LOOK_PHRASES)[u % len(LOOK_PHRASES)]
            out += [write_instruction(k, x, rng, exclude=y, look=look, seconds=7).text for k in KINDS]
    return out


def test_wording_is_deterministic_per_user_and_seed():
    def texts(seed: int, users: list[str]) -> dict[str, str]:
        return {u: write_instruction("exclude", "animal", user_rng(seed, u), exclude="food").text for u in users}

    users = [f"u{i:05d}" for i in range(30)]
    assert texts(0, users) == texts(0, users)
    # a user's words do not depend on who else is sampled
    assert texts(0, users[::-1][:7]) == {u: texts(0, users)[u] for u in users[::-1][:7]}
    assert texts(0, users) != texts(1, users)
    assert len(set(texts(0, users).values())) >= 15  # users word it differently


def test_templates_fill_every_slot():
    for kind, templates in TEMPLATES.items():
        for template in templates:
            slots = set(re.findall(r"{(\w+)}", template))
            assert "x" in slots and slots <= {"x", "y", "d", "look"}, template
            assert ("y" in slots) == (kind == "exclude") and ("d" in slots) == (kind == "duration"), template
            assert ("look" in slots) == (kind in ("look", "create")), template
    text = write_instruction("duration", "space", user_rng(0, "u1"), seconds=9)
    assert "9" in text.text and text.include in text.text and "{" not in text.text


def test_phrasings_are_not_the_parsers_tables():
    lexicon = parser_lexicon()
    assert {"cat", "pizza", "galaxy", "monochrome"} <= lexicon  # the tables were found
    phrases = [(c, p) for c, ps in CONCEPT_PHRASES.items() for p in ps]
    unseen = [(c, p) for c, p in phrases if p not in lexicon]
    assert len(unseen) >= 0.5 * len(phrases), sorted(set(phrases) - set(unseen))
    for concept in CONCEPTS:  # every concept is often called something the tables lack
        assert sum(1 for c, _ in unseen if c == concept) >= 4, concept
    looks = [p for ps in LOOK_PHRASES.values() for p in ps]
    assert sum(p not in lexicon for p in looks) >= 0.6 * len(looks)
    # the written instructions are not the parser's exemplars or labelled sets (a short one may
    # coincide, as "buildings please" does)
    seen = parser_sentences()
    assert len(seen) > 100
    texts = set(every_text())
    assert len(texts) > 200 and len(texts & seen) <= 0.02 * len(texts), sorted(texts & seen)


def test_some_words_are_absent_from_the_catalogue():
    catalogue = {w for t in literals([SRC / "datasets" / "microvideo.py"]) for w in WORD.findall(t)}
    for concept, phrases in CONCEPT_PHRASES.items():
        foreign = [p for p in phrases if not set(WORD.findall(p)) & catalogue]
        assert len(foreign) >= 2, (concept, phrases)


def test_the_instructor_never_reads_it():
    for path in (SRC / "instructor").rglob("*"):
        if path.is_file() and path.suffix in (".py", ".jsonl", ".json", ".toml"):
            text = path.read_text()
            assert "datasets.instructions" not in text and "CONCEPT_PHRASES" not in text, path
            assert "generec.datasets" not in text, path
    assert instructions.__name__ == "generec.datasets.instructions"


def test_bad_requests():
    rng = np.random.default_rng(0)
    with pytest.raises(InputError, match="kind 'vibes'"):
        write_instruction("vibes", "animal", rng)
    with pytest.raises(InputError, match="needs its exclude"):
        write_instruction("exclude", "animal", rng)
    with pytest.raises(InputError, match="needs its seconds"):
        write_instruction("duration", "animal", rng)
    with pytest.raises(InputError, match="concept 'football'"):
        write_instruction("concept", "football", rng)
    with pytest.raises(InputError, match="look 'sepia'"):
        write_instruction("look", "animal", rng, look="sepia")
