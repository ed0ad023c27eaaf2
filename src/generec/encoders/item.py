"""Content features of catalogue items, for the multimodal retriever.

Items with a picture (a video's cover, an image) get EfficientNet-Lite0 cover features through the
workspace's feature cache; a catalogue of text items (MovieLens) gets a multi-hot encoding of its
tags (genres) instead, so that the same model runs on both.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from generec.types import Item
from generec.workspace import Workspace


def tag_features(items: Sequence[Item]) -> np.ndarray:
    """(N, T) multi-hot over every tag in the catalogue, sorted by name."""
    vocab = sorted({t for item in items for t in item.tags})
    index = {t: k for k, t in enumerate(vocab)}
    out = np.zeros((len(items), max(1, len(vocab))), np.float32)
    for row, item in enumerate(items):
        out[row, [index[t] for t in item.tags]] = 1.0
    return out


def item_features(ws: Workspace, items: Sequence[Item], progress: Callable[[str, int, int], None] | None = None) -> np.ndarray:
    """(N, F) content features of `items`, in their order."""
    if not any(item.cover is not None or (item.media is not None and item.media.mime.startswith("image/")) for item in items):
        return tag_features(items)
    from generec.encoders.cache import FeatureCache
    from generec.encoders.image import get_image_encoder
    from generec.encoders.video import cover_features

    return cover_features(ws, items, get_image_encoder(), FeatureCache.for_workspace(ws), progress).features
