"""Full-ranking metrics: every item is a candidate, no sampled negatives; training items excluded.

For a user u with held-out items T_u and the top-k list R_u (ranks r = 1..k):
    Recall@k = |R_u ∩ T_u| / |T_u|
    NDCG@k   = Σ_{r: R_u[r] ∈ T_u} 1 / log2(r + 1)  /  Σ_{r=1}^{min(k, |T_u|)} 1 / log2(r + 1)
    Hit@k    = 1[|R_u ∩ T_u| > 0]
    MRR@k    = 1 / (rank of the first hit), 0 if none
averaged over users with at least one held-out item; Coverage@k = |∪_u R_u| / I.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp


@dataclass
class RankingReport:
    metrics: dict[str, float]  # "ndcg@10" -> value
    n_users: int
    per_user: dict[str, np.ndarray] = field(default_factory=dict, repr=False)


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """(B, I) scores -> (B, k) item indices, best first."""
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)


def ranking_metrics(ranked: np.ndarray, relevant: Sequence[np.ndarray], ks: Sequence[int]) -> dict[str, np.ndarray]:
    """Per-user metrics from top lists (B, K) and each user's held-out item indices."""
    out: dict[str, np.ndarray] = {}
    hits = np.array([np.isin(row, rel) for row, rel in zip(ranked, relevant)])  # (B, K) bool
    n_rel = np.array([len(rel) for rel in relevant])
    discounts = 1.0 / np.log2(np.arange(2, ranked.shape[1] + 2))
    for k in ks:
        h = hits[:, :k]
        n_hit = h.sum(1)
        idcg = np.array([discounts[: min(k, n)].sum() for n in n_rel])
        first = np.where(h.any(1), h.argmax(1) + 1, 0)
        out[f"recall@{k}"] = n_hit / n_rel
        out[f"ndcg@{k}"] = (h * discounts[:k]).sum(1) / idcg
        out[f"hit@{k}"] = (n_hit > 0).astype(float)
        out[f"mrr@{k}"] = np.where(first > 0, 1.0 / np.maximum(first, 1), 0.0)
    return out


def evaluate_ranking(
    score_users: Callable[[np.ndarray], np.ndarray],
    train: sp.csr_matrix,
    test: sp.csr_matrix,
    ks: Sequence[int] = (10, 20),
    batch_size: int = 512,
    users: np.ndarray | None = None,
) -> RankingReport:
    """Score every test user against every item, mask their training items, and average."""
    test = test.tocsr()
    train = train.tocsr()
    if users is None:
        users = np.flatnonzero(np.diff(test.indptr) > 0)
    k_max = max(ks)
    per_user: dict[str, list[np.ndarray]] = {}
    recommended: dict[int, np.ndarray] = {k: np.zeros(train.shape[1], bool) for k in ks}
    for start in range(0, len(users), batch_size):
        batch = users[start : start + batch_size]
        scores = np.asarray(score_users(batch), dtype=np.float32).copy()  # (B, I)
        seen = train[batch]
        scores[seen.nonzero()] = -np.inf
        ranked = top_k(scores, k_max)
        relevant = [test.indices[test.indptr[u] : test.indptr[u + 1]] for u in batch]
        for name, values in ranking_metrics(ranked, relevant, ks).items():
            per_user.setdefault(name, []).append(values)
        for k in ks:
            recommended[k][ranked[:, :k].ravel()] = True
    merged = {name: np.concatenate(parts) for name, parts in per_user.items()}
    metrics = {name: float(v.mean()) for name, v in merged.items()}
    for k in ks:
        metrics[f"coverage@{k}"] = float(recommended[k].mean())
    return RankingReport(metrics, len(users), merged)
