"""Zero-shot text-image bridge through the ImageNet classifier (no CLIP weights can be installed).

The 1000 class names, put in a template ("a photo of a tabby."), are embedded with MiniLM once:
E (1000, 384). An image lands in text space as the probability-weighted mean of the class-name
embeddings, e_img = normalize(Σ_c p_c E_c) with p = softmax(logits), and a text scores an image by
cos(e_text, e_img). No training; it knows only what ImageNet's classes can say.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from generec.encoders.cache import FeatureCache
from generec.encoders.image import FEATURE_DIM, NUM_CLASSES, ImageEncoder, get_image_encoder
from generec.encoders.rows import check_matrix, softmax_rows, text_list, unit_rows
from generec.encoders.text import TEXT_DIM, TextEncoder, get_text_encoder
from generec.errors import InputError

_CLASS_CACHE_VERSION = "zeroshot-classes"  # the FeatureCache "version" folder of class-name embeddings


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
        return self.text_encoder.encode(text_list(texts))

    def class_text_similarity(self, texts: Sequence[str]) -> np.ndarray:
        """(T,) strings -> (T, 1000) cosine of each text to each templated class name."""
        return self.encode_texts(texts) @ self.class_embeddings.T

    # -- images in text space --

    def image_text_embedding(self, logits: np.ndarray) -> np.ndarray:
        """(N, 1000) ImageNet logits -> (N, 384) unit vectors e_img = normalize(Σ_c p_c E_c),
        p = softmax(logits) over the `top_k` most probable classes (all when 0)."""
        self._check_settings()
        z = check_matrix(logits, "logits", NUM_CLASSES)
        p = softmax_rows(z, self.config.top_k)  # (N, 1000)
        return unit_rows(p @ self.class_embeddings.astype(np.float64)).astype(np.float32)  # (N, 384)

    def score(self, texts: Sequence[str], logits: np.ndarray) -> np.ndarray:
        """(T,) texts, (N, 1000) logits -> (T, N) cos(e_text, e_img)."""
        e_img = self.image_text_embedding(logits)  # (N, 384)
        return self.encode_texts(texts) @ e_img.T  # (T, N)

    def logits(self, features: np.ndarray) -> np.ndarray:
        """(N, 1280) pooled features -> (N, 1000) logits, through the image encoder's classifier."""
        f = check_matrix(features, "image features", FEATURE_DIM)
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
        q = softmax_rows(s / self.config.text_temperature, self.config.text_top_k)  # (T, 1000)
        w, _ = self.classifier
        w_centred = w.astype(np.float64) - w.mean(axis=0, keepdims=True)  # (1000, 1280) W_c - W̄
        return (q @ w_centred).astype(np.float32)  # (T, 1280)
