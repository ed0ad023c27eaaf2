"""Realism and novelty of generated images: FD-EffNet, nearest-training-image similarity, diversity.

- FD-EffNet: the Fréchet distance between Gaussians fitted to EfficientNet-Lite0 pooled features
  of two image sets, after a PCA (fitted on the real set) to `dims` components so that a few
  hundred images give a full-rank covariance. Reported against the FD between two disjoint
  halves of the real set of the same size (the "real vs real" floor).
- memorisation: each generated image's nearest training image by feature cosine and by 64-bit
  perceptual hash (imagehash pHash) Hamming distance; the catalogue's own near-duplicate
  threshold is the `percentile` of its covers' pHash distance to the nearest cover of another
  video (how close uploaders' videos come to one another).
- diversity: 1 − mean pairwise cosine of one user's generated images.
"""

from __future__ import annotations

import numpy as np
from PIL import Image
from scipy import linalg


def _pca(real: np.ndarray, dims: int) -> tuple[np.ndarray, np.ndarray]:
    mu = real.mean(0)
    _, _, vt = np.linalg.svd(real - mu, full_matrices=False)
    return mu, vt[: min(dims, vt.shape[0])]


def frechet(a: np.ndarray, b: np.ndarray) -> float:
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean, _ = linalg.sqrtm(s1 @ s2, disp=False)
    covmean = covmean.real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2.0 * covmean))


def fd_effnet(generated: np.ndarray, real: np.ndarray, rng: np.random.Generator, dims: int = 64) -> dict[str, float]:
    """FD(generated, real sample) and FD(real half A, real half B), each with len(generated) images."""
    n = len(generated)
    if len(real) < 3 * n:
        raise ValueError(f"FD-EffNet needs at least {3 * n} real images for {n} generated, found {len(real)}")
    order = rng.permutation(len(real))
    ref, half_a, half_b = real[order[:n]], real[order[n : 2 * n]], real[order[2 * n : 3 * n]]
    mu, basis = _pca(real[order[n:]], dims)
    project = lambda x: (x - mu) @ basis.T  # noqa: E731
    fd_gen = frechet(project(generated), project(ref))
    fd_real = frechet(project(half_a), project(half_b))
    return {"fd_generated": fd_gen, "fd_real_vs_real": fd_real, "ratio": fd_gen / max(fd_real, 1e-9), "n": n, "dims": int(basis.shape[0])}


def phash_bits(images: list[np.ndarray], side: int = 64) -> np.ndarray:
    """(N, 64) bool pHash bits of each image's centre square."""
    import imagehash

    out = []
    for im in images:
        h, w = im.shape[:2]
        s = min(h, w)
        crop = im[(h - s) // 2 : (h - s) // 2 + s, (w - s) // 2 : (w - s) // 2 + s]
        out.append(imagehash.phash(Image.fromarray(crop).resize((side, side))).hash.ravel())
    return np.asarray(out, bool)


def hamming(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, M) Hamming distances between rows of two bit arrays."""
    return (a[:, None, :] != b[None, :, :]).sum(-1)


def nearest(generated_f: np.ndarray, generated_bits: np.ndarray, train_f: np.ndarray, train_bits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(nearest cosine, nearest pHash distance) of each generated image among the training images."""
    u = lambda x: x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-8)  # noqa: E731
    cos = (u(generated_f) @ u(train_f).T).max(1)
    dist = np.concatenate([hamming(generated_bits[i : i + 64], train_bits).min(1) for i in range(0, len(generated_bits), 64)])
    return cos, dist


def near_duplicate_threshold(cover_bits: np.ndarray, video_of: np.ndarray, percentile: float = 5.0) -> tuple[float, np.ndarray]:
    """The catalogue's own threshold: the `percentile` of each cover's pHash distance to the nearest
    cover of another video; also every cover's distance."""
    nn = np.empty(len(cover_bits))
    for i in range(0, len(cover_bits), 256):  # in blocks: an N × N × 64 array would not fit for a large catalogue
        d = hamming(cover_bits[i : i + 256], cover_bits).astype(np.float64)
        d[video_of[i : i + 256, None] == video_of[None, :]] = np.inf
        nn[i : i + 256] = d.min(1)
    return float(np.percentile(nn[np.isfinite(nn)], percentile)), nn


def diversity(features: np.ndarray) -> float:
    """1 − mean pairwise cosine (0: identical; needs at least two images)."""
    if len(features) < 2:
        return float("nan")
    u = features / np.maximum(np.linalg.norm(features, axis=1, keepdims=True), 1e-8)
    sims = u @ u.T
    n = len(u)
    return float(1.0 - (sims.sum() - n) / (n * (n - 1)))
