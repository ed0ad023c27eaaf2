"""Encoding: write frames to an H.264 MP4, and re-encode a video (a span of it, each frame
through a function, or smaller) with its frame times, sound and rotation kept.

yuv420p stores colour at half resolution, so it needs even sizes: an odd height or width loses
its last row or column (223 x 127 becomes 222 x 126); nothing is stretched.
"""

from __future__ import annotations

import math
import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from fractions import Fraction
from itertools import chain, count, tee
from pathlib import Path

import av
import numpy as np

from generec.errors import InputError
from generec.media.audio import AudioTrack, _AudioEncoder, _decode_audio, check_track
from generec.media.container import (
    _EPS,
    _SEEK_AHEAD_S,
    PathLike,
    _frame_times,
    _media_errors,
    _open,
    _set_decoder_threads,
    _start_pts,
    _video_stream,
)
from generec.media.decode import FrameConverter
from generec.media.probe import NO_LIMITS, VideoInfo, _probe

# Time base of frames written at given times (a variable frame rate): the 90 kHz MPEG clock.
_TIMED_BASE = Fraction(1, 90000)


def _rate(fps: float | Fraction) -> Fraction:
    if isinstance(fps, Fraction):
        rate = fps
    else:
        if not (isinstance(fps, (int, float)) and math.isfinite(fps)):
            raise InputError(f"fps must be a finite number, found {fps!r}")
        rate = Fraction(fps).limit_denominator(1001)
    if rate <= 0:
        raise InputError(f"fps must be positive, found {fps}")
    return rate


def _check_frame(dst: Path, i: int, arr: np.ndarray, shape: tuple[int, ...] | None) -> None:
    if not isinstance(arr, np.ndarray) or arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[2] != 3:
        found = f"{arr.dtype} array of shape {arr.shape}" if isinstance(arr, np.ndarray) else type(arr).__name__
        raise InputError(f"{dst}: frame {i}: expected an RGB uint8 array (H, W, 3), found {found}")
    if shape is not None and arr.shape != shape:
        raise InputError(f"{dst}: frame {i}: expected shape {shape} like frame 0, found {arr.shape}")


def _temp_path(dst: Path) -> Path:
    return dst.with_name(f".{dst.name}.{uuid.uuid4().hex}.tmp")


def write_mp4(
    path: PathLike,
    frames: Iterable[np.ndarray],
    fps: float | Fraction,
    audio: AudioTrack | None = None,
    crf: int = 23,
    preset: str = "veryfast",
    *,
    gop: int | None = None,
    rotation: int = 0,
    times: Iterable[float] | None = None,
    duration: float | None = None,
) -> VideoInfo:
    """Encode RGB uint8 frames to an H.264/yuv420p MP4 (AAC audio of the track's layout when
    given), atomically.

    Frame i gets timestamp i / fps exactly, or ``times[i]`` seconds when given (a variable frame
    rate; increasing). The last frame lasts until ``duration`` s when given, else 1 / fps. An odd
    height or width loses its last row or column. ``gop`` caps the keyframe interval (in frames;
    default: the encoder's); ``rotation`` (clockwise degrees) is stored as display-matrix
    metadata, the pixels are not turned. The file appears under ``path`` only once complete
    (written to a temporary file in the same directory, then renamed).
    """
    # 1. check inputs
    dst = Path(path)
    rate = _rate(fps)
    if rotation % 90:
        raise InputError(f"{dst}: rotation must be a multiple of 90 degrees, found {rotation}")
    it = iter(frames)
    first = next(it, None)
    if first is None:
        raise InputError(f"{dst}: expected at least one frame to write, found none")
    _check_frame(dst, 0, first, None)
    shape = first.shape
    h, w = shape[0] - shape[0] % 2, shape[1] - shape[1] % 2
    if h == 0 or w == 0:
        raise InputError(f"{dst}: expected frames of at least 2x2 pixels, found {shape[1]}x{shape[0]}")
    samples = check_track(dst, audio) if audio is not None else None

    # 2. frame times as integer pts: i in 1 / fps, or round(t / 90 kHz tick)
    tb = 1 / rate if times is None else _TIMED_BASE
    stamps: Iterator[int] = count() if times is None else (round(float(t) / tb) for t in times)
    step = round(1 / (rate * tb))  # one frame at the nominal rate, in ticks

    # 3. encode, one frame behind the input: a frame's duration is known once the next one's pts is
    tmp = _temp_path(dst)
    try:
        with av.open(str(tmp), "w", format="mp4", options={"movflags": "+faststart"}) as c:
            v = c.add_stream("libx264", rate=rate)
            v.width, v.height, v.pix_fmt = w, h, "yuv420p"
            v.time_base = v.codec_context.time_base = tb
            options = {"crf": str(crf), "preset": preset}
            if gop is not None:
                options["g"] = str(gop)
            v.options = options
            if rotation % 360:
                v.set_display_rotation(-rotation % 360)
            enc = _AudioEncoder(c, samples, audio.sample_rate, audio.layout) if samples is not None else None
            muxer = _TimedMuxer(c)
            items = enumerate(zip(chain([first], it), stamps))
            current = next(items)
            while current is not None:
                i, (arr, pts) = current
                following = next(items, None)
                if following is not None:
                    end = following[1][1]
                elif duration is not None:
                    end = round(duration / tb)
                else:
                    end = pts + step
                if end <= pts:
                    raise InputError(
                        f"{dst}: frame {i}: expected the next frame (or the end) after {float(pts * tb):.6f} s, "
                        f"found {float(end * tb):.6f} s"
                    )
                _check_frame(dst, i, arr, shape)
                if arr.shape[:2] != (h, w):
                    arr = arr[:h, :w]
                frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(arr), format="rgb24")
                # Not v.time_base: the muxer replaces that once the header is written.
                frame.pts, frame.time_base = pts, tb
                muxer.first_pts = pts if muxer.first_pts is None else muxer.first_pts
                muxer.mux(v.encode(frame))
                if enc is not None:
                    enc.encode_until(end * tb)
                current = following
            muxer.mux(v.encode(None))
            muxer.close(end)
            if enc is not None:
                enc.finish()
        os.replace(tmp, dst)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return _probe(dst, NO_LIMITS)


class _TimedMuxer:
    """Muxes video packets one behind, so the last one can be given the duration that makes the
    track as long as its frames are shown: MP4 stores each sample's duration as the gap to the
    next DTS, and only the last from the packet, so

        last duration = (end - first pts) - (last dts - first dts).
    """

    def __init__(self, c: av.container.OutputContainer) -> None:
        self.c = c
        self.first_pts: int | None = None
        self.first_dts: int | None = None
        self.held: av.Packet | None = None

    def mux(self, packets: list[av.Packet]) -> None:
        for pkt in packets:
            if self.first_dts is None:
                self.first_dts = pkt.dts
            if self.held is not None:
                self.c.mux(self.held)
            self.held = pkt

    def close(self, end: int) -> None:
        last = self.held
        if last is None:
            return
        if None not in (self.first_pts, self.first_dts, last.dts):
            last.duration = max(1, (end - self.first_pts) - (last.dts - self.first_dts))
        self.c.mux(last)


def _fit(width: int, height: int, max_pixels: int | None) -> tuple[int, int]:
    """The largest even size of the frame's aspect with at most ``max_pixels`` pixels:
    scale s = sqrt(max_pixels / (W H)), then each side rounded down to even."""
    if max_pixels is None or width * height <= max_pixels:
        return width, height
    s = math.sqrt(max_pixels / (width * height))
    return max(2, int(width * s) // 2 * 2), max(2, int(height * s) // 2 * 2)


def _transcode(
    src: PathLike,
    dst: PathLike,
    start: float,
    end: float,
    fn: Callable[[np.ndarray], np.ndarray] | None = None,
    max_pixels: int | None = None,
    crf: int = 23,
    preset: str = "veryfast",
    info: VideoInfo | None = None,
) -> VideoInfo:
    """Re-encode the frames with timestamps in [start, end), each through ``fn`` (RGB as stored)
    and shrunk to ``max_pixels`` first; times, the audio of the span, rotation kept. ``info``:
    what probe says of ``src``, when the caller has it."""
    p = Path(src)
    info = _probe(p, NO_LIMITS) if info is None else info
    with _open(p) as c:
        # 1. seek to the span
        v = _video_stream(c, p)
        _set_decoder_threads(v)
        rate = v.average_rate or v.guessed_rate or _rate(info.fps)
        with _media_errors(p, "seeking"):
            if start > _SEEK_AHEAD_S:
                c.seek(_start_pts(v) + math.floor(start / v.time_base), stream=v)

        def span() -> Iterator[tuple[float, av.VideoFrame]]:
            with _media_errors(p, "decoding"):
                for t, frame in _frame_times(v, c.decode(v)):
                    if t >= end - _EPS:
                        return
                    if t >= start - _EPS:
                        yield t, frame

        # 2. the first frame of the span fixes the time origin t0 and the size
        frames = span()
        first = next(frames, None)
        if first is None:
            raise InputError(f"{p}: expected frames in [{start}, {end}) s, found none")
        t0, stop = first[0], min(end, info.duration)
        audio = None
        if info.has_audio:
            with _open(p) as ca:
                audio = _decode_audio(ca, p, t0, stop, origin=float(_start_pts(v) * v.time_base))
        width, height = _fit(first[1].width, first[1].height, max_pixels)
        scaled = (width, height) != (first[1].width, first[1].height)
        to_rgb = FrameConverter("rgb24", "AREA" if scaled else None)

        # 3. decode, convert, encode, one frame at a time (memory stays at a few frames)
        for_images, for_times = tee(chain([first], frames))
        images = (to_rgb(f, width, height) if scaled else to_rgb(f) for _, f in for_images)
        if fn is not None:
            images = (fn(image) for image in images)
        times = (t - t0 for t, _ in for_times)
        return write_mp4(
            dst, images, rate, audio=audio, crf=crf, preset=preset, rotation=info.rotation,
            times=times, duration=max(stop - t0, _EPS),
        )  # fmt: skip


def cut(src: PathLike, dst: PathLike, start: float, end: float) -> VideoInfo:
    """Re-encode the frames with timestamps in [start, end) to a new H.264 MP4 at ``dst``.

    Each frame keeps its time from the first kept frame (a variable frame rate stays variable);
    the last one shows until ``end`` (or the video's end). Stored size (even) and rotation are
    kept. When ``src`` has audio, the audio from the first kept frame's time to ``end`` is
    re-encoded as AAC in its own layout, so picture and sound stay in sync.
    """
    p = Path(src)
    info = _probe(p, NO_LIMITS)
    one_frame = 1.0 / info.fps if info.fps > 0 else 0.0
    if not (start >= 0 and end > start and end <= info.duration + one_frame + _EPS):
        raise InputError(
            f"{p}: expected a span 0 <= start < end <= {info.duration + one_frame:.3f} s, "
            f"found [{start}, {end})"
        )
    return _transcode(p, dst, start, end, info=info)


def reencode(
    src: PathLike, dst: PathLike, fn: Callable[[np.ndarray], np.ndarray], crf: int = 20, preset: str = "veryfast"
) -> VideoInfo:
    """Every frame of ``src`` through ``fn`` (an RGB uint8 (H, W, 3) frame as stored -> one of
    the same shape), written to ``dst`` as H.264 with the frame times, audio and rotation kept."""
    return _transcode(src, dst, 0.0, math.inf, fn, crf=crf, preset=preset)


def downscale(src: PathLike, dst: PathLike, max_pixels: int) -> VideoInfo:
    """``src`` shrunk (swscale, area) to the largest even size of its aspect with at most
    ``max_pixels`` pixels a frame; times, audio and rotation kept."""
    if max_pixels < 4:
        raise InputError(f"{src}: expected max_pixels of at least 4 (2x2) to downscale to, found {max_pixels}")
    return _transcode(src, dst, 0.0, math.inf, max_pixels=max_pixels, crf=20)
