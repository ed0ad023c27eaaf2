"""Tiny real video files for the media tests: frames with known content, writers through our
own code and through plain PyAV, and broken files of every kind."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

from generec.media.audio import AudioTrack
from generec.media.encode import write_mp4
from generec.media.probe import VideoInfo

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


def av_video(
    path: Path,
    n: int = 20,
    fps: int = 10,
    size: tuple[int, int] = (W, H),
    *,
    frames: list[np.ndarray] | None = None,
    pts_ms: list[int] | None = None,
    pix_fmt: str = "yuv420p",
    audio_layout: str | None = None,
    audio_rate: int = 48000,
    rotation: int = 0,
    **options: str,
) -> Path:
    """An MP4 written with plain PyAV (not our writer): frame i shows ``bars(i)`` (or ``frames[i]``)
    at ``i / fps`` s, or at ``pts_ms[i]`` ms for a variable frame rate; with an AAC tone of
    ``audio_layout`` (every channel 440 Hz) and a display matrix turning it ``rotation`` degrees
    clockwise when asked."""
    w, h = size
    images = frames if frames is not None else [bars(i, h, w) for i in range(n)]
    tb = Fraction(1, 1000) if pts_ms is not None else Fraction(1, fps)
    seconds = (pts_ms[-1] / 1000 + 1 / fps) if pts_ms is not None else len(images) / fps
    with av.open(str(path), "w", format="mp4") as c:
        v = c.add_stream("libx264", rate=fps)
        v.width, v.height, v.pix_fmt = w, h, pix_fmt
        v.time_base = v.codec_context.time_base = tb  # the encoder's too, or it rounds pts to 1 / fps
        v.options = options
        if rotation:
            v.set_display_rotation(-rotation % 360)  # the display matrix turns counter-clockwise
        a = c.add_stream("aac", rate=audio_rate, layout=audio_layout) if audio_layout else None
        for i, img in enumerate(images):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")
            frame.pts, frame.time_base = (pts_ms[i] if pts_ms is not None else i), tb
            c.mux(v.encode(frame))
        c.mux(v.encode(None))
        if a is not None:
            channels = av.AudioLayout(audio_layout).nb_channels
            t = np.arange(int(seconds * audio_rate)) / audio_rate
            tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
            samples = np.tile(tone, (channels, 1))
            for start in range(0, samples.shape[1], 1024):
                frame = av.AudioFrame.from_ndarray(
                    np.ascontiguousarray(samples[:, start : start + 1024]), format="fltp", layout=audio_layout
                )
                frame.sample_rate, frame.pts, frame.time_base = audio_rate, start, Fraction(1, audio_rate)
                c.mux(a.encode(frame))
            c.mux(a.encode(None))
    return path


def av_matroska(path: Path, codec: str, n: int = 50, fps: int = 25, size: tuple[int, int] = (W, H)) -> Path:
    """A Matroska (``.mkv``) or WebM (``.webm``) file written with plain PyAV: frame i shows
    ``bars(i)`` at ``i / fps`` s. These containers keep no per-packet index and no frame count."""
    w, h = size
    with av.open(str(path), "w", format="webm" if path.suffix == ".webm" else "matroska") as c:
        v = c.add_stream(codec, rate=fps)
        v.width, v.height, v.pix_fmt = w, h, "yuv420p"
        for i in range(n):
            frame = av.VideoFrame.from_ndarray(bars(i, h, w), format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            c.mux(v.encode(frame))
        c.mux(v.encode(None))
    return path


def shorten_edit_list(path: Path, seconds: float) -> Path:
    """End the video track's edit list ``seconds`` early, as edit-listed MP4s and screen recorders
    do: the samples after it stay in the file, the demuxer marks them discarded."""
    data = bytearray(path.read_bytes())
    mvhd = data.find(b"mvhd")
    timescale = int.from_bytes(data[mvhd + (24 if data[mvhd + 4] else 16) :][:4], "big")
    elst = data.find(b"elst")
    assert elst > 0, "libx264 with B-frames makes mp4 write an edit list"
    wide = 8 if data[elst + 4] else 4  # version 1: 64-bit segment durations
    at = elst + 12  # first entry's segment duration, in the movie time scale
    duration = int.from_bytes(data[at : at + wide], "big")
    data[at : at + wide] = (duration - round(seconds * timescale)).to_bytes(wide, "big")
    path.write_bytes(bytes(data))
    return path


def corrupt_packet(path: Path, index: int) -> Path:
    """Overwrite the data of video packet ``index`` with noise (its size and place stay)."""
    with av.open(str(path)) as c:
        entry = c.streams.video[0].index_entries[index]
        pos, size = entry.pos, entry.size
    data = bytearray(path.read_bytes())
    data[pos : pos + size] = np.random.default_rng(index).integers(0, 256, size, dtype=np.uint8).tobytes()
    path.write_bytes(bytes(data))
    return path


# A variable frame rate, as phones record in low light: frame times in ms.
VFR_MS = [0, 40, 80, 200, 233, 400, 700, 720, 740, 1000, 1010, 1300, 1600, 1650, 1700, 1800, 1900, 1950, 1990, 2100]
