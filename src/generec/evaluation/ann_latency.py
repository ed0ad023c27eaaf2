"""Retrieval latency at catalogue scale: exact scoring against an approximate index, one run.

A synthetic factor model stands in for a trained one at I items (a catalogue of that size is
not in any workspace here). Its vectors are clustered, as trained factors are, so that the ANN
problem is not the easy one of uniform noise:

    C = round(√I) taste clusters with popularity π_c ∝ 1/c^0.7 and centres μ_c ~ N(0, I_D)
    item   q_i = s_i (μ_{c_i} + ε_i),  c_i ~ π, ε_i ~ N(0, I_D), s_i ~ LogNormal(0, 0.2)
    user   p_u = (μ_a + μ_b)/2 + ε_u,  a, b ~ π (two tastes)
    seen   10 of the user's 100 highest-scoring items + 10 random items of clusters a and b

(a trained model scores a user's own positives high, so excluding seen items matters). The
factors are loaded into a real BPR-MF retriever the way a checkpoint is (`_bind`, `set_state`),
and every method is timed through `recommend(user, k)`: the model's own (numpy, all I scores
then a partial sort), then `AnnRetriever` over FAISS IndexFlatIP (exact) and over approximate
indexes at each search setting. Recall@k of each is against the model's own exact top-k, with
the same seen items excluded. Queries run on one thread (FAISS, BLAS and torch); builds use
FAISS's default thread count.
"""

from __future__ import annotations

import datetime
import resource
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from generec.errors import InputError
from generec.evaluation.protocols import machine
from generec.retrieval.ann import AnnConfig, AnnIndex, AnnRetriever, recall_at_k
from generec.retrieval.data import InteractionData

Progress = Callable[[str, int, int], None]
MAX_ITEMS = 50_000_000  # 50 M × 64 float32 is 12.8 GB: past that, this machine is the limit, not the index


@dataclass
class LatencyRow:
    method: str  # "numpy exact (Retriever.recommend)", "flat", "ivf-flat", "hnsw"
    exact: bool
    params: dict
    p50_ms: float
    p99_ms: float
    mean_ms: float
    recall: float  # recall@k against the model's own exact top-k
    build_seconds: float
    memory_mb: float  # the index as FAISS serialises it; for numpy, the item factor matrix


@dataclass
class AnnLatencyBench:
    n_items: int
    dim: int
    n_queries: int
    k: int
    seed: int
    clusters: int
    seen_per_user: int
    date: str
    machine: str
    query_threads: int
    build_threads: int
    data_seconds: float = 0.0
    rows: list[LatencyRow] = field(default_factory=list)
    peak_rss_mb: float = 0.0


@dataclass
class ClusteredFactors:
    items: np.ndarray  # (I, D) float32
    users: np.ndarray  # (U, D) float32
    seen: list[np.ndarray]  # per user, item indices
    clusters: int


def clustered_factors(n_items: int, dim: int, n_users: int, seed: int = 0) -> ClusteredFactors:
    """Clustered item and user vectors (see the module's docstring), seeded."""
    import faiss

    rng = np.random.default_rng(seed)
    # 1. clusters: popularity π and centres μ
    c = max(2, int(round(np.sqrt(n_items))))
    pi = 1.0 / np.arange(1, c + 1) ** 0.7
    pi /= pi.sum()
    mu = rng.standard_normal((c, dim), dtype=np.float32)
    # 2. items q_i = s_i (μ_{c_i} + ε_i), in chunks to bound the temporary memory
    labels = rng.choice(c, size=n_items, p=pi)
    items = np.empty((n_items, dim), np.float32)
    for start in range(0, n_items, 250_000):
        stop = min(n_items, start + 250_000)
        items[start:stop] = mu[labels[start:stop]] + rng.standard_normal((stop - start, dim), dtype=np.float32)
        items[start:stop] *= rng.lognormal(0.0, 0.2, size=(stop - start, 1)).astype(np.float32)
    # 3. users p_u = (μ_a + μ_b)/2 + ε_u
    a, b = rng.choice(c, size=n_users, p=pi), rng.choice(c, size=n_users, p=pi)
    users = (0.5 * (mu[a] + mu[b]) + rng.standard_normal((n_users, dim), dtype=np.float32)).astype(np.float32)
    # 4. seen: 10 of the user's exact top-100 and 10 items of their two clusters
    flat = faiss.IndexFlatIP(dim)
    flat.add(items)
    _, top = flat.search(users, min(100, n_items))  # (U, 100)
    order = np.argsort(labels, kind="stable")
    starts = np.searchsorted(labels[order], np.arange(c + 1))
    seen = []
    for u in range(n_users):
        pool = np.concatenate([order[starts[a[u]] : starts[a[u] + 1]], order[starts[b[u]] : starts[b[u] + 1]]])
        picks = [rng.choice(top[u], size=min(10, top.shape[1]), replace=False), rng.choice(pool, size=min(10, len(pool)), replace=False)]
        seen.append(np.unique(np.concatenate(picks)).astype(np.int64))
    return ClusteredFactors(items, users, seen, c)


def _factor_model(f: ClusteredFactors):
    """A real BPR-MF retriever holding the synthetic factors, bound like a loaded checkpoint."""
    from generec.retrieval.bpr import BPRMF, BPRMFConfig

    n_users, (n_items, dim) = len(f.users), f.items.shape
    indptr = np.concatenate([[0], np.cumsum([len(s) for s in f.seen])])
    indices = np.concatenate(f.seen)
    matrix = sp.csr_matrix((np.ones(len(indices), np.float32), indices, indptr), shape=(n_users, n_items))
    data = InteractionData(np.array([f"u{u}" for u in range(n_users)]), np.array([f"i{i}" for i in range(n_items)]), matrix, name="synthetic-clustered")
    model = BPRMF(BPRMFConfig(dim=dim, use_bias=False))
    model._bind(data)
    model.set_state({"user_factors": f.users, "item_factors": f.items})
    return model


def _time_recommend(recommend: Callable, users: np.ndarray, k: int, item_index: dict[str, int], progress: Progress | None, stage: str) -> tuple[np.ndarray, np.ndarray]:
    """Per-query wall time (ms) of recommend(user, k) after one warm-up call, and the (U, k) item indices."""
    recommend(str(users[0]), k)
    times = np.empty(len(users))
    ids = np.full((len(users), k), -1, np.int64)
    for n, user in enumerate(users):
        t0 = time.perf_counter()
        rec = recommend(str(user), k)
        times[n] = (time.perf_counter() - t0) * 1000
        ids[n, : len(rec.items)] = [item_index[s.item_id] for s in rec.items]
        if progress and ((n + 1) % 50 == 0 or n + 1 == len(users)):
            progress(stage, n + 1, len(users))
    return times, ids


def _row(method: str, exact: bool, params: dict, times: np.ndarray, recall: float, build_seconds: float, memory_bytes: int) -> LatencyRow:
    return LatencyRow(method, exact, params, float(np.percentile(times, 50)), float(np.percentile(times, 99)), float(times.mean()), recall, build_seconds, memory_bytes / 2**20)


def check_inputs(n_items: int, dim: int, n_queries: int, k: int, nprobes: Sequence[int], ef_searches: Sequence[int], kinds: Sequence[str]) -> None:
    if n_items < 1_000 or n_items > MAX_ITEMS:
        raise InputError(f"--latency-items must be between 1,000 and {MAX_ITEMS:,}, got {n_items:,}")
    if dim < 2 or dim > 1024:
        raise InputError(f"--dim must be between 2 and 1024, got {dim}")
    if n_queries < 1:
        raise InputError(f"--queries must be at least 1, got {n_queries}")
    if k < 1 or k > n_items // 10:
        raise InputError(f"-k must be between 1 and a tenth of the catalogue ({n_items // 10:,}), got {k}")
    for name, values in (("--nprobe", nprobes), ("--ef-search", ef_searches)):
        if not values or min(values) < 1:
            raise InputError(f"{name} must be one or more positive integers, got {list(values)}")
    for kind in kinds:
        AnnConfig(kind=kind)  # names the valid kinds when one is unknown
    if not kinds or "flat" in kinds:
        raise InputError(f"--index must name approximate indexes (ivf-flat, hnsw); flat, the exact baseline, is always run; got {list(kinds)}")


def bench_ann_latency(
    n_items: int,
    dim: int = 64,
    n_queries: int = 1000,
    k: int = 10,
    seed: int = 0,
    kinds: Sequence[str] = ("ivf-flat",),
    nprobes: Sequence[int] = (16, 32, 64, 128, 256),
    ef_searches: Sequence[int] = (32, 64, 128, 256),
    progress: Progress | None = None,
) -> AnnLatencyBench:
    """Time `recommend` at `n_items` items for the exact paths and each approximate setting."""
    import faiss
    import torch
    from threadpoolctl import threadpool_limits

    # 1. check inputs
    check_inputs(n_items, dim, n_queries, k, nprobes, ef_searches, kinds)
    build_threads = faiss.omp_get_max_threads()
    bench = AnnLatencyBench(n_items, dim, n_queries, k, seed, 0, 0, datetime.date.today().isoformat(), machine(), 1, build_threads)
    # 2. the synthetic model
    started = time.perf_counter()
    if progress:
        progress("data", 0, 1)
    factors = clustered_factors(n_items, dim, n_queries, seed)
    model = _factor_model(factors)
    bench.clusters, bench.seen_per_user = factors.clusters, int(round(np.mean([len(s) for s in factors.seen])))
    users, item_index = model.data_.user_ids, model.data_.item_index
    bench.data_seconds = time.perf_counter() - started
    if progress:
        progress("data", 1, 1)
    torch_threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        # 3. the exact baselines: the model's own recommend, then FAISS IndexFlatIP
        with threadpool_limits(1):
            faiss.omp_set_num_threads(1)
            times, exact_ids = _time_recommend(model.recommend, users, k, item_index, progress, "numpy exact")
            bench.rows.append(_row("numpy exact (Retriever.recommend)", True, {}, times, 1.0, 0.0, factors.items.nbytes))
        indexes = [("flat", AnnConfig(kind="flat", seed=seed), [{}])]
        indexes += [(kind, AnnConfig(kind=kind, seed=seed), [{"nprobe": p} for p in nprobes] if kind == "ivf-flat" else [{"ef_search": e} for e in ef_searches]) for kind in kinds]
        for kind, cfg, settings in indexes:
            # 4. build with FAISS's threads, query on one
            faiss.omp_set_num_threads(build_threads)
            index = AnnIndex(cfg).fit(factors.items, progress=progress)
            memory = index.memory_bytes()
            for setting in settings:
                index.set_search(**setting)
                with threadpool_limits(1):
                    faiss.omp_set_num_threads(1)
                    label = kind + "".join(f" {name}={value}" for name, value in setting.items())
                    times, ids = _time_recommend(AnnRetriever(model, index).recommend, users, k, item_index, progress, label)
                params = {**setting, **({"nlist": index.nlist} if kind == "ivf-flat" else {}), **({"m": cfg.hnsw_m, "ef_construction": cfg.ef_construction} if kind == "hnsw" else {})}
                bench.rows.append(_row(kind, kind == "flat", params, times, recall_at_k(ids, exact_ids), index.build_seconds_, memory))
            del index
    finally:
        faiss.omp_set_num_threads(build_threads)
        torch.set_num_threads(torch_threads)
    bench.peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    return bench


def first_meeting(bench: AnnLatencyBench, p50_ms: float = 10.0, recall: float = 0.95) -> LatencyRow | None:
    """The first approximate row, in the sweep's order (cheapest search first), with p50 under
    `p50_ms` and recall at least `recall`."""
    return next((r for r in bench.rows if not r.exact and r.p50_ms < p50_ms and r.recall >= recall), None)

