"""Decoding: frames at times, every frame, one pass for scans, rotation."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from generec.errors import InputError, MediaError
from generec.media.audio import read_audio
from generec.media.decode import (
    DecodePass,
    FrameConverter,
    apply_rotation,
    decode_frames,
    frames_at,
    iter_frames,
    iter_raw_frames,
    luma_plane,
    sample_frames,
)
from generec.media.encode import cut
from generec.media.probe import probe
from media_files import VFR_MS, BAD_FILES, H, W, _name, av_video, bars, index_of, make_text, write_bars, write_raw

# --- frame selection ------------------------------------------------------------------------


def test_sample_frames_spreads_uniformly(bars50: Path) -> None:
    frames = sample_frames(bars50, 5)
    # Centres of 5 equal segments of 2 s: 0.2, 0.6, ... -> frames 5, 15, ... at 25 fps.
    assert [index_of(img) for img in frames.images] == [5, 15, 25, 35, 45]
    assert frames.timestamps == pytest.approx([0.2, 0.6, 1.0, 1.4, 1.8])
    with pytest.raises(InputError):
        sample_frames(bars50, 0)


def test_frames_at_returns_displayed_frame_in_request_order(bars50: Path) -> None:
    requests = [1.0, 0.0, 0.5, 1.99, 0.5, 0.119, 2.0]
    frames = frames_at(bars50, requests)
    # The frame shown at t is the last one with timestamp <= t (frame i at i / 25 s).
    assert [index_of(img) for img in frames.images] == [25, 0, 12, 49, 12, 2, 49]
    assert frames.timestamps == pytest.approx([1.0, 0.0, 0.48, 1.96, 0.48, 0.08, 1.96])
    assert frames.images[2] is not frames.images[4]  # duplicates are independent arrays


@pytest.mark.parametrize("t", [-0.1, 2.5])
def test_frames_at_rejects_times_outside_the_video(bars50: Path, t: float) -> None:
    with pytest.raises(InputError, match=str(t)):
        frames_at(bars50, [0.5, t])


def test_frames_at_seeks_instead_of_decoding_everything(long_gop10: Path) -> None:
    stats: dict[str, int] = {}
    frames = frames_at(long_gop10, [17.3], stats=stats)
    assert [index_of(img) for img in frames.images] == [173]
    assert stats["seeks"] == 1
    # From the keyframe at 17.0 s: a few frames, not all 200.
    assert stats["decoded_frames"] < 20

    stats = {}
    frames = frames_at(long_gop10, [19.9, 0.0, 10.05, 0.35], stats=stats)
    assert [index_of(img) for img in frames.images] == [199, 0, 100, 3]
    assert stats["decoded_frames"] < 60

    stats = {}
    frames_at(long_gop10, [0.1, 0.5, 0.9], stats=stats)  # close together: decode forward
    assert stats["seeks"] == 0


def test_frames_at_does_not_seek_back_within_one_gop(tmp_path: Path) -> None:
    path = tmp_path / "one_gop.mp4"
    # No scene-cut keyframes: the only keyframe is frame 0.
    write_raw(path, [bars(i) for i in range(100)], 10, g="300", sc_threshold="0")
    with av.open(str(path)) as c:
        assert sum(e.is_keyframe for e in c.streams.video[0].index_entries) == 1
    stats: dict[str, int] = {}
    requests = [1.5, 3.5, 5.5, 7.5, 9.5]
    frames = frames_at(path, requests, stats=stats)
    assert [index_of(img) for img in frames.images] == [15, 35, 55, 75, 95]
    # Seeking back to the same keyframe for every request would decode ~260 frames.
    assert stats["decoded_frames"] <= 100


def test_apply_rotation_turns_clockwise() -> None:
    img = np.zeros((4, 6, 3), np.uint8)
    img[0, 0] = 255  # marker at top-left
    assert apply_rotation(img, 0) is img
    r90 = apply_rotation(img, 90)
    assert r90.shape == (6, 4, 3) and r90[0, -1, 0] == 255  # top-right
    assert apply_rotation(img, 180)[-1, -1, 0] == 255  # bottom-right
    assert apply_rotation(img, 270)[-1, 0, 0] == 255  # bottom-left
    assert apply_rotation(img, -90)[-1, 0, 0] == 255
    with pytest.raises(InputError):
        apply_rotation(img, 45)


def test_decoders_reject_bad_files_naming_them(tmp_path: Path) -> None:
    path = make_text(tmp_path)
    for call in (
        lambda: decode_frames(path),
        lambda: iter_frames(path),
        lambda: frames_at(path, [0.0]),
        lambda: sample_frames(path, 2),
        lambda: read_audio(path),
        lambda: cut(path, tmp_path / "out.mp4", 0.0, 1.0),
    ):
        with pytest.raises(MediaError, match=path.name):
            call()


# --- one decode pass for scans ----------------------------------------------------------------


def test_decode_pass_yields_every_frame_and_learns_what_probe_reports(tmp_path: Path) -> None:
    path = tmp_path / "turned.mp4"
    write_bars(path, 30, fps=10, rotation=90)  # libx264 veryfast: B-frames, so frames reorder
    video = DecodePass(path)
    assert video.header_duration == pytest.approx(3.0)
    got = list(video)
    want = list(iter_raw_frames(path))
    assert [t for t, _ in got] == pytest.approx([t for t, _ in want], abs=1e-9)
    assert [index_of(f.to_ndarray(format="rgb24")) for _, f in got] == list(range(30))
    info = probe(path)
    assert (video.duration, video.rotation, video.n_frames) == (info.duration, info.rotation, info.n_frames)
    assert (video.duration, video.rotation, video.n_frames) == (pytest.approx(3.0), 90, 30)


@pytest.mark.parametrize(("make", "expect"), BAD_FILES, ids=_name)
def test_decode_pass_refuses_bad_files_naming_them(tmp_path: Path, make: object, expect: str) -> None:
    path = make(tmp_path)  # type: ignore[operator]
    with pytest.raises(MediaError, match=expect) as err:
        list(DecodePass(path))
    assert path.name in str(err.value)


def test_frame_converter_matches_to_ndarray_and_resizes(bars50: Path) -> None:
    rgb, thumb, gray = FrameConverter("rgb24"), FrameConverter("rgb24", "AREA"), FrameConverter("gray", "AREA")
    for i, (_, frame) in enumerate(iter_raw_frames(bars50)):
        assert np.array_equal(rgb(frame), frame.to_ndarray(format="rgb24"))
        assert thumb(frame, 16, 12).shape == (12, 16, 3)
        g = gray(frame)
        assert g.shape == (H, W) and abs(float(g.mean()) - float(rgb(frame).mean())) < 3  # full range, like RGB
        if i == 5:
            break


def test_luma_plane_is_the_stored_y_plane(bars50: Path) -> None:
    _, frame = next(iter(iter_raw_frames(bars50)))
    plane = luma_plane(frame)
    assert plane is not None
    y, full = plane
    assert y.shape == (H, W) and y.dtype == np.uint8 and not full  # limited range, 16-235
    stretched = (y.astype(float) - 16) * 255 / 219
    assert np.abs(stretched - FrameConverter("gray")(frame)).mean() < 2
    assert luma_plane(av.VideoFrame.from_ndarray(bars(0), format="rgb24")) is None


def test_decode_pass_reads_once_and_closes_early(bars50: Path) -> None:
    video = DecodePass(bars50)
    assert sum(1 for _ in video) > 0
    with pytest.raises(RuntimeError, match="reads its file once"):
        next(iter(video))
    with DecodePass(bars50) as early:  # left after one frame: the context closes the file
        next(iter(early))


def test_variable_frame_rate_frames_keep_their_timestamps(tmp_path: Path) -> None:
    path = write_vfr(tmp_path)
    frames = decode_frames(path)
    assert frames.timestamps == pytest.approx([t / 1000 for t in VFR_MS], abs=1e-3)
    assert [index_of(im) for im in frames.images] == list(range(len(VFR_MS)))
    # the frame shown at t: the last one at or before it, however irregular the gaps
    got = frames_at(path, [0.1, 0.25, 0.69, 1.005, 2.0])
    assert [index_of(im) for im in got.images] == [2, 4, 5, 9, 18]
    video = DecodePass(path)
    assert [t for t, _ in video] == pytest.approx(frames.timestamps, abs=1e-9)
    assert video.duration == probe(path).duration and 2.1 < video.duration <= 2.2  # the last frame's own length


def write_vfr(tmp: Path) -> Path:
    return av_video(tmp / "vfr.mp4", n=len(VFR_MS), pts_ms=VFR_MS)
