"""What the torch-trained retrievers (BPR-MF, LightGCN) share: the BPR triple sampler, the
BPR loss and an epoch loop with early stopping on validation NDCG@20.

BPR (Rendle et al., UAI 2009) learns from triples (u, i, j) — i a positive of user u, j an item u
never interacted with — by maximising ln σ(x̂_ui − x̂_uj), i.e. minimising

    L = −1/B Σ_(u,i,j) ln σ(x̂_ui − x̂_uj)  +  λ · 1/(2B) Σ_(u,i,j) (‖e_u‖² + ‖e_i‖² + ‖e_j‖²)

with the L2 term on the embeddings of the batch only (as in LightGCN's reference code).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F

from generec.errors import InputError
from generec.evaluation.ranking import evaluate_ranking
from generec.retrieval.base import TrainLog

Factors = dict[str, np.ndarray]


class BPRSampler:
    """One epoch = every positive (u, i) once, in a random order, each with one negative j drawn
    uniformly from the items u has not interacted with (rejection sampling, vectorised)."""

    def __init__(self, matrix: sp.csr_matrix, rng: np.random.Generator) -> None:
        m = matrix.tocsr().astype(np.float32, copy=True)
        m.sum_duplicates()
        m.sort_indices()
        self.n_items = m.shape[1]
        degree = np.diff(m.indptr)
        users = np.repeat(np.arange(m.shape[0], dtype=np.int64), degree)  # (nnz,)
        items = m.indices.astype(np.int64)  # (nnz,)
        self.keys = users * self.n_items + items  # sorted, since rows and their indices are
        keep = degree[users] < self.n_items  # a user who has every item has no negative
        self.users, self.items = users[keep], items[keep]
        if len(self.users) == 0:
            raise InputError("BPR needs a user with an item they have not interacted with; every user has every item")
        self.rng = rng

    def __len__(self) -> int:
        return len(self.users)

    def negatives(self, users: np.ndarray) -> np.ndarray:
        """(B,) users -> (B,) items none of them has interacted with."""
        neg = self.rng.integers(0, self.n_items, size=len(users))
        todo = np.arange(len(users))
        while len(todo):
            keys = users[todo] * self.n_items + neg[todo]
            at = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
            todo = todo[self.keys[at] == keys]  # drew a positive: draw again
            neg[todo] = self.rng.integers(0, self.n_items, size=len(todo))
        return neg

    def epoch(self, batch_size: int) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        """Batches of (u, i, j), each (B,) int64."""
        order = self.rng.permutation(len(self.users))
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            u, i = self.users[rows], self.items[rows]
            j = self.negatives(u)
            yield torch.from_numpy(u), torch.from_numpy(i), torch.from_numpy(j)


def bpr_loss(pos: torch.Tensor, neg: torch.Tensor, *embeddings: torch.Tensor, l2: float) -> torch.Tensor:
    """pos, neg: (B,) scores x̂_ui, x̂_uj; embeddings: the batch's (B, ·) rows to regularise."""
    batch = pos.shape[0]
    reg = sum(e.pow(2).sum() for e in embeddings) / (2 * batch)
    return -F.logsigmoid(pos - neg).mean() + l2 * reg


def check_valid(valid: sp.csr_matrix | None, shape: tuple[int, int], model: str) -> None:
    if valid is not None and valid.shape != shape:
        raise InputError(
            f"{model}: the validation matrix has shape {valid.shape}, the training data {shape}; "
            "both must be (users, items) of the same data"
        )


def valid_ndcg(
    score_users: Callable[[np.ndarray], np.ndarray], train: sp.csr_matrix, valid: sp.csr_matrix, k: int = 20
) -> float:
    """NDCG@k on the validation users, training items excluded."""
    return evaluate_ranking(score_users, train, valid, ks=(k,)).metrics[f"ndcg@{k}"]


def train_epochs(
    epochs: int,
    run_epoch: Callable[[int], None],
    export: Callable[[], Factors],
    score: Callable[[Factors], float] | None,
    eval_every: int,
    patience: int,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[Factors, TrainLog]:
    """Run up to `epochs` epochs; with `score`, evaluate every `eval_every` epochs (and after the
    last), keep the best exported factors and stop after `patience` evaluations without
    improvement. Returns the factors to keep and the log (history: the score of each evaluation)."""
    log = TrainLog()
    best: Factors | None = None
    since_best = 0
    for epoch in range(1, epochs + 1):
        run_epoch(epoch)
        log.epochs = epoch
        if progress is not None:
            progress(epoch, epochs)
        if score is None or (epoch % eval_every and epoch != epochs):
            continue
        factors = export()
        value = score(factors)
        log.history.append(value)
        if log.best_valid is None or value > log.best_valid:
            best, log.best_epoch, log.best_valid, since_best = factors, epoch, value, 0
        else:
            since_best += 1
            if since_best >= patience:
                break
    if best is None:  # no validation: the last epoch's factors
        log.best_epoch = log.epochs
        return export(), log
    return best, log


def train_and_keep_best(model, valid: sp.csr_matrix | None, run_epoch: Callable[[int], None], export: Callable[[], Factors],
                        progress: Callable[[int, int], None] | None = None) -> None:
    """`train_epochs` for a model whose `set_state` takes the exported factors: candidates are
    scored by installing them, and the best (or, without `valid`, the last) stays installed.
    The model's config supplies `epochs`, `eval_every` and `patience`; sets `model.train_log_`."""
    cfg = model.config

    def score(factors: Factors) -> float:
        model.set_state(factors)
        return valid_ndcg(model.score_users, model.data_.matrix, valid)

    factors, model.train_log_ = train_epochs(cfg.epochs, run_epoch, export, score if valid is not None else None, cfg.eval_every, cfg.patience, progress)
    model.set_state(factors)
