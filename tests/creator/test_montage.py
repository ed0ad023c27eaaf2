"""A micro-video from still shots: duration, motion, crossfades, look, sound, determinism, bad input."""

from __future__ import annotations

import av
import numpy as np
import pytest

from generec.creator.montage import MontageConfig, montage_frames, plan_move, shot_frame, timeline, write_montage
from generec.errors import InputError
from generec.media.video import decode_frames, probe
from helpers import photo

CFG = MontageConfig(width=96, height=160, fps=10.0, crossfade_s=0.5)


def shots() -> list[np.ndarray]:
    return [photo("chelsea"), photo("coffee")]


def test_the_montage_is_a_playable_h264_mp4_of_the_asked_duration_with_sound(tmp_path):
    info = write_montage(tmp_path / "made.mp4", shots(), 3.0, CFG, seed=1)
    assert (info.width, info.height) == (96, 160) and abs(info.duration - 3.0) <= 0.1 + 1e-9
    again = probe(tmp_path / "made.mp4")
    assert again.n_frames == 30 and again.has_audio
    with av.open(str(tmp_path / "made.mp4")) as c:
        assert c.streams.video[0].codec_context.name == "h264"
        a = c.streams.audio[0]
        assert a.codec_context.name == "aac" and a.channels == 2
        assert max(float(np.abs(f.to_ndarray()).max()) for f in c.decode(a)) < 1e-3  # silent


def test_the_camera_moves_and_shots_crossfade():
    frames = list(montage_frames(shots(), 3.0, CFG, seed=1))
    assert len(frames) == 30 and frames[0].shape == (160, 96, 3)
    diffs = [np.abs(frames[i + 1].astype(int) - frames[i].astype(int)).mean() for i in range(len(frames) - 1)]
    assert min(diffs[:10]) > 0.05  # every frame of the first shot moves
    length, c = timeline(2, 3.0, 0.5)
    assert length == pytest.approx(1.75) and c == 0.5
    # the same moves, planned in the same seeded order: frame i shows shot 0 alone until the second
    # shot starts at L - c = 1.25 s, then alpha * shot 1 + (1 - alpha) * shot 0 across the crossfade
    import cv2

    rng = np.random.default_rng(1)
    moves = [plan_move(s.shape[1], s.shape[0], 96, 160, CFG.zoom, rng) for s in shots()]
    step = length - c
    for i in (5, 12, 14, 16, 25):
        t = (i + 0.5) / CFG.fps
        first = shot_frame(shots()[0], moves[0], min(1.0, t / length), 96, 160)
        if t < step:
            expected = first
        elif t < length:
            second = shot_frame(shots()[1], moves[1], (t - step) / length, 96, 160)
            alpha = (t - step) / c
            expected = cv2.addWeighted(second, alpha, first, 1.0 - alpha, 0)
        else:
            expected = shot_frame(shots()[1], moves[1], (t - step) / length, 96, 160)
        assert np.array_equal(frames[i], expected), i
    assert np.abs(frames[14].astype(int) - frames[11].astype(int)).mean() > 5  # the blend shows the new shot coming in


def test_a_seed_gives_the_same_video_and_another_seed_another_move():
    a = list(montage_frames(shots(), 2.0, CFG, seed=3))
    b = list(montage_frames(shots(), 2.0, CFG, seed=3))
    c = list(montage_frames(shots(), 2.0, CFG, seed=4))
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert any(not np.array_equal(x, y) for x, y in zip(a, c))
    move = plan_move(400, 300, 96, 160, 1.2, np.random.default_rng(0))
    for cx, cy, w in (move.start, move.end):  # every window lies inside the shot
        h = w * 160 / 96
        assert w / 2 - 1e-6 <= cx <= 400 - w / 2 + 1e-6 and h / 2 - 1e-6 <= cy <= 300 - h / 2 + 1e-6


def test_short_shots_shrink_the_crossfade():
    length, c = timeline(4, 1.0, 0.5)
    assert c == pytest.approx(0.2) and length == pytest.approx(0.4)
    assert 4 * length - 3 * c == pytest.approx(1.0)
    assert timeline(1, 2.0, 0.5) == (2.0, 0.0)


def test_the_look_is_rendered(tmp_path):
    write_montage(tmp_path / "bw.mp4", shots(), 1.5, CFG, look="black_and_white", seed=0)
    frames = decode_frames(tmp_path / "bw.mp4").images
    spread = max(float(np.abs(f[..., 0].astype(int) - f[..., 2].astype(int)).mean()) for f in frames)
    assert spread < 2.0  # grey, up to H.264's chroma rounding


@pytest.mark.parametrize("duration", [0.1, 61.0, float("nan")])
def test_a_duration_out_of_range_is_refused_and_nothing_is_written(tmp_path, duration):
    with pytest.raises(InputError, match="expected a duration of 1 to 60 s"):
        write_montage(tmp_path / "x.mp4", shots(), duration, CFG)
    assert not list(tmp_path.iterdir())


def test_bad_shots_are_refused(tmp_path):
    with pytest.raises(InputError, match="at least one shot"):
        write_montage(tmp_path / "x.mp4", [], 2.0, CFG)
    with pytest.raises(InputError, match="shot 1: expected an"):
        write_montage(tmp_path / "x.mp4", [photo("coffee"), np.zeros((10, 10), np.uint8)], 2.0, CFG)
    with pytest.raises(InputError, match="MontageConfig"):
        MontageConfig(zoom=0.5)
