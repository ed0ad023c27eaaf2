"""Decoding frames through PyAV.

Frames are RGB ``np.uint8`` arrays of shape (H, W, 3) exactly as stored in the file: decoding
never applies the rotation metadata. ``VideoInfo.rotation`` says how to turn a stored frame
upright; pass it to :func:`apply_rotation`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from av.container import InputContainer
from av.video.reformatter import VideoReformatter
from av.video.stream import VideoStream

from generec.errors import InputError, MediaError
from generec.media.container import (
    _EPS,
    _SEEK_AHEAD_S,
    PathLike,
    _check_file,
    _frame_times,
    _header_duration,
    _media_errors,
    _metadata_rotation,
    _open,
    _open_container,
    _quarter_turn,
    _set_decoder_threads,
    _start_pts,
    _video_stream,
)
from generec.media.probe import _PacketTally, _scan

@dataclass
class Frames:
    """Decoded frames (RGB uint8, as stored) and their timestamps in seconds."""

    images: list[np.ndarray]
    timestamps: list[float]



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


class DecodePass:
    """Every frame of a video once, in its native pixel format, for a scan that also needs what
    :func:`probe` reports, without reading the file a second time.

    Opening rejects what :func:`iter_raw_frames` rejects (a missing, unreadable or non-video file).
    Iterating yields (timestamp, frame) like it (timestamps through a float time base) and checks
    what probe checks on the way: a corrupt or undecodable packet, fewer packets than the index
    lists, a duration short of the declared one, fewer frames decoded than shown packets, or no
    frame at all raise MediaError (all but the first two when the pass ends). Before the pass ``header_duration`` is the container's
    declared duration (None when it has none); after it ``rotation``, ``duration`` and
    ``n_frames`` hold what probe would return. MediaLimits are not applied: this is for files
    already admitted. Small frames decode on one thread. A pass reads its file once; use it as a
    context manager (or call ``close``) when it may not be read to the end.
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
        tally = _PacketTally(p, c, v)  # packet extents give the duration, as in probe

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
            duration = tally.finish(decoded)
            self.n_frames = tally.n
            self.duration = duration or self.duration
        finally:
            c.close()

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
