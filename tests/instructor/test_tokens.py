"""Tokenising an instruction."""

from __future__ import annotations

from generec.instructor.tokens import plurals, tokenize, word_forms


def test_tokenize_splits_hyphenated_words_and_keeps_ranges():
    assert tokenize("Hand-drawn, faster-paced 5-10 sec") == [
        "hand", "drawn", ",", "faster", "paced", "5", "-", "10", "sec",
    ]  # fmt: skip
    assert tokenize("b&w w/ cats w/o text") == ["b", "&", "w", "with", "cats", "without", "text"]
    assert tokenize("item v00123, the 2nd one, 1:30, #3") == [
        "item", "v00123", ",", "the", "2nd", "one", ",", "1:30", ",", "#", "3",
    ]  # fmt: skip


def test_word_forms_and_plurals_are_inverse_on_plain_nouns():
    for word in ("puppy", "box", "cat", "tomato"):
        assert all(word in word_forms(p) for p in plurals(word))
    assert word_forms("puppies")[:2] == ["puppies", "puppy"]
    assert plurals("glass") == []
