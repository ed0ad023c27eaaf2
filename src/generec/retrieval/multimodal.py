"""VBPR: visual Bayesian personalised ranking (He & McAuley, AAAI 2016), the multimodal retriever.

x̂_ui = b_i + p_u · q_i + θ_u · (E f_i) + β' · f_i                                   (eq. 2)

with collaborative factors P (U, D), Q (I, D), item bias b (I,), the item's content features
f_i (F,) (EfficientNet-Lite0 cover features, or tags for text items; z-scored), a learned
projection E (F, D') into the visual space, visual user factors Θ (U, D'), and a visual bias
β' (F,). Trained on the BPR criterion like BPR-MF.

Because the content term needs only pixels, an item with no interactions, or a new cover of an
existing item, can still be scored: `content_item_factors` builds its item vector from f.
Items without training positives keep only their content term (q_i = 0, b_i = mean bias).

Exported as one dot product: user [p_u, θ_u, 1, 1], item [q_i, E f_i, b_i, β'·f_i].
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
class VBPRConfig:
    dim: int = 32  # D, collaborative factors
    visual_dim: int = 32  # D', visual factors
    lr: float = 0.005
    l2: float = 1e-4  # λ on the batch's embeddings
    l2_visual: float = 1e-4  # weight decay on E and β'
    epochs: int = 200
    batch_size: int = 2048
    eval_every: int = 5
    patience: int = 5
    init_std: float = 0.1
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("dim", "visual_dim", "epochs", "batch_size", "eval_every", "patience"):
            if getattr(self, name) < 1:
                raise InputError(f"VBPRConfig.{name} must be at least 1, got {getattr(self, name)}")


class VBPR(FactorRetriever):
    name = "multimodal"
    config_cls = VBPRConfig
    uses_item_features = True

    def fit(self, data, valid=None, progress=None):
        # 1. check inputs; z-score the content features
        self._bind(data)
        check_valid(valid, data.matrix.shape, self.name)
        cfg = self.config
        feats = np.asarray(data.item_features, np.float32)
        if feats.shape[0] != data.n_items:
            raise InputError(f"{self.name}: {feats.shape[0]} feature rows for {data.n_items} items")
        self.feature_mean_ = feats.mean(0)
        self.feature_std_ = feats.std(0) + 1e-6
        f = torch.from_numpy((feats - self.feature_mean_) / self.feature_std_)  # (I, F)
        rng = np.random.default_rng(cfg.seed)
        gen = torch.Generator().manual_seed(cfg.seed)
        # 2. parameters
        p = torch.nn.Parameter(torch.randn(data.n_users, cfg.dim, generator=gen) * cfg.init_std)  # (U, D)
        q = torch.nn.Parameter(torch.randn(data.n_items, cfg.dim, generator=gen) * cfg.init_std)  # (I, D)
        b = torch.nn.Parameter(torch.zeros(data.n_items))  # (I,)
        theta = torch.nn.Parameter(torch.randn(data.n_users, cfg.visual_dim, generator=gen) * cfg.init_std)  # (U, D')
        e = torch.nn.Parameter(torch.randn(f.shape[1], cfg.visual_dim, generator=gen) * (cfg.init_std / np.sqrt(f.shape[1])))  # (F, D')
        beta = torch.nn.Parameter(torch.zeros(f.shape[1]))  # (F,)
        optimizer = torch.optim.Adam([
            {"params": [p, q, b, theta]},
            {"params": [e, beta], "weight_decay": cfg.l2_visual},
        ], lr=cfg.lr)  # fmt: skip
        sampler = BPRSampler(data.matrix, rng)
        warm = np.asarray(data.matrix.sum(0)).ravel() > 0  # items with training positives

        def x_hat(u, items):
            fi = f[items]  # (B, F)
            return b[items] + (p[u] * q[items]).sum(-1) + (theta[u] * (fi @ e)).sum(-1) + fi @ beta  # (B,)

        # 3. one epoch of BPR
        def run_epoch(epoch: int) -> None:
            for u, i, j in sampler.epoch(cfg.batch_size):
                loss = bpr_loss(x_hat(u, i), x_hat(u, j), p[u], q[i], q[j], theta[u], b[i], b[j], l2=cfg.l2)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()

        # 4. export as one dot product; cold items keep only their content term
        def export() -> Factors:
            with torch.no_grad():
                qn, bn = q.detach().numpy().copy(), b.detach().numpy().copy()
                qn[~warm] = 0.0
                bn[~warm] = bn[warm].mean() if warm.any() else 0.0
                users = np.hstack([p.detach().numpy(), theta.detach().numpy(), np.ones((data.n_users, 2), np.float32)])
                items = np.hstack([qn, (f @ e).numpy(), bn[:, None], (f @ beta).numpy()[:, None]])
                return {"user_factors": users.astype(np.float32), "item_factors": items.astype(np.float32),
                        "projection": e.detach().numpy().copy(), "visual_bias": beta.detach().numpy().copy(),
                        "feature_mean": self.feature_mean_, "feature_std": self.feature_std_}  # fmt: skip

        train_and_keep_best(self, valid, run_epoch, export, progress)
        return self

    def content_item_factors(self, features: np.ndarray, base_items: np.ndarray | None = None) -> np.ndarray:
        """Item vectors for new content (N, F): from pixels alone, or — for a new cover of an
        existing item — that item's collaborative part plus the new content term."""
        f = (np.asarray(features, np.float32) - self.feature_mean_) / self.feature_std_  # (N, F)
        d = self.config.dim
        out = np.zeros((len(f), self.item_factors_.shape[1]), np.float32)
        if base_items is not None:
            out[:, :d] = self.item_factors_[base_items, :d]
            out[:, -2] = self.item_factors_[base_items, -2]
        else:
            out[:, -2] = self.mean_bias_
        out[:, d:-2] = f @ self.projection_
        out[:, -1] = f @ self.visual_bias_
        return out

    def score_content(self, user_ids: list[str], features: np.ndarray, base_item_ids: list[str] | None = None) -> np.ndarray:
        """x̂ of (user_ids[k], content k): the paper's PS score of edited or created content."""
        users = np.array([self._user(u) for u in user_ids])
        base = np.array([self._item(i) for i in base_item_ids]) if base_item_ids is not None else None
        items = self.content_item_factors(features, base)
        return (self.user_factors_[users] * items).sum(1)

    def fold_in_dims(self) -> int:
        return self.item_factors_.shape[1] - 2  # [p_u, θ_u], then the two constant ones

    def fold_in_vector(self, liked: np.ndarray) -> np.ndarray:
        u = ridge_fold_in(self.item_factors_[:, : self.fold_in_dims()], liked, gram=self.gram_)
        return np.append(u, np.ones(2, np.float32)).astype(np.float32)

    def state(self):
        return super().state() | {"projection": self.projection_, "visual_bias": self.visual_bias_,
                                  "feature_mean": self.feature_mean_, "feature_std": self.feature_std_}  # fmt: skip

    def set_state(self, state):
        super().set_state(state)
        self.projection_ = np.asarray(state["projection"], np.float32)
        self.visual_bias_ = np.asarray(state["visual_bias"], np.float32)
        self.feature_mean_ = np.asarray(state["feature_mean"], np.float32)
        self.feature_std_ = np.asarray(state["feature_std"], np.float32)
        warm = np.asarray(self.data_.matrix.sum(0)).ravel() > 0
        self.mean_bias_ = float(self.item_factors_[warm, -2].mean()) if warm.any() else 0.0
