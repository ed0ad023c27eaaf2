"""A micro-video from still shots: slow camera moves, crossfades, a look, a silent sound track.

The AI creator makes one or more shots (images); this turns them into what a micro-video feed
plays: an H.264 MP4 of the requested duration. Each shot gets a seeded "Ken Burns" move — the
crop window (the output's aspect ratio, inside the shot) glides from one rectangle to another,
zooming in or out by up to `zoom` and panning across what the zoom leaves — sampled with
sub-pixel bilinear warps so the motion is smooth. Consecutive shots overlap by `crossfade_s`
and are blended linearly across it. With T the duration, n shots and c the crossfade, each shot
lasts L = (T + (n − 1) c) / n; c shrinks to L / 2 when the shots are too short for it.
The look, when given, is rendered on each shot once by the editor's own looks. The audio is a
silent stereo track (players and feeds expect one; a creator that makes sound can pass its own).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from generec.editor.looks import render_look
from generec.errors import InputError
from generec.media.audio import AudioTrack
from generec.media.encode import write_mp4
from generec.media.probe import VideoInfo


@dataclass(frozen=True)
class MontageConfig:
    width: int = 224  # output frame size (a vertical 9:16-ish micro-video by default)
    height: int = 400
    fps: float = 12.0
    crossfade_s: float = 0.5
    zoom: float = 1.2  # the largest zoom of a move (1: no zoom, pan only within the shot's margin)
    min_duration_s: float = 1.0
    max_duration_s: float = 60.0
    sample_rate: int = 44_100
    crf: int = 23

    def __post_init__(self) -> None:
        if self.width < 16 or self.height < 16 or self.fps <= 0:
            raise InputError(f"MontageConfig: expected width, height >= 16 and fps > 0, found {self.width}x{self.height} at {self.fps}")
        if self.zoom < 1.0 or self.crossfade_s < 0 or not 0 < self.min_duration_s <= self.max_duration_s:
            raise InputError(f"MontageConfig: expected zoom >= 1, crossfade_s >= 0 and 0 < min <= max duration, found {self}")


@dataclass(frozen=True)
class Move:
    """A crop window moving across a shot: (cx, cy, w) at the start and the end, in shot pixels
    (the window's height is w × out_h / out_w)."""

    start: tuple[float, float, float]
    end: tuple[float, float, float]


def plan_move(shot_w: int, shot_h: int, out_w: int, out_h: int, zoom: float, rng: np.random.Generator) -> Move:
    """A seeded move: zoom in or out between the largest window of the output's aspect that fits
    the shot and one `zoom` times smaller, each end placed at random where it fits."""
    aspect = out_h / out_w
    full = min(shot_w, shot_h / aspect)  # the widest window of that aspect inside the shot
    tight = full / zoom
    widths = (full, tight) if rng.random() < 0.5 else (tight, full)  # zoom in, or out

    def place(w: float) -> tuple[float, float, float]:
        h = w * aspect
        cx = float(rng.uniform(w / 2, shot_w - w / 2)) if shot_w > w else shot_w / 2
        cy = float(rng.uniform(h / 2, shot_h - h / 2)) if shot_h > h else shot_h / 2
        return cx, cy, w

    return Move(place(widths[0]), place(widths[1]))


def shot_frame(shot: np.ndarray, move: Move, p: float, out_w: int, out_h: int) -> np.ndarray:
    """The window of `move` at progress p in [0, 1] (eased), resampled to out_w × out_h."""
    e = p * p * (3 - 2 * p)  # smoothstep: the camera starts and stops gently
    cx, cy, w = (a + e * (b - a) for a, b in zip(move.start, move.end))
    s = w / out_w  # shot pixels per output pixel
    h = w * out_h / out_w
    # output (x, y) -> shot (x0 + s x, y0 + s y), sampled at pixel centres
    m = np.array([[s, 0.0, cx - w / 2 + 0.5 * s - 0.5], [0.0, s, cy - h / 2 + 0.5 * s - 0.5]], np.float64)
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    if s > 1.5:  # shrinking a lot: pre-blur so the warp does not alias
        shot = cv2.GaussianBlur(shot, (0, 0), 0.5 * s)
    return cv2.warpAffine(shot, m, (out_w, out_h), flags=flags, borderMode=cv2.BORDER_REFLECT)


def timeline(n_shots: int, duration_s: float, crossfade_s: float) -> tuple[float, float]:
    """(L, c): each shot's length and the crossfade actually used."""
    c = crossfade_s if n_shots > 1 else 0.0
    length = (duration_s + (n_shots - 1) * c) / n_shots
    if n_shots > 1 and c > length / 2:  # L = 2c and T = nL - (n - 1)c give c = T / (n + 1)
        c = duration_s / (n_shots + 1)
        length = 2 * c
    return length, c


def montage_frames(shots: Sequence[np.ndarray], duration_s: float, config: MontageConfig, seed: int = 0) -> Iterator[np.ndarray]:
    """The frames of the montage, one per 1 / fps over `duration_s` seconds."""
    cfg = config
    rng = np.random.default_rng(seed)
    moves = [plan_move(s.shape[1], s.shape[0], cfg.width, cfg.height, cfg.zoom, rng) for s in shots]
    length, c = timeline(len(shots), duration_s, cfg.crossfade_s)
    step = length - c
    n_frames = max(1, round(duration_s * cfg.fps))
    for i in range(n_frames):
        t = (i + 0.5) / cfg.fps  # the middle of the frame's display time
        k = min(int(t // step) if step > 0 else 0, len(shots) - 1)  # the latest shot that has started
        frame = shot_frame(shots[k], moves[k], min(1.0, (t - k * step) / length), cfg.width, cfg.height)
        if k > 0 and c > 0 and t < (k - 1) * step + length:  # the previous shot is still fading out
            alpha = (t - k * step) / c
            before = shot_frame(shots[k - 1], moves[k - 1], min(1.0, (t - (k - 1) * step) / length), cfg.width, cfg.height)
            frame = cv2.addWeighted(frame, alpha, before, 1.0 - alpha, 0)
        yield frame


def write_montage(
    path: str | Path,
    shots: Sequence[np.ndarray],
    duration_s: float,
    config: MontageConfig | None = None,
    look: str | None = None,
    seed: int = 0,
    audio: AudioTrack | None = None,
) -> VideoInfo:
    """Write the montage of `shots` (RGB uint8) to `path` as an H.264 MP4 of `duration_s`
    seconds, in `look` (an editor look, or None / "natural"), with `audio` or a silent track."""
    cfg = config or MontageConfig()
    # 1. check inputs
    if not shots:
        raise InputError("montage: expected at least one shot, found none")
    for k, s in enumerate(shots):
        if not isinstance(s, np.ndarray) or s.ndim != 3 or s.shape[2] != 3 or s.dtype != np.uint8 or min(s.shape[:2]) < 8:
            raise InputError(f"montage: shot {k}: expected an (H, W, 3) uint8 RGB image of at least 8x8, found "
                             f"{getattr(s, 'shape', type(s).__name__)} {getattr(s, 'dtype', '')}")  # fmt: skip
    if not np.isfinite(duration_s) or not cfg.min_duration_s <= duration_s <= cfg.max_duration_s:
        raise InputError(f"montage: expected a duration of {cfg.min_duration_s:g} to {cfg.max_duration_s:g} s, found {duration_s:g} s")
    # 2. the look, once per shot
    styled = [render_look(s, look) if look not in (None, "natural") else s for s in shots]
    # 3. frames and sound
    if audio is None:
        audio = AudioTrack(np.zeros((2, round(duration_s * cfg.sample_rate)), np.float32), cfg.sample_rate)
    frames = montage_frames(styled, duration_s, cfg, seed)
    return write_mp4(path, frames, cfg.fps, audio=audio, crf=cfg.crf, duration=duration_s)
