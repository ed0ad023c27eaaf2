"""A user's visual preference: a linear score over 1280-d image features, as in the GeneRec paper.

- `history` (User_Hist): v_u = mean of the cover features of the items the user clicked or
  liked; a frame f scores cos(f, v_u). This is also the reference of the paper's Cos@K.
- `concepts`: User_Hist moved into the catalogue's tag space by a concept head
  (`concept_head.py`): t_u = mean q(clicked covers) − q̄, a frame scores cos(q(f) − q̄, t_u).
  Fewer, readable axes make it the least noisy of the three (docs/BENCHMARKS.md).
- `retriever` (User_Emb): the multimodal retriever's user vector moved into feature space. VBPR
  scores content by θ_u · (E z) + β' · z with z = (f − μ) / σ, which is linear in f:
  s(f) = w_u · f + const with w_u = (E θ_u + β') / σ. Frames of one video share the constant.

Guidance steers either: a frame scores s(f) standardised over the candidates, plus
`include_weight` × its z-scored similarity to each included concept, minus `exclude_weight` ×
that of each excluded concept (`bridge.text_direction` gives each concept's direction in
feature space).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from generec.editor.concept_head import ConceptHead, ConceptHeadConfig, catalogue_hash
from generec.encoders.cache import FeatureCache
from generec.encoders.image import ImageEncoder
from generec.encoders.video import cover_features
from generec.errors import InputError
from generec.types import Event, Origin
from generec.workspace import Workspace

if TYPE_CHECKING:
    from generec.encoders.bridge import TextImageBridge
    from generec.instructor.guidance import Guidance
    from generec.retrieval.multimodal import VBPR

SOURCES = ("history", "concepts", "retriever")
HISTORY_EVENTS = (Event.CLICK, Event.LIKE)


@dataclass
class Preference:
    user_id: str
    source: str  # "history" | "concepts" | "retriever"
    vector: np.ndarray  # (1280,) v_u (history), (T,) t_u (concepts) or (1280,) w_u (retriever)
    n_history: int  # covers behind a history or concept vector (0 for the retriever's)
    head: ConceptHead | None = None  # the concept head, for `concepts`
    center: np.ndarray | None = None  # (1280,) μ, the catalogue's mean cover: history scores cos(f − μ, v_u − μ)
    fallback: str | None = None  # why this source replaced the one asked for ("the catalogue has no tag on >= 5 covers")

    def score(self, features: np.ndarray) -> np.ndarray:
        """(N, 1280) -> (N,): cos(f, v_u) for history, cos(q(f) − q̄, t_u) for concepts, w_u · f
        for the retriever."""
        f = np.asarray(features, np.float32)
        if self.head is not None:
            return self.head.score(f, self.vector)
        if self.source == "history":
            if self.center is not None:  # what sets the user's covers apart from the catalogue's
                return _unit(f - self.center) @ _unit(self.vector - self.center)
            return _unit(f) @ _unit(self.vector)
        return f @ self.vector


def describe(source: str | None, fallback: str | None = None) -> str | None:
    """`history` or `history (fallback: ...)`: which preference an edit used, and why (from a
    Preference's `source` and `fallback`, or the same two fields of an edit's provenance)."""
    if source is None:
        return None
    return source + (f" (fallback: {fallback})" if fallback else "")


def _unit(x: np.ndarray) -> np.ndarray:
    return x / (np.linalg.norm(x, axis=-1, keepdims=True) + 1e-8)


def _z(x: np.ndarray) -> np.ndarray:
    return (x - x.mean()) / (x.std() + 1e-8) if len(x) > 1 else np.zeros_like(x)


def history_covers(
    ws: Workspace, user_id: str, encoder: ImageEncoder, cache: FeatureCache, before: float | None = None, what: str = "history"
) -> np.ndarray:
    """(n, 1280) features of the covers of the catalogue items the user clicked or liked (before
    `before`, when given), oldest first; InputError for an unknown user or an empty history."""
    if ws.users.get(user_id) is None:
        raise InputError(f"unknown user {user_id!r}: not in workspace {ws.root}")
    seen: dict[str, None] = {}
    for event in ws.interactions.for_user(user_id):
        if event.event in HISTORY_EVENTS and (before is None or event.ts < before):
            seen.setdefault(event.item_id, None)
    items = [item for i in seen if (item := ws.items.get(i)) is not None and item.origin == Origin.HUMAN]
    covers = cover_features(ws, items, encoder, cache)
    feats = covers.features[covers.has_image]
    if len(feats) == 0:
        raise InputError(f"user {user_id!r} has no clicked or liked item with a cover; a {what} preference needs at least one")
    return feats


def history_preference(
    ws: Workspace, user_id: str, encoder: ImageEncoder, cache: FeatureCache, before: float | None = None
) -> Preference:
    """User_Hist: the mean cover features of the user's clicked or liked items."""
    feats = history_covers(ws, user_id, encoder, cache, before)
    return Preference(user_id, "history", feats.mean(0), len(feats))


def catalogue_center(ws: Workspace, encoder: ImageEncoder, cache: FeatureCache) -> np.ndarray:
    """μ (1280,): the mean cover features of the catalogue."""
    covers = cover_features(ws, ws.items.all(origin=Origin.HUMAN), encoder, cache)
    if not covers.has_image.any():
        raise InputError(f"workspace {ws.root} has no catalogue covers to center on")
    return covers.features[covers.has_image].mean(0)


def concept_head(ws: Workspace, encoder: ImageEncoder, cache: FeatureCache, config: ConceptHeadConfig | None = None) -> ConceptHead:
    """The workspace's concept head: loaded when fitted on this catalogue, else fitted and saved."""
    items = [i for i in ws.items.all(origin=Origin.HUMAN)]
    covers = cover_features(ws, items, encoder, cache)
    keep = [k for k, ok in enumerate(covers.has_image) if ok]
    ids, tags = [items[k].id for k in keep], [list(items[k].tags) for k in keep]
    hashes = [(items[k].cover or items[k].media).hash for k in keep]
    data_hash = catalogue_hash(ids, tags, hashes, encoder.version)
    path = ws.root / "models" / "concept_head"
    head = ConceptHead.load(path, data_hash)
    if head is None or (config is not None and head.config != config):
        head = ConceptHead(config).fit(covers.features[keep], tags)
        head.save(path, data_hash)
    return head


def concept_preference(
    ws: Workspace, user_id: str, encoder: ImageEncoder, cache: FeatureCache, head: ConceptHead, before: float | None = None
) -> Preference:
    """The user's taste in the concept head's tag space, from their clicked or liked covers."""
    clicked = history_covers(ws, user_id, encoder, cache, before, "concepts")
    return Preference(user_id, "concepts", head.taste(clicked), len(clicked), head)


def retriever_preference(model: VBPR, user_id: str) -> Preference:
    """User_Emb: the multimodal retriever's user vector as a direction in feature space."""
    if getattr(model, "name", None) != "multimodal":
        raise InputError(f"a retriever preference needs the multimodal retriever, found {getattr(model, 'name', model)!r}")
    u = model.data_.user_index.get(user_id)
    if u is None:
        raise InputError(f"unknown user {user_id!r}: the multimodal retriever was not trained with them")
    d, dv = model.config.dim, model.config.visual_dim
    theta = model.user_factors_[u, d : d + dv]  # (D',)
    w = (model.projection_ @ theta + model.visual_bias_) / model.feature_std_  # (F,)
    return Preference(user_id, "retriever", w.astype(np.float32), 0)


def steered_scores(
    features: np.ndarray,
    preference: Preference | None,
    guidance: Guidance | None = None,
    bridge: TextImageBridge | None = None,
    include_weight: float = 1.0,
    exclude_weight: float = 1.0,
) -> np.ndarray:
    """(N, 1280) candidate features -> (N,) scores: z(preference) + Σ include − Σ exclude."""
    f = np.asarray(features, np.float32)
    total = _z(preference.score(f)) if preference is not None else np.zeros(len(f), np.float32)
    if guidance is None or not (guidance.include or guidance.exclude):
        return total
    if bridge is None:
        raise InputError("guidance with include/exclude concepts needs a text→image bridge")
    for concepts, weight in ((guidance.include, include_weight), (guidance.exclude, -exclude_weight)):
        if concepts:
            directions = bridge.text_direction(list(concepts))  # (T, 1280)
            total = total + weight * sum(_z(_unit(f) @ _unit(d)) for d in directions)
    return total
