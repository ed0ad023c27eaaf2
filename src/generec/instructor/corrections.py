"""Corrections inside one turn: "no cats. actually wait, I do want cats" -> cats are wanted.

A correction marker ("actually", "no wait", "sorry i meant", "scratch that", "never mind", or a bare
"no," that opens a clause after something was said) at the start of a clause splits the instruction
into segments; each segment revises what came before it (`apply_corrections`):

- a segment with topics replaces the earlier ones; its topics said without a cue take the
  polarity the replaced ones had ("show me food, no wait, space" -> space is wanted);
- a segment without topics but with a cue re-polarises the earlier topics ("more text videos.
  actually no, fewer" -> text is unwanted);
- a segment with neither retracts them ("no more food, oh wait i take that back" -> nothing).
"""

from __future__ import annotations

from collections.abc import Sequence

from generec.instructor.polarity import EXCLUDE, INCLUDE, NEUTRAL, Chunk
from generec.instructor.styles import StyleMention
from generec.instructor.tokens import Tokens, phrase_tokens

CORRECTIONS = (
    "actually", "actually wait", "actually no", "actually make that", "hmm actually", "no wait", "oh wait", "wait",
    "wait no", "sorry i meant", "sorry i mean", "i meant", "i mean", "scratch that", "make that", "never mind",
    "nevermind", "i take that back", "take that back", "on second thought", "on second thoughts", "forget that",
    "forget it", "correction", "no no",
)  # fmt: skip
_CORRECTIONS = sorted(phrase_tokens(CORRECTIONS), key=len, reverse=True)
_CLAUSE_END = frozenset(".,!?;-:")
_LEAD_INS = frozenset("oh hmm um uh ah".split())


def tag_corrections(t: Tokens) -> None:
    """Tag correction markers "corr": only at the start of a clause and after some words were said."""
    i = 0
    while i < len(t):
        prev = i - 1
        while prev >= 0 and t.words[prev] in _LEAD_INS:
            prev -= 1
        at_clause_start = prev >= 0 and (t.words[prev] in _CLAUSE_END or t.tags[prev] == "corr")
        said_before = any(w.isalpha() for w in t.words[: max(prev, 0)])
        if t.tags[i] is not None or not at_clause_start or not said_before:
            i += 1
            continue
        n = t.longest(i, _CORRECTIONS)
        if not n and t.words[i] in ("no", "nope", "nah") and t.words[i + 1 : i + 2] == [","]:
            n = 1  # "more science - no, more art"
        if n:
            start = prev + 1 if t.words[prev + 1 : i] and all(w in _LEAD_INS for w in t.words[prev + 1 : i]) else i
            t.tag(start, i + n, "corr")
            i += n
        else:
            i += 1


def apply_corrections(
    t: Tokens, chunks: Sequence[Chunk], styles: Sequence[tuple[StyleMention, str]]
) -> tuple[list[Chunk], list[tuple[StyleMention, str]], list[str]]:
    """(chunks, styles, notes) after every correction marker revised what came before it."""
    marks = [k for k, tag in enumerate(t.tags) if tag == "corr" and (k == 0 or t.tags[k - 1] != "corr")]
    if not marks:
        return list(chunks), list(styles), []
    bounds = [*marks, len(t)]
    current = [c for c in chunks if c.start < marks[0]]
    kept_styles = list(styles)
    notes: list[str] = []
    for m, end in zip(bounds, bounds[1:]):
        segment = [c for c in chunks if m <= c.start < end]
        seg_tags = t.tags[m:end]
        said = " ".join(w for w, tag in zip(t.words[m:end], seg_tags) if tag != "corr")
        if segment:
            before = [c.polarity for c in current if c.polarity != NEUTRAL]
            default = before[-1] if before else NEUTRAL
            current = [Chunk(c.words, default if c.polarity == NEUTRAL else c.polarity, c.start) for c in segment]
            if any(s.start >= m for s, _ in styles):
                kept_styles = [(s, p) for s, p in kept_styles if s.start >= m]
            notes.append(f"correction: {said.strip()!r} replaces what came before")
        elif "neg" in seg_tags or "inc" in seg_tags:
            polarity = EXCLUDE if "neg" in seg_tags else INCLUDE
            current = [Chunk(c.words, polarity, c.start) for c in current]
            notes.append(f"correction: {said.strip()!r} changes what came before")
        elif current:
            current = []
            notes.append("correction: what came before was taken back")
    return current, kept_styles, notes
