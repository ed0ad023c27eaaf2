"""Encoding: writing MP4s and cutting spans."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from generec.errors import InputError
from generec.media.audio import read_audio
from generec.media.decode import Frames, decode_frames, iter_frames
from generec.media.encode import cut, downscale, reencode, write_mp4
from generec.media.probe import probe
from media_files import VFR_MS, H, W, av_video, bars, dominant_hz, index_of, smooth, write_bars

# --- round trips ----------------------------------------------------------------------------


@pytest.mark.parametrize(("w", "h"), [(W, H), (96, 160)], ids=["landscape", "portrait"])
def test_write_probe_decode_round_trip(tmp_path: Path, w: int, h: int) -> None:
    src = [smooth(i, h, w) for i in range(20)]
    path = tmp_path / "clip.mp4"
    info = write_mp4(path, src, fps=10)

    assert info == probe(path)
    assert (info.width, info.height, info.n_frames, info.codec) == (w, h, 20, "h264")
    assert info.fps == pytest.approx(10.0)
    assert info.duration == pytest.approx(2.0)
    assert (info.rotation, info.has_audio, info.size_bytes) == (0, False, path.stat().st_size)
    assert info.path == str(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4"]  # no temp file left

    frames = decode_frames(path)
    assert isinstance(frames, Frames)
    assert frames.timestamps == pytest.approx([i / 10 for i in range(20)], abs=1e-9)
    for got, want in zip(frames.images, src, strict=True):
        assert got.shape == (h, w, 3) and got.dtype == np.uint8
        assert np.abs(got.astype(int) - want.astype(int)).mean() < 8

    streamed = list(iter_frames(path))
    assert [t for t, _ in streamed] == frames.timestamps
    assert all(np.array_equal(a, b) for (_, a), b in zip(streamed, frames.images, strict=True))


def test_odd_size_is_cropped_to_even(tmp_path: Path) -> None:
    src = [smooth(i, 75, 99) for i in range(5)]
    info = write_mp4(tmp_path / "odd.mp4", src, fps=5)
    assert (info.width, info.height) == (98, 74)
    frames = decode_frames(tmp_path / "odd.mp4")
    for got, want in zip(frames.images, src, strict=True):
        assert got.shape == (74, 98, 3)
        assert np.abs(got.astype(int) - want[:74, :98].astype(int)).mean() < 8


def test_fractional_fps_keeps_exact_timestamps(tmp_path: Path) -> None:
    info = write_bars(tmp_path / "ntsc.mp4", 30, fps=30000 / 1001)
    assert info.fps == pytest.approx(30000 / 1001)
    stamps = decode_frames(tmp_path / "ntsc.mp4").timestamps
    assert stamps == pytest.approx([i * 1001 / 30000 for i in range(30)], abs=1e-9)


def test_write_rejects_bad_frames_and_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="none"):
        write_mp4(tmp_path / "empty.mp4", [], fps=10)
    with pytest.raises(InputError, match="frame 2"):
        write_mp4(tmp_path / "mixed.mp4", [bars(0), bars(1), bars(2, h=32)], fps=10)
    with pytest.raises(InputError, match="uint8"):
        write_mp4(tmp_path / "float.mp4", [np.zeros((H, W, 3), np.float32)], fps=10)
    with pytest.raises(InputError, match="fps"):
        write_mp4(tmp_path / "fps.mp4", [bars(0)], fps=0)
    assert list(tmp_path.iterdir()) == []


def test_cut_keeps_audio_for_the_span(with_audio: Path, tmp_path: Path) -> None:
    out = tmp_path / "cut.mp4"
    info = cut(with_audio, out, 1.0, 3.0)
    assert info == probe(out)
    assert (info.width, info.height, info.n_frames, info.has_audio) == (W, H, 20, True)
    assert info.fps == pytest.approx(10.0)
    assert info.duration == pytest.approx(2.0, abs=0.1)
    frames = decode_frames(out)
    assert [index_of(img) for img in frames.images] == list(range(10, 30))
    track = read_audio(out)
    assert track is not None
    assert track.duration == pytest.approx(2.0, abs=0.1)
    assert dominant_hz(track) == pytest.approx(440, abs=5)


def test_cut_without_audio(long_gop10: Path, tmp_path: Path) -> None:
    out = tmp_path / "cut.mp4"
    info = cut(long_gop10, out, 12.5, 14.0)  # starts between keyframes
    assert not info.has_audio
    assert info.n_frames == 15
    assert info.duration == pytest.approx(1.5)
    assert [index_of(img) for img in decode_frames(out).images] == list(range(125, 140))


@pytest.mark.parametrize(("start", "end"), [(-0.5, 1.0), (1.0, 1.0), (1.5, 1.0), (0.0, 2.5)])
def test_cut_rejects_bad_spans(bars50: Path, tmp_path: Path, start: float, end: float) -> None:
    with pytest.raises(InputError, match="span"):
        cut(bars50, tmp_path / "out.mp4", start, end)
    assert not (tmp_path / "out.mp4").exists()


# --- rotation -------------------------------------------------------------------------------


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_rotation_metadata_is_read_and_frames_stay_as_stored(
    tmp_path: Path, rotation: int
) -> None:
    path = tmp_path / "rot.mp4"
    info = write_bars(path, 3, fps=10, rotation=rotation)
    assert info.rotation == rotation
    assert (info.width, info.height) == (W, H)
    assert decode_frames(path).images[0].shape == (H, W, 3)
    # cut keeps the rotation metadata.
    assert cut(path, tmp_path / "cut.mp4", 0.0, 0.2).rotation == rotation


# --- footage from other writers (plain PyAV) --------------------------------------------------


def _negative(image: np.ndarray) -> np.ndarray:
    return 255 - image


LAYOUTS = [("mono", 48000, 1), ("stereo", 44100, 2), ("5.1", 48000, 6), ("5.1", 44100, 6), ("mono", 44100, 1)]


@pytest.mark.parametrize(("layout", "rate", "channels"), LAYOUTS, ids=[f"{a}-{b}" for a, b, _ in LAYOUTS])
def test_cut_and_reencode_keep_audio_of_any_layout(tmp_path: Path, layout: str, rate: int, channels: int) -> None:
    src = av_video(tmp_path / "src.mp4", n=30, audio_layout=layout, audio_rate=rate)
    clip = tmp_path / "clip.mp4"
    cut(src, clip, 0.5, 2.0)
    styled = tmp_path / "styled.mp4"
    reencode(clip, styled, _negative)
    for path, seconds, first in ((clip, 1.5, 5), (styled, 1.5, 5)):
        info = probe(path)
        assert info.has_audio and info.duration == pytest.approx(seconds, abs=0.01)
        track = read_audio(path)
        assert track is not None
        assert (track.channels, track.layout, track.sample_rate) == (channels, layout, rate)
        assert track.duration == pytest.approx(seconds, abs=0.05)
        assert dominant_hz(track) == pytest.approx(440, abs=5)
        frames = decode_frames(path)
        assert len(frames.images) == 15
        shown = frames.images if path == clip else [255 - im for im in frames.images]
        assert [index_of(im) for im in shown] == list(range(first, first + 15))


def test_variable_frame_rate_cut_and_reencode_keep_each_frames_time(tmp_path: Path) -> None:
    src = av_video(tmp_path / "vfr.mp4", n=len(VFR_MS), pts_ms=VFR_MS, audio_layout="stereo")
    clip = tmp_path / "clip.mp4"
    cut(src, clip, 0.3, 1.7)  # frames at 0.4 ... 1.65 s
    kept = [t for t in VFR_MS if 300 <= t < 1700]
    want = [(t - kept[0]) / 1000 for t in kept]
    frames = decode_frames(clip)
    assert frames.timestamps == pytest.approx(want, abs=1e-3)
    assert [index_of(im) for im in frames.images] == [VFR_MS.index(t) for t in kept]
    assert probe(clip).duration == pytest.approx(1.7 - kept[0] / 1000, abs=1e-3)  # the last frame shows until the end
    assert read_audio(clip).duration == pytest.approx(1.7 - kept[0] / 1000, abs=0.03)
    styled = tmp_path / "styled.mp4"
    reencode(clip, styled, _negative)
    assert decode_frames(styled).timestamps == pytest.approx(want, abs=1e-3)
    assert probe(styled).duration == pytest.approx(probe(clip).duration, abs=1e-3)


def test_odd_frame_size_is_cut_and_reencoded(tmp_path: Path) -> None:
    src = av_video(tmp_path / "odd.mp4", n=20, size=(223, 127), pix_fmt="yuv444p", audio_layout="mono")
    clip = tmp_path / "clip.mp4"
    cut(src, clip, 0.5, 1.5)
    styled = tmp_path / "styled.mp4"
    reencode(clip, styled, _negative)
    for path in (clip, styled):
        info = probe(path)
        # yuv420p needs even sizes: the odd last row and column are dropped, nothing is stretched
        assert (info.width, info.height, info.n_frames, info.has_audio) == (222, 126, 10, True)
    got = decode_frames(clip).images[0].astype(int)
    want = bars(5, 127, 223)[:126, :222].astype(int)
    assert np.abs(got - want).mean() < 4


def test_downscale_fits_the_pixel_limit_and_keeps_times_sound_and_rotation(tmp_path: Path) -> None:
    src = av_video(tmp_path / "big.mp4", n=12, size=(400, 300), pts_ms=VFR_MS[:12], audio_layout="5.1", rotation=270)
    small = tmp_path / "small.mp4"
    info = downscale(src, small, 100_000)
    assert (info.width, info.height, info.rotation, info.n_frames) == (364, 272, 270, 12)  # 400 x 300 scaled by 0.91
    assert decode_frames(small).timestamps == pytest.approx(decode_frames(src).timestamps, abs=1e-3)
    assert info.duration == pytest.approx(probe(src).duration, abs=1e-3)
    assert read_audio(small).layout == "5.1"
    got, want = decode_frames(small).images[3], bars(3, 300, 400)
    assert index_of(got) == 3 and np.abs(got.astype(int)[4:-4, 4:-4].mean() - want.astype(int).mean()) < 3
    with pytest.raises(InputError, match="max_pixels"):
        downscale(src, tmp_path / "tiny.mp4", 3)
