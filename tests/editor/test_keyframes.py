from fractions import Fraction

import av
import numpy as np
import pytest

from generec.editor.keyframes import KeyframeConfig, Keyframes, _prepare, _scan, analyse, keyframes
from generec.encoders.cache import FeatureCache
from generec.encoders.image import get_image_encoder
from generec.errors import MediaError
from helpers import photo, shot_frames, shots_video


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


def _write(path, frames, fps, pix_fmt):
    """H.264 in any pixel format libx264 takes (write_mp4 always writes yuv420p)."""
    with av.open(str(path), "w", format="mp4") as c:
        s = c.add_stream("libx264", rate=fps)
        s.width, s.height, s.pix_fmt = frames[0].shape[1], frames[0].shape[0], pix_fmt
        for i, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            c.mux(s.encode(frame))
        c.mux(s.encode(None))
    return path


def test_pixel_formats_agree(tmp_path):
    # yuv420p: the limited-range Y plane; yuvj420p: the full-range Y plane; yuv444p: a gray copy
    dark = [(f * 0.05).astype(np.uint8) for f in shot_frames(photo("astronaut"), 15, 128, 96, seed=2)]
    frames = shot_frames(photo("coffee"), 15, 128, 96) + shot_frames(photo("chelsea"), 15, 128, 96, seed=1) + dark
    cfg = KeyframeConfig()
    scans, picks = {}, {}
    for fmt in ("yuv420p", "yuvj420p", "yuv444p"):
        path = _write(tmp_path / f"{fmt}.mp4", frames, 10, fmt)
        scans[fmt], picks[fmt] = _scan(path, cfg), _prepare(path, cfg)
    ref = scans["yuv420p"]
    assert ref.luma[-1] < cfg.dark_luma < ref.luma[0]
    for fmt in ("yuvj420p", "yuv444p"):
        assert np.allclose(scans[fmt].luma, ref.luma, atol=2.0)
        assert np.allclose(scans[fmt].sharpness, ref.sharpness, rtol=0.25)  # separate encodes
        assert np.allclose(scans[fmt].change, ref.change, atol=0.1)
        assert np.array_equal(scans[fmt].change > cfg.change_threshold, ref.change > cfg.change_threshold)
        assert np.array_equal(picks[fmt].times, picks["yuv420p"].times)
        assert picks[fmt].usable.tolist() == [True, True, False]


def test_large_frames_are_kept_as_encoder_squares(tmp_path, encoder):
    # 864x768 is over the size kept whole: looked-at frames shrink to 224x224 squares at once
    path = shots_video(tmp_path / "v.mp4", [photo("coffee"), photo("chelsea")], seconds=1.0, width=864, height=768)
    scan = _scan(path, KeyframeConfig())
    assert all(isinstance(k, np.ndarray) and k.shape == (224, 224, 3) for k in scan.kept)
    kf = analyse(path, encoder)
    assert np.floor(kf.timestamps).astype(int).tolist() == [0, 1] and kf.usable.all()
