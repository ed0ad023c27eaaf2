"""Cover and frame features of items in a tiny real workspace (real H.264, real weights)."""

from __future__ import annotations

import numpy as np
import pytest

from generec.encoders.cache import FeatureCache
from generec.encoders.image import get_image_encoder
from generec.encoders.video import cover_features, frame_features
from generec.errors import InputError
from generec.media.image import encode_image
from generec.media.video import apply_rotation, frames_at, sample_frames, write_mp4
from generec.types import Item, Kind, Media
from helpers import gradient_frames


@pytest.fixture(scope="module")
def encoder():
    return get_image_encoder()


@pytest.fixture
def counted(encoder, monkeypatch):
    """The real encoder, counting the images it is asked to encode."""
    calls: list[int] = []
    encode = encoder.encode

    def counting(images):
        calls.append(len(images))
        return encode(images)

    monkeypatch.setattr(encoder, "encode", counting)
    return calls


@pytest.fixture
def catalogue(workspace, tmp_path):
    """A video with a cover, a video without one, two image items sharing a picture, a text item."""
    video = tmp_path / "clip.mp4"
    write_mp4(video, gradient_frames(20), fps=10)  # 2 s, 64x48
    vhash, vmime = workspace.media.put_file(video, "video/mp4")
    vmedia = Media(vhash, vmime, duration=2.0, fps=10.0, width=64, height=48)
    cover_png = encode_image(gradient_frames(20)[5], "PNG")
    cover = Media(workspace.media.put_bytes(cover_png, "image/png"), "image/png", width=64, height=48)
    photo = np.zeros((40, 30, 3), np.uint8)
    photo[:, :, 0] = np.linspace(0, 255, 30, dtype=np.uint8)
    pmedia = Media(workspace.media.put_bytes(encode_image(photo, "PNG"), "image/png"), "image/png", width=30, height=40)
    return [
        Item("v1", Kind.VIDEO, media=vmedia, cover=cover),
        Item("v2", Kind.VIDEO, media=vmedia),
        Item("i1", Kind.IMAGE, media=pmedia),
        Item("t1", Kind.TEXT, text="a poem"),
        Item("i2", Kind.IMAGE, media=pmedia),
    ], photo


def test_cover_features_encode_each_picture_once_then_hit_the_cache(workspace, catalogue, encoder, counted):
    items, photo = catalogue
    cache = FeatureCache.for_workspace(workspace)
    seen = []
    out = cover_features(workspace, items, encoder, cache, progress=lambda *a: seen.append(a))
    assert out.features.shape == (5, 1280) and out.features.dtype == np.float32
    assert out.has_image.tolist() == [True, True, True, False, True]
    assert not out.features[3].any() and out.features[[0, 1, 2, 4]].any(axis=1).all()
    assert counted == [3]  # cover png, first frame of v2, the shared photo
    assert seen[-1] == ("cover features", 3, 3)
    np.testing.assert_array_equal(out.features[2], out.features[4])

    # v1 is its cover image; v2 (no cover) is its first frame
    first_frame = frames_at(workspace.media_path(items[1].media.hash, "video/mp4"), [0.0]).images[0]
    direct = encoder.encode([gradient_frames(20)[5], first_frame, photo])
    np.testing.assert_allclose(out.features[[0, 1, 2]], direct.features, atol=1e-4)

    again = cover_features(workspace, items, encoder, cache)
    assert counted == [3, 3]  # the direct call above; nothing new
    np.testing.assert_array_equal(again.features, out.features)
    assert (workspace.root / "features" / encoder.version).is_dir()


def test_frame_features_sample_uniformly_and_cache(workspace, catalogue, encoder, counted):
    items, _ = catalogue
    cache = FeatureCache.for_workspace(workspace)
    out = frame_features(workspace, items[0], 4, encoder, cache)
    assert out.features.shape == (4, 1280) and out.timestamps.shape == (4,)
    # centres of 4 segments of 2 s: 0.25, 0.75, 1.25, 1.75 -> the frames shown then (10 fps)
    np.testing.assert_allclose(out.timestamps, [0.2, 0.7, 1.2, 1.7], atol=1e-6)
    assert counted == [4]
    again = frame_features(workspace, items[0], 4, encoder, cache)
    assert counted == [4]
    np.testing.assert_array_equal(again.features, out.features)
    np.testing.assert_array_equal(again.timestamps, out.timestamps)
    assert cache.has(items[0].media.hash, encoder.version, "frames4")
    with pytest.raises(InputError, match="expected a video item"):
        frame_features(workspace, items[2], 4, encoder, cache)


def test_frame_features_are_of_upright_frames(workspace, tmp_path, encoder):
    path = tmp_path / "turned.mp4"
    write_mp4(path, gradient_frames(10, width=64, height=32), fps=10, rotation=90)
    digest, mime = workspace.media.put_file(path, "video/mp4")
    item = Item("r", Kind.VIDEO, media=Media(digest, mime))
    out = frame_features(workspace, item, 2, encoder, FeatureCache.for_workspace(workspace))
    upright = [apply_rotation(im, 90) for im in sample_frames(path, 2).images]
    assert upright[0].shape[:2] == (64, 32)
    np.testing.assert_allclose(out.features, encoder.encode(upright).features, atol=1e-4)
