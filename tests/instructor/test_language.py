"""Which instructions are not in English."""

from __future__ import annotations

import pytest

from generec.instructor.language import foreign_language


@pytest.mark.parametrize(
    "text",
    ["quiero videos de gatos", "montre-moi des animaux", "mehr Katzen bitte", "voglio vedere fiori", "geen mensen meer",
     "猫の動画", "больше котов", "más comida por favor"],
)  # fmt: skip
def test_other_languages(text):
    assert foreign_language(text)


@pytest.mark.parametrize(
    "text", ["more cats please", "no more food", "show me the moon", "café videos", "b&w architecture", "", "???"]
)
def test_english(text):
    assert not foreign_language(text)
