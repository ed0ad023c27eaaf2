"""Contrastive text-image bridge: two linear projections into a shared `dim`-d space, trained on the
catalogue's own (title + tags, cover) pairs with CLIP's symmetric InfoNCE loss (Radford et al.,
2021, Fig. 3). It learns the catalogue's vocabulary, but only as well as its few pairs allow.
`generec train --model bridge` fits it on a workspace (`bridge.fit_catalogue_bridge`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from generec.config import from_dict
from generec.encoders.rows import check_matrix, unit_rows
from generec.errors import InputError

CHECKPOINT_VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "weights.npz"


@dataclass(frozen=True)
class BridgeConfig:
    dim: int = 128  # shared space of z_t, z_i
    temperature: float = 0.07  # τ at the start (CLIP's init)
    learn_temperature: bool = True  # log τ is a parameter, clamped to τ >= min_temperature
    min_temperature: float = 0.01  # CLIP clips the logit scale 1/τ at 100
    epochs: int = 30  # on 500 microvideo pairs the held-out recall peaks after 5-15 epochs
    lr: float = 1e-3
    weight_decay: float = 1e-2  # AdamW, on the projections only
    batch_size: int = 128
    valid_share: float = 0.15  # held-out pairs that choose the best epoch; 0: keep the last epoch
    patience: int = 10  # stop after this many epochs without a better held-out score; 0: run all epochs
    seed: int = 0


@dataclass
class BridgeTrainLog:
    epochs: int = 0  # epochs run
    best_epoch: int = 0  # the epoch whose projections were kept
    n_train: int = 0
    n_valid: int = 0
    best_recall: float | None = None  # held-out text->image recall@1 of the kept epoch
    loss: list[float] = field(default_factory=list)  # mean training loss per epoch
    valid_recall: list[float] = field(default_factory=list)  # held-out text->image recall@1 per epoch
    valid_mean_rank: list[float] = field(default_factory=list)  # held-out rank of the true image (1 = first)


def retrieval_ranks(scores: np.ndarray) -> np.ndarray:
    """(T, T) scores of texts against their paired images (pair k on the diagonal) -> (T,) rank of
    each text's own image among all images, 1 = best; ties count against it."""
    s = np.asarray(scores, np.float64)
    own = np.diag(s)[:, None]  # (T, 1)
    return 1 + (s > own).sum(axis=1) + ((s == own).sum(axis=1) - 1)


class ContrastiveBridge:
    """Linear projections of standardised text and image features into one space, trained with
    the symmetric InfoNCE loss; scores are cosines there.

        x̃ = (x - μ) / σ                 per feature, μ and σ over the training pairs
        z_t = normalize(P_t x̃_t)        (N, dim)
        z_i = normalize(P_i x̃_i)        (N, dim)
        S = z_t z_iᵀ / τ                (B, B) in a batch of B pairs, pair k on the diagonal
        L = ½ [CE(S, I) + CE(Sᵀ, I)]    CE(S, I): row k's cross-entropy with target k
    """

    def __init__(self, config: BridgeConfig | None = None) -> None:
        self.config = config or BridgeConfig()

    # -- learning --

    def _check_config(self) -> None:
        cfg = self.config
        problems = []
        if cfg.dim < 1:
            problems.append(f"dim: expected >= 1, found {cfg.dim}")
        if not cfg.temperature > 0 or not cfg.min_temperature > 0:
            problems.append(
                f"temperature, min_temperature: expected > 0, found {cfg.temperature}, {cfg.min_temperature}"
            )
        if cfg.epochs < 1 or cfg.batch_size < 2:
            problems.append(f"epochs, batch_size: expected >= 1 and >= 2, found {cfg.epochs}, {cfg.batch_size}")
        if not cfg.lr > 0 or cfg.weight_decay < 0:
            problems.append(f"lr, weight_decay: expected > 0 and >= 0, found {cfg.lr}, {cfg.weight_decay}")
        if not 0 <= cfg.valid_share < 1:
            problems.append(f"valid_share: expected in [0, 1), found {cfg.valid_share}")
        if cfg.patience < 0:
            problems.append(f"patience: expected >= 0, found {cfg.patience}")
        if problems:
            raise InputError("BridgeConfig: " + "; ".join(problems))

    def fit(
        self, text_features: np.ndarray, image_features: np.ndarray, progress: Callable[[int, int], None] | None = None
    ) -> ContrastiveBridge:
        """Learn the projections from N pairs (text_features[k], image_features[k]); returns self.

        `progress(epoch, epochs)` after each epoch. Sets `text_mean_`, `text_std_`, `image_mean_`,
        `image_std_`, `text_proj_` (dim, Dt), `image_proj_` (dim, Di), `temperature_`,
        `train_log_` and `data_hash_`.
        """
        # 1. check inputs
        self._check_config()
        cfg = self.config
        xt = check_matrix(text_features, "text_features", min_rows=2)
        xi = check_matrix(image_features, "image_features", min_rows=2)
        if xt.shape[0] != xi.shape[0]:
            raise InputError(
                "text_features and image_features: expected the same number of pairs, "
                f"found {xt.shape[0]} and {xi.shape[0]}"
            )
        n = xt.shape[0]

        # 2. split off the held-out pairs (none when fewer than 2 would be held out or left)
        g = torch.Generator().manual_seed(cfg.seed)
        order = torch.randperm(n, generator=g).numpy()
        n_valid = int(round(cfg.valid_share * n))
        if n_valid < 2 or n - n_valid < 2:
            n_valid = 0
        train, valid = order[n_valid:], order[:n_valid]

        # 3. standardise with the training pairs' statistics: x̃ = (x - μ) / σ
        self.text_mean_, self.text_std_ = _moments(xt[train])
        self.image_mean_, self.image_std_ = _moments(xi[train])
        t_all = torch.from_numpy((xt - self.text_mean_) / self.text_std_)  # (N, Dt)
        i_all = torch.from_numpy((xi - self.image_mean_) / self.image_std_)  # (N, Di)

        # 4. parameters: P ~ N(0, 1/D_in), log τ
        p_t = torch.nn.Parameter(torch.randn(cfg.dim, xt.shape[1], generator=g) / xt.shape[1] ** 0.5)
        p_i = torch.nn.Parameter(torch.randn(cfg.dim, xi.shape[1], generator=g) / xi.shape[1] ** 0.5)
        log_tau = torch.nn.Parameter(torch.tensor(float(np.log(cfg.temperature))), requires_grad=cfg.learn_temperature)
        groups = [{"params": [p_t, p_i], "weight_decay": cfg.weight_decay}]
        if cfg.learn_temperature:
            groups.append({"params": [log_tau], "weight_decay": 0.0})
        optimizer = torch.optim.AdamW(groups, lr=cfg.lr)
        log_min_tau = float(np.log(cfg.min_temperature))

        def export() -> dict[str, np.ndarray]:
            return {"text_proj": p_t.detach().numpy().copy(), "image_proj": p_i.detach().numpy().copy(),
                    "temperature": np.float32(log_tau.detach().exp().item())}  # fmt: skip

        # 5. epochs of shuffled batches; keep the epoch with the best held-out recall@1
        log = BridgeTrainLog(n_train=len(train), n_valid=len(valid))
        best, best_key, since_best = None, None, 0
        train_index = torch.from_numpy(train)
        for epoch in range(1, cfg.epochs + 1):
            perm = train_index[torch.randperm(len(train), generator=g)]
            total, count = 0.0, 0
            for start in range(0, len(perm), cfg.batch_size):
                rows = perm[start : start + cfg.batch_size]
                if len(rows) < 2:  # a lone pair has no negatives
                    continue
                z_t = F.normalize(t_all[rows] @ p_t.T, dim=1)  # (B, dim)
                z_i = F.normalize(i_all[rows] @ p_i.T, dim=1)  # (B, dim)
                s = z_t @ z_i.T / log_tau.exp()  # (B, B)
                target = torch.arange(len(rows))
                loss = 0.5 * (F.cross_entropy(s, target) + F.cross_entropy(s.T, target))
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                with torch.no_grad():
                    log_tau.clamp_(min=log_min_tau)
                total, count = total + loss.item() * len(rows), count + len(rows)
            log.epochs = epoch
            log.loss.append(total / max(count, 1))
            if progress is not None:
                progress(epoch, cfg.epochs)
            if not len(valid):
                continue
            self._install(export())
            ranks = retrieval_ranks(self.score(xt[valid], xi[valid]))
            recall, mean_rank = float((ranks == 1).mean()), float(ranks.mean())
            log.valid_recall.append(recall)
            log.valid_mean_rank.append(mean_rank)
            key = (recall, -mean_rank)
            if best_key is None or key > best_key:
                best, best_key, since_best = export(), key, 0
                log.best_epoch, log.best_recall = epoch, recall
            else:
                since_best += 1
                if cfg.patience and since_best >= cfg.patience:
                    break

        # 6. install the kept projections
        if best is None:
            best, log.best_epoch = export(), log.epochs
        self._install(best)
        self.train_log_ = log
        self.data_hash_ = hashlib.sha256(xt.tobytes() + xi.tobytes()).hexdigest()[:16]
        return self

    def _install(self, state: dict[str, np.ndarray]) -> None:
        self.text_proj_ = np.asarray(state["text_proj"], np.float32)
        self.image_proj_ = np.asarray(state["image_proj"], np.float32)
        self.temperature_ = float(state["temperature"])

    # -- using --

    @property
    def is_fitted(self) -> bool:
        return hasattr(self, "text_proj_") and hasattr(self, "image_mean_")

    @property
    def text_dim(self) -> int:
        self._check_fitted()
        return self.text_proj_.shape[1]

    @property
    def image_dim(self) -> int:
        self._check_fitted()
        return self.image_proj_.shape[1]

    def _check_fitted(self) -> None:
        if not self.is_fitted:
            raise InputError("ContrastiveBridge: not fitted; call fit() or ContrastiveBridge.load() first")

    def project_text(self, text_features: np.ndarray) -> np.ndarray:
        """(N, Dt) -> (N, dim) unit vectors z_t = normalize(P_t (x - μ_t) / σ_t)."""
        self._check_fitted()
        x = check_matrix(text_features, "text_features", self.text_proj_.shape[1])
        return unit_rows(((x - self.text_mean_) / self.text_std_) @ self.text_proj_.T)

    def project_image(self, image_features: np.ndarray) -> np.ndarray:
        """(N, Di) -> (N, dim) unit vectors z_i = normalize(P_i (x - μ_i) / σ_i)."""
        self._check_fitted()
        x = check_matrix(image_features, "image_features", self.image_proj_.shape[1])
        return unit_rows(((x - self.image_mean_) / self.image_std_) @ self.image_proj_.T)

    def score(self, text_features: np.ndarray, image_features: np.ndarray) -> np.ndarray:
        """(T, Dt), (N, Di) -> (T, N) cosines z_t · z_i."""
        return self.project_text(text_features) @ self.project_image(image_features).T

    def image_direction(self, text_features: np.ndarray) -> np.ndarray:
        """(T, Dt) -> (T, Di) directions d with d · f the linear part of a frame's score.

        z_t · P_i (f - μ_i) / σ_i = Σ_j [(P_iᵀ z_t)_j / σ_j] f_j - const, so d = (P_iᵀ z_t) / σ_i;
        it leaves out only the frame's own normalisation 1 / ‖P_i f̃‖."""
        z_t = self.project_text(text_features)  # (T, dim)
        return (z_t @ self.image_proj_) / self.image_std_  # (T, Di)

    # -- checkpoints --

    def save(self, path: str | Path) -> Path:
        """A directory with `config.json` (config, dims, train log, the weights' sha256) and
        `weights.npz` (the learned arrays)."""
        self._check_fitted()
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        import io

        from generec.fidelity.catalogue import write_atomic

        buf = io.BytesIO()  # each file to a temporary name of its own, then renamed: processes fitting the same bridge at once each leave a whole one
        np.savez(buf, **self._state())
        weights_sha256 = hashlib.sha256(buf.getvalue()).hexdigest()
        write_atomic(path / WEIGHTS_FILE, buf.getvalue())
        meta = {
            "version": CHECKPOINT_VERSION, "kind": "contrastive-bridge", "config": dataclasses.asdict(self.config),
            "text_dim": self.text_dim, "image_dim": self.image_dim, "temperature": self.temperature_,
            "data_hash": self.data_hash_, "train_log": dataclasses.asdict(self.train_log_),
            "weights_sha256": weights_sha256,
        }  # fmt: skip
        write_atomic(path / CONFIG_FILE, json.dumps(meta, indent=2, sort_keys=True).encode())
        return path

    def _state(self) -> dict[str, np.ndarray]:
        return {"text_mean": self.text_mean_, "text_std": self.text_std_, "image_mean": self.image_mean_,
                "image_std": self.image_std_, "text_proj": self.text_proj_, "image_proj": self.image_proj_}  # fmt: skip

    @classmethod
    def load(cls, path: str | Path) -> ContrastiveBridge:
        """The bridge saved at `path`; InputError when a file is missing, unreadable or does not
        match the other (another bridge's weights, other shapes)."""
        # 1. both files, readable, of this version
        path = Path(path)
        missing = [name for name in (CONFIG_FILE, WEIGHTS_FILE) if not (path / name).is_file()]
        if missing:
            raise InputError(
                f"{path}: expected a saved contrastive bridge ({CONFIG_FILE} and {WEIGHTS_FILE}), "
                f"missing {', '.join(missing)}"
            )
        try:
            meta = json.loads((path / CONFIG_FILE).read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise InputError(f"{path / CONFIG_FILE}: expected JSON, found unreadable content ({e})") from None
        found = (meta.get("kind"), meta.get("version")) if isinstance(meta, dict) else type(meta).__name__
        if found != ("contrastive-bridge", CHECKPOINT_VERSION):
            raise InputError(
                f"{path / CONFIG_FILE}: expected a contrastive-bridge checkpoint of version {CHECKPOINT_VERSION}, "
                f"found {found}"
            )
        absent = [k for k in ("config", "text_dim", "image_dim", "temperature", "train_log", "weights_sha256") if k not in meta]
        if absent:
            raise InputError(f"{path / CONFIG_FILE}: expected the keys {', '.join(absent)}, found them missing")
        # 2. the weights are the ones this config was saved with
        if _sha256(path / WEIGHTS_FILE) != meta.get("weights_sha256"):
            raise InputError(
                f"{path / WEIGHTS_FILE}: does not match {CONFIG_FILE} (sha256 differs); save the bridge again"
            )
        bridge = cls(from_dict(BridgeConfig, meta["config"], source=str(path / CONFIG_FILE)))
        try:
            with np.load(path / WEIGHTS_FILE, allow_pickle=False) as z:
                state = {k: np.asarray(z[k], np.float32) for k in z.files}
        except (OSError, ValueError, EOFError) as e:
            raise InputError(
                f"{path / WEIGHTS_FILE}: expected an .npz of arrays, found unreadable content ({e})"
            ) from None
        # 3. every array, of the saved shapes
        dt, di, dim = meta["text_dim"], meta["image_dim"], bridge.config.dim
        shapes = {"text_mean": (dt,), "text_std": (dt,), "image_mean": (di,), "image_std": (di,),
                  "text_proj": (dim, dt), "image_proj": (dim, di)}  # fmt: skip
        wrong = [
            f"{k} {state[k].shape if k in state else 'missing'} (expected {s})"
            for k, s in shapes.items()
            if k not in state or state[k].shape != s
        ]
        if wrong:
            raise InputError(f"{path / WEIGHTS_FILE}: arrays do not match {CONFIG_FILE}: {'; '.join(wrong)}")
        bridge.text_mean_, bridge.text_std_ = state["text_mean"], state["text_std"]
        bridge.image_mean_, bridge.image_std_ = state["image_mean"], state["image_std"]
        bridge._install(state | {"temperature": np.float32(meta["temperature"])})
        bridge.data_hash_ = meta.get("data_hash", "")
        bridge.train_log_ = from_dict(BridgeTrainLog, meta["train_log"], source=str(path / CONFIG_FILE))
        return bridge


def _moments(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and std (float32); a feature constant over the pairs gets σ = 1."""
    mean = x.mean(axis=0, dtype=np.float64)
    std = x.std(axis=0, dtype=np.float64)
    std = np.where(std > 1e-6, std, 1.0)
    return mean.astype(np.float32), std.astype(np.float32)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
