"""The style lexicon."""

from __future__ import annotations

from generec.instructor.guidance import STYLE_VOCABULARY
from generec.instructor.styles import STYLE_OPPOSITE, STYLE_PHRASES


def test_style_lexicon_covers_the_vocabulary():
    assert set(STYLE_PHRASES) == set(STYLE_VOCABULARY) == set(STYLE_OPPOSITE)
    assert {v for v in STYLE_OPPOSITE.values() if v} <= set(STYLE_VOCABULARY)
