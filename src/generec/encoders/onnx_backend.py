"""EfficientNet-Lite0 on ONNX Runtime: the project's own module exported once, then run by ORT.

1. export: `EfficientNetLite` (batch norms folded, see `fuse_batchnorm`) is traced by
   `torch.onnx.export(dynamo=False)` into a graph x (B, 3, S, S) -> features (B, 1280), logits
   (B, 1000), with a dynamic batch axis. TF "SAME" padding is computed from the input size at
   trace time, so a graph is exported per square side S.
2. int8 (optional): static quantization (`onnxruntime.quantization.quantize_static`, QDQ,
   per-channel int8 weights, uint8 activations, MinMax ranges) calibrated on real photos that
   installed packages ship (`generec.datasets.photos`), random square crops under a fixed seed.
3. cache: `<cache dir>/onnx/lite0-<weights sha256[:16]>-s<S>-o<opset>-<fp32|int8>.onnx`, the
   cache dir being $GENEREC_CACHE_DIR, else $XDG_CACHE_HOME/generec, else ~/.cache/generec — per
   user, never in a workspace or the repository. Each model is written to a temporary file and
   renamed into place, beside a `.sha256` of its bytes; a model whose bytes do not match (cut
   short, overwritten) or that ORT cannot load is rebuilt once, then refused with InputError.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from generec.encoders.efficientnet import EfficientNetLite, efficientnet_lite0, fuse_batchnorm, lite0_weights_path
from generec.errors import InputError

ONNX_OPSET = 17
EXPORT_VERSION = 2  # bump when the exported graph or the quantization recipe changes
CALIBRATION_SEED = 0
CALIBRATION_CROPS = 48  # crops of real photos that set the int8 activation ranges
PRECISIONS = ("fp32", "int8")


def cache_dir() -> Path:
    """Per-user cache: $GENEREC_CACHE_DIR, else $XDG_CACHE_HOME/generec, else ~/.cache/generec."""
    root = os.environ.get("GENEREC_CACHE_DIR")
    if not root:
        root = str(Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "generec")
    return Path(root)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class _Heads(nn.Module):
    """x (B, 3, S, S) -> (features (B, 1280), logits (B, 1000)), the two outputs of the encoder."""

    def __init__(self, net: EfficientNetLite):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f = self.net.forward_features(x)
        return f, self.net.classify(f)


def export_lite0(net: EfficientNetLite, path: Path, size: int, opset: int = ONNX_OPSET) -> None:
    """Trace `net` (eval mode) at side `size` into an ONNX file at `path`, batch axis dynamic."""
    import warnings

    heads = _Heads(net).eval()
    # the exporter restores each module's training flag afterwards; eval() before and after keeps dropout off
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # TracerWarnings: the SAME padding is a constant per size, as intended
        torch.onnx.export(
            heads, (torch.zeros(1, 3, size, size),), str(path), dynamo=False, opset_version=opset,
            input_names=["x"], output_names=["features", "logits"],
            dynamic_axes={"x": {0: "batch"}, "features": {0: "batch"}, "logits": {0: "batch"}},
        )  # fmt: skip
    net.eval()
    _drop_unused_initializers(path)


def _drop_unused_initializers(path: Path) -> None:
    """The tracer leaves the constants of the padding arithmetic behind; ORT would warn of each."""
    import onnx

    model = onnx.load(str(path))
    used = {name for node in model.graph.node for name in node.input}
    keep = [t for t in model.graph.initializer if t.name in used]
    del model.graph.initializer[:]
    model.graph.initializer.extend(keep)
    onnx.save(model, str(path))


# scikit-image's bundled photos (no download), fixed here so that every machine calibrates alike
# (the benchmark's photo set also depends on what else is installed, and the product never reads it)
CALIBRATION_PHOTOS = ("chelsea", "astronaut", "camera", "coffee", "hubble_deep_field", "moon", "rocket", "brick",
                      "grass", "gravel", "page", "text", "immunohistochemistry", "cell", "colorwheel")  # fmt: skip


def _calibration_photos(min_side: int) -> list[np.ndarray]:
    import skimage.data
    from PIL import Image

    photos = []
    for name in CALIBRATION_PHOTOS:
        try:
            image = np.asarray(getattr(skimage.data, name)())
        except Exception:  # noqa: BLE001  (a photo this scikit-image does not bundle)
            continue
        if image.ndim == 2:
            image = np.repeat(image[..., None], 3, axis=2)
        image = np.ascontiguousarray(image[..., :3]).astype(np.uint8)
        if min(image.shape[:2]) < min_side:
            scale = min_side / min(image.shape[:2])
            image = np.asarray(Image.fromarray(image).resize((round(image.shape[1] * scale), round(image.shape[0] * scale)), Image.BICUBIC))
        photos.append(image)
    return photos


def calibration_batches(size: int, n: int = CALIBRATION_CROPS, seed: int = CALIBRATION_SEED, batch: int = 8) -> list[np.ndarray]:
    """Preprocessed (b, 3, size, size) batches of random square crops of scikit-image's photos."""
    from PIL import Image

    from generec.encoders.image import preprocess

    photos = _calibration_photos(size)
    if not photos:
        raise InputError("int8 calibration: expected the photos that scikit-image ships, found none installed")
    rng = np.random.default_rng(seed)
    crops = []
    for k in range(n):
        image = photos[k % len(photos)]
        h, w = image.shape[:2]
        side = int(rng.integers(min(h, w) // 2, min(h, w) + 1))
        top, left = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
        crop = image[top : top + side, left : left + side]
        if rng.random() < 0.5:
            crop = crop[:, ::-1]
        crop = np.asarray(Image.fromarray(np.ascontiguousarray(crop)).resize((size, size), Image.BICUBIC))
        crops.append(preprocess(crop, size))
    return [np.stack(crops[i : i + batch]) for i in range(0, n, batch)]


def quantize_int8(fp32_path: Path, out_path: Path, size: int) -> None:
    """Static QDQ quantization of `fp32_path`, activation ranges from `calibration_batches`."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.batches = iter(calibration_batches(size))

        def get_next(self):
            x = next(self.batches, None)
            return None if x is None else {"x": x}

    prepared = out_path.with_name(out_path.stem + "-prepared.onnx")
    quant_pre_process(str(fp32_path), str(prepared), skip_symbolic_shape=True)  # shapes + graph folding
    quantize_static(
        str(prepared), str(out_path), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
    )  # fmt: skip


@dataclass(frozen=True)
class OnnxModelKey:
    weights_sha256: str
    size: int
    precision: str  # "fp32" | "int8"
    opset: int = ONNX_OPSET

    @property
    def filename(self) -> str:
        return f"lite0-{self.weights_sha256[:16]}-s{self.size}-o{self.opset}-e{EXPORT_VERSION}-{self.precision}.onnx"


class OnnxLite0:
    """EfficientNet-Lite0 at one input side and precision, as an ONNX Runtime session.

    `threads` is ORT's intra-op thread count (0: as many as torch uses now). The model is built
    into the cache on first use and reused after that (by any process of this user).
    """

    def __init__(
        self,
        precision: str = "fp32",
        size: int = 224,
        threads: int = 0,
        weights: str | Path | None = None,
        root: str | Path | None = None,
    ):
        self.precision = precision
        self.size = size
        self.threads = threads
        self.weights = weights
        self.root = root
        self.session_ = None
        self.path_: Path | None = None
        self.rebuilt_ = False  # the cached model was missing, corrupt or unloadable and was built now
        self._lock = threading.Lock()

    # 1. where the model lives
    def key(self) -> OnnxModelKey:
        if self.precision not in PRECISIONS:
            raise InputError(f"ONNX precision: expected one of {', '.join(PRECISIONS)}, found {self.precision!r}")
        weights = Path(self.weights) if self.weights is not None else lite0_weights_path()
        if not weights.is_file():
            raise InputError(f"EfficientNet-Lite0 weights: expected a state dict at {weights}, found nothing")
        return OnnxModelKey(file_sha256(weights), self.size, self.precision)

    def model_path(self) -> Path:
        return Path(self.root or cache_dir() / "onnx") / self.key().filename

    # 2. build or reuse
    def _build(self, path: Path) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._build_in(path)
        except OSError as e:
            raise InputError(
                f"ONNX model cache {path.parent}: expected a writable directory (set GENEREC_CACHE_DIR, or use "
                f"ImageEncoderConfig(backend='torch')), found: {e.strerror or e}"
            ) from None

    def _build_in(self, path: Path) -> None:
        with tempfile.TemporaryDirectory(dir=path.parent, prefix=".build-") as tmp:
            fp32 = Path(tmp) / "fp32.onnx"
            export_lite0(fuse_batchnorm(efficientnet_lite0(self.weights)), fp32, self.size)
            built = fp32
            if self.precision == "int8":
                built = Path(tmp) / "int8.onnx"
                quantize_int8(fp32, built, self.size)
            digest = file_sha256(built)
            os.replace(built, path)  # readers see a whole model or none
            side = Path(tmp) / "sha256"
            side.write_text(digest + "\n")
            os.replace(side, path.with_suffix(".onnx.sha256"))

    def _intact(self, path: Path) -> bool:
        try:
            expected = path.with_suffix(".onnx.sha256").read_text().strip()
            return path.is_file() and file_sha256(path) == expected
        except OSError:
            return False

    def _session(self, path: Path):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.log_severity_level = 3  # errors only
        options.intra_op_num_threads = self.threads if self.threads > 0 else torch.get_num_threads()
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # idle workers sleep instead of spinning: the decoder shares the cores with them
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def load(self) -> OnnxLite0:
        """Build the model into the cache if needed and open the session; returns self."""
        with self._lock:
            if self.session_ is not None:
                return self
            if self.size < 32:
                raise InputError(f"ONNX image side: expected >= 32 pixels, found {self.size}")
            path = self.model_path()
            if not self._intact(path):
                self._build(path)
                self.rebuilt_ = True
            try:
                session = self._session(path)
            except Exception as first:  # ORT raises its own error types for unreadable models
                if self.rebuilt_:
                    raise InputError(f"{path}: expected an ONNX model that ONNX Runtime loads, found one that fails: {first}") from None
                self._build(path)
                self.rebuilt_ = True
                try:
                    session = self._session(path)
                except Exception as e:
                    raise InputError(f"{path}: expected an ONNX model that ONNX Runtime loads, found one that fails even rebuilt: {e}") from None
            self.session_, self.path_ = session, path
        return self

    # 3. run
    def __call__(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """x (B, 3, S, S) float32 -> features (B, 1280), logits (B, 1000), float32."""
        if x.ndim != 4 or x.shape[1:] != (3, self.size, self.size):
            raise InputError(f"ONNX encoder input: expected shape (B, 3, {self.size}, {self.size}), found {x.shape}")
        if self.session_ is None:
            self.load()
        features, logits = self.session_.run(None, {"x": np.ascontiguousarray(x, np.float32)})
        return features, logits
