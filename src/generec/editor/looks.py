"""The editor's looks: how a photo/video editor renders warm, cool, bright, ... on an RGB frame.

Every look works in CIE Lab (OpenCV's float convention: L in [0, 100], a and b about [-127, 127]):
  warm / cool       white-balance shift along the blue-yellow axis b (and a little along a),
                    weighted by max(0.25, (1 - L/100)^0.5) so that highlights stay nearly neutral.
  bright / dark     a tone curve on L that keeps black and white fixed:
                    bright  L' = (1 - e^(-k l)) / (1 - e^(-k)),  dark  L' = (e^(k l) - 1) / (e^k - 1),
                    l = L / 100; chroma follows L so colours neither wash out nor turn to mud.
  vivid / muted     chroma C = |(a, b)| scaled; vivid scales skin hues (h in 25..75 deg, C in 8..35) less, and
                    adds a gentle S-curve on L; muted lifts the blacks (a faded, matte print).
  black_and_white   L only (a = b = 0), through a contrast S-curve.
  cartoon           edge-preserving smoothing (bilateral, then a recursive domain transform, at
                    <= 256 px on the short side), L posterised into flat bands, chroma (C, h) boosted
                    1.3x and put in polar bins, then dark ink lines from Canny edges. The bins are
                    fixed, not a per-frame palette, so a restyled video does not flicker.
  sketch            pencil on paper: a difference of Gaussians D = G_s(L) - G_1.6s(L) is < 0 on the
                    dark side of every edge; a graphite stroke 1 + tanh(phi min(0, D + eps)) there,
                    on paper shaded by the blurred L (darker areas, greyer paper).
`natural` is the frame unchanged. `strength` s in [0, 1] blends: out = src + s (look - src).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from generec.errors import InputError


@dataclass(frozen=True)
class LookConfig:
    warm_b: float = 20.0  # Lab b shift toward yellow for warm (and toward blue for cool)
    warm_a: float = 5.0  # Lab a shift toward red (warm) / green-cyan (cool, half of it)
    tone_k: float = 2.0  # curvature of the bright / dark tone curves
    vivid_chroma: float = 1.8
    vivid_skin_chroma: float = 1.35  # skin hues are scaled less: people keep natural skin
    muted_chroma: float = 0.35
    muted_black: float = 10.0  # L of the lifted black point of muted
    bw_contrast: float = 0.6  # weight of the smoothstep S-curve in black_and_white
    cartoon_levels: int = 6  # flat L bands
    cartoon_chroma_step: float = 12.0  # Lab chroma bin width
    sketch_sigma: float = 1.0  # DoG sigma (pixels at 256 px height; scales with the frame)


def _to_lab(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)  # (H, W, 3) float32


def _to_rgb(lab: np.ndarray) -> np.ndarray:
    lab[..., 0] = np.clip(lab[..., 0], 0.0, 100.0)
    rgb = cv2.cvtColor(lab.astype(np.float32), cv2.COLOR_LAB2RGB)
    return np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _smoothstep(x: np.ndarray) -> np.ndarray:
    return x * x * (3.0 - 2.0 * x)


def _white_balance(image: np.ndarray, cfg: LookConfig, sign: float) -> np.ndarray:
    lab = _to_lab(image)
    protect = np.sqrt(1.0 - lab[..., 0] / 100.0).clip(0.25, 1.0)  # highlights move less
    lab[..., 2] += sign * cfg.warm_b * protect
    lab[..., 1] += (cfg.warm_a if sign > 0 else -0.5 * cfg.warm_a) * protect
    return _to_rgb(lab)


def warm(image: np.ndarray, cfg: LookConfig) -> np.ndarray:
    return _white_balance(image, cfg, +1.0)


def cool(image: np.ndarray, cfg: LookConfig) -> np.ndarray:
    return _white_balance(image, cfg, -1.0)


def _tone(image: np.ndarray, curve: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    lab = _to_lab(image)
    lum = lab[..., 0] / 100.0
    new = curve(lum)
    # chroma follows the luminance ratio, damped: C' = C (L'/L)^0.5
    ratio = np.sqrt((new + 1e-3) / (lum + 1e-3)).clip(0.5, 1.6)
    lab[..., 0] = new * 100.0
    lab[..., 1:] *= ratio[..., None]
    return _to_rgb(lab)


def bright(image: np.ndarray, cfg: LookConfig) -> np.ndarray:
    k = cfg.tone_k
    return _tone(image, lambda l: (1.0 - np.exp(-k * l)) / (1.0 - np.exp(-k)))


def dark(image: np.ndarray, cfg: LookConfig) -> np.ndarray:
    k = cfg.tone_k
    return _tone(image, lambda l: (np.exp(k * l) - 1.0) / (np.exp(k) - 1.0))


def _chroma(lab: np.ndarray, scale: np.ndarray | float) -> np.ndarray:
    lab[..., 1:] *= np.asarray(scale, np.float32)[..., None] if np.ndim(scale) else scale
    return lab


def vivid(image: np.ndarray, cfg: LookConfig) -> np.ndarray:
    lab = _to_lab(image)
    hue = np.degrees(np.arctan2(lab[..., 2], lab[..., 1]))  # h = atan2(b, a)
    chroma = np.hypot(lab[..., 1], lab[..., 2])
    skin = (hue > 25) & (hue < 75) & (chroma > 8) & (chroma < 35) & (lab[..., 0] > 25)
    scale = np.where(skin, cfg.vivid_skin_chroma, cfg.vivid_chroma).astype(np.float32)
    scale = np.minimum(scale, 110.0 / np.maximum(chroma, 1e-3))  # never past C = 110
    lum = lab[..., 0] / 100.0
    lab[..., 0] = 100.0 * (0.75 * lum + 0.25 * _smoothstep(lum))
    return _to_rgb(_chroma(lab, scale))


def muted(image: np.ndarray, cfg: LookConfig) -> np.ndarray:
    lab = _chroma(_to_lab(image), cfg.muted_chroma)
    lab[..., 0] = cfg.muted_black + lab[..., 0] * (100.0 - 1.5 * cfg.muted_black) / 100.0  # faded blacks, soft whites
    return _to_rgb(lab)


def black_and_white(image: np.ndarray, cfg: LookConfig) -> np.ndarray:
    lum = _to_lab(image)[..., 0] / 100.0
    lum = (1.0 - cfg.bw_contrast) * lum + cfg.bw_contrast * _smoothstep(lum)
    # L -> sRGB gray: a neutral Lab colour (a = b = 0) is R = G = B
    gray = _to_rgb(np.stack([lum * 100.0, np.zeros_like(lum), np.zeros_like(lum)], -1))[..., 0]
    return np.repeat(gray[..., None], 3, axis=-1)


def small_copy(image: np.ndarray, side: int) -> np.ndarray:
    """`image` brought down to `side` pixels on its short side (INTER_AREA); smaller ones as they are."""
    h, w = image.shape[:2]
    s = side / min(h, w)
    if s >= 1.0:
        return image
    return cv2.resize(image, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)


def _scale(image: np.ndarray) -> float:
    return max(1.0, min(image.shape[:2]) / 256.0)


def cartoon(image: np.ndarray, cfg: LookConfig) -> np.ndarray:
    s = _scale(image)
    h, w = image.shape[:2]
    # flat regions: edge-preserving smoothing at <= 256 px on the short side (the bands are flat anyway)
    small = small_copy(image, 256)
    for _ in range(2):
        small = cv2.bilateralFilter(small, 9, 40, 5)
    small = cv2.edgePreservingFilter(small, flags=cv2.RECURS_FILTER, sigma_s=40, sigma_r=0.3)
    smooth = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR) if s > 1 else small
    lab = _to_lab(smooth)
    step = 100.0 / cfg.cartoon_levels
    lab[..., 0] = (np.floor(lab[..., 0] / step) + 0.5) * step
    # chroma in polar form (C, h): C in bins of `cartoon_chroma_step` (boosted 1.3x), h in 15-degree bins
    q = cfg.cartoon_chroma_step
    chroma = np.round(np.hypot(lab[..., 1], lab[..., 2]) * 1.3 / q) * q
    hue = np.round(np.arctan2(lab[..., 2], lab[..., 1]) / np.radians(15)) * np.radians(15)
    lab[..., 1], lab[..., 2] = chroma * np.cos(hue), chroma * np.sin(hue)
    flat = _to_rgb(lab)
    gray = cv2.cvtColor(cv2.medianBlur(image, 5), cv2.COLOR_RGB2GRAY)
    edges = cv2.Canny(gray, 60, 140)
    if s >= 2:
        edges = cv2.dilate(edges, np.ones((2, 2), np.uint8))
    flat[edges > 0] = (25, 20, 20)
    return flat


def sketch(image: np.ndarray, cfg: LookConfig) -> np.ndarray:
    lum = _to_lab(image)[..., 0] / 100.0  # (H, W) in [0, 1]
    sigma = cfg.sketch_sigma * _scale(image)
    g1 = cv2.GaussianBlur(lum, (0, 0), sigma)
    g2 = cv2.GaussianBlur(lum, (0, 0), 1.6 * sigma)
    d = g1 - g2  # DoG: < 0 on the dark side of an edge, ~0 in flat regions
    eps, phi = 0.01, 40.0
    lines = 1.0 + np.tanh(phi * np.minimum(0.0, d + eps))  # soft graphite stroke where d < -eps
    paper = 0.78 + 0.22 * cv2.GaussianBlur(lum, (0, 0), 3 * sigma)  # pencil shading: darker areas, greyer paper
    gray = np.clip(255.0 * lines * paper, 0, 255).astype(np.uint8)
    return np.repeat(gray[..., None], 3, axis=-1)


LOOKS: dict[str, Callable[[np.ndarray, LookConfig], np.ndarray]] = {
    "warm": warm,
    "cool": cool,
    "bright": bright,
    "dark": dark,
    "vivid": vivid,
    "muted": muted,
    "black_and_white": black_and_white,
    "cartoon": cartoon,
    "sketch": sketch,
}


def render_look(image: np.ndarray, look: str, strength: float = 1.0, config: LookConfig | None = None) -> np.ndarray:
    """`image` (H, W, 3) uint8 RGB in `look`; `strength` in [0, 1] blends from the source toward it."""
    if look == "natural":
        return image
    if look not in LOOKS:
        raise InputError(f"unknown look {look!r}; valid looks: natural, {', '.join(LOOKS)}")
    if not 0.0 <= strength <= 1.0:
        raise InputError(f"look strength: expected a value in [0, 1], found {strength}")
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise InputError(f"look {look!r}: expected an (H, W, 3) uint8 RGB image, found {image.shape} {image.dtype}")
    styled = LOOKS[look](np.ascontiguousarray(image), config or LookConfig())
    if strength >= 1.0:
        return styled
    return cv2.addWeighted(styled, strength, image, 1.0 - strength, 0)
