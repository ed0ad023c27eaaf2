"""Training data for retrievers and the splits of the evaluation protocol.

`InteractionData` is the implicit-feedback matrix X ∈ {0,1}^{U×I} (users × items) with the id maps;
a `Split` adds the held-out test matrix (and a validation matrix carved from training).

Splits:
- `temporal`: per user, the last 20 % of their interactions (by time) are held out;
- `random`: per user, a stratified random 75/25 split (Microsoft Recommenders'
  `python_stratified_split`, the protocol of their MovieLens-100k table);
- `microvideo`: the benchmark's own global temporal split, clicks as positives.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
import scipy.sparse as sp

from generec.errors import InputError
from generec.types import POSITIVE_EVENTS, Event, Origin
from generec.workspace import Workspace

SPLITS = ("temporal", "random", "microvideo")


@dataclass
class InteractionData:
    user_ids: np.ndarray  # (U,) str
    item_ids: np.ndarray  # (I,) str
    matrix: sp.csr_matrix  # (U, I) float32, 1 where the user interacted positively
    item_features: np.ndarray | None = None  # (I, F) content features, when a model needs them
    name: str = ""
    times: sp.csr_matrix | None = None  # (U, I) when each positive happened; the same pattern as `matrix`
    confidence: sp.csr_matrix | None = None  # (U, I) in (0, 1]: √(rating / max rating) for ratings, else 1

    @cached_property
    def user_index(self) -> dict[str, int]:
        return {u: k for k, u in enumerate(self.user_ids)}

    @cached_property
    def item_index(self) -> dict[str, int]:
        return {i: k for k, i in enumerate(self.item_ids)}

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @cached_property
    def data_hash(self) -> str:
        """Identifies the training data: ids and the positions of the positives."""
        digest = hashlib.sha256()
        digest.update("\x1f".join(self.user_ids).encode())
        digest.update("\x1e".join(self.item_ids).encode())
        m = self.matrix.tocsr()
        m.sort_indices()
        digest.update(m.indptr.astype(np.int64).tobytes())
        digest.update(m.indices.astype(np.int64).tobytes())
        return digest.hexdigest()[:16]

    def with_matrix(self, matrix: sp.csr_matrix) -> InteractionData:
        """The same users and items with other positives (no times or confidences)."""
        return InteractionData(self.user_ids, self.item_ids, matrix.tocsr(), self.item_features, self.name)

    def weighted(self, use_confidence: bool) -> sp.csr_matrix:
        """X, or X ∘ C with each positive weighted by its confidence."""
        return self.confidence if use_confidence and self.confidence is not None else self.matrix

    def profile(self, users: np.ndarray, half_life: float = 0.0, use_confidence: bool = False) -> sp.csr_matrix:
        """Users' history rows, optionally confidence-weighted and recency-weighted."""
        rows = self.weighted(use_confidence)[users]
        if self.times is None or not half_life:
            return rows
        return rows.multiply(self.recency_profile(users, half_life)).tocsr()

    def recency_profile(self, users: np.ndarray, half_life: float) -> sp.csr_matrix:
        """Users' histories weighted by recency: the r-th most recent positive gets 2^(−r / half_life).

        Rank-based, so the weighting is the same for a user active every day and one active once a
        month. Without timestamps, every positive weighs 1.
        """
        rows = self.matrix[users]
        if self.times is None or not half_life:
            return rows
        t = self.times[users].tocsr()
        weights = np.empty(t.nnz, np.float32)
        for r in range(t.shape[0]):
            lo, hi = t.indptr[r], t.indptr[r + 1]
            order = np.argsort(-t.data[lo:hi], kind="stable")  # most recent first
            w = np.empty(hi - lo, np.float32)
            w[order] = 0.5 ** (np.arange(hi - lo) / half_life)
            weights[lo:hi] = w
        return sp.csr_matrix((weights, t.indices, t.indptr), shape=t.shape)


@dataclass
class Split:
    name: str
    train: InteractionData
    test: sp.csr_matrix  # (U, I) held-out positives
    valid: sp.csr_matrix | None = None  # carved from train, for early stopping and tuning
    train_inner: InteractionData | None = None  # train minus valid
    info: dict = field(default_factory=dict)


def _matrix(frame: pd.DataFrame, users: dict[str, int], items: dict[str, int]) -> sp.csr_matrix:
    rows = frame["user_id"].map(users).to_numpy()
    cols = frame["item_id"].map(items).to_numpy()
    m = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(len(users), len(items)))
    m.data[:] = 1.0  # duplicates summed by the constructor count once
    return m


def _times(frame: pd.DataFrame, users: dict[str, int], items: dict[str, int]) -> sp.csr_matrix:
    """When each (user, item) positive happened; `frame` holds each pair once."""
    rows = frame["user_id"].map(users).to_numpy()
    cols = frame["item_id"].map(items).to_numpy()
    return sp.csr_matrix((frame["ts"].to_numpy(np.float64), (rows, cols)), shape=(len(users), len(items)))


def _confidence(frame: pd.DataFrame, users: dict[str, int], items: dict[str, int]) -> sp.csr_matrix:
    """c = √(rating / max rating) for explicit ratings (Hu, Koren, Volinsky's confidence, bounded), else 1."""
    rating = frame["event"].eq(str(Event.RATE)) & frame["value"].notna()
    top = frame.loc[rating, "value"].max() if rating.any() else 1.0
    c = np.where(rating, np.sqrt(frame["value"].where(rating, top).to_numpy(np.float64) / top), 1.0)
    rows = frame["user_id"].map(users).to_numpy()
    cols = frame["item_id"].map(items).to_numpy()
    return sp.csr_matrix((c.astype(np.float32), (rows, cols)), shape=(len(users), len(items)))


def _data(frame: pd.DataFrame, user_ids: np.ndarray, item_ids: np.ndarray, users: dict, items: dict, name: str) -> InteractionData:
    return InteractionData(user_ids, item_ids, _matrix(frame, users, items), name=name, times=_times(frame, users, items), confidence=_confidence(frame, users, items))


def positives(ws: Workspace, events: tuple[Event, ...] = POSITIVE_EVENTS) -> pd.DataFrame:
    """Positive interactions with catalogue items, one row per (user, item): the first time it happened."""
    frame = ws.interactions.frame(events)
    # feedback on a personal edit counts for the catalogue item it was made from
    parents = {i.id: i.parent_id for i in ws.items.all(origin=Origin.AI_EDITED) if i.parent_id}
    if parents:
        frame = frame.assign(item_id=frame["item_id"].map(lambda i: parents.get(i, i)))
    catalogue = set(ws.items.ids(origin=Origin.HUMAN))
    frame = frame[frame["item_id"].isin(catalogue)]
    if frame.empty:
        raise InputError(f"workspace {ws.root} has no positive interactions ({', '.join(events)}) to train on")
    return frame.sort_values("ts", kind="stable").drop_duplicates(["user_id", "item_id"], keep="first")


def _per_user_holdout(frame: pd.DataFrame, share: float, how: str, seed: int) -> pd.Series:
    """A boolean mask over `frame`: the held-out share of each user's rows."""
    if how == "temporal":
        order = frame.sort_values(["user_id", "ts"], kind="stable")
    else:  # random, stratified per user
        rng = np.random.default_rng(seed)
        order = frame.assign(_r=rng.random(len(frame))).sort_values(["user_id", "_r"], kind="stable")
    rank = order.groupby("user_id").cumcount()
    size = order.groupby("user_id")["user_id"].transform("size")
    n_train = np.round(size * (1.0 - share)).astype(int).clip(lower=1)
    held = rank >= n_train
    return held.reindex(frame.index)


def make_split(ws: Workspace, how: str = "temporal", seed: int = 0, holdout: float | None = None) -> Split:
    # 1. check inputs
    if how not in SPLITS:
        raise InputError(f"unknown split {how!r}; valid splits: {', '.join(SPLITS)}")
    item_ids = np.array(ws.items.ids(origin=Origin.HUMAN))  # the catalogue: AI edits are per-user variants
    user_ids = np.array(ws.users.ids())
    users = {u: k for k, u in enumerate(user_ids)}
    items = {i: k for k, i in enumerate(item_ids)}
    # 2. positives and the held-out mask
    if how == "microvideo":
        meta = next((d for d in ws.datasets.all() if d["split"]), None)
        if meta is None:
            raise InputError(f"workspace {ws.root} has no stored temporal split; the microvideo split needs a benchmark built by `generec data build microvideo`")
        frame = positives(ws, (Event.CLICK,))
        cut = meta["split"]
        test_mask = frame["ts"] >= cut["test_start"]
        valid_mask = (frame["ts"] >= cut["valid_start"]) & ~test_mask
    else:
        share = holdout if holdout is not None else (0.2 if how == "temporal" else 0.25)
        frame = positives(ws)
        test_mask = _per_user_holdout(frame, share, how, seed)
        train_part = frame[~test_mask]
        valid_mask = pd.Series(False, index=frame.index)
        valid_mask.loc[train_part.index] = _per_user_holdout(train_part, share, how, seed + 1)
    train = _data(frame[~test_mask], user_ids, item_ids, users, items, f"{ws.root.name}:{how}")
    inner = _data(frame[~test_mask & ~valid_mask], user_ids, item_ids, users, items, f"{ws.root.name}:{how}:inner")
    return Split(
        name=how, train=train, test=_matrix(frame[test_mask], users, items),
        valid=_matrix(frame[valid_mask], users, items), train_inner=inner,
        info={"positives": len(frame), "train": int(train.matrix.nnz), "test": int(test_mask.sum()), "valid": int(valid_mask.sum()),
              **({"test_start": cut["test_start"]} if how == "microvideo" else {})},
    )  # fmt: skip


def full_data(ws: Workspace, events: tuple[Event, ...] = POSITIVE_EVENTS) -> InteractionData:
    """All positives, for training the model that serves."""
    item_ids = np.array(ws.items.ids(origin=Origin.HUMAN))  # the catalogue: AI edits are per-user variants
    user_ids = np.array(ws.users.ids())
    frame = positives(ws, events)
    users = {u: k for k, u in enumerate(user_ids)}
    items = {i: k for k, i in enumerate(item_ids)}
    return _data(frame, user_ids, item_ids, users, items, ws.root.name)
