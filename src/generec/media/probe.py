"""Probe: check that a file is a complete, decodable video within the limits, and describe it."""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path

import av
from av.container import InputContainer
from av.video.stream import VideoStream

from generec.config import MediaLimits
from generec.errors import InputError, MediaError
from generec.media.container import (
    _EPS,
    PathLike,
    _check_file,
    _header_duration,
    _media_errors,
    _metadata_rotation,
    _open,
    _quarter_turn,
    _set_decoder_threads,
    _video_stream,
)

OVERSIZE = ("refuse", "downscale")  # what MediaLimits.oversize may say

# Limits for files already admitted, or written by this package: health checks only.
NO_LIMITS = MediaLimits(
    max_duration_s=math.inf, max_pixels=sys.maxsize, max_file_bytes=sys.maxsize, min_frames=1
)


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

    @property
    def display_width(self) -> int:
        """Width of the frame shown upright (after ``rotation``)."""
        return self.height if self.rotation % 180 else self.width

    @property
    def display_height(self) -> int:
        return self.width if self.rotation % 180 else self.height


def _fps(v: VideoStream, n_frames: int, duration: float) -> float:
    for rate in (v.average_rate, v.guessed_rate):
        if rate:
            return float(rate)
    return n_frames / duration if duration > 0 else 0.0



def probe(path: PathLike, limits: MediaLimits | None = None) -> VideoInfo:
    """Check that ``path`` is a complete, decodable video within ``limits`` and describe it.

    ``limits=None`` applies the default :class:`MediaLimits`. Every video packet is demuxed and
    every frame decoded (one at a time), so a file is refused when it is truncated (a packet
    cut short, or fewer packets than its index lists), when a packet does not decode, or when
    fewer frames decode than the packets that are meant to be shown. Packets an edit list
    leaves out (FFmpeg's discard flag) are not frames: a file whose header counts one frame more
    than it shows is fine.
    """
    return _probe(path, MediaLimits() if limits is None else limits)


def _probe(path: PathLike, limits: MediaLimits) -> VideoInfo:
    if limits.oversize not in OVERSIZE:
        raise InputError(f"MediaLimits.oversize: expected one of {', '.join(OVERSIZE)}, found {limits.oversize!r}")
    p, size = _check_file(path, limits)
    with _open(p) as c:
        v = _video_stream(c, p)
        width, height = v.codec_context.width, v.codec_context.height
        if width <= 0 or height <= 0:
            raise MediaError(f"{p}: expected a positive frame size, found {width}x{height}")
        if width * height > limits.max_pixels and limits.oversize == "refuse":
            raise MediaError(
                f"{p}: expected frames within the media limit max_pixels = {limits.max_pixels}, "
                f"found {width}x{height} = {width * height} pixels (raise max_pixels, or shrink such videos "
                f"at import: oversize = \"downscale\" in the media config, or --downscale)"
            )
        declared = _header_duration(c, v)
        if declared is not None and declared > limits.max_duration_s + _EPS:
            raise MediaError(
                f"{p}: expected at most max_duration_s = {limits.max_duration_s:g} s, found {declared:.3f} s"
            )
        n_frames, duration, rotation = _scan(c, v, p)
        has_audio = bool(c.streams.audio)
        codec = v.codec_context.name
        fps = _fps(v, n_frames, duration)
    if n_frames < limits.min_frames:
        raise MediaError(
            f"{p}: expected at least {limits.min_frames} decodable frames, found {n_frames}"
        )
    if duration > limits.max_duration_s + _EPS:
        raise MediaError(f"{p}: expected at most max_duration_s = {limits.max_duration_s:g} s, found {duration:.3f} s")
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


def read_rotation(path: PathLike) -> int:
    """The clockwise turn (0, 90, 180, 270) that shows ``path``'s frames upright, from its first
    frame's display matrix (else the legacy ``rotate`` tag), without checking the whole file as
    :func:`probe` does: for files already admitted."""
    p, _ = _check_file(path, None)
    with _open(p) as c:
        v = _video_stream(c, p)
        with _media_errors(p, "decoding its first frame"):
            for frame in c.decode(v):
                if frame.rotation:
                    # frame.rotation is the display matrix angle, counter-clockwise.
                    return _quarter_turn(-frame.rotation)
                break
        return _metadata_rotation(v)


# A measured duration may fall this far (plus one frame) below the declared one.
_SHORT_S = 0.1
_SHORT_FRACTION = 0.01


def _declared_video_duration(c: InputContainer, v: VideoStream) -> float | None:
    """Seconds of video the file says it holds, from what its writer stored: the stream's
    duration (MP4: the edit list's), else Matroska's per-track ``DURATION`` tag
    ("HH:MM:SS.fffffffff"), else Matroska's segment duration. None otherwise: other containers'
    durations may be estimates from the bit rate."""
    if v.duration is not None and v.time_base is not None:
        return float(v.duration * v.time_base)
    tag = v.metadata.get("DURATION") or v.metadata.get("duration")
    if tag:
        try:
            h, m, sec = tag.split(":")
            return int(h) * 3600 + int(m) * 60 + float(sec)
        except ValueError:
            pass
    if c.duration is not None and "matroska" in c.format.name:
        return c.duration / av.time_base
    return None


class _PacketTally:
    """What the video packets tell: how many are shown (not discarded by an edit list), how
    many there are, and the pts extent of the shown ones. Refuses a corrupt packet at once and,
    at the end (:meth:`finish`), a file that shows less than it declares: fewer packets than its
    index (or, without a per-packet index, the header) lists, or a shorter duration."""

    def __init__(self, p: Path, c: InputContainer, v: VideoStream) -> None:
        self.p = p
        self.v = v
        self.declared = _declared_video_duration(c, v)
        entries = v.index_entries  # read at open: complete for MP4 and AVI, keyframes (or none) for others
        self.listed = sum(1 for i in range(len(entries)) if entries[i].size > 0)
        self.n = 0  # shown packets: the frames
        self.seen = 0  # every non-empty packet
        self.leading = 0  # shown packets before the first keyframe's pts (an open GOP's leading pictures)
        self.key_pts: int | None = None
        self.first_pts: int | None = None
        self.last_pts: int | None = None
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
        self.seen += 1
        ts = pkt.pts if pkt.pts is not None else pkt.dts
        if self.key_pts is None and pkt.is_keyframe:
            self.key_pts = ts
        if pkt.is_discard:
            return True
        self.n += 1
        if ts is not None:
            if self.key_pts is None or ts < self.key_pts:
                self.leading += 1
            self.first_pts = ts if self.first_pts is None else min(self.first_pts, ts)
            self.last_pts = ts if self.last_pts is None else max(self.last_pts, ts)
            end = ts + (pkt.duration or 0)
            self.end_pts = end if self.end_pts is None else max(self.end_pts, end)
        return True

    def finish(self, decoded: int) -> float | None:
        """End-of-pass checks once ``decoded`` frames came out of the decoder; returns
        :meth:`duration`. MediaError when the file is cut short or its packets do not decode."""
        p, v = self.p, self.v
        if self.seen < self.listed:
            raise MediaError(
                f"{p}: expected {self.listed} video packets as the file's index lists, found {self.seen} "
                "(the file is truncated)"
            )
        # Without a per-packet index, the header's count; it may count one frame more than is shown.
        if self.listed < self.seen and v.frames and self.seen < v.frames - 1:
            raise MediaError(
                f"{p}: expected {v.frames} frames as the header declares, found {self.seen} "
                "(the file is truncated)"
            )
        if decoded == 0:
            raise MediaError(f"{p}: expected decodable video frames, found none")
        # Leading pictures of an open GOP at the start may not decode; every other shown packet must.
        if decoded < self.n - self.leading:
            raise MediaError(
                f"{p}: expected {self.n - self.leading} frames to decode, found {decoded} decodable "
                "(damaged packets)"
            )
        duration = self.duration(v)
        # Matroska/WebM keep no per-packet index and no frame count: a cut-off tail shows only
        # as a measured duration short of the declared one, by more than a frame + _SHORT_S
        # (+ _SHORT_FRACTION of the declared length, for writers that round it).
        rate = v.average_rate or v.guessed_rate
        frame_s = float(1 / rate) if rate else 0.0
        if self.declared is not None and duration is not None:
            allowed = frame_s + _SHORT_S + _SHORT_FRACTION * self.declared
            if duration < self.declared - allowed:
                raise MediaError(
                    f"{p}: expected {self.declared:.3f} s of video as the container declares, found "
                    f"{duration:.3f} s in {self.n} frames (the file is truncated)"
                )
        return duration

    def duration(self, v: VideoStream) -> float | None:
        """Seconds the shown frames last: the stream's declared duration (MP4: edit-list aware)
        when it covers every shown frame's start, else from the first pts to the last packet's end."""
        if self.first_pts is None or self.last_pts is None:
            return None
        span = float((self.last_pts - self.first_pts) * v.time_base)
        if v.duration and float(v.duration * v.time_base) > span:
            return float(v.duration * v.time_base)
        if self.end_pts is not None and self.end_pts > self.first_pts:
            return float((self.end_pts - self.first_pts) * v.time_base)
        return span or None


def _scan(c: InputContainer, v: VideoStream, p: Path) -> tuple[int, float, int]:
    """Demux every video packet and decode every frame, one at a time.

    Returns (frame count, duration in seconds, clockwise rotation).
    """
    tally = _PacketTally(p, c, v)
    _set_decoder_threads(v)
    rotation: int | None = None
    decoded = 0
    with _media_errors(p, "decoding"):
        for pkt in c.demux(v):
            tally.add(pkt)  # the empty packet at the end flushes the decoder
            for frame in v.decode(pkt):
                decoded += 1
                if rotation is None:
                    # frame.rotation is the display matrix angle, counter-clockwise.
                    rotation = _quarter_turn(-frame.rotation) if frame.rotation else 0
    duration = tally.finish(decoded)
    if duration is None:
        duration = _header_duration(c, v) or 0.0
    if not rotation:
        rotation = _metadata_rotation(v)
    return tally.n, duration, rotation
