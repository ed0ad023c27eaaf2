"""The retriever contract.

A retriever represents a user as a vector (`user_vectors`) and scores every item from it
(`scores_from_vectors`). Everything else — `score`, `recommend` with constraints, unknown-user
fallback, `fold_in` for cold-start users, checkpoints — is shared here, so a new model is one file
that implements `fit`, those two methods and its state.
"""

from __future__ import annotations

import dataclasses
import json
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from generec.config import from_dict
from generec.errors import InputError
from generec.retrieval.data import InteractionData
from generec.types import Scored

CHECKPOINT_VERSION = 1


@dataclass
class Constraints:
    """Which items a recommendation may contain."""

    exclude: frozenset[str] = frozenset()
    allowed: frozenset[str] | None = None  # None: every item
    predicate: Callable[[str], bool] | None = None  # e.g. from the instructor's guidance


@dataclass
class Recommendation:
    user_id: str
    items: list[Scored]
    model: str
    fallback: str | None = None  # why the model's own ranking was not used, e.g. "popularity: unknown user"


@dataclass
class TrainLog:
    epochs: int = 0
    best_epoch: int = 0
    best_valid: float | None = None
    history: list[float] = field(default_factory=list)


class Retriever:
    name: ClassVar[str] = ""
    config_cls: ClassVar[type] = object
    uses_item_features: ClassVar[bool] = False

    def __init__(self, config: Any = None) -> None:
        self.config = config if config is not None else self.config_cls()

    # to implement ------------------------------------------------------------------------------

    def fit(self, data: InteractionData, valid: sp.csr_matrix | None = None, progress: Callable[[int, int], None] | None = None) -> Retriever:
        raise NotImplementedError

    def user_vectors(self, users: np.ndarray) -> np.ndarray:
        """(B,) user indices -> (B, D) user vectors."""
        raise NotImplementedError

    def scores_from_vectors(self, vectors: np.ndarray) -> np.ndarray:
        """(B, D) -> (B, I) scores over the whole catalogue."""
        raise NotImplementedError

    def fold_in_vector(self, liked: np.ndarray) -> np.ndarray:
        """Item indices a new user liked -> (D,) user vector, without retraining."""
        raise NotImplementedError

    def state(self) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        raise NotImplementedError

    # shared ------------------------------------------------------------------------------------

    def _bind(self, data: InteractionData) -> None:
        """Remember what the model was trained on (ids, seen items, data hash)."""
        if data.n_users == 0 or data.n_items == 0 or data.matrix.nnz == 0:
            raise InputError(f"cannot train {self.name} on empty data ({data.n_users} users, {data.n_items} items, {data.matrix.nnz} positives)")
        if self.uses_item_features and data.item_features is None:
            raise InputError(f"{self.name} needs item content features; none were given")
        self.data_ = data
        self.popularity_ = np.asarray(data.matrix.sum(axis=0)).ravel().astype(np.float32)

    def score_users(self, users: np.ndarray) -> np.ndarray:
        return self.scores_from_vectors(self.user_vectors(np.asarray(users)))

    def score(self, user_ids: Sequence[str], item_ids: Sequence[str]) -> np.ndarray:
        """Scores of (user_ids[k], item_ids[k]) pairs."""
        if len(user_ids) != len(item_ids):
            raise InputError(f"score needs as many users as items, got {len(user_ids)} and {len(item_ids)}")
        users = np.array([self._user(u) for u in user_ids], dtype=np.int64)
        items = np.array([self._item(i) for i in item_ids], dtype=np.int64)
        out = np.empty(len(users), np.float32)
        for u in np.unique(users):
            mask = users == u
            out[mask] = self.score_users(np.array([u]))[0, items[mask]]
        return out

    def recommend(self, user_id: str, k: int = 10, exclude_seen: bool = True, constraints: Constraints | None = None) -> Recommendation:
        # 1. check inputs
        self._check_k(k)
        # 2. the user's vector, or the popularity fallback for a user the model never saw
        index = self.data_.user_index.get(user_id)
        if index is None:
            ranked = self._rank(self.popularity_.copy(), k, None, constraints)
            return Recommendation(user_id, ranked, self.name, fallback="popularity: unknown user")
        if self.data_.matrix.indptr[index] == self.data_.matrix.indptr[index + 1]:
            ranked = self._rank(self.popularity_.copy(), k, None, constraints)
            return Recommendation(user_id, ranked, self.name, fallback="popularity: user has no training interactions")
        scores = self.score_users(np.array([index]))[0]
        seen = self.data_.matrix.indices[self.data_.matrix.indptr[index] : self.data_.matrix.indptr[index + 1]] if exclude_seen else None
        # 3. rank under the constraints
        return Recommendation(user_id, self._rank(scores, k, seen, constraints), self.name)

    def fold_in(self, liked_item_ids: Iterable[str]) -> np.ndarray:
        liked = np.array(sorted({self._item(i) for i in liked_item_ids}), dtype=np.int64)
        if len(liked) == 0:
            raise InputError("fold_in needs at least one liked item")
        return self.fold_in_vector(liked)

    def recommend_for_vector(self, vector: np.ndarray, k: int = 10, exclude: Iterable[str] = (), constraints: Constraints | None = None, user_id: str = "") -> Recommendation:
        """Recommend for a folded-in user (e.g. `fold_in` of a few liked items)."""
        self._check_k(k)
        scores = self.scores_from_vectors(vector[None, :])[0]
        seen = np.array([self._item(i) for i in exclude], dtype=np.int64)
        return Recommendation(user_id, self._rank(scores, k, seen, constraints), self.name, fallback=None)

    def _rank(self, scores: np.ndarray, k: int, seen: np.ndarray | None, constraints: Constraints | None) -> list[Scored]:
        scores = scores.astype(np.float32, copy=True)
        if seen is not None and len(seen):
            scores[seen] = -np.inf
        ids = self.data_.item_ids
        if constraints is not None:
            if constraints.exclude:
                scores[[self.data_.item_index[i] for i in constraints.exclude if i in self.data_.item_index]] = -np.inf
            if constraints.allowed is not None:
                mask = np.ones(len(scores), bool)
                mask[[self.data_.item_index[i] for i in constraints.allowed if i in self.data_.item_index]] = False
                scores[mask] = -np.inf
        eligible = int(np.isfinite(scores).sum())
        want = min(k, eligible)
        predicate = constraints.predicate if constraints is not None else None
        # top candidates by partial sort; widen while the predicate rejects too many
        n = min(eligible, max(4 * want, want + 32)) if predicate else want
        out: list[Scored] = []
        while True:
            if 0 < n < len(scores):  # everything scoring at least the n-th best, so ties are kept whole
                kth = scores[np.argpartition(-scores, n - 1)[n - 1]]
                top = np.flatnonzero(scores >= kth)
            else:
                top = np.arange(len(scores))
            top = top[np.lexsort((top, -scores[top]))]  # best first; ties by catalogue order
            top = top[np.isfinite(scores[top])]
            if predicate is None:
                top = top[:want]
            pairs = zip(ids[top].tolist(), scores[top].tolist())
            out = [Scored(str(i), v) for i, v in pairs if predicate is None or predicate(str(i))][:want]
            if len(out) >= want or n >= eligible:
                return out
            n = min(eligible, n * 4)

    def _check_k(self, k: int) -> None:
        if not isinstance(k, (int, np.integer)) or k <= 0:
            raise InputError(f"k must be a positive integer, got {k!r}")
        if k > self.data_.n_items:
            raise InputError(f"k={k} is larger than the catalogue ({self.data_.n_items} items)")

    def _user(self, user_id: str) -> int:
        try:
            return self.data_.user_index[user_id]
        except KeyError:
            raise InputError(f"unknown user {user_id!r}: not in the data {self.name} was trained on") from None

    def _item(self, item_id: str) -> int:
        try:
            return self.data_.item_index[item_id]
        except KeyError:
            raise InputError(f"unknown item {item_id!r}: not in the catalogue {self.name} was trained on") from None

    # checkpoints ---------------------------------------------------------------------------------

    def save(self, path: str | Path) -> Path:
        """A directory with `config.json` (model, config, data hash) and `state.npz` (arrays)."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        m = self.data_.matrix
        arrays = {f"state.{k}": v for k, v in self.state().items()}
        arrays |= {"data.user_ids": self.data_.user_ids.astype(str), "data.item_ids": self.data_.item_ids.astype(str),
                   "data.indptr": m.indptr, "data.indices": m.indices}  # fmt: skip
        if self.data_.item_features is not None:
            arrays["data.item_features"] = self.data_.item_features
        for extra in ("times", "confidence"):  # same sparsity pattern as the matrix
            if getattr(self.data_, extra) is not None:
                arrays[f"data.{extra}"] = getattr(self.data_, extra).tocsr().data
        tmp = path / "state.tmp.npz"
        np.savez(tmp, **arrays)
        tmp.replace(path / "state.npz")
        meta = {"version": CHECKPOINT_VERSION, "model": self.name, "config": dataclasses.asdict(self.config), "data_hash": self.data_.data_hash, "data_name": self.data_.name}
        (path / "config.json").write_text(json.dumps(meta, indent=2, sort_keys=True))
        return path


class FactorRetriever(Retriever):
    """A model whose state is user factors (U, D) and item factors (I, D): scores are dot
    products. VᵀV over the first `fold_in_dims()` item-factor columns is cached for fold-in."""

    def fold_in_dims(self) -> int:
        return self.item_factors_.shape[1]

    def user_vectors(self, users: np.ndarray) -> np.ndarray:
        return self.user_factors_[users]  # (B, D)

    def scores_from_vectors(self, vectors: np.ndarray) -> np.ndarray:
        return vectors @ self.item_factors_.T  # (B, I)

    def state(self) -> dict[str, np.ndarray]:
        return {"user_factors": self.user_factors_, "item_factors": self.item_factors_}

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        self.user_factors_ = np.asarray(state["user_factors"], np.float32)
        self.item_factors_ = np.asarray(state["item_factors"], np.float32)
        v = self.item_factors_[:, : self.fold_in_dims()].astype(np.float64)
        self.gram_ = v.T @ v  # VᵀV (D, D), for fold-in


class ItemItemRetriever(Retriever):
    """A model whose state is an item-item matrix W (I, I): scores x_u W, with x_u the user's
    (optionally recency- and confidence-weighted) history. `fit` sets `weights_`; configs may
    carry `recency_half_life` and `use_confidence`."""

    def user_vectors(self, users: np.ndarray) -> sp.csr_matrix:
        # sparse rows, so scoring costs O(|history| · I)
        cfg = self.config
        return self.data_.profile(users, getattr(cfg, "recency_half_life", 0.0), getattr(cfg, "use_confidence", False))

    def scores_from_vectors(self, vectors: np.ndarray) -> np.ndarray:
        return np.asarray(vectors @ self.weights_)

    def fold_in_vector(self, liked: np.ndarray) -> np.ndarray:
        x = np.zeros(self.data_.n_items, np.float32)  # a new user's likes carry no order: all weigh 1
        x[liked] = 1.0
        return x

    def state(self) -> dict[str, np.ndarray]:
        return {"weights": self.weights_}

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        self.weights_ = state["weights"]


def load_retriever(path: str | Path, expect_data_hash: str | None = None) -> Retriever:
    """Load a checkpoint; with `expect_data_hash`, refuse one trained on other data."""
    from generec.retrieval import RETRIEVERS

    path = Path(path)
    if not (path / "config.json").is_file() or not (path / "state.npz").is_file():
        raise InputError(f"{path} is not a retriever checkpoint (needs config.json and state.npz)")
    meta = json.loads((path / "config.json").read_text())
    if meta.get("version") != CHECKPOINT_VERSION:
        raise InputError(f"{path}: checkpoint version {meta.get('version')} is not {CHECKPOINT_VERSION}")
    if expect_data_hash is not None and meta["data_hash"] != expect_data_hash:
        raise InputError(f"{path} was trained on other data (data hash {meta['data_hash']}, this workspace has {expect_data_hash}); retrain with `generec train`")
    cls = RETRIEVERS[meta["model"]]
    model = cls(from_dict(cls.config_cls, meta["config"], source=str(path / "config.json")))
    try:
        return _load_state(model, path, meta)
    except (ValueError, OSError, KeyError, EOFError, zipfile.BadZipFile) as exc:  # a truncated or overwritten state file
        raise InputError(f"{path / 'state.npz'} does not load as a {meta['model']} checkpoint ({' '.join(str(exc).split())[:200]}); retrain with `generec train --model {meta['model']}`") from None


def _load_state(model: Retriever, path: Path, meta: dict) -> Retriever:
    with np.load(path / "state.npz", allow_pickle=False) as z:
        n_users, n_items = len(z["data.user_ids"]), len(z["data.item_ids"])
        matrix = sp.csr_matrix((np.ones(len(z["data.indices"]), np.float32), z["data.indices"], z["data.indptr"]), shape=(n_users, n_items))
        feats = z["data.item_features"] if "data.item_features" in z else None
        extra = {k: sp.csr_matrix((z[f"data.{k}"], z["data.indices"], z["data.indptr"]), shape=matrix.shape) for k in ("times", "confidence") if f"data.{k}" in z}
        data = InteractionData(z["data.user_ids"], z["data.item_ids"], matrix, feats, meta.get("data_name", ""), **extra)
        model._bind(data)
        model.set_state({k[len("state."):]: z[k] for k in z.files if k.startswith("state.")})
    return model
