"""Text meets pixels for the editor: the zero-shot bridge, blended with the catalogue's contrastive one.

- `ZeroShotBridge` (`zero_shot.py`): through the ImageNet classifier's class names; no training.
- `ContrastiveBridge` (`contrastive.py`): linear projections trained on the catalogue's own
  (title + tags, cover) pairs with InfoNCE; `generec train --model bridge` fits it.
- `TextImageBridge`: both at once: `score` blends their standardised scores, `text_direction`
  gives, per text, a direction d in image-feature space such that d · f scores a frame's features f.

`catalogue_pairs` and `fit_catalogue_bridge` train the contrastive bridge on a workspace and save
it under `models/bridge`; `load_text_image_bridge` puts the two together for a workspace.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from generec.encoders.cache import FeatureCache
from generec.encoders.contrastive import CONFIG_FILE, BridgeConfig, BridgeTrainLog, ContrastiveBridge, retrieval_ranks
from generec.encoders.image import FEATURE_DIM, ImageEncoder, get_image_encoder
from generec.encoders.rows import EPS, check_matrix, standardize_rows, text_list
from generec.encoders.text import TEXT_DIM, TextEncoder, get_text_encoder
from generec.encoders.video import cover_features
from generec.encoders.zero_shot import ZeroShotBridge, ZeroShotConfig
from generec.errors import InputError
from generec.types import Item, Origin
from generec.workspace import Workspace

__all__ = [
    "BridgeConfig", "BridgeTrainLog", "CataloguePairs", "ContrastiveBridge", "TextImageBridge", "ZeroShotBridge",
    "ZeroShotConfig", "catalogue_bridge_path", "catalogue_pairs", "fit_catalogue_bridge", "item_text",
    "load_text_image_bridge", "retrieval_ranks",
]  # fmt: skip

BRIDGE_DIR = Path("models") / "bridge"


class TextImageBridge:
    """The zero-shot bridge, blended with a fitted contrastive bridge when there is one.

    `weight` is the contrastive share w: blended = (1 - w) · zero-shot + w · contrastive.
    """

    def __init__(
        self, zero_shot: ZeroShotBridge, contrastive: ContrastiveBridge | None = None, weight: float = 0.5
    ) -> None:
        if not 0.0 <= weight <= 1.0:
            raise InputError(f"weight: expected the contrastive share in [0, 1], found {weight}")
        if contrastive is not None:
            if not contrastive.is_fitted:
                raise InputError("contrastive: expected a fitted ContrastiveBridge, found an unfitted one")
            if (contrastive.text_dim, contrastive.image_dim) != (TEXT_DIM, FEATURE_DIM):
                raise InputError(
                    f"contrastive: expected a bridge of {TEXT_DIM}-d text and {FEATURE_DIM}-d image features, "
                    f"found {contrastive.text_dim}-d and {contrastive.image_dim}-d"
                )
        self.zero_shot = zero_shot
        self.contrastive = contrastive
        self.weight = weight

    def score(self, texts: Sequence[str], image_features: np.ndarray) -> np.ndarray:
        """(T,) texts, (N, 1280) image features -> (T, N).

        Zero-shot alone: its cosines. Blended: each bridge's scores as z-scores over the N images
        of each text, mixed (1 - w) · zs + w · contrastive (constant rows give zeros)."""
        # 1. check inputs
        texts = text_list(texts)
        features = check_matrix(image_features, "image_features", FEATURE_DIM)
        # 2. zero-shot scores through the classifier
        zero_shot = self.zero_shot.score_features(texts, features)  # (T, N)
        if self.contrastive is None or self.weight == 0.0:
            return zero_shot
        # 3. contrastive scores, then the blend of standardised scores
        contrastive = self.contrastive.score(self.zero_shot.encode_texts(texts), features)  # (T, N)
        w = self.weight
        return ((1 - w) * standardize_rows(zero_shot) + w * standardize_rows(contrastive)).astype(np.float32)

    def text_direction(self, texts: Sequence[str]) -> np.ndarray:
        """(T,) texts -> (T, 1280) directions d: frames score d · f (higher: more like the text).

        Zero-shot alone: `ZeroShotBridge.text_direction`, in logit units. Blended, the contrastive
        direction (`ContrastiveBridge.image_direction`) is first scaled to the zero-shot one's
        spread over the catalogue's images, s(d) = sqrt(Σ_j d_j² σ_j²) with σ the per-feature std
        the contrastive bridge was trained with (the std of d · f if features were uncorrelated):
            d = (1 - w) d_zs + w · d_c · s(d_zs) / s(d_c)
        """
        texts = text_list(texts)
        d_zs = self.zero_shot.text_direction(texts).astype(np.float64)  # (T, 1280)
        if self.contrastive is None or self.weight == 0.0:
            return d_zs.astype(np.float32)
        d_c = self.contrastive.image_direction(self.zero_shot.encode_texts(texts)).astype(np.float64)  # (T, 1280)
        sigma = self.contrastive.image_std_.astype(np.float64)
        s_zs = np.sqrt(((d_zs * sigma) ** 2).sum(axis=1, keepdims=True))  # (T, 1)
        s_c = np.sqrt(((d_c * sigma) ** 2).sum(axis=1, keepdims=True))  # (T, 1)
        d_c = np.where(s_c > EPS, d_c * s_zs / np.maximum(s_c, EPS), 0.0)
        w = self.weight
        return ((1 - w) * d_zs + w * d_c).astype(np.float32)


# the catalogue's own pairs ----------------------------------------------------------------------


@dataclass
class CataloguePairs:
    text_features: np.ndarray  # (N, 384) MiniLM of title + " " + tags
    image_features: np.ndarray  # (N, 1280) cover features
    item_ids: list[str]  # (N,) the items the pairs come from, in catalogue order


def item_text(item: Item) -> str:
    """The text an item is paired with: its title, then its tags, space-separated."""
    return " ".join(part for part in [item.title.strip(), *(t.strip() for t in item.tags)] if part)


def catalogue_pairs(
    workspace: Workspace,
    items: Sequence[Item],
    text_encoder: TextEncoder,
    image_encoder: ImageEncoder,
    cache: FeatureCache,
    progress: Callable[[str, int, int], None] | None = None,
) -> CataloguePairs:
    """(text, cover) features of the items that have both a cover picture and some text."""
    # 1. covers, through the feature cache
    covers = cover_features(workspace, items, image_encoder, cache, progress)
    # 2. keep items with a picture and a non-empty title or tags
    texts = [item_text(item) for item in items]
    keep = [k for k, item in enumerate(items) if covers.has_image[k] and texts[k]]
    # 3. their texts
    if progress and keep:
        progress("text features", 0, len(keep))
    text_features = text_encoder.encode([texts[k] for k in keep])  # (N, 384)
    if progress and keep:
        progress("text features", len(keep), len(keep))
    return CataloguePairs(text_features, covers.features[keep], [items[k].id for k in keep])


def catalogue_bridge_path(workspace: Workspace) -> Path:
    return workspace.root / BRIDGE_DIR


def fit_catalogue_bridge(
    workspace: Workspace, config: BridgeConfig | None = None, progress: Callable[[str, int, int], None] | None = None
) -> ContrastiveBridge:
    """Fit a contrastive bridge on every catalogue item of `workspace` and save it under `models/bridge`.

    `progress(stage, done, total)`: "cover features", "text features", then "bridge epochs"."""
    # 1. the catalogue's (title + tags, cover) pairs
    items = workspace.items.all(origin=Origin.HUMAN)  # the catalogue, not its AI edits
    cache = FeatureCache.for_workspace(workspace)
    pairs = catalogue_pairs(workspace, items, get_text_encoder(), get_image_encoder(), cache, progress)
    if len(pairs.item_ids) < 2:
        raise InputError(
            f"workspace {workspace.root}: expected at least 2 items with a cover and a title or tags "
            "to fit the bridge, "
            f"found {len(pairs.item_ids)} of {len(items)} items"
        )
    # 2. fit
    epochs = (lambda done, total: progress("bridge epochs", done, total)) if progress else None
    bridge = ContrastiveBridge(config).fit(pairs.text_features, pairs.image_features, epochs)
    # 3. save beside the workspace's other models
    bridge.save(catalogue_bridge_path(workspace))
    return bridge


def load_text_image_bridge(workspace: Workspace | None = None, weight: float = 0.5) -> TextImageBridge:
    """The zero-shot bridge (class names cached in the workspace's feature cache), with the
    workspace's saved contrastive bridge when `models/bridge` holds one."""
    if workspace is None:
        return TextImageBridge(ZeroShotBridge(), None, weight)
    zero_shot = ZeroShotBridge(cache=FeatureCache.for_workspace(workspace))
    path = catalogue_bridge_path(workspace)
    contrastive = ContrastiveBridge.load(path) if (path / CONFIG_FILE).exists() else None
    return TextImageBridge(zero_shot, contrastive, weight)
