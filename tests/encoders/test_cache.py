"""The feature cache on a real temporary directory."""

from __future__ import annotations

import numpy as np
import pytest

from generec.encoders.cache import FeatureCache
from generec.errors import InputError

H = "ab" + "0" * 62


def test_put_get_round_trip_and_layout(tmp_path):
    cache = FeatureCache(tmp_path / "features")
    assert cache.get(H, "enc-v1", "cover") is None
    vec = np.arange(1280, dtype=np.float32)
    path = cache.put(H, "enc-v1", "cover", vec)
    assert path == tmp_path / "features" / "enc-v1" / "ab" / f"{H}.cover.npy"
    got = cache.get(H, "enc-v1", "cover")
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, vec)
    assert cache.has(H, "enc-v1", "cover")
    assert not list((tmp_path / "features").rglob(".tmp-*"))


def test_get_or_compute_computes_once(tmp_path):
    calls = []

    def compute():
        calls.append(1)
        return np.ones((8, 1280), np.float32)

    cache = FeatureCache(tmp_path)
    first = cache.get_or_compute(H, "enc-v1", "frames8", compute)
    second = cache.get_or_compute(H, "enc-v1", "frames8", compute)
    assert len(calls) == 1
    np.testing.assert_array_equal(first, second)


def test_keys_differ_by_version_and_what(tmp_path):
    cache = FeatureCache(tmp_path)
    cache.put(H, "enc-v1", "cover", np.zeros(3))
    cache.put(H, "enc-v2", "cover", np.ones(3))
    cache.put(H, "enc-v1", "frames8", np.full(3, 2.0))
    assert cache.get(H, "enc-v1", "cover").tolist() == [0, 0, 0]
    assert cache.get(H, "enc-v2", "cover").tolist() == [1, 1, 1]
    assert cache.get(H, "enc-v1", "frames8").tolist() == [2, 2, 2]
    assert cache.get(H, "enc-v3", "cover") is None
    assert cache.get("cd" + H[2:], "enc-v1", "cover") is None


def test_unreadable_entry_is_a_miss_and_is_replaced(tmp_path):
    cache = FeatureCache(tmp_path)
    path = cache.put(H, "enc-v1", "cover", np.zeros(4))
    path.write_bytes(b"\x93NUMPY cut short")
    assert cache.get(H, "enc-v1", "cover") is None
    out = cache.get_or_compute(H, "enc-v1", "cover", lambda: np.ones(4))
    assert out.tolist() == [1, 1, 1, 1]
    assert cache.get(H, "enc-v1", "cover").tolist() == [1, 1, 1, 1]


@pytest.mark.parametrize(
    "digest, version, what",
    [
        ("../etc", "enc-v1", "cover"),
        (H, "../up", "cover"),
        (H, "a/b", "cover"),
        (H, "enc-v1", ".hidden"),
        ("", "enc-v1", "cover"),
    ],
)
def test_refuses_unsafe_keys(tmp_path, digest, version, what):
    with pytest.raises(InputError):
        FeatureCache(tmp_path).put(digest, version, what, np.zeros(1))
