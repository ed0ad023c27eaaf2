"""The ONNX Runtime backends of the image encoder, on real photos that scikit-image ships."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from generec.encoders.image import BACKENDS, ImageEncoder, ImageEncoderConfig, preprocess
from generec.encoders.onnx_backend import OnnxLite0, cache_dir
from generec.errors import InputError
from helpers import photo

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "cat", "immunohistochemistry", "retina", "camera")
# int8 features against fp32 on these photos, measured 2026-12-04: cosine 0.987-0.997 (mean 0.992);
# on 347 keyframes of the `small` benchmark's videos: mean 0.975, 5th percentile 0.93.
INT8_MIN_COSINE, INT8_MEAN_COSINE = 0.97, 0.98


@pytest.fixture(scope="module")
def onnx_cache(tmp_path_factory):
    """A per-test-session ONNX cache, so the tests neither read nor write the user's."""
    root = tmp_path_factory.mktemp("generec-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GENEREC_CACHE_DIR", str(root))
        yield root


@pytest.fixture(scope="module")
def images():
    # odd sizes and aspect ratios: each goes through the same centre crop + resize as with torch
    return [np.ascontiguousarray(photo(name)[..., :3]) for name in PHOTOS]


@pytest.fixture(scope="module")
def torch_embedding(images):
    return ImageEncoder(ImageEncoderConfig(backend="torch")).encode(images)


def _cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def test_onnx_equals_torch_within_1e_4(onnx_cache, images, torch_embedding):
    # batches of 3, 3 and 2: the batch axis is dynamic
    onnx = ImageEncoder(ImageEncoderConfig(backend="onnx", batch_size=3, num_threads=1))
    got = onnx.encode(images)
    assert got.features.shape == (len(images), 1280) and got.logits.shape == (len(images), 1000)
    assert np.abs(got.features - torch_embedding.features).max() < 1e-4
    assert np.abs(got.logits - torch_embedding.logits).max() < 1e-4
    # equal features share the feature cache
    assert onnx.version == ImageEncoder(ImageEncoderConfig()).version
    assert onnx.top_classes(got.logits[1:2])[0][0].name.lower().endswith("cat")  # chelsea
    assert list(onnx_cache.glob("onnx/*-fp32.onnx"))  # built into the cache dir named by the environment


def test_int8_runs_close_to_fp32_with_a_version_of_its_own(onnx_cache, images, torch_embedding):
    int8 = ImageEncoder(ImageEncoderConfig(backend="onnx-int8", num_threads=1))
    got = int8.encode(images)
    cos = _cosine(got.features, torch_embedding.features)
    assert cos.min() > INT8_MIN_COSINE and cos.mean() > INT8_MEAN_COSINE, cos
    assert np.abs(got.features - torch_embedding.features).max() > 1e-4  # it is really quantized
    assert int8.version != ImageEncoder(ImageEncoderConfig()).version and int8.version.endswith("-int8")
    assert int8.encode([]).features.shape == (0, 1280)


def test_the_cached_model_is_reused(onnx_cache):
    first = OnnxLite0("fp32", 224, threads=1).load()
    path = first.path_
    assert path.parent == cache_dir() / "onnx" and path.with_suffix(".onnx.sha256").is_file()
    stamp = path.stat().st_mtime_ns
    again = OnnxLite0("fp32", 224, threads=1).load()
    assert again.path_ == path and not again.rebuilt_ and path.stat().st_mtime_ns == stamp


def test_a_corrupt_cached_model_is_rebuilt(tmp_path, images):
    x = np.stack([preprocess(im) for im in images[:2]])  # (2, 3, 224, 224)
    model = OnnxLite0("fp32", 224, threads=1, root=tmp_path).load()
    want = model(x)
    path = model.path_
    # cut short: the bytes no longer match their .sha256
    path.write_bytes(path.read_bytes()[:1000])
    again = OnnxLite0("fp32", 224, threads=1, root=tmp_path).load()
    assert again.rebuilt_ and np.array_equal(again(x)[0], want[0])
    # garbage that matches its .sha256 (say, written by hand): ONNX Runtime refuses it, so it is rebuilt
    path.write_bytes(b"not an onnx model")
    path.with_suffix(".onnx.sha256").write_text(hashlib.sha256(b"not an onnx model").hexdigest())
    third = OnnxLite0("fp32", 224, threads=1, root=tmp_path).load()
    assert third.rebuilt_ and np.array_equal(third(x)[0], want[0])
    with pytest.raises(InputError, match=r"expected shape \(B, 3, 224, 224\)"):
        third(x[:, :, :128])


def test_bad_backend_names_and_devices_are_refused():
    with pytest.raises(InputError, match=r"ImageEncoderConfig.backend: expected one of torch, onnx, onnx-int8, found 'tensorrt'"):
        ImageEncoderConfig(backend="tensorrt")
    with pytest.raises(InputError, match="the onnx backend runs on 'cpu' .*found 'cuda'"):
        ImageEncoderConfig(backend="onnx", device="cuda")
    with pytest.raises(InputError, match="ONNX precision: expected one of fp32, int8, found 'int4'"):
        OnnxLite0("int4").key()
    assert set(BACKENDS) == {"torch", "onnx", "onnx-int8"}


def test_missing_weights_give_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="expected a state dict at"):
        OnnxLite0("fp32", weights=tmp_path / "none.pt", root=tmp_path).load()


def test_an_unwritable_cache_gives_a_clear_error(tmp_path):
    (tmp_path / "file").write_text("a file where the cache directory should be")
    with pytest.raises(InputError, match="expected a writable directory .*GENEREC_CACHE_DIR"):
        OnnxLite0("fp32", root=tmp_path / "file" / "onnx").load()
