"""Approximate nearest-neighbour retrieval over a factor model's item vectors (FAISS).

A factor retriever scores s_ui = p_u · q_i, so its top-k is a maximum inner product search
(MIPS) over the item factors Q (I, D). `AnnIndex` answers it three ways:

- `flat`: FAISS IndexFlatIP, exact, O(I·D) per query (the baseline every approximate setting is
  measured against);
- `ivf-flat` (Jégou et al., "Product quantization for nearest neighbor search", TPAMI 2011, the
  inverted file without compression): k-means puts the items into `nlist` cells; a query scans
  the `nprobe` cells whose centroids c score highest (q·c), O(nlist·D + nprobe/nlist · I·D);
- `hnsw` (Malkov & Yashunin, TPAMI 2018): a navigable small-world graph with M links a node,
  searched best-first with a queue of `ef_search` candidates.

Which models: every `FactorRetriever` — bpr, lightgcn, multimodal (VBPR), implicit-als and
implicit-bpr. Not ease or itemknn (their user "vector" is the sparse history x_u and the score
x_u W needs the whole item-item matrix W), not mostpop (no user vector), not ensemble (a blend of
normalised scores, not one inner product).

`AnnRetriever` wraps a fitted factor retriever so that `recommend` ranks from the index, with the
retriever's own contract: seen items, `Constraints` and the popularity fallback.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from generec.errors import InputError
from generec.retrieval.base import Constraints, FactorRetriever, Recommendation
from generec.types import Scored

INDEX_KINDS = ("flat", "ivf-flat", "hnsw")


@dataclass(frozen=True)
class AnnConfig:
    kind: str = "ivf-flat"  # one of INDEX_KINDS
    nlist: int = 0  # IVF cells; 0: ≈ √I, at least 1 and at most I / 39 (k-means needs ~39 points a cell)
    nprobe: int = 128  # IVF cells scanned per query (tuned at 1 M items: docs/BENCHMARKS.md)
    train_points: int = 64  # k-means training points per cell, sampled with `seed`
    kmeans_iters: int = 10
    hnsw_m: int = 32  # M, links per node
    ef_construction: int = 64
    ef_search: int = 128
    seed: int = 0

    def __post_init__(self) -> None:
        if self.kind not in INDEX_KINDS:
            raise InputError(f"unknown index kind {self.kind!r}; valid: {', '.join(INDEX_KINDS)}")
        for name in ("nprobe", "train_points", "kmeans_iters", "hnsw_m", "ef_construction", "ef_search"):
            if getattr(self, name) < 1:
                raise InputError(f"AnnConfig.{name} must be at least 1, got {getattr(self, name)}")
        if self.nlist < 0:
            raise InputError(f"AnnConfig.nlist must be 0 (automatic) or positive, got {self.nlist}")


@dataclass
class SearchResult:
    ids: np.ndarray  # (B, k) int64 item indices, best first; -1 where fewer than k were found
    scores: np.ndarray  # (B, k) float32 inner products; -inf where ids is -1


def _faiss():
    import faiss

    return faiss


def recall_at_k(approx: np.ndarray, exact: np.ndarray) -> float:
    """Mean over queries of |approx_u ∩ exact_u| / |exact_u| for (B, k) id arrays (-1 = none).
    Queries whose exact list is empty are left out; with none left, the recall is 1."""
    approx, exact = np.atleast_2d(approx), np.atleast_2d(exact)
    if approx.shape[0] != exact.shape[0]:
        raise InputError(f"recall needs as many approximate as exact result rows, got {approx.shape[0]} and {exact.shape[0]}")
    per_query = []
    for a, e in zip(approx, exact):
        truth = set(e[e >= 0].tolist())
        if truth:
            per_query.append(len(truth & set(a[a >= 0].tolist())) / len(truth))
    return float(np.mean(per_query)) if per_query else 1.0


class AnnIndex:
    """An index over item vectors (I, D) for inner-product top-k; `fit` builds it."""

    def __init__(self, config: AnnConfig | None = None) -> None:
        self.config = config if config is not None else AnnConfig()

    def fit(self, item_vectors: np.ndarray, progress: Callable[[str, int, int], None] | None = None) -> AnnIndex:
        faiss = _faiss()
        cfg = self.config
        # 1. check inputs
        x = np.asarray(item_vectors)
        if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
            raise InputError(f"item vectors must be a non-empty (items, dim) matrix, got shape {x.shape}")
        if not np.issubdtype(x.dtype, np.number) or not np.isfinite(x).all():
            raise InputError("item vectors must be finite numbers (found NaN, inf or a non-numeric type)")
        x = np.ascontiguousarray(x, dtype=np.float32)
        n, d = x.shape
        started = time.perf_counter()
        # 2. the index
        if cfg.kind == "flat":
            index = faiss.IndexFlatIP(d)
        elif cfg.kind == "ivf-flat":
            nlist = cfg.nlist or max(1, min(int(round(np.sqrt(n))), n // 39))
            if nlist > n:
                raise InputError(f"AnnConfig.nlist={nlist} is more cells than items ({n})")
            index = faiss.IndexIVFFlat(faiss.IndexFlatIP(d), d, nlist, faiss.METRIC_INNER_PRODUCT)
            index.cp.seed, index.cp.niter = cfg.seed, cfg.kmeans_iters
            index.cp.max_points_per_centroid = cfg.train_points
            # 3. k-means on a seeded sample: the cells' centroids c_1..c_nlist
            sample = np.random.default_rng(cfg.seed).choice(n, size=min(n, nlist * cfg.train_points), replace=False)
            if progress:
                progress(f"{cfg.kind} train", 0, 1)
            index.train(x[np.sort(sample)])
            if progress:
                progress(f"{cfg.kind} train", 1, 1)
        else:
            index = faiss.IndexHNSWFlat(d, cfg.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = cfg.ef_construction
            index.hnsw.rng = faiss.RandomGenerator(cfg.seed)  # the nodes' levels
        # 4. add the items in chunks, so that long builds show progress
        chunk = 100_000
        for start in range(0, n, chunk):
            index.add(x[start : start + chunk])
            if progress:
                progress(f"{cfg.kind} add", min(n, start + chunk), n)
        self.index_, self.n_items_, self.dim_ = index, n, d
        self.build_seconds_ = time.perf_counter() - started
        self.set_search(self.config.nprobe, self.config.ef_search)
        return self

    def set_search(self, nprobe: int | None = None, ef_search: int | None = None) -> AnnIndex:
        """Change the search-time settings (no rebuild): IVF `nprobe`, HNSW `ef_search`."""
        self._check_fitted()
        changes = {k: v for k, v in (("nprobe", nprobe), ("ef_search", ef_search)) if v is not None}
        self.config = dataclasses.replace(self.config, **changes)
        if self.config.kind == "ivf-flat":
            self.index_.nprobe = min(self.config.nprobe, self.index_.nlist)
        elif self.config.kind == "hnsw":
            self.index_.hnsw.efSearch = self.config.ef_search
        return self

    @property
    def nlist(self) -> int | None:
        self._check_fitted()
        return int(self.index_.nlist) if self.config.kind == "ivf-flat" else None

    def memory_bytes(self) -> int:
        """The index's size as FAISS serialises it (vectors, ids, centroids or graph)."""
        self._check_fitted()
        return int(_faiss().serialize_index(self.index_).nbytes)

    def search(self, user_vectors: np.ndarray, k: int, exclude: Sequence[Sequence[int] | np.ndarray] | None = None) -> SearchResult:
        """Top-k items by inner product for each of B user vectors (B, D); `exclude[b]` lists item
        indices never to return for query b. Excluded items are over-fetched and filtered."""
        self._check_fitted()
        # 1. check inputs
        q = np.asarray(user_vectors)
        if q.ndim == 1:
            q = q[None, :]
        if q.ndim != 2 or q.shape[1] != self.dim_:
            raise InputError(f"user vectors must be (queries, {self.dim_}) to match the items, got shape {np.shape(user_vectors)}")
        if not np.issubdtype(q.dtype, np.number) or not np.isfinite(q).all():
            raise InputError("user vectors must be finite numbers (found NaN, inf or a non-numeric type)")
        if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k <= 0:
            raise InputError(f"k must be a positive integer, got {k!r}")
        if k > self.n_items_:
            raise InputError(f"k={k} is larger than the index ({self.n_items_} items)")
        excl = self._exclusions(exclude, len(q))
        # 2. search k plus the longest exclusion list, so that k remain after filtering
        fetch = min(self.n_items_, k + max((len(e) for e in excl), default=0))
        scores, ids = self.index_.search(np.ascontiguousarray(q, dtype=np.float32), fetch)  # (B, fetch)
        if not any(len(e) for e in excl):
            return SearchResult(ids[:, :k].astype(np.int64), np.where(ids[:, :k] >= 0, scores[:, :k], -np.inf).astype(np.float32))
        # 3. drop excluded items, keep the first k of the rest
        out_ids = np.full((len(q), k), -1, np.int64)
        out_scores = np.full((len(q), k), -np.inf, np.float32)
        for b, e in enumerate(excl):
            keep = (ids[b] >= 0) & ~np.isin(ids[b], e)
            kept_ids, kept_scores = ids[b][keep][:k], scores[b][keep][:k]
            out_ids[b, : len(kept_ids)], out_scores[b, : len(kept_ids)] = kept_ids, kept_scores
        return SearchResult(out_ids, out_scores)

    def _exclusions(self, exclude, n_queries: int) -> list[np.ndarray]:
        if exclude is None:
            return [np.empty(0, np.int64)] * n_queries
        if len(exclude) != n_queries:
            raise InputError(f"exclude needs one list of item indices per query ({n_queries}), got {len(exclude)}")
        out = []
        for e in exclude:
            e = np.unique(np.asarray(e, dtype=np.int64).ravel())
            if len(e) and (e[0] < 0 or e[-1] >= self.n_items_):
                raise InputError(f"exclude holds item index {int(e[0] if e[0] < 0 else e[-1])}, outside the index's 0..{self.n_items_ - 1}")
            out.append(e)
        return out

    def _check_fitted(self) -> None:
        if not hasattr(self, "index_"):
            raise InputError("the index is not built yet: call fit(item_vectors) first")


class AnnRetriever:
    """A fitted factor retriever whose `recommend` ranks from `index` (built over its item
    factors) instead of scoring the whole catalogue. Everything else is the wrapped model's."""

    def __init__(self, model: FactorRetriever, index: AnnIndex) -> None:
        if not isinstance(model, FactorRetriever):
            raise InputError(f"an ANN index needs a factor model (bpr, lightgcn, multimodal, implicit-als, implicit-bpr), not {getattr(model, 'name', type(model).__name__)!r}")
        index._check_fitted()
        if (index.n_items_, index.dim_) != model.item_factors_.shape:
            raise InputError(f"the index covers {index.n_items_} items of dim {index.dim_}, the model has item factors {model.item_factors_.shape}; rebuild the index")
        self.model, self.index = model, index

    def __getattr__(self, name: str):
        return getattr(self.model, name)

    def recommend(self, user_id: str, k: int = 10, exclude_seen: bool = True, constraints: Constraints | None = None) -> Recommendation:
        # 1. check inputs; a user without a vector gets the model's own popularity fallback
        m = self.model
        m._check_k(k)
        index = m.data_.user_index.get(user_id)
        if index is None or m.data_.matrix.indptr[index] == m.data_.matrix.indptr[index + 1]:
            return m.recommend(user_id, k, exclude_seen, constraints)
        # 2. the user's vector and the items never to return
        seen = m.data_.matrix.indices[m.data_.matrix.indptr[index] : m.data_.matrix.indptr[index + 1]] if exclude_seen else np.empty(0, np.int64)
        # 3. search the index under the constraints
        items = self._search(m.user_vectors(np.array([index]))[0], k, seen, constraints)
        return Recommendation(user_id, items, m.name)

    def recommend_for_vector(self, vector: np.ndarray, k: int = 10, exclude: Sequence[str] = (), constraints: Constraints | None = None, user_id: str = "") -> Recommendation:
        self.model._check_k(k)
        seen = np.array([self.model._item(i) for i in exclude], dtype=np.int64)
        return Recommendation(user_id, self._search(np.asarray(vector, np.float32), k, seen, constraints), self.model.name)

    def _search(self, vector: np.ndarray, k: int, seen: np.ndarray, constraints: Constraints | None) -> list[Scored]:
        data = self.model.data_
        excluded = seen.astype(np.int64)
        if constraints is not None and constraints.exclude:
            excluded = np.concatenate([excluded, [data.item_index[i] for i in constraints.exclude if i in data.item_index]]).astype(np.int64)
        if constraints is not None and constraints.allowed is not None:
            # an allow-list is small: score it exactly, as the model would
            allowed = np.setdiff1d([data.item_index[i] for i in constraints.allowed if i in data.item_index], excluded).astype(np.int64)
            scores = self.model.item_factors_[allowed] @ vector  # (A,)
            order = np.lexsort((allowed, -scores))  # best first; ties by catalogue order
            return self._accept(zip(allowed[order], scores[order]), k, constraints)
        # widen the search while the predicate rejects too many
        predicate = constraints.predicate if constraints is not None else None
        eligible = data.n_items - len(np.unique(excluded))
        fetch = min(eligible, max(4 * k, k + 32) if predicate else k)
        while True:
            result = self.index.search(vector, max(1, fetch), exclude=[excluded])
            found = result.ids[0] >= 0
            out = self._accept(zip(result.ids[0][found], result.scores[0][found]), k, constraints)
            if len(out) >= k or fetch >= eligible or predicate is None:
                return out
            fetch = min(eligible, fetch * 4)

    def _accept(self, ranked, k: int, constraints: Constraints | None) -> list[Scored]:
        """The first k of (item index, score) pairs, best first, that the predicate accepts."""
        ids = self.model.data_.item_ids
        predicate = constraints.predicate if constraints is not None else None
        out: list[Scored] = []
        for j, s in ranked:
            if predicate is None or predicate(str(ids[j])):
                out.append(Scored(str(ids[j]), float(s)))
                if len(out) == k:
                    break
        return out
