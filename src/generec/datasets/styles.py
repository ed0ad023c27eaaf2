"""The looks a micro-video segment can have in the benchmark world, rendered with OpenCV.

These are the simulator's ground-truth styles; the oracle's users have tastes over them. The
AI editor has its own restyle ops (issue 4) that map onto the same names.
"""

from __future__ import annotations

import cv2
import numpy as np

STYLES = (
    "natural", "warm", "cool", "bright", "dark", "vivid", "muted",
    "black_and_white", "cartoon", "sketch",
)  # fmt: skip


def _lut(gamma: float) -> np.ndarray:
    x = np.arange(256, dtype=np.float32) / 255.0
    return np.clip(255.0 * x**gamma, 0, 255).astype(np.uint8)


def _saturate(image: np.ndarray, factor: float) -> np.ndarray:
    hsv = cv2.cvtColor(image, cv2.COLOR_RGB2HSV).astype(np.float32)
    hsv[..., 1] = np.clip(hsv[..., 1] * factor, 0, 255)
    return cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB)


def _gray(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


def _cartoon(image: np.ndarray) -> np.ndarray:
    # Edge-preserving smoothing, colour quantisation, then dark outlines from adaptive threshold.
    smooth = image
    for _ in range(2):
        smooth = cv2.bilateralFilter(smooth, 7, 60, 7)
    quantised = (smooth // 40) * 40 + 20
    edges = cv2.adaptiveThreshold(
        cv2.medianBlur(_gray(image), 5), 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, 9, 4
    )
    return cv2.bitwise_and(quantised, quantised, mask=edges)


def _sketch(image: np.ndarray) -> np.ndarray:
    # Pencil sketch by colour dodge: gray / (1 - blurred inverted gray).
    gray = _gray(image)
    blurred = cv2.GaussianBlur(255 - gray, (0, 0), sigmaX=3)
    sketch = cv2.divide(gray, 255 - blurred, scale=256)
    return cv2.cvtColor(sketch, cv2.COLOR_GRAY2RGB)


def apply_style(image: np.ndarray, style: str, strength: float = 1.0) -> np.ndarray:
    """Render `image` (H, W, 3 uint8 RGB) in `style`; `strength` in [0, 1] blends toward it."""
    if style == "natural":
        styled = image
    elif style == "warm":
        styled = np.clip(image * np.array([1.18, 1.02, 0.80], np.float32), 0, 255).astype(np.uint8)
    elif style == "cool":
        styled = np.clip(image * np.array([0.80, 0.98, 1.20], np.float32), 0, 255).astype(np.uint8)
    elif style == "bright":
        styled = cv2.LUT(image, _lut(0.55))
    elif style == "dark":
        styled = cv2.LUT(image, _lut(1.9))
    elif style == "vivid":
        styled = _saturate(image, 1.8)
    elif style == "muted":
        styled = _saturate(image, 0.35)
    elif style == "black_and_white":
        styled = cv2.cvtColor(_gray(image), cv2.COLOR_GRAY2RGB)
    elif style == "cartoon":
        styled = _cartoon(image)
    elif style == "sketch":
        styled = _sketch(image)
    else:
        raise ValueError(f"unknown style {style!r}; valid styles: {', '.join(STYLES)}")
    if strength >= 1.0 or styled is image:
        return styled
    return cv2.addWeighted(styled, strength, image, 1.0 - strength, 0)
