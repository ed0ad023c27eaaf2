"""BPR-MF (Rendle et al., "BPR: Bayesian Personalized Ranking from Implicit Feedback", UAI 2009).

Matrix factorisation x̂_ui = p_u · q_i + b_i with user factors P (U, D), item factors Q (I, D) and
an item bias b (I,), trained with Adam on the BPR criterion (eq. 4 with x̂_uij = x̂_ui − x̂_uj):

    min −Σ_(u,i,j) ln σ(x̂_ui − x̂_uj) + λ (‖p_u‖² + ‖q_i‖² + ‖q_j‖² + b_i² + b_j²) / 2

over triples of a positive i and a uniformly sampled unobserved j (see `torch_train`).

The bias is stored as one more factor dimension — user vectors [p_u, 1] (D+1,), item factors
[q_i, b_i] (D+1,) — so that scoring and fold-in stay a plain dot product.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from generec.errors import InputError
from generec.retrieval.base import FactorRetriever
from generec.retrieval.foldin import ridge_fold_in
from generec.retrieval.torch_train import BPRSampler, Factors, bpr_loss, check_valid, train_and_keep_best


@dataclass(frozen=True)
class BPRMFConfig:
    dim: int = 64  # D
    lr: float = 0.005  # Adam
    l2: float = 0.02  # λ, on the batch's embeddings (tuned on MovieLens-100k validation: 1e-4 .. 0.2)
    epochs: int = 200  # at most, with early stopping when fit is given validation data
    batch_size: int = 2048
    eval_every: int = 5  # epochs between validation NDCG@20 evaluations
    patience: int = 5  # evaluations without improvement before stopping
    init_std: float = 0.1  # P, Q ~ N(0, init_std²); b = 0
    use_bias: bool = True  # the item bias b_i
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("dim", "epochs", "batch_size", "eval_every", "patience"):
            if getattr(self, name) < 1:
                raise InputError(f"BPRMFConfig.{name} must be at least 1, got {getattr(self, name)}")
        if self.lr <= 0 or self.l2 < 0 or self.init_std <= 0:
            raise InputError(
                f"BPRMFConfig needs lr > 0, l2 >= 0 and init_std > 0; got lr={self.lr}, l2={self.l2}, init_std={self.init_std}"
            )


class BPRMF(FactorRetriever):
    name = "bpr"
    config_cls = BPRMFConfig

    def fit(self, data, valid=None, progress=None):
        # 1. check inputs
        self._bind(data)
        check_valid(valid, data.matrix.shape, self.name)
        cfg = self.config
        rng = np.random.default_rng(cfg.seed)
        gen = torch.Generator().manual_seed(cfg.seed)
        # 2. parameters: P (U, D), Q (I, D), b (I,)
        p = torch.nn.Parameter(torch.randn(data.n_users, cfg.dim, generator=gen) * cfg.init_std)
        q = torch.nn.Parameter(torch.randn(data.n_items, cfg.dim, generator=gen) * cfg.init_std)
        b = torch.nn.Parameter(torch.zeros(data.n_items), requires_grad=cfg.use_bias)
        optimizer = torch.optim.Adam([p, q, b] if cfg.use_bias else [p, q], lr=cfg.lr)
        sampler = BPRSampler(data.matrix, rng)

        # 3. one epoch: every positive once, with a sampled negative
        def run_epoch(epoch: int) -> None:
            for u, i, j in sampler.epoch(cfg.batch_size):
                pu, qi, qj = p[u], q[i], q[j]  # (B, D)
                bi, bj = b[i], b[j]  # (B,)
                x_ui = (pu * qi).sum(-1) + bi  # (B,)
                x_uj = (pu * qj).sum(-1) + bj
                loss = bpr_loss(x_ui, x_uj, pu, qi, qj, bi, bj, l2=cfg.l2)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()

        # 4. user vectors [p_u, 1] (U, D+1), item factors [q_i, b_i] (I, D+1)
        def export() -> Factors:
            users, items = p.detach().numpy().copy(), q.detach().numpy().copy()
            if cfg.use_bias:
                users = np.hstack([users, np.ones((len(users), 1), np.float32)])
                items = np.hstack([items, b.detach().numpy()[:, None]])
            return {"user_factors": users.astype(np.float32), "item_factors": items.astype(np.float32)}

        # 5. train, early-stopped on validation NDCG@20 when `valid` is given
        train_and_keep_best(self, valid, run_epoch, export, progress)
        return self

    def fold_in_dims(self) -> int:
        return self.config.dim  # Q without the bias column

    def fold_in_vector(self, liked: np.ndarray) -> np.ndarray:
        # ridge regression onto Q (the bias column left out), then the constant 1 for b_i. Its
        # targets are 0/1, so u is shorter than trained users' p_u and b_i weighs relatively more
        d = self.config.dim
        u = ridge_fold_in(self.item_factors_[:, :d], liked, gram=self.gram_)  # (D,)
        return np.append(u, np.float32(1.0)).astype(np.float32) if self.config.use_bias else u
