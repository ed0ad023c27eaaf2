import numpy as np
import pytest

from generec.editor.keyframes import KeyframeConfig, Keyframes, analyse, keyframes
from generec.encoders.cache import FeatureCache
from generec.encoders.image import get_image_encoder
from generec.errors import MediaError
from helpers import photo, shots_video


@pytest.fixture(scope="module")
def encoder():
    return get_image_encoder()


def test_one_keyframe_per_shot_none_in_the_crossfade(tmp_path, encoder):
    # three 2 s shots at 10 fps joined by 3-frame crossfades (at 2.0-2.3 s and 4.0-4.3 s)
    path = shots_video(tmp_path / "v.mp4", [photo("coffee"), photo("chelsea"), photo("astronaut")], seconds=2.0)
    kf = analyse(path, encoder)
    assert len(kf) == 3
    shots = np.floor(kf.timestamps / 2.0).astype(int)
    assert shots.tolist() == [0, 1, 2]  # one keyframe in each shot
    for t in kf.timestamps:
        assert not (2.0 <= t < 2.4 or 4.0 <= t < 4.4)  # never mid-crossfade
    assert kf.usable.all()
    # the intervals tile the video
    assert kf.starts[0] == 0.0 and np.allclose(kf.starts[1:], kf.ends[:-1]) and kf.ends[-1] >= 5.9
    assert kf.features.shape == (3, 1280)


def test_keyframe_features_name_what_the_shot_shows(tmp_path, encoder):
    path = shots_video(tmp_path / "v.mp4", [photo("coffee"), photo("chelsea")], seconds=2.0)
    kf = analyse(path, encoder)
    top = [encoder.top_classes(encoder.model.classify(__import__("torch").from_numpy(f[None])).detach().numpy())[0][0].name for f in kf.features]
    assert "cat" in top[1].lower()
    assert top[0] != top[1]


def test_dark_shot_is_not_usable(tmp_path, encoder):
    dark = (photo("chelsea") * 0.05).astype(np.uint8)
    path = shots_video(tmp_path / "v.mp4", [photo("coffee"), dark], seconds=2.0)
    kf = analyse(path, encoder)
    assert len(kf) == 2
    assert kf.usable.tolist() == [True, False]


def test_long_shot_gets_several_keyframes_and_the_cap_holds(tmp_path, encoder):
    path = shots_video(tmp_path / "v.mp4", [photo("coffee")], seconds=7.0, fps=8)
    assert len(analyse(path, encoder, KeyframeConfig(spacing_s=2.0))) == 4  # ceil(7 / 2)
    assert len(analyse(path, encoder, KeyframeConfig(spacing_s=1.0, max_keyframes=3))) == 3


def test_cache_round_trip(tmp_path, encoder):
    path = shots_video(tmp_path / "v.mp4", [photo("coffee"), photo("chelsea")], seconds=1.5)
    cache = FeatureCache(tmp_path / "features")
    first = keyframes(path, "abc123", encoder, cache)
    assert len(list((tmp_path / "features").rglob("*.npy"))) == 1
    path.unlink()  # a cache hit needs no decoding
    again = keyframes(path, "abc123", encoder, cache)
    assert np.array_equal(first.features, again.features)
    assert np.array_equal(first.timestamps, again.timestamps) and first.duration == again.duration
    assert isinstance(Keyframes.unpack(first.pack()), Keyframes)


def test_rotated_video_is_encoded_upright(tmp_path, encoder):
    upright = analyse(shots_video(tmp_path / "a.mp4", [photo("chelsea")], seconds=1.0), encoder)
    stored = np.rot90(photo("chelsea"), k=1)  # stored turned; metadata says turn it back
    rotated = analyse(shots_video(tmp_path / "b.mp4", [stored], seconds=1.0, width=96, height=128, rotation=90), encoder)
    cos = lambda a, b: float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))  # noqa: E731
    sideways = analyse(shots_video(tmp_path / "c.mp4", [stored], seconds=1.0, width=96, height=128), encoder)
    assert cos(upright.features[0], rotated.features[0]) > cos(upright.features[0], sideways.features[0])


def test_corrupt_and_missing_files_are_refused(tmp_path, encoder):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"junk" * 100)
    with pytest.raises(MediaError):
        analyse(bad, encoder)
    with pytest.raises(MediaError):
        analyse(tmp_path / "missing.mp4", encoder)
