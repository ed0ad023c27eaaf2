"""Typo correction."""

from __future__ import annotations

from generec.instructor.spelling import Speller


def test_speller_corrects_only_non_words():
    lexicon = {"cats", "show", "flowers", "something"}
    speller = Speller(lexicon, frozenset({"boats", "somethin"}), 0.8, frozenset({"show"}))
    assert speller.correct("caats")[0] == "cats"
    assert speller.correct("boats") == ("boats", 1.0)  # a real word is never "corrected"
    assert speller.correct("somethin")[0] == "something"  # long and nearly identical
    assert speller.correct("sho")[0] == "show"
    assert speller.correct("moar") == ("more", 1.0)
