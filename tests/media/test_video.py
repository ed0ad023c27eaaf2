"""Video I/O on tiny real files written in tmp_path."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from generec.config import MediaLimits
from generec.errors import InputError, MediaError
from generec.media.video import (
    AudioTrack,
    DecodePass,
    FrameConverter,
    Frames,
    VideoInfo,
    apply_rotation,
    cut,
    decode_frames,
    frames_at,
    iter_frames,
    iter_raw_frames,
    luma_plane,
    probe,
    read_audio,
    sample_frames,
    write_mp4,
)

W, H = 64, 48


def bars(i: int, h: int = H, w: int = W) -> np.ndarray:
    """A frame that encodes ``i`` (0..255) as two gray levels: left i % 16, right i // 16."""
    img = np.empty((h, w, 3), np.uint8)
    img[:, : w // 2] = 16 + 14 * (i % 16)
    img[:, w // 2 :] = 16 + 14 * (i // 16)
    return img


def index_of(img: np.ndarray) -> int:
    w = img.shape[1]
    left = img[4:-4, 4 : w // 2 - 4].mean()
    right = img[4:-4, w // 2 + 4 : -4].mean()
    return int(round((right - 16) / 14)) * 16 + int(round((left - 16) / 14))


def smooth(i: int, h: int, w: int) -> np.ndarray:
    """A smooth colour gradient that drifts with ``i``."""
    y = np.linspace(0.0, 1.0, h)[:, None]
    x = np.linspace(0.0, 1.0, w)[None, :]
    r = 0.5 + 0.35 * np.sin(2 * np.pi * (x + i / 20))
    g = 0.3 + 0.5 * y
    b = 0.5 + 0.3 * np.cos(2 * np.pi * (x * 0.5 + y * 0.5))
    return (np.stack(np.broadcast_arrays(r, g, b), axis=-1) * 255).astype(np.uint8)


def sine(seconds: float, rate: int = 44100, freq: float = 440.0) -> AudioTrack:
    t = np.arange(int(seconds * rate)) / rate
    return AudioTrack((0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)[None], rate)


def dominant_hz(track: AudioTrack) -> float:
    x = track.samples[0]
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.argmax(spectrum) * track.sample_rate / len(x))


def write_bars(path: Path, n: int, fps: float = 10, **kw: object) -> VideoInfo:
    return write_mp4(path, (bars(i) for i in range(n)), fps, **kw)


def write_raw(path: Path, images: list[np.ndarray], fps: int, **options: str) -> None:
    """An MP4 written with PyAV directly: no faststart (index after the media data) and
    libx264 ``options`` that write_mp4 does not expose."""
    with av.open(str(path), "w", format="mp4") as c:
        s = c.add_stream("libx264", rate=fps)
        s.width, s.height, s.pix_fmt = images[0].shape[1], images[0].shape[0], "yuv420p"
        s.options = options
        for i, img in enumerate(images):
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            c.mux(s.encode(frame))
        c.mux(s.encode(None))


def write_moov_at_end(path: Path, n: int, fps: int = 10) -> None:
    write_raw(path, [smooth(i, H, W) for i in range(n)], fps)


@pytest.fixture(scope="module")
def bars50(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """50 frames at 25 fps (2 s), frame i showing index i."""
    path = tmp_path_factory.mktemp("v") / "bars50.mp4"
    write_bars(path, 50, fps=25)
    return path


@pytest.fixture(scope="module")
def long_gop10(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """200 frames at 10 fps (20 s) with a keyframe every 10 frames."""
    path = tmp_path_factory.mktemp("v") / "long.mp4"
    write_bars(path, 200, fps=10, gop=10)
    return path


@pytest.fixture(scope="module")
def with_audio(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """4 s at 10 fps with a 440 Hz mono AAC track."""
    path = tmp_path_factory.mktemp("v") / "audio.mp4"
    write_bars(path, 40, fps=10, audio=sine(4.0))
    return path


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


# --- audio and cutting ----------------------------------------------------------------------


def test_audio_round_trip(with_audio: Path) -> None:
    info = probe(with_audio)
    assert info.has_audio and info.n_frames == 40
    track = read_audio(with_audio)
    assert track is not None
    assert track.samples.dtype == np.float32 and track.samples.shape[0] == 1
    assert track.sample_rate == 44100
    assert track.duration == pytest.approx(4.0, abs=0.1)
    assert dominant_hz(track) == pytest.approx(440, abs=5)


def test_read_audio_is_none_without_audio(bars50: Path) -> None:
    assert read_audio(bars50) is None


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


# --- bad media ------------------------------------------------------------------------------


def _truncate(path: Path, keep: float | int) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)] if isinstance(keep, float) else data[:keep])


def make_missing(tmp: Path) -> Path:
    return tmp / "missing.mp4"


def make_zero_bytes(tmp: Path) -> Path:
    (p := tmp / "zero.mp4").write_bytes(b"")
    return p


def make_text(tmp: Path) -> Path:
    (p := tmp / "notes.mp4").write_text("not a video\n" * 50)
    return p


def make_png_named_mp4(tmp: Path) -> Path:
    p = tmp / "picture.mp4"
    Image.fromarray(smooth(0, H, W)).save(p, format="PNG")
    return p


def make_truncated_faststart(tmp: Path) -> Path:
    p = tmp / "half_faststart.mp4"
    write_mp4(p, (smooth(i, H, W) for i in range(30)), fps=10)
    _truncate(p, 0.5)
    return p


def make_truncated_moov_at_end(tmp: Path) -> Path:
    p = tmp / "half_moov_end.mp4"
    write_moov_at_end(p, 30)
    _truncate(p, 0.5)
    return p


def make_missing_last_bytes(tmp: Path) -> Path:
    p = tmp / "short_tail.mp4"
    write_mp4(p, (smooth(i, H, W) for i in range(30)), fps=10)
    _truncate(p, p.stat().st_size - 50)
    return p


def make_one_frame(tmp: Path) -> Path:
    p = tmp / "single.mp4"
    write_mp4(p, [smooth(0, H, W)], fps=10)
    return p


BAD_FILES = [
    (make_missing, "nothing at that path"),
    (make_zero_bytes, "0-byte"),
    (make_text, "cannot open"),
    (make_png_named_mp4, "still image"),
    (make_truncated_faststart, "truncated"),
    (make_truncated_moov_at_end, "truncated"),
    (make_missing_last_bytes, "truncated"),
]


def _name(x: object) -> str:
    return getattr(x, "__name__", str(x)).removeprefix("make_")


@pytest.mark.parametrize(("make", "expect"), [*BAD_FILES, (make_one_frame, "at least 2")], ids=_name)
def test_bad_files_raise_media_error_naming_the_file(
    tmp_path: Path, make: object, expect: str
) -> None:
    path = make(tmp_path)  # type: ignore[operator]
    with pytest.raises(MediaError, match=expect) as err:
        probe(path)
    assert path.name in str(err.value)


def test_moov_at_end_is_fine_when_complete(tmp_path: Path) -> None:
    write_moov_at_end(tmp_path / "whole.mp4", 30)
    assert probe(tmp_path / "whole.mp4").n_frames == 30


def test_one_frame_passes_when_limits_allow(tmp_path: Path) -> None:
    path = make_one_frame(tmp_path)
    assert probe(path, MediaLimits(min_frames=1)).n_frames == 1


@pytest.mark.parametrize(
    ("limits", "expect"),
    [
        (MediaLimits(max_duration_s=1.5), "at most 1.5 s, found 2.000 s"),
        (MediaLimits(max_pixels=W * H - 1), f"found {W}x{H}"),
        (MediaLimits(max_file_bytes=100), "at most 100 bytes"),
        (MediaLimits(min_frames=51), "at least 51 decodable frames, found 50"),
    ],
    ids=["duration", "pixels", "file_size", "min_frames"],
)
def test_limits_raise_media_error(bars50: Path, limits: MediaLimits, expect: str) -> None:
    with pytest.raises(MediaError, match=expect) as err:
        probe(bars50, limits)
    assert bars50.name in str(err.value)


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
