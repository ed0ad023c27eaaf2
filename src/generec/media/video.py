"""Video I/O through PyAV.

Frames are RGB ``np.uint8`` arrays of shape (H, W, 3) exactly as stored in the file: decoding
never applies the rotation metadata. ``VideoInfo.rotation`` says how to turn a stored frame
upright; pass it to :func:`apply_rotation`.

Timestamps are seconds from the start of the video stream (``(pts - start_time) * time_base``).
"""

from __future__ import annotations

import math
import os
import stat
import sys
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from itertools import chain
from pathlib import Path
import av
import numpy as np
from av.container import InputContainer, OutputContainer
from av.video.reformatter import VideoReformatter
from av.video.stream import VideoStream

from generec.config import MediaLimits
from generec.errors import InputError, MediaError

PathLike = str | os.PathLike[str]

# A requested time this close above a frame's timestamp still selects that frame; it absorbs
# float rounding between ``i / fps`` and ``pts * time_base``.
_EPS = 1e-6
# frames_at seeks only when the next request lies this far beyond the decode position.
_SEEK_AHEAD_S = 1.0
# Limits for files this module writes itself (and for the source of a cut): health checks only.
_NO_LIMITS = MediaLimits(
    max_duration_s=math.inf, max_pixels=sys.maxsize, max_file_bytes=sys.maxsize, min_frames=1
)
# DecodePass decodes frames up to this size on one thread (threads pay off only above it).
_THREADED_PIXELS = 480 * 270
# Demuxers whose "video stream" is a still image (plus every *_pipe one) or text art.
_IMAGE_DEMUXERS = {"image2", "tty"}


@dataclass(frozen=True)
class VideoInfo:
    """What :func:`probe` found. ``width``/``height`` are the stored (coded) frame size;
    ``rotation`` is the clockwise turn, in degrees (0, 90, 180 or 270), that shows a stored
    frame upright (the convention of the legacy ``rotate`` tag)."""

    path: str
    duration: float
    fps: float
    width: int
    height: int
    rotation: int
    has_audio: bool
    codec: str
    n_frames: int
    size_bytes: int


@dataclass
class Frames:
    """Decoded frames (RGB uint8, as stored) and their timestamps in seconds."""

    images: list[np.ndarray]
    timestamps: list[float]


@dataclass
class AudioTrack:
    """Audio samples as float32 of shape (channels, n), nominally in [-1, 1]."""

    samples: np.ndarray
    sample_rate: int

    @property
    def duration(self) -> float:
        return self.samples.shape[1] / self.sample_rate


# --- checks and opening ---------------------------------------------------------------------


def _check_file(path: PathLike, limits: MediaLimits | None) -> tuple[Path, int]:
    """Return the path and its size; MediaError when it is missing, not a file, empty or too big."""
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise MediaError(f"{p}: expected a video file, found nothing at that path") from None
    except OSError as e:
        raise MediaError(f"{p}: expected a readable video file, found an error: {e}") from None
    if not stat.S_ISREG(st.st_mode):
        raise MediaError(f"{p}: expected a video file, found a directory or special file")
    if st.st_size == 0:
        raise MediaError(f"{p}: expected a video file, found an empty (0-byte) file")
    if limits is not None and st.st_size > limits.max_file_bytes:
        raise MediaError(
            f"{p}: expected at most {limits.max_file_bytes} bytes, found {st.st_size} bytes"
        )
    return p, st.st_size


@contextmanager
def _media_errors(p: Path, doing: str) -> Iterator[None]:
    """Turn FFmpeg failures into MediaError naming the file."""
    try:
        yield
    except av.FFmpegError as e:
        raise MediaError(
            f"{p}: expected a complete, decodable video, found an error while {doing}: {e}"
        ) from e


def _open_container(p: Path) -> InputContainer:
    try:
        return av.open(str(p), metadata_errors="replace")
    except av.FFmpegError as e:
        # A truncated MP4 whose index (moov) was at the end fails here too, as invalid data.
        raise MediaError(
            f"{p}: expected a video file, found data FFmpeg cannot open "
            f"(not a media file, or truncated): {e}"
        ) from e


@contextmanager
def _open(p: Path) -> Iterator[InputContainer]:
    container = _open_container(p)
    try:
        yield container
    finally:
        container.close()


def _video_stream(c: InputContainer, p: Path) -> VideoStream:
    fmt = c.format.name
    if fmt in _IMAGE_DEMUXERS or fmt.endswith("_pipe"):
        raise MediaError(f"{p}: expected a video, found a still image (format {fmt!r})")
    if not c.streams.video:
        kinds = ", ".join(s.type for s in c.streams) or "no streams"
        raise MediaError(f"{p}: expected a video stream, found {kinds} (format {fmt!r})")
    v = c.streams.video[0]
    if v.time_base is None:
        raise MediaError(f"{p}: expected a video stream with a time base, found none")
    return v


def _start_pts(v: VideoStream) -> int:
    return v.start_time if v.start_time is not None else 0


def _header_duration(c: InputContainer, v: VideoStream) -> float | None:
    """Duration declared by the container, without reading packets."""
    if v.duration is not None and v.time_base is not None:
        return float(v.duration * v.time_base)
    if c.duration is not None:
        return c.duration / av.time_base
    return None


def _quarter_turn(degrees: float) -> int:
    """The nearest of 0, 90, 180, 270 to an angle in degrees."""
    return int(round(degrees / 90.0)) * 90 % 360


def _metadata_rotation(v: VideoStream) -> int:
    """The legacy ``rotate`` tag (clockwise degrees), 0 when absent or unreadable."""
    try:
        return _quarter_turn(float(v.metadata.get("rotate", 0)))
    except ValueError:
        return 0


def _fps(v: VideoStream, n_frames: int, duration: float) -> float:
    for rate in (v.average_rate, v.guessed_rate):
        if rate:
            return float(rate)
    return n_frames / duration if duration > 0 else 0.0


# --- probe ----------------------------------------------------------------------------------


def probe(path: PathLike, limits: MediaLimits | None = None) -> VideoInfo:
    """Check that ``path`` is a complete, decodable video within ``limits`` and describe it.

    ``limits=None`` applies the default :class:`MediaLimits`. Frames are counted by demuxing
    every video packet; truncation is caught by comparing with the frame count the container
    declares, by FFmpeg's corrupt-packet flag, and by decoding the last group of pictures.
    """
    return _probe(path, MediaLimits() if limits is None else limits)


def _probe(path: PathLike, limits: MediaLimits) -> VideoInfo:
    p, size = _check_file(path, limits)
    with _open(p) as c:
        v = _video_stream(c, p)
        width, height = v.codec_context.width, v.codec_context.height
        if width <= 0 or height <= 0:
            raise MediaError(f"{p}: expected a positive frame size, found {width}x{height}")
        if width * height > limits.max_pixels:
            raise MediaError(
                f"{p}: expected at most {limits.max_pixels} pixels per frame, "
                f"found {width}x{height} = {width * height}"
            )
        declared = _header_duration(c, v)
        if declared is not None and declared > limits.max_duration_s + _EPS:
            raise MediaError(
                f"{p}: expected at most {limits.max_duration_s:g} s, found {declared:.3f} s"
            )
        n_frames, duration, rotation = _scan(c, v, p)
        has_audio = bool(c.streams.audio)
        codec = v.codec_context.name
        fps = _fps(v, n_frames, duration)
        if rotation is None:
            rotation = _metadata_rotation(v)
    if n_frames < limits.min_frames:
        raise MediaError(
            f"{p}: expected at least {limits.min_frames} decodable frames, found {n_frames}"
        )
    if duration > limits.max_duration_s + _EPS:
        raise MediaError(f"{p}: expected at most {limits.max_duration_s:g} s, found {duration:.3f} s")
    return VideoInfo(
        path=str(p),
        duration=duration,
        fps=fps,
        width=width,
        height=height,
        rotation=rotation,
        has_audio=has_audio,
        codec=codec,
        n_frames=n_frames,
        size_bytes=size,
    )


class _PacketTally:
    """What the video packets tell: their count and pts extent. Refuses a corrupt packet at once
    and, at the end, fewer packets than the header declares."""

    def __init__(self, p: Path) -> None:
        self.p = p
        self.n = 0
        self.first_pts: int | None = None
        self.end_pts: int | None = None

    def add(self, pkt: av.Packet) -> bool:
        """Count `pkt`; False for the empty packet demux yields at end of stream."""
        if pkt.size == 0:
            return False
        if pkt.is_corrupt:
            raise MediaError(
                f"{self.p}: expected complete packets, found a truncated or corrupt packet "
                f"after {self.n} frames"
            )
        self.n += 1
        ts = pkt.pts if pkt.pts is not None else pkt.dts
        if ts is not None:
            self.first_pts = ts if self.first_pts is None else min(self.first_pts, ts)
            end = ts + (pkt.duration or 0)
            self.end_pts = end if self.end_pts is None else max(self.end_pts, end)
        return True

    def check_count(self, v: VideoStream) -> None:
        if v.frames and self.n < v.frames:
            raise MediaError(
                f"{self.p}: expected {v.frames} frames as the header declares, found {self.n} "
                "(the file is truncated)"
            )

    def duration(self, v: VideoStream) -> float | None:
        """Seconds from the first packet's pts to the last one's end, when the packets carry pts."""
        if self.first_pts is not None and self.end_pts is not None and self.end_pts > self.first_pts:
            return float((self.end_pts - self.first_pts) * v.time_base)
        return None


def _scan(c: InputContainer, v: VideoStream, p: Path) -> tuple[int, float, int | None]:
    """Demux every video packet, then decode the last GOP.

    Returns (frame count, duration in seconds, clockwise rotation or None when unknown).
    """
    tally = _PacketTally(p)
    tail: list[av.Packet] = []  # packets from the last keyframe on
    with _media_errors(p, "reading packets"):
        for pkt in c.demux(v):
            if not tally.add(pkt):
                continue
            if pkt.is_keyframe or not tail:
                tail = [pkt]
            else:
                tail.append(pkt)
    tally.check_count(v)
    n = tally.n
    if n == 0:
        raise MediaError(f"{p}: expected at least one video frame, found none")

    rotation: int | None = None
    decoded = 0
    key_pts = tail[0].pts
    # Leading pictures of an open GOP (pts before the keyframe) cannot decode from here.
    expected = sum(1 for k in tail if key_pts is None or k.pts is None or k.pts >= key_pts)
    with _media_errors(p, "decoding its last frames"):
        v.codec_context.flush_buffers()
        for frame in chain.from_iterable(v.decode(k) for k in chain(tail, [None])):
            if key_pts is None or frame.pts is None or frame.pts >= key_pts:
                decoded += 1
            if rotation is None:
                # frame.rotation is the display matrix angle, counter-clockwise.
                rotation = _quarter_turn(-frame.rotation) if frame.rotation else None
    if decoded < expected:
        raise MediaError(
            f"{p}: expected the last {expected} frames to decode, found {decoded} decodable"
        )

    duration = tally.duration(v)
    if duration is None:
        duration = _header_duration(c, v) or 0.0
    return n, duration, rotation


# --- decoding -------------------------------------------------------------------------------


def _frame_times(v: VideoStream, frames: Iterable[av.VideoFrame]) -> Iterator[tuple[float, av.VideoFrame]]:
    """Attach a timestamp to each frame; frames without pts get the previous one plus 1/fps."""
    tb = float(v.time_base)  # a float time base: Fraction arithmetic per frame costs more than decoding a small one
    start = _start_pts(v)
    rate = v.average_rate or v.guessed_rate
    step = float(1 / rate) if rate else 0.0
    last = -step
    for frame in frames:
        ts = frame.pts if frame.pts is not None else frame.dts
        t = (ts - start) * tb if ts is not None else last + step
        last = t
        yield t, frame


def _rgb(frame: av.VideoFrame) -> np.ndarray:
    return frame.to_ndarray(format="rgb24")


def iter_frames(path: PathLike) -> Iterator[tuple[float, np.ndarray]]:
    """Yield (timestamp, RGB frame as stored) for every frame, in presentation order.

    The file is opened (and bad files rejected) when this is called, not at the first frame.
    """
    to_rgb = FrameConverter("rgb24")  # one swscale context for the whole pass
    return ((t, to_rgb(frame)) for t, frame in iter_raw_frames(path))


def iter_raw_frames(path: PathLike) -> Iterator[tuple[float, av.VideoFrame]]:
    """Yield (timestamp, decoded frame in its native pixel format) for every frame.

    For scans that look closely at only a few frames: converting a frame to RGB costs about as
    much as decoding it, so callers convert (or shrink, with a :class:`FrameConverter`) only what
    they use.
    """
    p, _ = _check_file(path, None)
    c = _open_container(p)
    try:
        v = _video_stream(c, p)
        _set_decoder_threads(v)
    except BaseException:
        c.close()
        raise
    return _iter_raw(c, v, p)


def _iter_raw(c: InputContainer, v: VideoStream, p: Path) -> Iterator[tuple[float, av.VideoFrame]]:
    try:
        with _media_errors(p, "decoding"):
            yield from _frame_times(v, c.decode(v))
    finally:
        c.close()


def _set_decoder_threads(v: VideoStream) -> None:
    """FFmpeg's frame threads for frames above 480 x 270; one thread below, where the hand-offs
    cost more than they save (224 x 128: 0.04 ms a frame on one thread, 0.07 ms threaded)."""
    cc = v.codec_context
    if cc.width * cc.height > _THREADED_PIXELS:
        v.thread_type = "AUTO"
    else:
        cc.thread_count = 1


class DecodePass:
    """Every frame of a video once, in its native pixel format, for a scan that also needs what
    :func:`probe` reports, without reading the file a second time.

    Opening rejects what :func:`iter_raw_frames` rejects (a missing, unreadable or non-video file).
    Iterating yields (timestamp, frame) like it (timestamps through a float time base) and checks
    what probe checks on the way: a corrupt packet, fewer packets than the header declares, or no
    frame at all raise MediaError (the last two when the pass ends). Before the pass
    ``header_duration`` is the container's declared duration (None when it has none); after it
    ``rotation``, ``duration`` and ``n_frames`` hold what probe would return. Unlike probe it does
    not check that the last group of pictures decodes, and MediaLimits are not applied: this is for
    files already admitted. Small frames decode on one thread. A pass reads its file once; use it
    as a context manager (or call ``close``) when it may not be read to the end.
    """

    def __init__(self, path: PathLike) -> None:
        p, _ = _check_file(path, None)
        self.path = p
        self._c = _open_container(p)
        try:
            self._v = _video_stream(self._c, p)
            _set_decoder_threads(self._v)
        except BaseException:
            self._c.close()
            raise
        self.header_duration = _header_duration(self._c, self._v)
        self.rotation = _metadata_rotation(self._v)  # the display matrix, when frames carry one, wins
        self.duration = self.header_duration or 0.0
        self.n_frames = 0
        self._started = False

    def __iter__(self) -> Iterator[tuple[float, av.VideoFrame]]:
        if self._started:
            raise RuntimeError(f"{self.path}: a DecodePass reads its file once; open another to read it again")
        self._started = True
        c, v, p = self._c, self._v, self.path
        tally = _PacketTally(p)  # packet extents give the duration, as in probe

        def frames() -> Iterator[av.VideoFrame]:
            for pkt in c.demux(v):
                tally.add(pkt)  # the empty packet at the end only flushes the decoder
                yield from v.decode(pkt)

        decoded = 0
        try:
            with _media_errors(p, "decoding"):
                for t, frame in _frame_times(v, frames()):
                    if decoded == 0 and frame.rotation:
                        # frame.rotation is the display matrix angle, counter-clockwise.
                        self.rotation = _quarter_turn(-frame.rotation)
                    decoded += 1
                    yield t, frame
        finally:
            c.close()
        tally.check_count(v)
        if decoded == 0:
            raise MediaError(f"{p}: expected decodable video frames, found none")
        self.n_frames = tally.n
        self.duration = tally.duration(v) or self.duration

    def close(self) -> None:
        """Close the file (a finished pass has closed it already)."""
        self._c.close()

    def __enter__(self) -> DecodePass:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class FrameConverter:
    """Frames -> uint8 arrays in one pixel format ("rgb24": (H, W, 3), "gray": (H, W)), optionally
    resized, through one reused swscale context on one thread. ``FrameConverter("rgb24")(frame)``
    gives the pixels of ``frame.to_ndarray(format="rgb24")``, which sets up a fresh context and
    thread pool per call: over 10x the cost of converting a small frame. ``interpolation`` names
    a swscale scaler ("AREA", "BILINEAR", ...) used when resizing; gray output is full range."""

    def __init__(self, format: str = "rgb24", interpolation: str | None = None) -> None:
        self._reformatter = VideoReformatter()
        self.format = format
        self.interpolation = interpolation

    def __call__(self, frame: av.VideoFrame, width: int | None = None, height: int | None = None) -> np.ndarray:
        out = self._reformatter.reformat(
            frame, width, height, self.format, interpolation=self.interpolation, threads=1
        )
        return out.to_ndarray()


def luma_plane(frame: av.VideoFrame) -> tuple[np.ndarray, bool] | None:
    """The luma (Y) plane of a yuv420p or yuvj420p frame as a uint8 (H, W) view of the frame's
    memory, and whether it is full range (0-255; else 16-235); None for other pixel formats."""
    name = frame.format.name
    if name not in ("yuv420p", "yuvj420p"):
        return None
    plane = frame.planes[0]
    y = np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)[:, : plane.width]
    return y, name == "yuvj420p" or frame.color_range == 2  # AVCOL_RANGE_JPEG


def decode_frames(path: PathLike) -> Frames:
    """Decode every frame (RGB, as stored)."""
    out = Frames(images=[], timestamps=[])
    for t, img in iter_frames(path):
        out.timestamps.append(t)
        out.images.append(img)
    return out


def sample_frames(path: PathLike, n: int) -> Frames:
    """``n`` frames spread uniformly over the duration: the frames shown at the centres of
    ``n`` equal segments, ``(i + 0.5) * duration / n``."""
    if n <= 0:
        raise InputError(f"{path}: expected a positive number of frames to sample, found {n}")
    p, _ = _check_file(path, None)
    with _open(p) as c:
        duration = _duration_for_requests(c, _video_stream(c, p), p)
    return frames_at(p, [(i + 0.5) * duration / n for i in range(n)])


def _duration_for_requests(c: InputContainer, v: VideoStream, p: Path) -> float:
    duration = _header_duration(c, v)
    if duration is None:
        _, duration, _ = _scan(c, v, p)
        c.seek(0)
    return duration


def frames_at(
    path: PathLike, timestamps: Sequence[float], stats: dict[str, int] | None = None
) -> Frames:
    """For each time, the frame displayed then: the last frame with timestamp <= t.

    Requests are served in time order. The decoder seeks to the keyframe before a request only
    when the request lies more than 1 s beyond the decode position and, where the container has
    an index, that keyframe is past the decode position; otherwise it decodes forward. Results
    come back in the order requested, and ``Frames.timestamps`` holds the returned frames' own
    timestamps. When ``stats`` is given, it receives ``decoded_frames`` and ``seeks``.
    """
    times = [float(t) for t in timestamps]
    p, _ = _check_file(path, None)
    decoded = seeks = 0
    images: list[np.ndarray] = []
    stamps: list[float] = []
    with _open(p) as c:
        v = _video_stream(c, p)
        duration = _duration_for_requests(c, v, p)
        for t in times:
            if not (0.0 <= t <= duration + _EPS):
                raise InputError(
                    f"{p}: timestamp {t} s is outside the video's [0, {duration:.3f}] s"
                )
        start = _start_pts(v)

        def decoder() -> Iterator[tuple[float, av.VideoFrame]]:
            nonlocal decoded
            for item in _frame_times(v, c.decode(v)):
                decoded += 1
                yield item

        frames = decoder()
        prev: tuple[float, av.VideoFrame] | None = None  # last frame at or before the request
        pending: tuple[float, av.VideoFrame] | None = None  # decoded, but after the request

        def worth_seeking(t: float, here: float) -> bool:
            if t - here <= _SEEK_AHEAD_S:
                return False
            entries = v.index_entries
            if not len(entries):
                return True
            # Index timestamps are DTS, a few frames off PTS: close enough to tell GOPs apart.
            key = entries.search_timestamp(start + math.floor(t / v.time_base))
            return key < 0 or key > entries.search_timestamp(start + math.floor(here / v.time_base))

        def seek(t: float) -> None:
            nonlocal frames, prev, pending, seeks
            c.seek(start + math.floor(t / v.time_base), stream=v, backward=True, any_frame=False)
            frames, prev, pending, seeks = decoder(), None, None, seeks + 1

        def advance(t: float) -> None:
            nonlocal prev, pending
            while True:
                if pending is None:
                    pending = next(frames, None)
                    if pending is None:
                        return
                if pending[0] > t + _EPS:
                    return
                prev, pending = pending, None

        chosen: dict[int, tuple[float, av.VideoFrame]] = {}
        with _media_errors(p, "decoding"):
            for i in sorted(range(len(times)), key=times.__getitem__):
                t = times[i]
                at = pending or prev
                if worth_seeking(t, at[0] if at else 0.0):
                    seek(t)
                    advance(t)
                    if prev is None:  # the seek landed after t: decode from the start
                        seek(0.0)
                        advance(t)
                else:
                    advance(t)
                # Before the first frame nothing is displayed yet; the first frame stands in.
                found = prev or pending
                if found is None:
                    raise MediaError(f"{p}: expected a frame at or before {t} s, found none")
                chosen[i] = found
            converted: dict[int, np.ndarray] = {}
            for i in range(len(times)):
                t, frame = chosen[i]
                key = id(frame)
                # A frame chosen twice is converted once; later requests get a copy.
                img = converted[key].copy() if key in converted else _rgb(frame)
                converted.setdefault(key, img)
                images.append(img)
                stamps.append(t)
    if stats is not None:
        stats["decoded_frames"] = decoded
        stats["seeks"] = seeks
    return Frames(images=images, timestamps=stamps)


def apply_rotation(frame: np.ndarray, rotation: int) -> np.ndarray:
    """Turn a stored frame clockwise by ``rotation`` degrees (a multiple of 90), e.g. by
    ``VideoInfo.rotation`` to show it upright."""
    if rotation % 90:
        raise InputError(f"rotation must be a multiple of 90 degrees, found {rotation}")
    k = (rotation // 90) % 4
    return frame if k == 0 else np.ascontiguousarray(np.rot90(frame, k=-k))


# --- audio ----------------------------------------------------------------------------------


def _layout(channels: int) -> str | av.AudioLayout:
    return {1: "mono", 2: "stereo"}.get(channels) or av.AudioLayout(channels)


def read_audio(path: PathLike) -> AudioTrack | None:
    """Decode the first audio stream as float32 (channels, n); None when there is none."""
    p, _ = _check_file(path, None)
    with _open(p) as c:
        if not c.streams.audio:
            return None
        return _decode_audio(c, p, -math.inf, math.inf, origin=0.0)


def _decode_audio(c: InputContainer, p: Path, t0: float, t1: float, origin: float) -> AudioTrack:
    """Samples of the first audio stream in [t0, t1), times measured from ``origin`` seconds
    on the container timeline."""
    a = c.streams.audio[0]
    rate = a.codec_context.sample_rate
    channels = a.codec_context.layout.nb_channels
    resampler = av.AudioResampler(format="fltp", layout=a.codec_context.layout, rate=rate)
    chunks: list[np.ndarray] = []
    base: float | None = None  # time of the first decoded sample
    got = 0
    with _media_errors(p, "decoding audio"):
        if t0 > _SEEK_AHEAD_S and a.time_base is not None:
            c.seek(max(0, math.floor((t0 + origin - 1.0) / a.time_base)), stream=a)
        for frame in chain(c.decode(a), [None]):
            if base is None and frame is not None:
                base = float(frame.pts * a.time_base) - origin if frame.pts is not None else 0.0
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(channels, -1))
                got += out.samples
            if base is not None and base + got / rate >= t1:
                break
    if not chunks or base is None:
        return AudioTrack(np.zeros((channels, 0), np.float32), rate)
    samples = np.concatenate(chunks, axis=1).astype(np.float32, copy=False)
    lo = 0 if math.isinf(t0) else max(0, round((t0 - base) * rate))
    hi = samples.shape[1] if math.isinf(t1) else max(lo, round((t1 - base) * rate))
    return AudioTrack(np.ascontiguousarray(samples[:, lo:hi]), rate)


# --- writing --------------------------------------------------------------------------------


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
) -> VideoInfo:
    """Encode RGB uint8 frames to an H.264/yuv420p MP4 (AAC audio when given), atomically.

    Frame i gets timestamp i / fps exactly. yuv420p needs even dimensions, so an odd height or
    width loses its last row or column (99x75 becomes 98x74). ``gop`` caps the keyframe
    interval (in frames; default: the encoder's); ``rotation`` (clockwise degrees) is stored
    as display-matrix metadata, the pixels are not turned. The file appears under ``path``
    only once complete (written to a temporary file in the same directory, then renamed).
    """
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

    samples: np.ndarray | None = None
    if audio is not None:
        samples = np.asarray(audio.samples, dtype=np.float32)
        if samples.ndim != 2 or not 1 <= samples.shape[0] <= 8 or audio.sample_rate <= 0:
            raise InputError(
                f"{dst}: expected audio samples of shape (channels 1-8, n) and a positive "
                f"sample rate, found shape {samples.shape} at {audio.sample_rate} Hz"
            )

    tmp = _temp_path(dst)
    try:
        with av.open(str(tmp), "w", format="mp4", options={"movflags": "+faststart"}) as c:
            v = c.add_stream("libx264", rate=rate)
            v.width, v.height, v.pix_fmt = w, h, "yuv420p"
            tb = 1 / rate
            v.time_base = tb
            options = {"crf": str(crf), "preset": preset}
            if gop is not None:
                options["g"] = str(gop)
            v.options = options
            if rotation % 360:
                v.set_display_rotation(-rotation % 360)
            enc = _AudioEncoder(c, samples, audio.sample_rate) if samples is not None else None
            for i, arr in enumerate(chain([first], it)):
                _check_frame(dst, i, arr, shape)
                if arr.shape[:2] != (h, w):
                    arr = arr[:h, :w]
                frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(arr), format="rgb24")
                frame.pts = i
                # Not v.time_base: the muxer replaces that once the header is written.
                frame.time_base = tb
                c.mux(v.encode(frame))
                if enc is not None:
                    enc.encode_until((i + 1) / rate)
            c.mux(v.encode(None))
            if enc is not None:
                enc.finish()
        os.replace(tmp, dst)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return _probe(dst, _NO_LIMITS)


class _AudioEncoder:
    """Feeds AAC frames to the muxer alongside the video, so packets interleave."""

    def __init__(self, c: OutputContainer, samples: np.ndarray, sample_rate: int) -> None:
        self.c = c
        self.samples = samples
        self.rate = sample_rate
        self.layout = _layout(samples.shape[0])
        self.stream = c.add_stream("aac", rate=sample_rate, layout=self.layout)
        self.time_base = Fraction(1, sample_rate)
        self.stream.time_base = self.time_base
        self.frame_size = self.stream.codec_context.frame_size or 1024
        self.pos = 0

    def encode_until(self, t: Fraction | float) -> None:
        n = self.samples.shape[1]
        stop = n if math.isinf(t) else min(n, math.ceil(t * self.rate))
        while self.pos < stop:
            chunk = self.samples[:, self.pos : self.pos + self.frame_size]
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(chunk), format="fltp", layout=self.layout
            )
            frame.sample_rate = self.rate
            frame.pts = self.pos
            frame.time_base = self.time_base
            self.c.mux(self.stream.encode(frame))
            self.pos += chunk.shape[1]

    def finish(self) -> None:
        self.encode_until(math.inf)
        self.c.mux(self.stream.encode(None))


# --- cutting --------------------------------------------------------------------------------


def cut(src: PathLike, dst: PathLike, start: float, end: float) -> VideoInfo:
    """Re-encode the frames with timestamps in [start, end) to a new H.264 MP4 at ``dst``.

    Frame rate, stored size and rotation are kept. When ``src`` has audio, the audio from the
    first kept frame's time to ``end`` is re-encoded as AAC, so picture and sound stay in sync.
    """
    p = Path(src)
    info = _probe(p, _NO_LIMITS)
    one_frame = 1.0 / info.fps if info.fps > 0 else 0.0
    if not (start >= 0 and end > start and end <= info.duration + one_frame + _EPS):
        raise InputError(
            f"{p}: expected a span 0 <= start < end <= {info.duration + one_frame:.3f} s, "
            f"found [{start}, {end})"
        )
    with _open(p) as c:
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

        frames = span()
        first = next(frames, None)
        if first is None:
            raise InputError(f"{p}: expected frames in [{start}, {end}) s, found none")
        audio = None
        if info.has_audio:
            origin = float(_start_pts(v) * v.time_base)
            with _open(p) as ca:
                audio = _decode_audio(ca, p, first[0], end, origin)
        to_rgb = FrameConverter("rgb24")
        images = (to_rgb(f) for _, f in chain([first], frames))
        return write_mp4(dst, images, rate, audio=audio, rotation=info.rotation)
