"""Tokens of one instruction, the tags the parser's steps give them, and word forms (plurals and singulars)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

_TOKEN = re.compile(
    r"\[(?:email|phone|ip|card|url)\]|\d{1,2}:[0-5]\d|\d+(?:st|nd|rd|th)\b|\d+(?:\.\d+)?|[a-z]+\d[a-z\d]*"
    r"|[a-z]+(?:'[a-z]+)?|[^\sa-z0-9]"
)


def tokenize(text: str) -> list[str]:
    """Lower-case word, number and punctuation tokens; hyphens inside words split them ("hand-drawn")."""
    text = text.lower().replace("’", "'").replace("‘", "'").replace("–", "-").replace("—", " - ")
    text = re.sub(r"\bw/o\b", " without ", text)
    text = re.sub(r"\bw/", " with ", text)
    text = re.sub(r"\bb\s*/\s*w\b|\bb\s*&\s*w\b", " b & w ", text)
    raw = _TOKEN.findall(text)
    words: list[str] = []
    for i, tok in enumerate(raw):
        between_words = 0 < i < len(raw) - 1 and raw[i - 1][-1:].isalpha() and raw[i + 1][:1].isalpha()
        if tok in ("-", "_", "'", "/") and between_words:
            continue
        if tok in ("'", '"', "`", "*", "_"):
            continue
        words.append(tok)
    return words


def word_forms(word: str) -> list[str]:
    """A word and its likely singulars: "puppies" -> puppies, puppy; "boxes" -> boxes, boxe, box."""
    forms = [word]
    if len(word) > 3 and word.endswith("ies"):
        forms.append(word[:-3] + "y")
    if len(word) > 3 and word.endswith("es"):
        forms.append(word[:-2])
    if len(word) > 2 and word.endswith("s") and not word.endswith("ss"):
        forms.append(word[:-1])
    return forms


@dataclass
class Tokens:
    """Tokens of one instruction and what each was recognised as (None: a content word so far)."""

    words: list[str]
    tags: list[str | None] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.tags:
            self.tags = [None] * len(self.words)

    def __len__(self) -> int:
        return len(self.words)

    def match(self, i: int, phrase: Sequence[str]) -> bool:
        """Whether the untagged tokens from i on spell `phrase`."""
        if i + len(phrase) > len(self.words):
            return False
        return all(self.words[i + k] == w and self.tags[i + k] is None for k, w in enumerate(phrase))

    def longest(self, i: int, phrases: Sequence[Sequence[str]]) -> int:
        """Length of the longest phrase matching at i (0: none)."""
        best = 0
        for phrase in phrases:
            if len(phrase) > best and self.match(i, phrase):
                best = len(phrase)
        return best

    def tag(self, start: int, end: int, tag: str) -> None:
        for k in range(start, end):
            self.tags[k] = tag


def phrase_tokens(items: Sequence[str]) -> list[tuple[str, ...]]:
    return [tuple(tokenize(p)) for p in items]


def t_has(words: Sequence[str], phrase: Sequence[str]) -> bool:
    n = len(phrase)
    return any(tuple(words[i : i + n]) == tuple(phrase) for i in range(len(words) - n + 1))


def plurals(word: str) -> list[str]:
    if not word.isalpha() or len(word) < 3 or word.endswith("s"):
        return []
    if word.endswith("y") and word[-2] not in "aeiou":
        return [word[:-1] + "ies"]
    if word.endswith(("ch", "sh", "x", "o")):
        return [word + "es", word + "s"]
    return [word + "s"]
