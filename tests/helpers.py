"""Tiny real inputs shared by the tests: H.264 files with known content, workspace snapshots."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from generec.media.video import AudioTrack, write_mp4


def gradient_frames(n: int, width: int = 64, height: int = 48, seed: int = 0) -> list[np.ndarray]:
    """Smooth frames whose brightness encodes the frame index (easy to recover after H.264)."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 60, size=3)
    ys, xs = np.mgrid[0:height, 0:width]
    frames = []
    for i in range(n):
        level = 20 + (200 * i) // max(1, n - 1)
        frame = np.empty((height, width, 3), np.uint8)
        frame[..., 0] = np.clip(level + base[0] + xs // 8, 0, 255)
        frame[..., 1] = np.clip(level + base[1] + ys // 8, 0, 255)
        frame[..., 2] = np.clip(level + base[2], 0, 255)
        frames.append(frame)
    return frames


def make_video(path: Path, n: int = 20, width: int = 64, height: int = 48, fps: int = 10, audio: bool = False) -> Path:
    track = None
    if audio:
        rate = 16_000
        t = np.arange(int(rate * n / fps)) / rate
        track = AudioTrack(np.sin(2 * np.pi * 440 * t).astype(np.float32)[None, :] * 0.3, rate)
    write_mp4(path, gradient_frames(n, width, height), fps=fps, audio=track)
    return path


def snapshot(root: Path) -> dict[str, str]:
    """sha256 of every file under a workspace: the db and the media store, byte for byte."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }
