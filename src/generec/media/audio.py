"""Audio: decode the first audio stream to float32 samples, and encode samples as AAC.

A track keeps its channel layout (mono, stereo, 5.1, ...) and sample rate through a cut or a
re-encode. Sources of more than ``MAX_CHANNELS`` channels are downmixed to stereo by FFmpeg's
resampler when decoded: PyAV cannot build frames of more planes than that.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from itertools import chain
from pathlib import Path

import av
import numpy as np
from av.container import InputContainer, OutputContainer

from generec.errors import InputError
from generec.media.container import _SEEK_AHEAD_S, PathLike, _check_file, _media_errors, _open

MAX_CHANNELS = 6  # 5.1


def default_layout(channels: int) -> str:
    """FFmpeg's default layout name for a channel count: 1 mono, 2 stereo, 6 5.1, ..."""
    return av.AudioLayout(f"{channels}c").name


@dataclass
class AudioTrack:
    """Audio samples as float32 of shape (channels, n), nominally in [-1, 1]; ``layout`` names
    the channels (FFmpeg's names; empty: the default layout for the channel count)."""

    samples: np.ndarray
    sample_rate: int
    layout: str = ""

    def __post_init__(self) -> None:
        if not self.layout and getattr(self.samples, "ndim", 0) == 2 and 1 <= self.samples.shape[0] <= 8:
            self.layout = default_layout(self.samples.shape[0])

    @property
    def channels(self) -> int:
        return self.samples.shape[0]

    @property
    def duration(self) -> float:
        return self.samples.shape[1] / self.sample_rate


def read_audio(path: PathLike) -> AudioTrack | None:
    """Decode the first audio stream as float32 (channels, n); None when there is none."""
    p, _ = _check_file(path, None)
    with _open(p) as c:
        if not c.streams.audio:
            return None
        return _decode_audio(c, p, -math.inf, math.inf, origin=0.0)


def _output_layout(layout: av.AudioLayout) -> str:
    """The source's layout when AAC can carry it as decoded, else the default of its count, or
    stereo above MAX_CHANNELS. FFmpeg names a layout of unknown channel order "N channels"."""
    n = layout.nb_channels
    if n > MAX_CHANNELS:
        return "stereo"
    return layout.name if not layout.name.endswith("channels") else default_layout(n)


def _decode_audio(c: InputContainer, p: Path, t0: float, t1: float, origin: float) -> AudioTrack:
    """Samples of the first audio stream in [t0, t1), times measured from ``origin`` seconds
    on the container timeline."""
    a = c.streams.audio[0]
    rate = a.codec_context.sample_rate
    layout = _output_layout(a.codec_context.layout)
    channels = av.AudioLayout(layout).nb_channels
    resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate)
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
        return AudioTrack(np.zeros((channels, 0), np.float32), rate, layout)
    samples = np.concatenate(chunks, axis=1).astype(np.float32, copy=False)
    lo = 0 if math.isinf(t0) else max(0, round((t0 - base) * rate))
    hi = samples.shape[1] if math.isinf(t1) else max(lo, round((t1 - base) * rate))
    return AudioTrack(np.ascontiguousarray(samples[:, lo:hi]), rate, layout)


def check_track(dst: Path, audio: AudioTrack) -> np.ndarray:
    """The track's samples as float32 (channels, n); InputError naming ``dst`` when AAC cannot
    carry them."""
    samples = np.asarray(audio.samples, dtype=np.float32)
    if samples.ndim != 2 or not 1 <= samples.shape[0] <= MAX_CHANNELS or audio.sample_rate <= 0:
        raise InputError(
            f"{dst}: expected audio samples of shape (channels 1-{MAX_CHANNELS}, n) and a positive "
            f"sample rate, found shape {samples.shape} at {audio.sample_rate} Hz"
        )
    try:
        layout = av.AudioLayout(audio.layout)
    except (ValueError, TypeError, av.FFmpegError):
        raise InputError(f"{dst}: expected an FFmpeg channel layout name, found {audio.layout!r}") from None
    if layout.nb_channels != samples.shape[0]:
        raise InputError(
            f"{dst}: audio layout {audio.layout!r} has {layout.nb_channels} channels, "
            f"the samples have {samples.shape[0]}"
        )
    return samples


class _AudioEncoder:
    """Feeds AAC frames to the muxer alongside the video, so packets interleave."""

    def __init__(self, c: OutputContainer, samples: np.ndarray, sample_rate: int, layout: str) -> None:
        self.c = c
        self.samples = samples
        self.rate = sample_rate
        self.layout = layout
        self.stream = c.add_stream("aac", rate=sample_rate, layout=layout)
        self.time_base = Fraction(1, sample_rate)
        self.stream.time_base = self.time_base
        self.frame_size = self.stream.codec_context.frame_size or 1024
        self.pos = 0

    def encode_until(self, t: Fraction | float) -> None:
        n = self.samples.shape[1]
        stop = n if math.isinf(t) else min(n, math.ceil(t * self.rate))
        while self.pos < stop:
            chunk = self.samples[:, self.pos : self.pos + self.frame_size]
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk), format="fltp", layout=self.layout)
            frame.sample_rate = self.rate
            frame.pts = self.pos
            frame.time_base = self.time_base
            self.c.mux(self.stream.encode(frame))
            self.pos += chunk.shape[1]

    def finish(self) -> None:
        self.encode_until(math.inf)
        self.c.mux(self.stream.encode(None))
