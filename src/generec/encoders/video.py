"""Visual features of workspace items, through the feature cache.

- `cover_features`: one vector per item from the picture a user sees before clicking: a video's
  cover image, an image item's own image. A video without a cover falls back to its first frame
  (as the importer's covers are made). Text items, and items without media, get zeros and
  `has_image = False`.
- `frame_features`: vectors of `n` frames sampled uniformly over a video, with their timestamps.

Cache entries (see `cache.py`): `(image hash, version, "cover")` for a cover or image file,
`(video hash, version, "cover")` for a first-frame fallback, `(video hash, version, "frames{n}")`
and `"frames{n}-t"` for sampled frames and their timestamps.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from generec.encoders.cache import FeatureCache
from generec.encoders.image import FEATURE_DIM, ImageEncoder
from generec.errors import InputError
from generec.media.image import load_image
from generec.media.probe import read_rotation
from generec.media.video import Frames, apply_rotation, frames_at, sample_frames
from generec.types import Item, Kind, Media
from generec.workspace import Workspace

COVER = "cover"


@dataclass
class CoverFeatures:
    features: np.ndarray  # (N, 1280) float32; zero rows where has_image is False
    has_image: np.ndarray  # (N,) bool; False for text items and items without media


@dataclass
class FrameFeatures:
    features: np.ndarray  # (n, 1280) float32
    timestamps: np.ndarray  # (n,) float64, seconds: the sampled frames' own timestamps


@dataclass(frozen=True)
class _Source:
    """Where an item's cover picture comes from: an image file, or a video's first frame."""

    media: Media
    is_video: bool


def _cover_source(item: Item) -> _Source | None:
    if item.kind == Kind.VIDEO:
        if item.cover is not None:
            return _Source(item.cover, is_video=False)
        return _Source(item.media, is_video=True) if item.media is not None else None
    if item.kind == Kind.IMAGE and item.media is not None:
        return _Source(item.media, is_video=False)
    return None


def cover_hash(item: Item) -> str | None:
    """The media hash of the picture `cover_image` shows for the item, or None when it has none."""
    source = _cover_source(item)
    return source.media.hash if source is not None else None


def _upright(frames: Frames, path: Path) -> Frames:
    """Turn decoded frames (as stored) upright by the video's rotation metadata."""
    rotation = read_rotation(path)
    if rotation:
        frames.images = [apply_rotation(im, rotation) for im in frames.images]
    return frames


def _load_cover(workspace: Workspace, source: _Source) -> np.ndarray:
    path = workspace.media_path(source.media.hash, source.media.mime)
    if source.is_video:
        return _upright(frames_at(path, [0.0]), path).images[0]
    return load_image(path)


def cover_image(workspace: Workspace, item: Item) -> np.ndarray | None:
    """The item's cover as shown (RGB, upright): its cover image, a video's first frame or the
    image itself; None for an item without one."""
    source = _cover_source(item)
    return _load_cover(workspace, source) if source is not None else None


def cover_features(
    workspace: Workspace,
    items: Sequence[Item],
    encoder: ImageEncoder,
    cache: FeatureCache,
    progress: Callable[[str, int, int], None] | None = None,
) -> CoverFeatures:
    """(N, 1280) cover features of `items`, encoding only what the cache lacks.

    `progress("cover features", done, total)` counts the uncached pictures as they are encoded.
    """
    # 1. find each item's cover picture
    sources = [_cover_source(item) for item in items]
    features = np.zeros((len(items), FEATURE_DIM), np.float32)
    has_image = np.array([s is not None for s in sources], dtype=bool)

    # 2. read cached vectors; collect the distinct pictures still to encode
    missing: dict[str, _Source] = {}
    rows_of: dict[str, list[int]] = {}
    for i, source in enumerate(sources):
        if source is None:
            continue
        key = source.media.hash
        rows_of.setdefault(key, []).append(i)
        if key in missing or len(rows_of[key]) > 1:
            continue
        cached = cache.get(key, encoder.version, COVER)
        if cached is None:
            missing[key] = source
        else:
            features[i] = cached

    # 3. encode the missing ones a batch at a time, storing each vector
    keys = list(missing)
    step = max(1, encoder.config.batch_size)
    if progress and keys:
        progress("cover features", 0, len(keys))
    for start in range(0, len(keys), step):
        chunk = keys[start : start + step]
        embedding = encoder.encode([_load_cover(workspace, missing[k]) for k in chunk])
        for key, vector in zip(chunk, embedding.features):
            cache.put(key, encoder.version, COVER, vector)
            features[rows_of[key][0]] = vector
        if progress:
            progress("cover features", min(start + step, len(keys)), len(keys))

    # 4. items that share a picture share its vector
    for rows in rows_of.values():
        features[rows[1:]] = features[rows[0]]
    return CoverFeatures(features, has_image)


def frame_features(
    workspace: Workspace, item: Item, n: int, encoder: ImageEncoder, cache: FeatureCache
) -> FrameFeatures:
    """Features of `n` frames at the centres of `n` equal segments of a video item, upright.

    Cached as `frames{n}` (features, (n, 1280)) and `frames{n}-t` (timestamps, (n,)).
    """
    # 1. check inputs
    if item.kind != Kind.VIDEO or item.media is None:
        found = f"a {item.kind} item" + ("" if item.media is not None else " without media")
        raise InputError(f"item {item.id}: expected a video item with media for frame features, found {found}")
    if n < 1:
        raise InputError(f"item {item.id}: expected a positive number of frames, found {n}")
    digest, what = item.media.hash, f"frames{n}"

    # 2. serve from the cache
    features = cache.get(digest, encoder.version, what)
    timestamps = cache.get(digest, encoder.version, f"{what}-t")
    if features is not None and timestamps is not None:
        return FrameFeatures(features, timestamps)

    # 3. decode, encode, store (timestamps last: their presence marks a complete entry)
    path = workspace.media_path(digest, item.media.mime)
    frames = _upright(sample_frames(path, n), path)
    features = encoder.encode(frames.images).features  # (n, 1280)
    timestamps = np.asarray(frames.timestamps, dtype=np.float64)  # (n,)
    cache.put(digest, encoder.version, what, features)
    cache.put(digest, encoder.version, f"{what}-t", timestamps)
    return FrameFeatures(features, timestamps)
