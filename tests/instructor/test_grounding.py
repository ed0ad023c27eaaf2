"""Which table concept a catalogue tag stands for."""

from __future__ import annotations

from generec.instructor.grounding import table_concept


def test_a_tag_names_a_table_concept_only_when_it_names_all_of_it():
    assert table_concept("cooking") == "food" and table_concept("recipes") == "food"
    assert table_concept("urban_exploration") == "architecture"
    assert table_concept("cats") is None  # narrower than animal: dogs are not cats
    assert table_concept("football") is None
