"""The oracle's judge: a concept and style classifier for media with no carried ground truth.

Trained on the benchmark's own ground truth (frames of known concept and style) and kept apart
from every model the system under test uses: hand-made colour and gradient features (HSV
histograms, HOG on a 64×64 thumbnail, tone statistics) and logistic regression from
scikit-learn. It never sees EfficientNet or MiniLM features.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from skimage.feature import hog
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

FEATURE_VERSION = 1


def judge_features(image: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 RGB -> (F,) float32 features."""
    small = cv2.resize(image, (64, 64), interpolation=cv2.INTER_AREA)
    hsv = cv2.cvtColor(small, cv2.COLOR_RGB2HSV)
    hue = np.histogram(hsv[..., 0], bins=12, range=(0, 180), weights=hsv[..., 1] / 255.0)[0] / 4096
    sat = np.histogram(hsv[..., 1], bins=8, range=(0, 256))[0] / 4096
    val = np.histogram(hsv[..., 2], bins=8, range=(0, 256))[0] / 4096
    gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    grads = hog(gray, orientations=9, pixels_per_cell=(16, 16), cells_per_block=(1, 1), feature_vector=True)
    rgb = small.reshape(-1, 3).astype(np.float32) / 255.0
    tone = np.concatenate([
        rgb.mean(0), rgb.std(0),
        [rgb[:, 0].mean() - rgb[:, 2].mean()],  # warmth
        [np.abs(rgb - rgb.mean(1, keepdims=True)).mean()],  # colourfulness; 0 for gray
        [cv2.Laplacian(gray, cv2.CV_32F).var() / 1e4],
        [(gray < 40).mean(), (gray > 215).mean()],
    ])  # fmt: skip
    thumb = cv2.resize(gray, (8, 8), interpolation=cv2.INTER_AREA).ravel() / 255.0
    return np.concatenate([hue, sat, val, grads, tone, thumb]).astype(np.float32)


@dataclass(frozen=True)
class JudgeOutput:
    concept_probs: np.ndarray  # (C,)
    style_probs: np.ndarray  # (S,)


@dataclass
class JudgeReport:
    concept_accuracy: float
    style_accuracy: float
    n_train: int
    n_test: int


class Judge:
    def __init__(self, n_concepts: int, n_styles: int, seed: int = 0) -> None:
        self.n_concepts = n_concepts
        self.n_styles = n_styles
        self.seed = seed

    def fit(self, features: np.ndarray, concepts: np.ndarray, styles: np.ndarray) -> Judge:
        self.concept_model_ = self._model().fit(features, concepts)
        self.style_model_ = self._model().fit(features, styles)
        return self

    def _model(self):
        return make_pipeline(StandardScaler(), LogisticRegression(C=0.5, max_iter=500, random_state=self.seed))

    def fit_report(self, features: np.ndarray, concepts: np.ndarray, styles: np.ndarray) -> JudgeReport:
        """Fit on 80 %, report accuracy on the held-out 20 %, then refit on everything."""
        rng = np.random.default_rng(self.seed)
        perm = rng.permutation(len(features))
        cut = int(0.8 * len(perm))
        tr, te = perm[:cut], perm[cut:]
        self.fit(features[tr], concepts[tr], styles[tr])
        report = JudgeReport(
            concept_accuracy=float((self.concept_model_.predict(features[te]) == concepts[te]).mean()),
            style_accuracy=float((self.style_model_.predict(features[te]) == styles[te]).mean()),
            n_train=len(tr),
            n_test=len(te),
        )
        self.fit(features, concepts, styles)
        return report

    def _probs(self, model, x: np.ndarray, n: int) -> np.ndarray:
        out = np.zeros((len(x), n))
        out[:, model.classes_] = model.predict_proba(x)
        return out

    def predict(self, images: list[np.ndarray]) -> list[JudgeOutput]:
        x = np.stack([judge_features(im) for im in images])
        cp = self._probs(self.concept_model_, x, self.n_concepts)
        sp = self._probs(self.style_model_, x, self.n_styles)
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
