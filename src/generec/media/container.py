"""Opening and checking video files: the helpers every reader of a file shares.

Timestamps are seconds from the start of the video stream (``(pts - start_time) * time_base``).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import av
from av.container import InputContainer
from av.video.stream import VideoStream

from generec.config import MediaLimits
from generec.errors import MediaError

PathLike = str | os.PathLike[str]

# A requested time this close above a frame's timestamp still selects that frame; it absorbs
# float rounding between ``i / fps`` and ``pts * time_base``.
_EPS = 1e-6
# Seek only when the next request lies this far beyond the decode position.
_SEEK_AHEAD_S = 1.0
# Frames up to this size decode on one thread (threads pay off only above it).
_THREADED_PIXELS = 480 * 270
# Demuxers whose "video stream" is a still image (plus every *_pipe one) or text art.
_IMAGE_DEMUXERS = {"image2", "tty"}


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
        # An MP4 cut off before its index (moov) opens as a container without streams.
        kinds = ", ".join(s.type for s in c.streams) or "no streams (a truncated or incomplete file)"
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


def _set_decoder_threads(v: VideoStream) -> None:
    """FFmpeg's frame threads for frames above 480 x 270; one thread below, where the hand-offs
    cost more than they save (224 x 128: 0.04 ms a frame on one thread, 0.07 ms threaded)."""
    cc = v.codec_context
    if cc.width * cc.height > _THREADED_PIXELS:
        v.thread_type = "AUTO"
    else:
        cc.thread_count = 1


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
