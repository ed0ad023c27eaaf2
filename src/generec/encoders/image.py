"""The image encoder: RGB arrays -> EfficientNet-Lite0 pooled features and ImageNet logits.

Preprocessing (version 1 of this encoder; bump `PREPROCESS_VERSION` whenever it changes, so
cached features of the old recipe are not mixed with new ones):

1. take the centred square whose side is the image's shorter side (a 128x224 frame keeps its
   middle 128x128);
2. resize it to 224x224 with Pillow's bicubic filter (antialiased when shrinking);
3. x = (pixel - 127) / 128 per channel, as the TensorFlow EfficientNet-Lite checkpoints were
   trained (MEAN_RGB = 127, STDDEV_RGB = 128).

Step 3 was checked on real photos: with it, the batch statistics entering every batch-norm layer
match the layers' running statistics far better than with the torchvision ImageNet mean/std
(stem: mean |log var ratio| 0.34 against 1.25), and top-1 on chelsea (a cat) is "Egyptian cat",
on coffee "espresso" (p = 0.94). Square crop beat squashing the whole image and TF's 0.875 crop
on a dozen labelled photos.

Backends (`ImageEncoderConfig.backend`): "onnx" (the default) runs the module exported to ONNX
on ONNX Runtime, features and logits equal to torch's within 1e-4 (measured max 1.5e-5), so it
shares torch's version and feature caches, at about twice torch's speed on a CPU; "torch" runs
the module eagerly; "onnx-int8" runs a statically quantized copy, faster again, whose features
differ (mean cosine 0.975 to fp32 on the benchmark's keyframes), so it has a version of its own.
See `onnx_backend.py` and docs/BENCHMARKS.md, "Encoder backends (issue 14)".
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from generec.encoders.efficientnet import EfficientNetLite, efficientnet_lite0, fuse_batchnorm
from generec.encoders.onnx_backend import OnnxLite0
from generec.errors import InputError, UnknownNameError

PREPROCESS_VERSION = 1
IMAGE_SIZE = 224
FEATURE_DIM = 1280
NUM_CLASSES = 1000
CLASS_NAMES_FILE = Path(__file__).with_name("imagenet_classes.txt")
_MEAN, _STD = 127.0, 128.0

# backend -> (ONNX precision or None for eager torch, suffix of the encoder version)
BACKENDS: dict[str, tuple[str | None, str]] = {"torch": (None, ""), "onnx": ("fp32", ""), "onnx-int8": ("int8", "-int8")}
# frames per ONNX Runtime call: unlike torch, ORT runs fastest at small batches on a CPU (one thread,
# 2026-12-04: 5.9 ms/frame int8 and 11.1 fp32 at 4 frames, 6.4-8.1 and 11.9-14.5 at 32)
ONNX_RUN_BATCH = 4


@dataclass(frozen=True)
class ImageEncoderConfig:
    batch_size: int = 32
    device: str = "cpu"
    num_threads: int = 0  # intra-op threads while encoding (torch's or ONNX Runtime's); 0: torch's current count
    backend: str = "onnx"  # "torch" | "onnx" | "onnx-int8", see BACKENDS (onnx: same features as torch, faster)

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise UnknownNameError(
                f"ImageEncoderConfig.backend: expected one of {', '.join(BACKENDS)}, found {self.backend!r}"
            )
        if BACKENDS[self.backend][0] is not None and self.device != "cpu":
            raise InputError(
                f"ImageEncoderConfig.device: the {self.backend} backend runs on 'cpu' (backend 'torch' runs on "
                f"others), found {self.device!r}"
            )


@dataclass
class ImageEmbedding:
    features: np.ndarray  # (N, 1280) float32, pooled after the head conv (ReLU6, so >= 0)
    logits: np.ndarray  # (N, 1000) float32, ImageNet-1k


@dataclass(frozen=True)
class ClassScore:
    index: int
    name: str
    prob: float  # softmax probability over the 1000 classes


@lru_cache(maxsize=1)
def imagenet_class_names() -> tuple[str, ...]:
    """The 1000 ImageNet-1k class names in logit order (the first synonym of each synset)."""
    names = tuple(CLASS_NAMES_FILE.read_text(encoding="utf-8").splitlines())
    if len(names) != NUM_CLASSES:
        raise InputError(f"{CLASS_NAMES_FILE}: expected {NUM_CLASSES} class names, found {len(names)}")
    return names


def check_image(image: np.ndarray, where: str = "image") -> None:
    """Refuse anything but an RGB uint8 array of shape (H, W, 3) with H, W >= 1."""
    if not isinstance(image, np.ndarray):
        raise InputError(f"{where}: expected an RGB uint8 numpy array, found {type(image).__name__}")
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3 or 0 in image.shape:
        raise InputError(
            f"{where}: expected an RGB uint8 array of shape (H, W, 3), found {image.dtype} of shape {image.shape}"
        )


def centre_square(image: np.ndarray, size: int = IMAGE_SIZE) -> np.ndarray:
    """(H, W, 3) uint8 -> (size, size, 3) uint8: the centred square, bicubic to `size` (steps 1-2)."""
    h, w = image.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    square = np.ascontiguousarray(image[top : top + side, left : left + side])
    if side != size:
        square = np.asarray(Image.fromarray(square).resize((size, size), Image.BICUBIC))
    return square


def preprocess(image: np.ndarray, size: int = IMAGE_SIZE) -> np.ndarray:
    """(H, W, 3) uint8 RGB -> (3, size, size) float32, centre square crop + bicubic + (x - 127) / 128."""
    x = (centre_square(image, size).astype(np.float32) - _MEAN) / _STD  # (size, size, 3)
    return x.transpose(2, 0, 1)  # (3, size, size)


class ImageEncoder:
    """EfficientNet-Lite0 with its shipped ImageNet weights (batch norms folded into the
    convolutions for speed); weights load on first use or on `load()`. The torch module is
    always at hand (`model`, e.g. for its classifier); the ONNX backends encode with a session."""

    def __init__(self, config: ImageEncoderConfig | None = None, weights: str | Path | None = None):
        self.config = config or ImageEncoderConfig()
        self.weights = weights
        self._model: EfficientNetLite | None = None
        self._onnx: OnnxLite0 | None = None
        self._lock = threading.Lock()

    @property
    def version(self) -> str:
        """Names the network, the preprocessing and (when features differ) the backend; part of
        every feature-cache key."""
        return f"efficientnet-lite0-p{PREPROCESS_VERSION}{BACKENDS[self.config.backend][1]}"

    @property
    def backend(self) -> str:
        return self.config.backend

    @property
    def batch_size(self) -> int:
        """Frames per network call: `config.batch_size`, at most ONNX_RUN_BATCH on an ONNX backend."""
        if BACKENDS[self.config.backend][0] is None:
            return self.config.batch_size
        return min(self.config.batch_size, ONNX_RUN_BATCH)

    @property
    def class_names(self) -> tuple[str, ...]:
        return imagenet_class_names()

    @property
    def feature_dim(self) -> int:
        return FEATURE_DIM

    @property
    def device(self) -> torch.device:
        try:
            device = torch.device(self.config.device)
        except RuntimeError as e:
            raise InputError(
                f"ImageEncoderConfig.device: expected a torch device such as 'cpu' or 'cuda', "
                f"found {self.config.device!r} ({e})"
            ) from None
        if device.type == "cuda" and not torch.cuda.is_available():
            raise InputError(
                f"ImageEncoderConfig.device: expected an available device, found {self.config.device!r} "
                "but CUDA is not available"
            )
        return device

    def load(self) -> ImageEncoder:
        """Load the backend now (InputError when the weights package is missing; the ONNX
        backends export into the per-user cache on first use); returns self."""
        precision = BACKENDS[self.config.backend][0]
        if precision is None:
            self._load_torch()
            return self
        with self._lock:
            if self._onnx is None:
                self._onnx = OnnxLite0(precision, IMAGE_SIZE, self.config.num_threads, self.weights).load()
        return self

    def _load_torch(self) -> EfficientNetLite:
        with self._lock:
            if self._model is None:
                self._model = fuse_batchnorm(efficientnet_lite0(self.weights)).to(self.device)
            return self._model

    @property
    def model(self) -> EfficientNetLite:
        """The torch module (loaded on first use whatever the backend)."""
        return self._model if self._model is not None else self._load_torch()

    def _run_torch(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        model, device = self.model, self.device
        with torch.inference_mode():
            f = model.forward_features(torch.from_numpy(x).to(device))  # (B, 1280)
            z = model.classify(f)  # (B, 1000)
        return f.float().cpu().numpy(), z.float().cpu().numpy()

    def encode(self, images: list[np.ndarray]) -> ImageEmbedding:
        """RGB uint8 images of any size -> features (N, 1280) and logits (N, 1000), float32."""
        # 1. check inputs
        if self.config.batch_size < 1:
            raise InputError(f"ImageEncoderConfig.batch_size: expected >= 1, found {self.config.batch_size}")
        for i, image in enumerate(images):
            check_image(image, f"images[{i}]")
        features = np.zeros((len(images), FEATURE_DIM), np.float32)
        logits = np.zeros((len(images), NUM_CLASSES), np.float32)
        if not images:
            return ImageEmbedding(features, logits)
        if self._onnx is None and BACKENDS[self.config.backend][0] is not None:
            self.load()
        run = self._onnx if self._onnx is not None else self._run_torch
        # 2. encode batch by batch
        threads = torch.get_num_threads()
        if self.config.num_threads > 0 and self._onnx is None:
            torch.set_num_threads(self.config.num_threads)
        try:
            for start in range(0, len(images), self.batch_size):
                batch = images[start : start + self.batch_size]
                x = np.stack([preprocess(im) for im in batch])  # (B, 3, 224, 224)
                f, z = run(x)  # (B, 1280), (B, 1000)
                features[start : start + len(batch)] = f
                logits[start : start + len(batch)] = z
        finally:
            torch.set_num_threads(threads)
        return ImageEmbedding(features, logits)

    def top_classes(self, logits: np.ndarray, k: int = 5) -> list[list[ClassScore]]:
        """The k most probable ImageNet classes of each row of logits ((N, 1000) or (1000,))."""
        z = np.asarray(logits, dtype=np.float64)
        z = z[None] if z.ndim == 1 else z
        if z.ndim != 2 or z.shape[1] != NUM_CLASSES:
            raise InputError(f"logits: expected shape (N, {NUM_CLASSES}) or ({NUM_CLASSES},), found {np.shape(logits)}")
        if not 1 <= k <= NUM_CLASSES:
            raise InputError(f"k: expected 1..{NUM_CLASSES}, found {k}")
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)  # softmax, (N, 1000)
        top = np.argsort(-p, axis=1, kind="stable")[:, :k]  # (N, k)
        names = self.class_names
        return [[ClassScore(int(j), names[j], float(row[j])) for j in idx] for row, idx in zip(p, top)]


_ENCODERS: dict[ImageEncoderConfig, ImageEncoder] = {}
_ENCODERS_LOCK = threading.Lock()


def get_image_encoder(config: ImageEncoderConfig | None = None) -> ImageEncoder:
    """The process-wide encoder for `config`, weights loaded once; InputError without the weights package."""
    config = config or ImageEncoderConfig()
    with _ENCODERS_LOCK:
        encoder = _ENCODERS.get(config)
        if encoder is None:
            encoder = ImageEncoder(config).load()
            _ENCODERS[config] = encoder
    return encoder
