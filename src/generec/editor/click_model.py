"""Cover click model: which covers make each user click, learned from the impression log.

A cover is what a user sees before clicking, so the log's impressions (shown, clicked or not)
are direct evidence of their cover taste. A two-tower logistic model over cover features:

    P(click | u, f) = σ(b_u + θ_u · (P z) + g · z),   z = (f − μ) / σ

with a shared projection P (D, F) into a small visual taste space, per-user taste θ_u (D,) and
bias b_u, and a global visual term g (F,). Trained with binary cross-entropy + L2 on
(impression, clicked) pairs. Linear in f, so a user's taste is one vector in feature space,
w_u = (Pᵀ θ_u + g) / σ, and a frame scores w_u · f (the `clicks` preference of the editor).
Users without impressions fall back to User_Hist.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
import torch

from generec.editor.preference import Preference
from generec.errors import InputError
from generec.types import Event


@dataclass(frozen=True)
class ClickModelConfig:
    dim: int = 16
    epochs: int = 30
    lr: float = 0.01
    l2_user: float = 1e-3
    l2_projection: float = 1e-4
    batch_size: int = 4096
    valid_share: float = 0.1  # held out (per impression, seeded) to keep the best epoch
    seed: int = 0


@dataclass
class ClickModelLog:
    train_loss: list[float]
    valid_loss: list[float]
    best_epoch: int


def impressions(frame: pd.DataFrame) -> pd.DataFrame:
    """(user_id, item_id, clicked) for every impression of `frame` (an interactions frame)."""
    shown = frame[frame["event"] == str(Event.IMPRESSION)][["user_id", "item_id"]].drop_duplicates()
    clicked = frame[frame["event"] == str(Event.CLICK)][["user_id", "item_id"]].drop_duplicates().assign(clicked=1.0)
    out = shown.merge(clicked, on=["user_id", "item_id"], how="left")
    return out.assign(clicked=out["clicked"].fillna(0.0))


class CoverClickModel:
    def __init__(self, config: ClickModelConfig | None = None):
        self.config = config or ClickModelConfig()

    def fit(self, pairs: pd.DataFrame, item_ids: np.ndarray, features: np.ndarray) -> CoverClickModel:
        """`pairs`: (user_id, item_id, clicked); `features[k]` is the cover of `item_ids[k]`."""
        # 1. check inputs; z-score the features
        cfg = self.config
        feats = np.asarray(features, np.float32)
        if feats.ndim != 2 or len(feats) != len(item_ids):
            raise InputError(f"click model: expected one feature row per item ({len(item_ids)}), found {feats.shape}")
        index = {i: k for k, i in enumerate(item_ids)}
        pairs = pairs[pairs["item_id"].isin(index)]
        if pairs.empty or pairs["clicked"].nunique() < 2:
            raise InputError("click model: expected impressions with both clicks and non-clicks, found none or one kind")
        self.user_ids_ = np.array(sorted(pairs["user_id"].unique()))
        self.user_index_ = {u: k for k, u in enumerate(self.user_ids_)}
        self.mean_, self.std_ = feats.mean(0), feats.std(0) + 1e-6
        z = torch.from_numpy((feats - self.mean_) / self.std_)  # (I, F)
        u = torch.from_numpy(pairs["user_id"].map(self.user_index_).to_numpy(np.int64).copy())
        i = torch.from_numpy(pairs["item_id"].map(index).to_numpy(np.int64).copy())
        y = torch.from_numpy(pairs["clicked"].to_numpy(np.float32).copy())
        gen = torch.Generator().manual_seed(cfg.seed)
        valid = torch.rand(len(y), generator=gen) < cfg.valid_share
        # 2. parameters
        n_users, f_dim = len(self.user_ids_), z.shape[1]
        theta = torch.nn.Parameter(torch.randn(n_users, cfg.dim, generator=gen) * 0.01)  # (U, D)
        bias = torch.nn.Parameter(torch.zeros(n_users))  # (U,)
        proj = torch.nn.Parameter(torch.randn(cfg.dim, f_dim, generator=gen) / np.sqrt(f_dim))  # (D, F)
        g = torch.nn.Parameter(torch.zeros(f_dim))  # (F,)
        b0 = torch.nn.Parameter(torch.zeros(()))
        opt = torch.optim.Adam([theta, bias, proj, g, b0], lr=cfg.lr)

        def logit(uu, ii):
            zi = z[ii]  # (B, F)
            return b0 + bias[uu] + (theta[uu] * (zi @ proj.T)).sum(-1) + zi @ g  # (B,)

        def loss_of(uu, ii, yy):
            return torch.nn.functional.binary_cross_entropy_with_logits(logit(uu, ii), yy)

        # 3. epochs of minibatch BCE + L2; keep the best epoch on the held-out impressions
        tr = torch.nonzero(~valid).ravel()
        va = torch.nonzero(valid).ravel()
        log = ClickModelLog([], [], 0)
        best, best_state = np.inf, None
        for epoch in range(cfg.epochs):
            order = tr[torch.randperm(len(tr), generator=gen)]
            total = 0.0
            for start in range(0, len(order), cfg.batch_size):
                b = order[start : start + cfg.batch_size]
                loss = loss_of(u[b], i[b], y[b])
                reg = cfg.l2_user * (theta[u[b]].pow(2).sum(-1).mean() + bias[u[b]].pow(2).mean())
                reg = reg + cfg.l2_projection * (proj.pow(2).sum() + g.pow(2).sum())
                opt.zero_grad(set_to_none=True)
                (loss + reg).backward()
                opt.step()
                total += float(loss.detach()) * len(b)
            with torch.no_grad():
                v = float(loss_of(u[va], i[va], y[va])) if len(va) else total / max(1, len(tr))
            log.train_loss.append(total / max(1, len(tr)))
            log.valid_loss.append(v)
            if v < best:
                best, log.best_epoch = v, epoch + 1
                best_state = [p.detach().clone() for p in (theta, bias, proj, g, b0)]
        # 4. learned state
        theta_, bias_, proj_, g_, b0_ = (p.numpy() for p in best_state)
        self.theta_, self.bias_, self.projection_, self.global_, self.b0_ = theta_, bias_, proj_, g_, float(b0_)
        self.log_ = log
        return self

    def preference(self, user_id: str) -> Preference | None:
        """The user's taste as w_u in feature space; None for a user without impressions."""
        k = self.user_index_.get(user_id)
        if k is None:
            return None
        w = (self.projection_.T @ self.theta_[k] + self.global_) / self.std_  # (F,)
        return Preference(user_id, "clicks", w.astype(np.float32), 0)

    def click_prob(self, user_id: str, features: np.ndarray) -> np.ndarray:
        """(N, F) covers -> (N,) predicted click probabilities for the user."""
        k = self.user_index_.get(user_id)
        if k is None:
            raise InputError(f"unknown user {user_id!r}: the click model saw no impressions of theirs")
        z = (np.asarray(features, np.float32) - self.mean_) / self.std_
        x = self.b0_ + self.bias_[k] + z @ (self.projection_.T @ self.theta_[k]) + z @ self.global_
        return 1.0 / (1.0 + np.exp(-x))

    def config_dict(self) -> dict:
        return asdict(self.config)
