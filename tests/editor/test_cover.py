import numpy as np
import pytest

from generec.editor.base import EditContext
from generec.editor.cover import CoverEditor
from generec.editor.preference import history_preference
from generec.encoders.bridge import load_text_image_bridge
from generec.encoders.cache import FeatureCache
from generec.encoders.image import get_image_encoder
from generec.errors import InputError
from generec.instructor.guidance import Guidance
from generec.media.image import load_image
from generec.types import Origin
from helpers import snapshot


def _ctx(ws, user, bridge=None):
    enc, cache = get_image_encoder(), FeatureCache.for_workspace(ws)
    return EditContext(ws, user, history_preference(ws, user, enc, cache), enc, cache, bridge)


def test_cat_lover_gets_the_cat_shot_coffee_lover_the_coffee_shot(catalogue):
    # m_food_cat: coffee for 0-2 s, then (after a crossfade) the cat for 2-4 s; its cover is coffee
    cat = CoverEditor(_ctx(catalogue, "animal_lover0"))("m_food_cat")
    food = CoverEditor(_ctx(catalogue, "food_lover0"))("m_food_cat")
    assert cat.params["t"] >= 2.3
    assert food.params.get("original") or food.params["t"] < 2.0  # the coffee cover suits the coffee lover
    assert cat.score > cat.baseline_score  # the cat frame beats the coffee cover for the cat lover
    # the new item: AI-edited, same video as its parent, its own cover image, provenance
    item = catalogue.items.get(cat.item.id)
    assert item.origin == Origin.AI_EDITED and item.parent_id == "m_food_cat"
    assert item.media == catalogue.items.get("m_food_cat").media
    assert item.cover.hash != catalogue.items.get("m_food_cat").cover.hash
    assert item.provenance["op"] == "cover" and item.provenance["user_id"] == "animal_lover0"
    image = load_image(cat.cover_path)
    assert image.shape[:2] == (96, 128)


def test_same_edit_twice_is_one_item(catalogue):
    editor = CoverEditor(_ctx(catalogue, "animal_lover1"))
    first, again = editor("m_food_cat"), editor("m_food_cat")
    assert first.item.id == again.item.id
    assert len(catalogue.items.children("m_food_cat")) == 1


def test_exclude_steers_away_from_a_concept(catalogue):
    bridge = load_text_image_bridge(catalogue)
    ctx = _ctx(catalogue, "animal_lover0", bridge)
    plain = CoverEditor(ctx)("m_cat_food")
    steered = CoverEditor(ctx)("m_cat_food", Guidance(exclude=("cat",), include=("coffee",)))
    assert plain.params.get("original") or plain.params["t"] < 2.0  # the cat cover (first shot) for a cat lover
    assert steered.params["t"] >= 2.0  # told to avoid cats: the coffee shot
    assert steered.item.provenance["guidance"]["exclude"] == ["cat"]


def test_cover_in_a_named_look(catalogue):
    result = CoverEditor(_ctx(catalogue, "food_lover1"))("m_person_food", Guidance(style="black_and_white"))
    image = load_image(result.cover_path).astype(int)
    assert result.params["style"] == "black_and_white"
    assert np.abs(image[..., 0] - image[..., 1]).max() <= 2  # gray


def test_bad_inputs_leave_the_workspace_unchanged(catalogue):
    before = snapshot(catalogue.root)
    ctx = _ctx(catalogue, "food_lover0")
    with pytest.raises(InputError, match="unknown item"):
        CoverEditor(ctx)("nope")
    assert snapshot(catalogue.root) == before


def test_user_hist_is_a_second_opinion_weighted_by_history_weight(catalogue):
    # a taste that points at coffee, and User_Hist of a cat lover: λ decides which one wins
    from generec.editor.cover import CoverConfig, choose_cover, video_keyframes

    enc, cache = get_image_encoder(), FeatureCache.for_workspace(catalogue)
    food, cat = history_preference(catalogue, "food_lover0", enc, cache), history_preference(catalogue, "animal_lover0", enc, cache)
    ctx = EditContext(catalogue, "food_lover0", food, enc, cache, history=cat.vector)
    kf = video_keyframes(ctx, catalogue.items.get("m_food_cat"), CoverConfig().keyframes)
    cat_frames = kf.timestamps >= 2.3
    plain = choose_cover(kf, ctx, None, CoverConfig(history_weight=0.0, keep_original=False))
    mixed = choose_cover(kf, ctx, None, CoverConfig(history_weight=5.0, keep_original=False))
    assert not cat_frames[plain.index] and cat_frames[mixed.index]
