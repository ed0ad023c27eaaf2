import numpy as np
import pytest

from generec.editor.base import CannotSatisfy, EditContext
from generec.editor.preference import Preference, history_preference
from generec.editor.style import EDIT_LOOKS, StyleConfig, StyleEditor, choose_style, restyle_image
from generec.encoders.cache import FeatureCache
from generec.encoders.image import get_image_encoder
from generec.errors import InputError
from generec.instructor.guidance import Guidance
from generec.media.image import load_image
from generec.media.video import decode_frames, probe
from helpers import photo


def test_every_look_changes_the_picture_in_its_own_way():
    image = photo("coffee")[::4, ::4].copy()
    out = {look: restyle_image(image, look).astype(int) for look in EDIT_LOOKS}
    assert set(EDIT_LOOKS) >= {"cartoon", "sketch", "warm", "cool", "bright", "vivid", "black_and_white"}
    assert out["warm"][..., 0].mean() > image[..., 0].mean() and out["warm"][..., 2].mean() < image[..., 2].mean()
    assert out["cool"][..., 2].mean() > image[..., 2].mean()
    assert out["bright"].mean() > image.mean() > out["dark"].mean()
    assert np.abs(out["black_and_white"][..., 0] - out["black_and_white"][..., 2]).max() == 0
    assert np.abs(out["sketch"][..., 0] - out["sketch"][..., 1]).max() == 0 and out["sketch"].mean() > image.mean()
    assert len(np.unique(out["cartoon"].reshape(-1, 3), axis=0)) < len(np.unique(image.reshape(-1, 3), axis=0)) / 4
    half = restyle_image(image, "black_and_white", 0.5).astype(int)
    assert 0 < np.abs(half - image).mean() < np.abs(out["black_and_white"] - image).mean()
    with pytest.raises(InputError, match="unknown look"):
        restyle_image(image, "vaporwave")


def test_named_look_restyles_the_whole_video_and_keeps_audio(catalogue):
    enc, cache = get_image_encoder(), FeatureCache.for_workspace(catalogue)
    ctx = EditContext(catalogue, "food_lover0", history_preference(catalogue, "food_lover0", enc, cache), enc, cache)
    result = StyleEditor(ctx)("m_food_cat", Guidance(style="black_and_white"))
    assert result.params["style"] == "black_and_white"
    parent = catalogue.items.get("m_food_cat")
    info = probe(result.media_path)
    assert info.has_audio and info.duration == pytest.approx(parent.media.duration, abs=0.11)
    frames = decode_frames(result.media_path).images
    assert len(frames) == 40 and all(np.abs(f[..., 0].astype(int) - f[..., 2]).mean() < 3 for f in frames)
    assert load_image(result.cover_path).shape == (96, 128, 3)


def test_look_from_history_prefers_what_the_user_clicked():
    # a user whose clicked covers were black and white: the chosen look for a colour photo is gray
    enc = get_image_encoder()
    probes = [photo("coffee")[::3, ::3].copy(), photo("chelsea")[::3, ::3].copy()]
    gray = [restyle_image(photo(n)[::3, ::3].copy(), "black_and_white") for n in ("astronaut", "rocket", "coffee")]
    pref = Preference("u", "history", enc.encode(gray).features.mean(0), 3)
    choice = choose_style(probes, EditContext(None, "u", pref, enc, None), None, StyleConfig(looks=("black_and_white", "warm", "vivid", "cartoon")))
    assert choice.look == "black_and_white" and choice.score > choice.natural_score


def test_no_look_beats_the_original_is_an_explicit_result(catalogue):
    enc, cache = get_image_encoder(), FeatureCache.for_workspace(catalogue)
    ctx = EditContext(catalogue, "food_lover0", history_preference(catalogue, "food_lover0", enc, cache), enc, cache)
    with pytest.raises(CannotSatisfy, match="no look suits"):
        StyleEditor(ctx, StyleConfig(looks=("dark",), strengths=(1.0,), min_gain=100.0))("m_food_cat")
