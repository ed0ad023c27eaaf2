"""Row-wise array checks and maths shared by the text-image bridges (`zero_shot.py`, `contrastive.py`, `bridge.py`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from generec.errors import InputError

EPS = 1e-12


def check_matrix(x: np.ndarray, name: str, dim: int | None = None, min_rows: int = 0) -> np.ndarray:
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


def unit_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (a zero row stays zero)."""
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), EPS)


def softmax_rows(z: np.ndarray, top_k: int = 0) -> np.ndarray:
    """Row-wise softmax in float64; with top_k > 0 only each row's k largest entries keep mass."""
    z = z.astype(np.float64)
    if 0 < top_k < z.shape[1]:
        kth = np.partition(z, -top_k, axis=1)[:, -top_k][:, None]  # (R, 1): the k-th largest
        z = np.where(z >= kth, z, -np.inf)
    p = np.exp(z - z.max(axis=1, keepdims=True))
    return p / p.sum(axis=1, keepdims=True)


def standardize_rows(s: np.ndarray) -> np.ndarray:
    """Each row as z-scores over its columns; a constant row becomes zeros."""
    s = s.astype(np.float64)
    centred = s - s.mean(axis=1, keepdims=True)
    std = s.std(axis=1, keepdims=True)
    return np.where(std > 1e-9, centred / np.maximum(std, 1e-9), 0.0)


def text_list(texts: Sequence[str], name: str = "texts") -> list[str]:
    if isinstance(texts, str):
        raise InputError(f"{name}: expected a list of strings, found a single string")
    return list(texts)
