"""Bridges between text (384-d MiniLM) and images (1280-d EfficientNet-Lite0 features).

No CLIP weights can be installed, so text meets pixels in two ways:

- `ZeroShotBridge`: through the ImageNet classifier. The 1000 class names, put in a template
  ("a photo of a tabby."), are embedded with MiniLM once: E (1000, 384). An image lands in text
  space as the probability-weighted mean of the class-name embeddings,
  e_img = normalize(Σ_c p_c E_c) with p = softmax(logits), and a text scores an image by
  cos(e_text, e_img). No training; it knows only what ImageNet's classes can say.
- `ContrastiveBridge`: two linear projections into a shared `dim`-d space, trained on the
  catalogue's own (title + tags, cover) pairs with CLIP's symmetric InfoNCE loss (Radford et al.,
  2021, Fig. 3). It learns the catalogue's vocabulary, but only as well as its few pairs allow.
- `TextImageBridge`: both at once, for the editor: `score` blends their standardised scores,
  `text_direction` gives, per text, a direction d in image-feature space such that d · f scores a
  frame's features f.

`catalogue_pairs` and `fit_catalogue_bridge` train the contrastive bridge on a workspace and save
it under `models/bridge`; `load_text_image_bridge` puts the two together for a workspace.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from generec.config import from_dict
from generec.encoders.cache import FeatureCache
from generec.encoders.image import FEATURE_DIM, NUM_CLASSES, ImageEncoder, get_image_encoder
from generec.encoders.text import TEXT_DIM, TextEncoder, get_text_encoder
from generec.encoders.video import cover_features
from generec.errors import InputError
from generec.types import Item
from generec.workspace import Workspace

CHECKPOINT_VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "weights.npz"
BRIDGE_DIR = Path("models") / "bridge"
_CLASS_CACHE_VERSION = "zeroshot-classes"  # the FeatureCache "version" folder of class-name embeddings
_EPS = 1e-12


# shared checks and math -------------------------------------------------------------------------


def _matrix(x: np.ndarray, name: str, dim: int | None = None, min_rows: int = 0) -> np.ndarray:
    """`x` as a finite float32 (N, dim) array, else InputError naming `name`."""
    if not isinstance(x, np.ndarray):
        raise InputError(f"{name}: expected a numpy array, found {type(x).__name__}")
    if x.ndim != 2 or (dim is not None and x.shape[1] != dim):
        want = f"(N, {dim})" if dim is not None else "(N, D)"
        raise InputError(f"{name}: expected an array of shape {want}, found shape {x.shape}")
    if x.shape[0] < min_rows:
        raise InputError(f"{name}: expected at least {min_rows} rows, found {x.shape[0]}")
    if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
        raise InputError(f"{name}: expected real numbers, found dtype {x.dtype}")
    x = x.astype(np.float32, copy=False)
    if not np.isfinite(x).all():
        bad = int((~np.isfinite(x)).any(axis=1).sum())
        raise InputError(f"{name}: expected finite values, found NaN or inf in {bad} row(s)")
    return x


def _normalize(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (a zero row stays zero)."""
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), _EPS)


def _softmax(z: np.ndarray, top_k: int = 0) -> np.ndarray:
    """Row-wise softmax in float64; with top_k > 0 only each row's k largest entries keep mass."""
    z = z.astype(np.float64)
    if 0 < top_k < z.shape[1]:
        kth = np.partition(z, -top_k, axis=1)[:, -top_k][:, None]  # (R, 1): the k-th largest
        z = np.where(z >= kth, z, -np.inf)
    p = np.exp(z - z.max(axis=1, keepdims=True))
    return p / p.sum(axis=1, keepdims=True)


def _standardize_rows(s: np.ndarray) -> np.ndarray:
    """Each row as z-scores over its columns; a constant row becomes zeros."""
    s = s.astype(np.float64)
    centred = s - s.mean(axis=1, keepdims=True)
    std = s.std(axis=1, keepdims=True)
    return np.where(std > 1e-9, centred / np.maximum(std, 1e-9), 0.0)


def _texts(texts: Sequence[str], name: str = "texts") -> list[str]:
    if isinstance(texts, str):
        raise InputError(f"{name}: expected a list of strings, found a single string")
    return list(texts)


# (a) zero-shot, through ImageNet class names ----------------------------------------------------


@dataclass(frozen=True)
class ZeroShotConfig:
    top_k: int = 0  # classes kept in an image's softmax p before the weighted mean; 0: all 1000
    text_temperature: float = 0.05  # τ_text of q = softmax(cos(text, class) / τ_text) in text_direction
    text_top_k: int = 5  # classes a text's direction is built from


class ZeroShotBridge:
    """Text and images meet in MiniLM space through the 1000 ImageNet class names.

    Encoders load on first use; the (1000, 384) class-name embeddings are computed once and kept
    (and, given a `cache`, stored there keyed by the text encoder's version and the template).
    """

    def __init__(
        self,
        text_encoder: TextEncoder | None = None,
        image_encoder: ImageEncoder | None = None,
        template: str = "a photo of a {}.",
        config: ZeroShotConfig | None = None,
        cache: FeatureCache | None = None,
    ) -> None:
        self._text_encoder = text_encoder
        self._image_encoder = image_encoder
        self.template = template
        self.config = config or ZeroShotConfig()
        self.cache = cache
        self._lock = threading.Lock()
        self._class_embeddings: np.ndarray | None = None
        self._classifier: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def text_encoder(self) -> TextEncoder:
        if self._text_encoder is None:
            self._text_encoder = get_text_encoder()
        return self._text_encoder

    @property
    def image_encoder(self) -> ImageEncoder:
        if self._image_encoder is None:
            self._image_encoder = get_image_encoder()
        return self._image_encoder

    def _check_settings(self) -> None:
        if not isinstance(self.template, str) or self.template.count("{}") != 1:
            raise InputError(
                f"template: expected a string with exactly one '{{}}' for the class name, found {self.template!r}"
            )
        cfg = self.config
        if not 0 <= cfg.top_k <= NUM_CLASSES or not 0 <= cfg.text_top_k <= NUM_CLASSES:
            raise InputError(
                f"ZeroShotConfig: expected top_k and text_top_k in 0..{NUM_CLASSES}, "
                f"found {cfg.top_k} and {cfg.text_top_k}"
            )
        if not cfg.text_temperature > 0:
            raise InputError(f"ZeroShotConfig.text_temperature: expected > 0, found {cfg.text_temperature}")

    # -- class names in text space --

    @property
    def class_embeddings(self) -> np.ndarray:
        """E: (1000, 384) float32 unit vectors of the templated ImageNet class names."""
        with self._lock:
            if self._class_embeddings is None:
                self._check_settings()
                encoder = self.text_encoder
                names = self.image_encoder.class_names
                prompts = [self.template.format(name) for name in names]

                def compute() -> np.ndarray:
                    return encoder.encode(prompts)

                if self.cache is None:
                    embeddings = compute()
                else:
                    key = hashlib.sha256("\n".join([encoder.version, self.template, *names]).encode()).hexdigest()
                    embeddings = self.cache.get_or_compute(key, _CLASS_CACHE_VERSION, "imagenet1k", compute)
                    if embeddings.shape != (len(names), TEXT_DIM):  # a stale or foreign entry
                        embeddings = compute()
                        self.cache.put(key, _CLASS_CACHE_VERSION, "imagenet1k", embeddings)
                self._class_embeddings = np.asarray(embeddings, np.float32)
            return self._class_embeddings

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        """(T,) strings -> (T, 384) unit vectors."""
        return self.text_encoder.encode(_texts(texts))

    def class_text_similarity(self, texts: Sequence[str]) -> np.ndarray:
        """(T,) strings -> (T, 1000) cosine of each text to each templated class name."""
        return self.encode_texts(texts) @ self.class_embeddings.T

    # -- images in text space --

    def image_text_embedding(self, logits: np.ndarray) -> np.ndarray:
        """(N, 1000) ImageNet logits -> (N, 384) unit vectors e_img = normalize(Σ_c p_c E_c),
        p = softmax(logits) over the `top_k` most probable classes (all when 0)."""
        self._check_settings()
        z = _matrix(logits, "logits", NUM_CLASSES)
        p = _softmax(z, self.config.top_k)  # (N, 1000)
        return _normalize(p @ self.class_embeddings.astype(np.float64)).astype(np.float32)  # (N, 384)

    def score(self, texts: Sequence[str], logits: np.ndarray) -> np.ndarray:
        """(T,) texts, (N, 1000) logits -> (T, N) cos(e_text, e_img)."""
        e_img = self.image_text_embedding(logits)  # (N, 384)
        return self.encode_texts(texts) @ e_img.T  # (T, N)

    def logits(self, features: np.ndarray) -> np.ndarray:
        """(N, 1280) pooled features -> (N, 1000) logits, through the image encoder's classifier."""
        f = _matrix(features, "image features", FEATURE_DIM)
        model = self.image_encoder.model
        with torch.inference_mode():
            z = model.classify(torch.from_numpy(f).to(self.image_encoder.device))
        return z.float().cpu().numpy()

    def score_features(self, texts: Sequence[str], features: np.ndarray) -> np.ndarray:
        """(T,) texts, (N, 1280) cached image features -> (T, N), as `score` on their logits."""
        return self.score(texts, self.logits(features))

    # -- texts in image-feature space --

    @property
    def classifier(self) -> tuple[np.ndarray, np.ndarray]:
        """(W (1000, 1280), b (1000,)) of the affine classifier logits = W f + b.

        Read through `model.classify` itself: b = classify(0) and column j of W is
        classify(e_j) - b, so W and b are exactly what produced the encoder's logits."""
        with self._lock:
            if self._classifier is None:
                model = self.image_encoder.model
                with torch.inference_mode():
                    probe = torch.cat([torch.zeros(1, FEATURE_DIM), torch.eye(FEATURE_DIM)])  # (1 + 1280, 1280)
                    out = model.classify(probe.to(self.image_encoder.device)).double().cpu().numpy()  # (1 + 1280, 1000)
                b = out[0]
                w = (out[1:] - b).T  # (1000, 1280)
                self._classifier = (w.astype(np.float32), b.astype(np.float32))
            return self._classifier

    def text_direction(self, texts: Sequence[str]) -> np.ndarray:
        """(T,) texts -> (T, 1280) directions d with d · f = a frame's evidence for the text.

        q = softmax(cos(text, class) / τ_text) over the text's `text_top_k` nearest class names,
        d = Σ_c q_c (W_c - W̄), W̄ the mean classifier row. Then for a frame's features f,
            d · f = Σ_c q_c (z_c - z̄) - Σ_c q_c (b_c - b̄),
        the text's classes' logits above the frame's mean logit, up to a constant: "cat" favours
        frames the classifier calls tabby or tiger cat, and disfavours everything else.
        """
        self._check_settings()
        s = self.class_text_similarity(texts)  # (T, 1000)
        q = _softmax(s / self.config.text_temperature, self.config.text_top_k)  # (T, 1000)
        w, _ = self.classifier
        w_centred = w.astype(np.float64) - w.mean(axis=0, keepdims=True)  # (1000, 1280) W_c - W̄
        return (q @ w_centred).astype(np.float32)  # (T, 1280)


# (b) contrastive, trained on the catalogue's own pairs ------------------------------------------


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
        xt = _matrix(text_features, "text_features", min_rows=2)
        xi = _matrix(image_features, "image_features", min_rows=2)
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
        x = _matrix(text_features, "text_features", self.text_proj_.shape[1])
        return _normalize(((x - self.text_mean_) / self.text_std_) @ self.text_proj_.T)

    def project_image(self, image_features: np.ndarray) -> np.ndarray:
        """(N, Di) -> (N, dim) unit vectors z_i = normalize(P_i (x - μ_i) / σ_i)."""
        self._check_fitted()
        x = _matrix(image_features, "image_features", self.image_proj_.shape[1])
        return _normalize(((x - self.image_mean_) / self.image_std_) @ self.image_proj_.T)

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
        tmp = path / f".{WEIGHTS_FILE}.tmp"
        with open(tmp, "wb") as f:
            np.savez(f, **self._state())
        tmp.replace(path / WEIGHTS_FILE)
        meta = {
            "version": CHECKPOINT_VERSION, "kind": "contrastive-bridge", "config": dataclasses.asdict(self.config),
            "text_dim": self.text_dim, "image_dim": self.image_dim, "temperature": self.temperature_,
            "data_hash": self.data_hash_, "train_log": dataclasses.asdict(self.train_log_),
            "weights_sha256": _sha256(path / WEIGHTS_FILE),
        }  # fmt: skip
        tmp = path / f".{CONFIG_FILE}.tmp"
        tmp.write_text(json.dumps(meta, indent=2, sort_keys=True))
        tmp.replace(path / CONFIG_FILE)
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


# both at once -----------------------------------------------------------------------------------


class TextImageBridge:
    """The zero-shot bridge, blended with a fitted contrastive bridge when there is one.

    `weight` is the contrastive share w: blended = (1 - w) · zero-shot + w · contrastive.
    """

    def __init__(
        self, zero_shot: ZeroShotBridge, contrastive: ContrastiveBridge | None = None, weight: float = 0.5
    ) -> None:
        if not 0.0 <= weight <= 1.0:
            raise InputError(f"weight: expected the contrastive share in [0, 1], found {weight}")
        if contrastive is not None:
            if not contrastive.is_fitted:
                raise InputError("contrastive: expected a fitted ContrastiveBridge, found an unfitted one")
            if (contrastive.text_dim, contrastive.image_dim) != (TEXT_DIM, FEATURE_DIM):
                raise InputError(
                    f"contrastive: expected a bridge of {TEXT_DIM}-d text and {FEATURE_DIM}-d image features, "
                    f"found {contrastive.text_dim}-d and {contrastive.image_dim}-d"
                )
        self.zero_shot = zero_shot
        self.contrastive = contrastive
        self.weight = weight

    def score(self, texts: Sequence[str], image_features: np.ndarray) -> np.ndarray:
        """(T,) texts, (N, 1280) image features -> (T, N).

        Zero-shot alone: its cosines. Blended: each bridge's scores as z-scores over the N images
        of each text, mixed (1 - w) · zs + w · contrastive (constant rows give zeros)."""
        # 1. check inputs
        texts = _texts(texts)
        features = _matrix(image_features, "image_features", FEATURE_DIM)
        # 2. zero-shot scores through the classifier
        zero_shot = self.zero_shot.score_features(texts, features)  # (T, N)
        if self.contrastive is None or self.weight == 0.0:
            return zero_shot
        # 3. contrastive scores, then the blend of standardised scores
        contrastive = self.contrastive.score(self.zero_shot.encode_texts(texts), features)  # (T, N)
        w = self.weight
        return ((1 - w) * _standardize_rows(zero_shot) + w * _standardize_rows(contrastive)).astype(np.float32)

    def text_direction(self, texts: Sequence[str]) -> np.ndarray:
        """(T,) texts -> (T, 1280) directions d: frames score d · f (higher: more like the text).

        Zero-shot alone: `ZeroShotBridge.text_direction`, in logit units. Blended, the contrastive
        direction (`ContrastiveBridge.image_direction`) is first scaled to the zero-shot one's
        spread over the catalogue's images, s(d) = sqrt(Σ_j d_j² σ_j²) with σ the per-feature std
        the contrastive bridge was trained with (the std of d · f if features were uncorrelated):
            d = (1 - w) d_zs + w · d_c · s(d_zs) / s(d_c)
        """
        texts = _texts(texts)
        d_zs = self.zero_shot.text_direction(texts).astype(np.float64)  # (T, 1280)
        if self.contrastive is None or self.weight == 0.0:
            return d_zs.astype(np.float32)
        d_c = self.contrastive.image_direction(self.zero_shot.encode_texts(texts)).astype(np.float64)  # (T, 1280)
        sigma = self.contrastive.image_std_.astype(np.float64)
        s_zs = np.sqrt(((d_zs * sigma) ** 2).sum(axis=1, keepdims=True))  # (T, 1)
        s_c = np.sqrt(((d_c * sigma) ** 2).sum(axis=1, keepdims=True))  # (T, 1)
        d_c = np.where(s_c > _EPS, d_c * s_zs / np.maximum(s_c, _EPS), 0.0)
        w = self.weight
        return ((1 - w) * d_zs + w * d_c).astype(np.float32)


# the catalogue's own pairs ----------------------------------------------------------------------


@dataclass
class CataloguePairs:
    text_features: np.ndarray  # (N, 384) MiniLM of title + " " + tags
    image_features: np.ndarray  # (N, 1280) cover features
    item_ids: list[str]  # (N,) the items the pairs come from, in catalogue order


def item_text(item: Item) -> str:
    """The text an item is paired with: its title, then its tags, space-separated."""
    return " ".join(part for part in [item.title.strip(), *(t.strip() for t in item.tags)] if part)


def catalogue_pairs(
    workspace: Workspace,
    items: Sequence[Item],
    text_encoder: TextEncoder,
    image_encoder: ImageEncoder,
    cache: FeatureCache,
    progress: Callable[[str, int, int], None] | None = None,
) -> CataloguePairs:
    """(text, cover) features of the items that have both a cover picture and some text."""
    # 1. covers, through the feature cache
    covers = cover_features(workspace, items, image_encoder, cache, progress)
    # 2. keep items with a picture and a non-empty title or tags
    texts = [item_text(item) for item in items]
    keep = [k for k, item in enumerate(items) if covers.has_image[k] and texts[k]]
    # 3. their texts
    if progress and keep:
        progress("text features", 0, len(keep))
    text_features = text_encoder.encode([texts[k] for k in keep])  # (N, 384)
    if progress and keep:
        progress("text features", len(keep), len(keep))
    return CataloguePairs(text_features, covers.features[keep], [items[k].id for k in keep])


def catalogue_bridge_path(workspace: Workspace) -> Path:
    return workspace.root / BRIDGE_DIR


def fit_catalogue_bridge(
    workspace: Workspace, config: BridgeConfig | None = None, progress: Callable[[str, int, int], None] | None = None
) -> ContrastiveBridge:
    """Fit a contrastive bridge on every item of `workspace` and save it under `models/bridge`.

    `progress(stage, done, total)`: "cover features", "text features", then "bridge epochs"."""
    # 1. the catalogue's (title + tags, cover) pairs
    items = workspace.items.all()
    cache = FeatureCache.for_workspace(workspace)
    pairs = catalogue_pairs(workspace, items, get_text_encoder(), get_image_encoder(), cache, progress)
    if len(pairs.item_ids) < 2:
        raise InputError(
            f"workspace {workspace.root}: expected at least 2 items with a cover and a title or tags "
            "to fit the bridge, "
            f"found {len(pairs.item_ids)} of {len(items)} items"
        )
    # 2. fit
    epochs = (lambda done, total: progress("bridge epochs", done, total)) if progress else None
    bridge = ContrastiveBridge(config).fit(pairs.text_features, pairs.image_features, epochs)
    # 3. save beside the workspace's other models
    bridge.save(catalogue_bridge_path(workspace))
    return bridge


def load_text_image_bridge(workspace: Workspace | None = None, weight: float = 0.5) -> TextImageBridge:
    """The zero-shot bridge (class names cached in the workspace's feature cache), with the
    workspace's saved contrastive bridge when `models/bridge` holds one."""
    if workspace is None:
        return TextImageBridge(ZeroShotBridge(), None, weight)
    zero_shot = ZeroShotBridge(cache=FeatureCache.for_workspace(workspace))
    path = catalogue_bridge_path(workspace)
    contrastive = ContrastiveBridge.load(path) if (path / CONFIG_FILE).exists() else None
    return TextImageBridge(zero_shot, contrastive, weight)
