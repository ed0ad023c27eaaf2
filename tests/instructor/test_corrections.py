"""Corrections inside one turn, on tokens."""

from __future__ import annotations

from generec.instructor.corrections import apply_corrections, tag_corrections
from generec.instructor.polarity import polarity_scan, tag_cues
from generec.instructor.styles import find_styles
from generec.instructor.tokens import Tokens, tokenize


def corrected(text: str) -> list[tuple[str, str]]:
    t = Tokens(tokenize(text))
    tag_corrections(t)
    styles = find_styles(t)
    tag_cues(t)
    chunks, styled = polarity_scan(t, styles)
    chunks, _, _ = apply_corrections(t, chunks, styled)
    return [(" ".join(c.words), c.polarity) for c in chunks]


def test_a_later_segment_with_topics_replaces_the_earlier_one():
    assert corrected("no cats. actually wait, I do want cats") == [("cats", "include")]
    assert corrected("show me food, no wait, space") == [("space", "include")]  # takes the replaced polarity


def test_a_cue_alone_repolarises_and_nothing_retracts():
    assert corrected("more text videos. actually no, fewer") == [("text", "exclude")]
    assert corrected("no more food, oh wait i take that back") == []


def test_markers_count_only_at_a_clause_start_after_something_was_said():
    assert corrected("actually, more cats") == [("cats", "include")]  # nothing before it to correct
    t = Tokens(tokenize("cats wait dogs"))
    tag_corrections(t)
    assert "corr" not in t.tags
