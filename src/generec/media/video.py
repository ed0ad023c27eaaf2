"""Video I/O through PyAV: one import for the names of the modules that do the work.

- ``probe``: is a file a complete, decodable video within the limits, and what is it
  (:class:`VideoInfo`);
- ``decode``: frames as stored (RGB uint8 (H, W, 3)), at times or all of them; rotation;
- ``audio``: the first audio stream as float32 (channels, n), and AAC encoding;
- ``encode``: H.264 MP4 writing, cutting a span, re-encoding frame by frame.
"""

from generec.media.audio import AudioTrack, read_audio
from generec.media.decode import (
    DecodePass,
    FrameConverter,
    Frames,
    apply_rotation,
    decode_frames,
    frames_at,
    iter_frames,
    iter_raw_frames,
    luma_plane,
    sample_frames,
)
from generec.media.encode import cut, downscale, reencode, write_mp4
from generec.media.probe import NO_LIMITS, VideoInfo, probe, read_rotation

__all__ = [
    "AudioTrack",
    "DecodePass",
    "FrameConverter",
    "Frames",
    "VideoInfo",
    "apply_rotation",
    "cut",
    "decode_frames",
    "downscale",
    "frames_at",
    "iter_frames",
    "iter_raw_frames",
    "luma_plane",
    "NO_LIMITS",
    "probe",
    "read_audio",
    "read_rotation",
    "reencode",
    "sample_frames",
    "write_mp4",
]
