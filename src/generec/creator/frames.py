"""The creator's training set: the workspace's own catalogue frames, with their retrieval neighbours.

From every human-uploaded video: its cover and `frames_per_video` frames spread over it (upright),
each cut to its centre square and resized to the creator's side, as uint8 (N, S, S, 3); their
EfficientNet-Lite0 features (N, 1280) of the same centre squares at the encoder's size; and, for each frame, its k nearest
frames by cosine among *other* videos (RDM's retrieval: the model learns to make a frame from
its neighbours, so that it can make new frames from what is retrieved for a user). Cached under
`models/creator/frames-<hash>.npz`, keyed by the catalogue (item ids, media hashes), the side,
the frames per video and the encoder version; `hash` is what checkpoints record.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from generec.encoders.image import ImageEncoder, centre_square
from generec.encoders.video import cover_image
from generec.errors import InputError
from generec.media.probe import read_rotation
from generec.media.video import apply_rotation, sample_frames
from generec.types import Item, Kind, Origin
from generec.workspace import Workspace

FRAMES_VERSION = 1


@dataclass
class TrainingFrames:
    images: np.ndarray  # (N, S, S, 3) uint8
    features: np.ndarray  # (N, 1280) float32
    video: np.ndarray  # (N,) int: which video each frame came from
    item_ids: list[str]  # the videos, by index
    hash: str

    def __len__(self) -> int:
        return len(self.images)

    def neighbours(self, k: int) -> np.ndarray:
        """(N, k) indices of each frame's k most similar frames of other videos (cosine)."""
        f = self.features / np.maximum(np.linalg.norm(self.features, axis=1, keepdims=True), 1e-8)
        out = np.zeros((len(f), k), np.int64)
        for start in range(0, len(f), 1024):
            sims = f[start : start + 1024] @ f.T
            rows = np.arange(start, min(start + 1024, len(f)))
            sims[self.video[rows][:, None] == self.video[None, :]] = -np.inf  # never its own video
            out[rows] = np.argpartition(-sims, min(k, len(f) - 1), axis=1)[:, :k]
        return out


def square(image: np.ndarray, side: int) -> np.ndarray:
    """The centre square of an RGB image at `side` × `side` (area-averaged when shrinking)."""
    h, w = image.shape[:2]
    s = min(h, w)
    y, x = (h - s) // 2, (w - s) // 2
    crop = image[y : y + s, x : x + s]
    return cv2.resize(crop, (side, side), interpolation=cv2.INTER_AREA if s > side else cv2.INTER_CUBIC)


def catalogue_videos(ws: Workspace) -> list[Item]:
    return [i for i in ws.items.all(origin=Origin.HUMAN) if i.kind == Kind.VIDEO and i.media is not None]


def frames_hash(items: list[Item], side: int, per_video: int, encoder_version: str) -> str:
    key = "\n".join(f"{i.id}:{i.media.hash}:{i.cover.hash if i.cover else ''}" for i in items)
    head = f"v{FRAMES_VERSION}:{side}:{per_video}:{encoder_version}\n"
    return hashlib.sha256((head + key).encode()).hexdigest()[:16]


def _video_frames(ws: Workspace, item: Item, per_video: int) -> list[np.ndarray]:
    path = ws.media_path(item.media.hash, item.media.mime)
    frames = sample_frames(path, per_video).images
    rotation = read_rotation(path)
    if rotation:
        frames = [apply_rotation(f, rotation) for f in frames]
    cover = cover_image(ws, item)
    return ([cover] if cover is not None else []) + frames


def training_frames(
    ws: Workspace, side: int, per_video: int, encoder: ImageEncoder,
    progress: Callable[[str, int, int], None] | None = None,
) -> TrainingFrames:  # fmt: skip
    """The catalogue's frames for training the creator (module doc), from the cache when it has them."""
    items = catalogue_videos(ws)
    if len(items) < 2:
        raise InputError(f"workspace {ws.root}: the creator learns from the catalogue's videos, found {len(items)} (need at least 2)")
    digest = frames_hash(items, side, per_video, encoder.version)
    path = ws.root / "models" / "creator" / f"frames-{digest}.npz"
    if path.is_file():
        with np.load(path, allow_pickle=False) as z:
            return TrainingFrames(z["images"], z["features"], z["video"], [str(s) for s in z["item_ids"]], digest)
    images, features, video = [], [], []
    batch: list[np.ndarray] = []

    def flush() -> None:
        if batch:
            features.append(encoder.encode(batch).features.astype(np.float32))
            batch.clear()

    for n, item in enumerate(items):
        for frame in _video_frames(ws, item, per_video):
            images.append(square(frame, side))
            batch.append(centre_square(frame))
            video.append(n)
        if len(batch) >= 64:
            flush()
        if progress:
            progress("creator frames", n + 1, len(items))
    flush()
    out = TrainingFrames(np.stack(images), np.concatenate(features), np.asarray(video, np.int64), [i.id for i in items], digest)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, images=out.images, features=out.features, video=out.video, item_ids=np.asarray(out.item_ids))
    tmp.replace(path)
    return out
