import numpy as np
import pytest

from generec.editor.base import CannotSatisfy, EditContext
from generec.editor.clip import ClipConfig, ClipEditor, clip_length, window_scores
from generec.editor.keyframes import Keyframes
from generec.editor.preference import history_preference
from generec.encoders.cache import FeatureCache
from generec.encoders.image import get_image_encoder
from generec.instructor.guidance import Guidance
from generec.media.video import probe, read_audio
from generec.types import Origin
from helpers import snapshot


def _ctx(ws, user):
    enc, cache = get_image_encoder(), FeatureCache.for_workspace(ws)
    return EditContext(ws, user, history_preference(ws, user, enc, cache), enc, cache)


def test_cat_lover_clip_starts_on_the_cat_and_keeps_audio(catalogue):
    result = ClipEditor(_ctx(catalogue, "animal_lover0"), ClipConfig(length_s=1.5))("m_food_cat")
    assert result.params["start"] >= 2.0 and result.params["end"] - result.params["start"] == pytest.approx(1.5)
    assert result.score > result.baseline_score
    info = probe(result.media_path)
    assert info.duration == pytest.approx(1.5, abs=0.11) and info.codec == "h264"
    assert info.has_audio and read_audio(result.media_path).duration == pytest.approx(1.5, abs=0.1)
    item = catalogue.items.get(result.item.id)
    assert item.origin == Origin.AI_EDITED and item.parent_id == "m_food_cat"
    assert item.media.hash != catalogue.items.get("m_food_cat").media.hash
    assert item.provenance["params"] == result.params and {"start", "end"} <= set(result.params)


def test_plain_clip_without_a_look(catalogue):
    result = ClipEditor(_ctx(catalogue, "animal_lover0"), ClipConfig(length_s=1.5, restyle=False))("m_food_cat")
    assert set(result.params) == {"start", "end"}


def test_coffee_lover_clip_starts_at_the_beginning(catalogue):
    result = ClipEditor(_ctx(catalogue, "food_lover0"), ClipConfig(length_s=1.5))("m_food_cat")
    assert result.params["start"] < 0.5


def test_guidance_durations_bound_the_clip(catalogue):
    ctx = _ctx(catalogue, "animal_lover1")
    short = ClipEditor(ctx)("m_food_cat", Guidance(max_duration_s=1.0))
    assert short.params["end"] - short.params["start"] == pytest.approx(1.0)
    long = ClipEditor(ctx, ClipConfig(length_s=1.0))("m_food_cat", Guidance(min_duration_s=3.0))
    assert long.params["end"] - long.params["start"] == pytest.approx(3.0)


def test_unsatisfiable_durations_write_nothing(catalogue):
    before = snapshot(catalogue.root)
    ctx = _ctx(catalogue, "animal_lover1")
    with pytest.raises(CannotSatisfy, match="under 0.5 s"):
        ClipEditor(ctx)("m_food_cat", Guidance(max_duration_s=0.5))
    with pytest.raises(CannotSatisfy, match="at least 30 s"):
        ClipEditor(ctx)("m_food_cat", Guidance(min_duration_s=30))
    assert snapshot(catalogue.root) == before


def test_clip_length_rules():
    cfg = ClipConfig(length_s=5.0)
    assert clip_length(3.0, cfg) == 3.0  # a short video is used whole
    assert clip_length(20.0, cfg, Guidance(max_duration_s=2.0)) == 2.0
    assert clip_length(20.0, cfg, Guidance(min_duration_s=8.0)) == 8.0


def test_window_scores_weight_the_opening():
    # a 10 s video: keyframe 0 (0-5 s) scores 0, keyframe 1 (5-10 s) scores 1
    kf = Keyframes(np.array([2.0, 7.0]), np.array([0.0, 5.0]), np.array([5.0, 10.0]), np.array([True, True]), np.zeros((2, 4), np.float32), 10.0)
    starts, s = window_scores(kf, np.array([0.0, 1.0]), length=4.0, stride=1.0, decay=0.8)
    assert starts.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    assert s[0] == s[1] == 0.0 and s[5] == pytest.approx(1.0) and np.all(np.diff(s[1:6]) > 0)
    # with decay the window that opens on the good part beats one that merely contains more of it
    _, s2 = window_scores(kf, np.array([1.0, 0.0]), length=4.0, stride=1.0, decay=0.5)
    assert np.argmax(s2) == 0
