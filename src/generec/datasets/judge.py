"""The oracle's judge: a concept and style classifier for pixels, trained on the benchmark's frames.

Kept apart from every model and feature the product uses (EfficientNet-Lite0 features, MiniLM,
the editor's look statistics): its own hand-made features on a 96 × 96 copy —

- colour: a joint CIE Lab a*b* histogram, an L* histogram, a hue–saturation joint histogram,
  Lab percentiles, chroma statistics and the share of colourless pixels;
- texture: uniform local binary patterns (LBP, radius 1 and 3), a gradient-magnitude histogram
  and the entropy of gradient orientations;
- rendering traces: posterisation (mass in each channel's top histogram bins, distinct colours
  at 5 bits), flatness (pixels equal to their 3 × 3 median), paper white and deep black shares,
  centre-to-border luminance (vignettes);
- layout: HOG at two scales and a 6 × 6 Lab thumbnail;

and a small two-head multilayer perceptron (PyTorch, trained from scratch by the build on its own
frames) on the standardised features. The held-out accuracy is measured on whole videos the fit
never saw.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

FEATURE_VERSION = 2
_SIDE = 96


def _counts(codes: np.ndarray, n: int, weights: np.ndarray | None = None) -> np.ndarray:
    """Normalised histogram of integer codes in [0, n)."""
    h = np.bincount(codes.ravel(), weights=None if weights is None else weights.ravel(), minlength=n)[:n].astype(np.float32)
    return h / max(float(h.sum()), 1e-6)


def _percentiles(channel: np.ndarray, qs: tuple[float, ...]) -> np.ndarray:
    """Percentiles of a uint8 channel from its cumulative histogram, in [0, 1]."""
    cum = np.cumsum(np.bincount(channel.ravel(), minlength=256)) / channel.size
    return np.searchsorted(cum, np.asarray(qs) / 100.0).astype(np.float32) / 255.0


# uniform LBP: codes with at most two 0/1 transitions around the circle keep their count of ones
# (0–8), every other code is 9
_UNIFORM = np.array([bin(c).count("1") if bin((c ^ ((c >> 1) | ((c & 1) << 7))) & 0xFF).count("1") <= 2 else 9 for c in range(256)], np.int64)


def _lbp(gray: np.ndarray, r: int) -> np.ndarray:
    """Histogram of uniform 8-neighbour LBP codes at distance r (square ring), 10 bins."""
    g = gray.astype(np.int16)
    c = g[r:-r, r:-r]
    h, w = c.shape
    code = np.zeros(c.shape, np.int64)
    for bit, (dy, dx) in enumerate(((-r, -r), (-r, 0), (-r, r), (0, r), (r, r), (r, 0), (r, -r), (0, -r))):
        code |= (g[r + dy : r + dy + h, r + dx : r + dx + w] >= c).astype(np.int64) << bit
    return _counts(_UNIFORM[code], 10)


def _colour(small: np.ndarray) -> np.ndarray:
    lab = cv2.cvtColor(small, cv2.COLOR_RGB2LAB)
    L = lab[..., 0]
    a, b = lab[..., 1].astype(np.float32) - 128.0, lab[..., 2].astype(np.float32) - 128.0
    chroma = np.sqrt(a * a + b * b)
    qa, qb = np.clip((a + 48) // 16, 0, 5).astype(np.int64), np.clip((b + 48) // 16, 0, 5).astype(np.int64)
    hsv = cv2.cvtColor(small, cv2.COLOR_RGB2HSV)
    hs = _counts((hsv[..., 0].astype(np.int64) // 15) * 3 + hsv[..., 1].astype(np.int64) * 3 // 256, 36)
    pct = np.concatenate([_percentiles(lab[..., k], (5, 25, 50, 75, 95)) for k in range(3)])
    sat = hsv[..., 1].astype(np.float32) / 255
    stats = [chroma.mean() / 50, chroma.std() / 50, chroma.max() / 50, (chroma < 2).mean(), (chroma < 5).mean(),
             a.mean() / 30, b.mean() / 30, sat.mean(), sat.std()]  # fmt: skip
    return np.concatenate([_counts(qa * 6 + qb, 36), _counts(L.astype(np.int64) * 12 // 256, 12), hs, pct, stats])


def _texture(gray: np.ndarray) -> np.ndarray:
    g = gray.astype(np.float32)
    gx, gy = cv2.Sobel(g, cv2.CV_32F, 1, 0), cv2.Sobel(g, cv2.CV_32F, 0, 1)
    mag, ang = cv2.cartToPolar(gx, gy)
    ori = _counts(np.minimum((ang * (12 / (2 * np.pi))).astype(np.int64), 11), 12, weights=mag)
    ori_entropy = -(ori * np.log(ori + 1e-8)).sum() / np.log(12)
    mag_bins = np.minimum((np.log1p(mag) * (10 / 7.5)).astype(np.int64), 9)
    lap = cv2.Laplacian(g, cv2.CV_32F)
    return np.concatenate([_lbp(gray, 1), _lbp(gray, 3), _counts(mag_bins, 10), [ori_entropy, np.abs(lap).mean() / 50, (mag > 100).mean()]])


def _rendering(small: np.ndarray, gray: np.ndarray) -> np.ndarray:
    peaks = []
    for c in range(3):
        h = np.sort(np.bincount(small[..., c].ravel(), minlength=256))[::-1] / gray.size
        peaks += [h[:4].sum(), h[:16].sum()]
    q = (small >> 3).astype(np.int64)
    distinct = np.count_nonzero(np.bincount((q[..., 0] * 1024 + q[..., 1] * 32 + q[..., 2]).ravel(), minlength=32768)) / gray.size
    flat = (cv2.medianBlur(small, 3) == small).all(2).mean()
    L = cv2.cvtColor(small, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32)
    h, w = L.shape
    centre = L[h // 4 : 3 * h // 4, w // 4 : 3 * w // 4].mean()
    border = (L[: h // 8].mean() + L[-h // 8 :].mean() + L[:, : w // 8].mean() + L[:, -w // 8 :].mean()) / 4
    return np.array([*peaks, distinct, flat, (L > 235).mean(), (L > 250).mean(), (L < 25).mean(), (L < 8).mean(), (centre - border) / 100, L.std() / 100])


# HOG (Dalal & Triggs): 64 × 64 window, 16 × 16 blocks of 8 × 8 cells, 9 orientations
_HOG_FINE = cv2.HOGDescriptor((64, 64), (32, 32), (16, 16), (16, 16), 9)  # 3 × 3 blocks of 2 × 2 cells × 9
_HOG_COARSE = cv2.HOGDescriptor((32, 32), (16, 16), (8, 8), (8, 8), 9)  # 3 × 3 blocks × 36, on a 32 × 32 copy


def _layout(small: np.ndarray, gray: np.ndarray) -> np.ndarray:
    g64 = cv2.resize(gray, (64, 64), interpolation=cv2.INTER_AREA)
    g32 = cv2.resize(gray, (32, 32), interpolation=cv2.INTER_AREA)
    thumb = cv2.resize(cv2.cvtColor(small, cv2.COLOR_RGB2LAB), (6, 6), interpolation=cv2.INTER_AREA).ravel() / 255.0
    return np.concatenate([_HOG_FINE.compute(g64).ravel(), _HOG_COARSE.compute(g32).ravel(), thumb])


def judge_features(image: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 RGB -> (F,) float32 features."""
    small = cv2.resize(np.ascontiguousarray(image), (_SIDE, _SIDE), interpolation=cv2.INTER_AREA)
    gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    return np.concatenate([_colour(small), _texture(gray), _rendering(small, gray), _layout(small, gray)]).astype(np.float32)


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


@dataclass(frozen=True)
class JudgeOutput:
    concept_probs: np.ndarray  # (C,)
    style_probs: np.ndarray  # (S,)


@dataclass
class JudgeReport:
    concept_accuracy: float  # on frames of held-out videos
    style_accuracy: float
    n_train: int
    n_test: int
    test_videos: int


def held_out_videos(ids: np.ndarray, seed: int, test_share: float = 0.2) -> np.ndarray:
    """The videos whose frames the judge's fit never sees (a seeded share of `ids`)."""
    rng = np.random.default_rng(seed)
    return rng.choice(ids, size=max(1, int(round(test_share * len(ids)))), replace=False)


@dataclass(frozen=True)
class JudgeConfig:
    hidden: int = 384
    dropout: float = 0.2
    weight_decay: float = 1e-4
    lr: float = 1e-3
    batch_size: int = 256
    epochs: int = 12
    min_steps: int = 200


class Judge:
    """A two-head MLP on the standardised features: h = ReLU(W1 z + b1), P(concept) = softmax(Wc h + bc),
    P(style) = softmax(Ws h + bs); fitted with Adam on the sum of both cross-entropies."""

    def __init__(self, n_concepts: int, n_styles: int, seed: int = 0, config: JudgeConfig | None = None) -> None:
        self.n_concepts = n_concepts
        self.n_styles = n_styles
        self.seed = seed
        self.config = config or JudgeConfig()

    def fit(self, features: np.ndarray, concepts: np.ndarray, styles: np.ndarray) -> Judge:
        import torch

        cfg = self.config
        torch.manual_seed(self.seed)
        self.mean_ = features.mean(0)
        self.scale_ = features.std(0) + 1e-6
        x = torch.as_tensor((features - self.mean_) / self.scale_, dtype=torch.float32)
        yc, ys = torch.as_tensor(concepts, dtype=torch.long), torch.as_tensor(styles, dtype=torch.long)
        trunk = torch.nn.Sequential(torch.nn.Dropout(0.1), torch.nn.Linear(x.shape[1], cfg.hidden), torch.nn.ReLU(), torch.nn.Dropout(cfg.dropout))
        heads = torch.nn.ModuleList([torch.nn.Linear(cfg.hidden, self.n_concepts), torch.nn.Linear(cfg.hidden, self.n_styles)])
        params = list(trunk.parameters()) + list(heads.parameters())
        opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
        steps_per_epoch = max(1, int(np.ceil(len(x) / cfg.batch_size)))
        steps = max(cfg.min_steps, cfg.epochs * steps_per_epoch)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=steps)
        gen = torch.Generator().manual_seed(self.seed)
        loss_fn = torch.nn.CrossEntropyLoss()
        step = 0
        while step < steps:
            for idx in torch.randperm(len(x), generator=gen).split(cfg.batch_size):
                h = trunk(x[idx])
                loss = loss_fn(heads[0](h), yc[idx]) + loss_fn(heads[1](h), ys[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
                step += 1
                if step >= steps:
                    break
        # kept as numpy: prediction needs no torch
        lin = trunk[1]
        self.w1_, self.b1_ = lin.weight.detach().numpy().T.copy(), lin.bias.detach().numpy().copy()
        self.wc_, self.bc_ = heads[0].weight.detach().numpy().T.copy(), heads[0].bias.detach().numpy().copy()
        self.ws_, self.bs_ = heads[1].weight.detach().numpy().T.copy(), heads[1].bias.detach().numpy().copy()
        return self

    def fit_report(self, features: np.ndarray, concepts: np.ndarray, styles: np.ndarray, videos: np.ndarray, test_share: float = 0.2) -> JudgeReport:
        """Fit on the frames of 80 % of the videos (and every frame with video −1: extra stills),
        report accuracy on the other 20 %'s frames; the judge kept is this fit."""
        held = held_out_videos(np.unique(videos[videos >= 0]), self.seed, test_share)
        te = np.isin(videos, held)
        tr = ~te
        self.fit(features[tr], concepts[tr], styles[tr])
        cp, sp = self.probs_of_features(features[te])
        return JudgeReport(
            concept_accuracy=float((cp.argmax(1) == concepts[te]).mean()),
            style_accuracy=float((sp.argmax(1) == styles[te]).mean()),
            n_train=int(tr.sum()),
            n_test=int(te.sum()),
            test_videos=len(held),
        )

    def probs_of_features(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(N, F) features -> (N, C) concept and (N, S) style probabilities."""
        h = np.maximum(((x - self.mean_) / self.scale_) @ self.w1_ + self.b1_, 0.0)
        return _softmax(h @ self.wc_ + self.bc_), _softmax(h @ self.ws_ + self.bs_)

    def predict_probs(self, images: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Images -> (N, C) concept and (N, S) style probabilities."""
        if not len(images):
            return np.zeros((0, self.n_concepts)), np.zeros((0, self.n_styles))
        return self.probs_of_features(np.stack([judge_features(im) for im in images]))

    def predict(self, images: list[np.ndarray]) -> list[JudgeOutput]:
        cp, sp = self.predict_probs(images)
        return [JudgeOutput(c, s) for c, s in zip(cp, sp)]

    def save(self, path: str | Path) -> None:
        with open(path, "wb") as f:
            pickle.dump({"version": FEATURE_VERSION, "judge": self}, f)

    @staticmethod
    def load(path: str | Path) -> Judge:
        with open(path, "rb") as f:
            data = pickle.load(f)
        if data.get("version") != FEATURE_VERSION:
            raise ValueError(f"{path}: judge feature version {data.get('version')} != {FEATURE_VERSION}; rebuild the benchmark")
        return data["judge"]
