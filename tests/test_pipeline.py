"""`pipeline.edit`: the library call behind `generec edit`, on the editor's tiny real catalogue."""

import pytest

from generec.editor.base import CannotSatisfy
from generec.errors import InputError
from generec.pipeline import EditConfig, catalogue_vocabulary, edit
from generec.types import Origin
from helpers import snapshot

pytest_plugins = ["editor.conftest"]


def test_edit_cover_with_the_default_preference(catalogue):
    result = edit(catalogue, "cover", "animal_lover0", "m_food_cat")
    assert result.params["t"] >= 2.0  # the cat shot
    assert result.item.origin == Origin.AI_EDITED and result.item.provenance["preference"] == "concepts"


def test_edit_clip_with_an_instruction(catalogue):
    result = edit(catalogue, "clip", "food_lover0", "m_food_cat", instruction="make it under 2 seconds")
    assert result.params["end"] - result.params["start"] <= 2.0 + 1e-6
    assert result.item.provenance["guidance"]["max_duration_s"] == 2.0


def test_bad_inputs(catalogue):
    before = snapshot(catalogue.root)
    with pytest.raises(InputError, match="unknown user"):
        edit(catalogue, "cover", "nobody", "m_food_cat")
    with pytest.raises(InputError, match="unknown item"):
        edit(catalogue, "clip", "food_lover0", "v404")
    with pytest.raises(InputError, match="unknown edit op"):
        edit(catalogue, "blur", "food_lover0", "m_food_cat")
    with pytest.raises(InputError, match="unknown preference"):
        edit(catalogue, "cover", "food_lover0", "m_food_cat", config=EditConfig(preference="vibes"))
    with pytest.raises(CannotSatisfy):
        edit(catalogue, "clip", "food_lover0", "m_food_cat", instruction="under half a second please")
    assert snapshot(catalogue.root) == before


def test_vocabulary_is_the_catalogues_concept_tags(catalogue):
    assert set(catalogue_vocabulary(catalogue)) == {"animal", "food", "person"}
