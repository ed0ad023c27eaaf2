"""Benchmark protocols: every model and baseline trained and measured in one run."""

from __future__ import annotations

import datetime
import json
import os
import platform
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from generec.evaluation.ranking import evaluate_ranking
from generec.retrieval import RETRIEVERS
from generec.retrieval.base import Retriever
from generec.retrieval.data import InteractionData, Split, make_split
from generec.retrieval.trainer import tune_and_fit
from generec.workspace import DB_NAME, SQLITE, Workspace

Progress = Callable[[str, int, int], None]


@dataclass
class ModelRow:
    split: str
    model: str
    metrics: dict[str, float]
    valid: float
    config: dict
    tune_seconds: float
    fit_seconds: float
    latency_ms: float  # median recommend(user, 10) over the catalogue
    cold: dict[str, float] | None = None  # metrics restricted to items with no training positives


@dataclass
class RetrievalBench:
    dataset: str
    date: str
    machine: str
    budget: int
    seed: int
    n_users: int
    n_items: int
    rows: list[ModelRow] = field(default_factory=list)
    latency_catalogue: dict[str, float] = field(default_factory=dict)  # model -> median ms at `latency_items`
    latency_items: int = 0


def machine() -> str:
    return f"{platform.machine()} {os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}"


def recommend_latency_ms(model: Retriever, n_users: int = 200, k: int = 10, seed: int = 0) -> float:
    """Median wall time of `recommend(user, k)` for users drawn at random (after one warm-up)."""
    rng = np.random.default_rng(seed)
    active = np.flatnonzero(np.diff(model.data_.matrix.indptr) > 0)
    users = model.data_.user_ids[rng.choice(active, size=min(n_users, len(active)), replace=False)]
    model.recommend(str(users[0]), k)
    times = []
    for user in users:
        t0 = time.perf_counter()
        model.recommend(str(user), k)
        times.append(time.perf_counter() - t0)
    return float(np.median(times) * 1000)


def cold_item_metrics(model: Retriever, split: Split, ks: Sequence[int] = (10, 20)) -> dict[str, float] | None:
    """Rank only the items with no training positives, against each user's held-out cold items."""
    cold = np.asarray(split.train.matrix.sum(0)).ravel() == 0
    if cold.sum() <= max(ks):
        return None
    test = split.test.multiply(sp.csr_matrix(cold.astype(np.float32))).tocsr()
    test.eliminate_zeros()
    if test.nnz == 0:
        return None

    def score(users: np.ndarray) -> np.ndarray:
        s = model.score_users(users).astype(np.float32)
        s[:, ~cold] = -np.inf
        return s

    report = evaluate_ranking(score, split.train.matrix, test, ks=ks)
    out = {k: v for k, v in report.metrics.items() if not k.startswith("coverage")}
    out["users"] = report.n_users
    out["items"] = int(cold.sum())
    return out


@contextmanager
def catalogue_without_look_tags(ws: Workspace) -> Iterator[Workspace]:
    """A temporary view of `ws` whose items' tags hold no look word (the benchmark's own list,
    `datasets.tags.ALL_LOOK_WORDS`): a copy of the database with the tags stripped, the media,
    oracle and feature cache shared read-mostly, its own `models/`. `ws` is left unchanged."""
    from generec.datasets.tags import strip_look_words

    with tempfile.TemporaryDirectory(prefix="generec-no-look-tags-") as tmp:
        root = Path(tmp) / "ws"
        root.mkdir()
        ws.db.copy_to(root / DB_NAME)  # an SQLite copy, whichever engine `ws` is on
        for shared in ("media", "features", "oracle"):
            if (ws.root / shared).exists():
                os.symlink((ws.root / shared).resolve(), root / shared)
        view = Workspace.open(root, db=SQLITE)
        try:
            rows = view.db.query("SELECT id, tags FROM items")
            with view.db.transaction() as conn:
                conn.executemany("UPDATE items SET tags = ? WHERE id = ?", [(json.dumps(strip_look_words(json.loads(t or "[]"))), i) for i, t in rows])
            yield view
        finally:
            view.close()


def attach_features(split: Split, features: np.ndarray) -> None:
    split.train.item_features = features
    if split.train_inner is not None:
        split.train_inner.item_features = features


def synthetic_catalogue(n_items: int, n_users: int = 2000, per_user: int = 40, seed: int = 0) -> Split:
    """A random power-law catalogue for latency measurements at a given size."""
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, n_items + 1) ** 0.8
    weights /= weights.sum()
    rows = np.repeat(np.arange(n_users), per_user)
    cols = rng.choice(n_items, size=len(rows), p=weights)
    m = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(n_users, n_items))
    m.data[:] = 1.0
    data = InteractionData(np.array([f"u{u}" for u in range(n_users)]), np.array([f"i{i}" for i in range(n_items)]), m, rng.normal(size=(n_items, 64)).astype(np.float32), "synthetic")
    return Split("synthetic", data, sp.csr_matrix(m.shape, dtype=np.float32))


def bench_retrieval(
    ws: Workspace,
    dataset: str,
    splits: Sequence[str],
    models: Sequence[str],
    budget: int = 8,
    seed: int = 0,
    latency_items: int = 0,
    features: Callable[[], np.ndarray] | None = None,
    progress: Progress | None = None,
) -> RetrievalBench:
    """Tune (same budget for all), fit, evaluate on the test part, time `recommend`."""
    bench = RetrievalBench(dataset, datetime.date.today().isoformat(), machine(), budget, seed, ws.users.count(), ws.items.count(), latency_items=latency_items)
    item_feats = None
    for split_name in splits:
        # 1. split, and content features for the models that need them
        split = make_split(ws, split_name, seed=seed)
        if any(RETRIEVERS[m].uses_item_features for m in models):
            if item_feats is None:
                item_feats = features() if features is not None else None
            attach_features(split, item_feats)
        for n, name in enumerate(models):
            # 2. tune on validation, refit on all training data
            result = tune_and_fit(name, split, budget=budget, seed=seed, progress=progress)
            # 3. test metrics, cold items, latency
            report = evaluate_ranking(result.model.score_users, split.train.matrix, split.test, ks=(10, 20))
            cold = cold_item_metrics(result.model, split) if split_name == "microvideo" else None
            bench.rows.append(ModelRow(split_name, name, report.metrics, result.valid, result.config, result.tune_seconds, result.fit_seconds, recommend_latency_ms(result.model, seed=seed), cold))
            if progress:
                progress(f"bench {split_name}", n + 1, len(models))
    # 4. recommend latency over a catalogue of `latency_items` items
    if latency_items:
        synth = synthetic_catalogue(latency_items, seed=seed)
        for n, name in enumerate(models):
            cls = RETRIEVERS[name]
            cfg = cls.config_cls()
            if hasattr(cfg, "epochs"):
                import dataclasses

                cfg = dataclasses.replace(cfg, epochs=1)  # latency does not depend on training quality
            model = cls(cfg).fit(synth.train)
            bench.latency_catalogue[name] = recommend_latency_ms(model, seed=seed)
            if progress:
                progress(f"latency {latency_items}", n + 1, len(models))
    return bench
