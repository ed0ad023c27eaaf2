"""Lengths in an instruction."""

from __future__ import annotations

import pytest

from generec.instructor.durations import combine_durations, extract_durations
from generec.instructor.tokens import Tokens, tokenize


def durations(text: str, trim: bool = False) -> tuple[float | None, float | None]:
    low, high, _ = combine_durations(extract_durations(Tokens(tokenize(text)), trim), tolerance=0.25)
    return low, high


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [
        ("under 10 seconds", None, 10.0),
        ("less than half a minute", None, 30.0),
        ("at least 20 s", 20.0, None),
        ("under 1:30", None, 90.0),
        ("between 5 and 10 seconds", 5.0, 10.0),
        ("between thirty seconds and a minute", 30.0, 60.0),
        ("5-10 sec clips", 5.0, 10.0),
        ("from 10 to 20 seconds", 10.0, 20.0),
        ("shorter than 15s", None, 15.0),
        ("longer than a minute", 60.0, None),
        ("20 seconds max", None, 20.0),
        ("fifteen seconds or longer", 15.0, None),
        ("1 min 30 s or less", None, 90.0),
        ("a minute and a half at most", None, 90.0),
        ("two and a half minutes tops", None, 150.0),
        ("a quarter of a minute or shorter", None, 15.0),
        ("twenty-five seconds or more", 25.0, None),
        ("nothing longer than 40s", None, 40.0),  # a negated comparator flips
        ("no clips under 8 seconds", 8.0, None),
        ("nothing over 1:00", None, 60.0),
        ("no more than 45 seconds", None, 45.0),
        # bare or approximate lengths are +-25 %
        ("a minute or so", 45.0, 75.0),
        ("two minutes", 90.0, 150.0),
        ("ten secs", 7.5, 12.5),
        ("30sec", 22.5, 37.5),
        ("videos about 1:30 long", 67.5, 112.5),
        ("roughly 45s", 33.75, 56.25),
        # not lengths
        ("the second one", None, None),
        ("wait a second", None, None),
        ("top 5 videos", None, None),
        ("item v00030", None, None),
    ],
)
def test_extract_durations(text, low, high):
    assert durations(text) == (low, high)


def test_trim_to_is_a_maximum_only_with_a_trim_verb():
    assert durations("trim it to 10 seconds", trim=True) == (None, 10.0)
    assert durations("to 10 seconds") == (7.5, 12.5)


def test_contradictory_durations_keep_the_last():
    low, high, notes = combine_durations(extract_durations(Tokens(tokenize("over 2 minutes, under 30 seconds"))), 0.25)
    assert (low, high) == (None, 30.0) and notes
