"""LightGCN (He et al., "LightGCN: Simplifying and Powering Graph Convolution Network for
Recommendation", SIGIR 2020).

The only parameters are the layer-0 ("ego") embeddings E⁽⁰⁾ (U+I, D) of users and items. They
are smoothed over the user-item graph without weights or non-linearities:

    A = [[0, R], [Rᵀ, 0]]  (U+I, U+I),   Â = D^{-1/2} A D^{-1/2}      (eq. 7, D the degrees)
    E⁽ᵏ⁺¹⁾ = Â E⁽ᵏ⁾                                                  (eq. 7)
    E = 1/(K+1) Σ_{k=0..K} E⁽ᵏ⁾                                       (eq. 8, α_k = 1/(K+1))
    ŷ_ui = e_u · e_i                                                 (eq. 5)

trained with the BPR loss and L2 on the batch's ego embeddings (eq. 15; see `torch_train`).
After training the final E is kept as numpy factors, so scoring is one matmul.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch

from generec.errors import InputError
from generec.retrieval.base import FactorRetriever
from generec.retrieval.foldin import ridge_fold_in
from generec.retrieval.torch_train import BPRSampler, Factors, bpr_loss, check_valid, train_and_keep_best


@dataclass(frozen=True)
class LightGCNConfig:
    dim: int = 64  # D
    layers: int = 3  # K
    lr: float = 0.005  # Adam
    l2: float = 1e-3  # λ, on the batch's ego embeddings (tuned on MovieLens-100k validation: 1e-4 .. 1e-2)
    epochs: int = 300  # at most, with early stopping when fit is given validation data
    batch_size: int = 2048
    eval_every: int = 5  # epochs between validation NDCG@20 evaluations
    patience: int = 5  # evaluations without improvement before stopping
    init_std: float = 0.1  # E⁽⁰⁾ ~ N(0, init_std²)
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("dim", "epochs", "batch_size", "eval_every", "patience"):
            if getattr(self, name) < 1:
                raise InputError(f"LightGCNConfig.{name} must be at least 1, got {getattr(self, name)}")
        if self.layers < 0 or self.lr <= 0 or self.l2 < 0 or self.init_std <= 0:
            raise InputError(
                "LightGCNConfig needs layers >= 0, lr > 0, l2 >= 0 and init_std > 0; "
                f"got layers={self.layers}, lr={self.lr}, l2={self.l2}, init_std={self.init_std}"
            )


def normalized_adjacency(matrix: sp.csr_matrix) -> torch.Tensor:
    """R (U, I) -> Â = D^{-1/2} A D^{-1/2} (U+I, U+I) as a torch sparse CSR tensor."""
    r = sp.csr_matrix(matrix, dtype=np.float32)
    r.sum_duplicates()
    r.data[:] = 1.0
    a = sp.bmat([[None, r], [r.T, None]], format="csr")  # (N, N), N = U+I
    degree = np.asarray(a.sum(axis=1)).ravel()
    d_inv_sqrt = np.zeros_like(degree)
    d_inv_sqrt[degree > 0] = degree[degree > 0] ** -0.5  # isolated nodes keep only E⁽⁰⁾/(K+1)
    a_hat = (sp.diags(d_inv_sqrt) @ a @ sp.diags(d_inv_sqrt)).tocsr().astype(np.float32)
    a_hat.sort_indices()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Sparse CSR tensor support is in beta")
        return torch.sparse_csr_tensor(
            torch.from_numpy(a_hat.indptr.astype(np.int64)), torch.from_numpy(a_hat.indices.astype(np.int64)),
            torch.from_numpy(a_hat.data), a_hat.shape, check_invariants=True,
        )  # fmt: skip


class SymmetricSpMM(torch.autograd.Function):
    """Y = Â X for a symmetric sparse Â. The gradient is ∂L/∂X = Âᵀ ∂L/∂Y = Â ∂L/∂Y, so the
    backward reuses Â instead of transposing it on every call (several times faster on CPU)."""

    @staticmethod
    def forward(ctx, adjacency: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        ctx.adjacency = adjacency
        return adjacency @ x

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[None, torch.Tensor]:
        return None, ctx.adjacency @ grad


def propagate(adjacency: torch.Tensor, ego: torch.Tensor, layers: int) -> torch.Tensor:
    """E⁽⁰⁾ (N, D) -> E = mean of E⁽⁰⁾..E⁽ᴷ⁾ (N, D)."""
    out, e = ego, ego
    for _ in range(layers):
        e = SymmetricSpMM.apply(adjacency, e)  # E⁽ᵏ⁺¹⁾ = Â E⁽ᵏ⁾
        out = out + e
    return out / (layers + 1)


class LightGCN(FactorRetriever):
    name = "lightgcn"
    config_cls = LightGCNConfig

    def fit(self, data, valid=None, progress=None):
        # 1. check inputs
        self._bind(data)
        check_valid(valid, data.matrix.shape, self.name)
        cfg = self.config
        n_users = data.n_users
        rng = np.random.default_rng(cfg.seed)
        gen = torch.Generator().manual_seed(cfg.seed)
        # 2. the graph Â and the ego embeddings E⁽⁰⁾ (U+I, D): users first, then items
        adjacency = normalized_adjacency(data.matrix)
        ego = torch.nn.Parameter(torch.randn(n_users + data.n_items, cfg.dim, generator=gen) * cfg.init_std)
        optimizer = torch.optim.Adam([ego], lr=cfg.lr)
        sampler = BPRSampler(data.matrix, rng)

        # 3. one epoch: every positive once, with a sampled negative; E is recomputed per batch
        def run_epoch(epoch: int) -> None:
            for u, i, j in sampler.epoch(cfg.batch_size):
                e = propagate(adjacency, ego, cfg.layers)  # (N, D)
                eu, ei, ej = e[u], e[n_users + i], e[n_users + j]  # (B, D)
                x_ui, x_uj = (eu * ei).sum(-1), (eu * ej).sum(-1)  # (B,)
                loss = bpr_loss(x_ui, x_uj, ego[u], ego[n_users + i], ego[n_users + j], l2=cfg.l2)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()

        # 4. the final E, split into users (U, D) and items (I, D)
        def export() -> Factors:
            with torch.no_grad():
                e = propagate(adjacency, ego, cfg.layers).numpy()
            return {"user_factors": e[:n_users].copy(), "item_factors": e[n_users:].copy()}

        # 5. train, early-stopped on validation NDCG@20 when `valid` is given
        train_and_keep_best(self, valid, run_epoch, export, progress)
        return self

    def fold_in_vector(self, liked: np.ndarray) -> np.ndarray:
        return ridge_fold_in(self.item_factors_, liked, gram=self.gram_)  # (D,)
