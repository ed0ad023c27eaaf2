"""Include / exclude scopes."""

from __future__ import annotations

import pytest

from generec.instructor.polarity import polarity_scan, tag_complaints, tag_cues, tag_double_negations, tag_sarcasm
from generec.instructor.styles import find_styles
from generec.instructor.tokens import Tokens, tokenize


def scan(text: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    t = Tokens(tokenize(text))
    styles = find_styles(t)
    tag_complaints(t)
    tag_double_negations(t)
    tag_cues(t)
    chunks, styled = polarity_scan(t, styles)
    return [(" ".join(c.words), c.polarity) for c in chunks], [(m.style, p) for m, p in styled]


@pytest.mark.parametrize(
    ("text", "chunks"),
    [
        ("no cats but more dogs", [("cats", "exclude"), ("dogs", "include")]),
        ("no cats, dogs or birds", [("cats", "exclude"), ("dogs", "exclude"), ("birds", "exclude")]),
        ("no cats, show me dogs", [("cats", "exclude"), ("dogs", "include")]),
        ("less people more animals", [("people", "exclude"), ("animals", "include")]),
        ("I don't want to see any more paintings", [("paintings", "exclude")]),
        ("anything but news", [("news", "exclude")]),
        ("flowers yes, buildings no", [("flowers", "neutral"), ("buildings", "exclude")]),
        ("I'd rather see plants than buildings", [("plants", "include"), ("buildings", "exclude")]),
        ("I don't mind animals but no people", [("animals", "include"), ("people", "exclude")]),
        ("without text about architecture", [("text", "exclude"), ("architecture", "neutral")]),
        ("i don't hate dogs", [("dogs", "include")]),
        ("don't stop the cat videos", [("cat", "include")]),
        ("i don't want no cats", [("cats", "exclude")]),
        ("cats? no.", [("cats", "exclude")]),
        ("dogs, no", [("dogs", "exclude")]),
        ("no more cats please, dogs are fine", [("cats", "exclude"), ("dogs", "include")]),
    ],
)
def test_polarity_scope(text, chunks):
    assert scan(text)[0] == chunks


def test_negated_styles():
    assert scan("less dark")[1] == [("dark", "exclude")]
    assert scan("your videos are too dark")[1] == [("dark", "exclude")]
    assert scan("no text, calm")[1] == [("calm", "include")]  # the comma ends the negation for styles


def test_verdicts_after_their_object_exclude():
    assert scan("cats are the worst, stop")[0] == [("cats", "exclude")]
    assert scan("this feed is all dogs, it's getting old")[0] == [("dogs", "exclude")]


def test_sarcasm_needs_an_opener_and_repetition():
    for text, sarcastic in (("oh great, more food videos", True), ("just what i needed, more flowers", True),
                            ("great, more food please", False), ("oh, cats", False), ("wow cats", False)):
        assert tag_sarcasm(Tokens(tokenize(text))) is sarcastic, text


def test_plain_enthusiasm_is_not_sarcasm():
    for text in ("awesome, more cats!", "wow more space videos", "sure, show me more dogs", "great, all the food"):
        assert not tag_sarcasm(Tokens(tokenize(text))), text
    assert tag_sarcasm(Tokens(tokenize("wow, another cat video")))
    assert tag_sarcasm(Tokens(tokenize("oh, great, more food")))
