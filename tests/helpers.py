"""Tiny real inputs shared by the tests: H.264 files with known content, workspace snapshots."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np

from generec.media.video import AudioTrack, write_mp4


def generec(*args, env: dict | None = None, timeout: float = 900) -> subprocess.CompletedProcess:
    """Run the `generec` command line in a fresh process (as a user would), capturing its output."""
    return subprocess.run([sys.executable, "-m", "generec", *map(str, args)], capture_output=True, text=True, env=env, timeout=timeout)


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


def db_snapshot(ws) -> dict[str, list[str]]:
    """Every row of every table of a workspace's database, on either engine (sorted, as text)."""
    from generec.store.schema import TABLES

    return {t: sorted(repr(tuple(r)) for r in ws.db.query(f"SELECT * FROM {t}")) for t in TABLES}


def photo(name: str) -> np.ndarray:
    """A real photo shipped with scikit-image: chelsea (a cat), coffee, astronaut, rocket ..."""
    from skimage import data

    image = getattr(data, name)()
    return image if image.ndim == 3 else np.stack([image] * 3, -1)


def shot_frames(image: np.ndarray, n: int, width: int, height: int, pan: float = 0.15, seed: int = 0) -> list[np.ndarray]:
    """`n` frames of a slow pan over `image`, like a phone shot of a still subject."""
    import cv2

    rng = np.random.default_rng(seed)
    h, w = image.shape[:2]
    scale = min(h / height, w / width) * 0.8
    cw, ch = int(width * scale), int(height * scale)
    x0, y0 = rng.integers(0, max(1, w - cw)), rng.integers(0, max(1, h - ch))
    dx = int(pan * (w - cw) * (1 if x0 < (w - cw) / 2 else -1))
    frames = []
    for k in range(n):
        x = int(x0 + dx * k / max(1, n - 1))
        crop = image[y0 : y0 + ch, x : x + cw]
        frames.append(np.ascontiguousarray(cv2.resize(crop, (width, height), interpolation=cv2.INTER_AREA)))
    return frames


def shots_video(
    path: Path, shots: list[np.ndarray], seconds: float = 2.0, fps: int = 10, width: int = 128, height: int = 96,
    crossfade: int = 3, audio: bool = False, rotation: int = 0,
) -> Path:
    """An H.264 video of one shot per image (each `seconds` long), joined by crossfades."""
    import cv2

    frames: list[np.ndarray] = []
    for k, image in enumerate(shots):
        shot = shot_frames(image, int(seconds * fps), width, height, seed=k)
        if frames:
            for j in range(min(crossfade, len(shot))):
                a = (j + 1) / (crossfade + 1)
                shot[j] = cv2.addWeighted(shot[j], a, frames[-1], 1 - a, 0)
        frames.extend(shot)
    track = None
    if audio:
        rate = 16_000
        t = np.arange(int(rate * len(frames) / fps)) / rate
        track = AudioTrack((0.3 * np.sin(2 * np.pi * 330 * t)).astype(np.float32)[None, :], rate)
    write_mp4(path, frames, fps=fps, audio=track, rotation=rotation)
    return path


# a creator small enough to train in seconds (tests/creator)
from generec.creator.config import AutoencoderConfig, CreatorConfig, DenoiserConfig  # noqa: E402
from generec.creator.training import TrainBudget  # noqa: E402

TOY_CREATOR = CreatorConfig(
    image_size=32, sample_steps=4, checkpoint_every_s=3600.0,
    autoencoder=AutoencoderConfig(block_out_channels=(8, 16, 32), norm_num_groups=8, batch_size=8),
    denoiser=DenoiserConfig(block_out_channels=(32, 64), attention=(False, True), norm_num_groups=8, batch_size=8),
)  # fmt: skip
TOY_BUDGET = TrainBudget(minutes=5.0, autoencoder_steps=6, denoiser_steps=8)


