"""The looks a micro-video segment can have in the benchmark world, each a family of filters.

These are the simulator's ground-truth styles; the oracle's users have tastes over them. A look
is an idea, not one filter: every rendered segment draws its own parameters from the look's
family (`sample_style_params`, from the build's seeded RNG), e.g. "warm" is channel gains or a
colour-temperature shift in Lab of a random size, with tone and contrast jitter. The ground
truth keeps only the look's name. The AI editor renders looks with its own code
(`editor/style.py`); nothing here is shared with it.
"""

from __future__ import annotations

import cv2
import numpy as np

STYLES = (
    "natural", "warm", "cool", "bright", "dark", "vivid", "muted",
    "black_and_white", "cartoon", "sketch",
)  # fmt: skip
# looks that change nothing a viewer can see on a photo without colour: not drawn for one
COLOUR_STYLES = ("vivid", "muted", "black_and_white")

StyleParams = dict[str, float]


def sample_style_params(style: str, rng: np.random.Generator) -> StyleParams:
    """One member of the look's family. Categorical choices are stored as float codes."""
    u = rng.uniform
    if style == "natural":
        return {}
    if style in ("warm", "cool"):
        sign = 1.0 if style == "warm" else -1.0
        p = {"mode": float(rng.integers(2)), "contrast": u(0.9, 1.12), "offset": u(-8, 8)}
        if p["mode"] == 0:  # channel gains (R, G, B)
            warm = (u(1.15, 1.32), u(0.97, 1.05), u(0.64, 0.8))
            p["gain_r"], p["gain_g"], p["gain_b"] = warm if sign > 0 else (warm[2] + 0.02, warm[1], warm[0] + 0.03)
        else:  # colour temperature: shift along Lab b* (blue–yellow), a little along a*
            p["shift_b"], p["shift_a"] = sign * u(20, 36), sign * u(0, 8)
        return p
    if style == "bright":
        return {"mode": float(rng.integers(2)), "gamma": u(0.38, 0.58), "gain": u(1.5, 1.9), "lift": u(10, 35)}
    if style == "dark":
        return {"mode": float(rng.integers(2)), "gamma": u(1.8, 2.6), "gain": u(0.35, 0.55),
                "vignette": u(0.3, 0.65) if rng.random() < 0.5 else 0.0}  # fmt: skip
    if style == "vivid":
        return {"saturation": u(1.8, 2.5), "contrast": u(1.05, 1.25)}
    if style == "muted":
        return {"saturation": u(0.2, 0.42), "fade": u(15, 45) if rng.random() < 0.5 else 0.0}
    if style == "black_and_white":
        w = rng.dirichlet([4.0, 4.0, 4.0])
        return {"w_r": float(w[0]), "w_g": float(w[1]), "w_b": float(w[2]), "contrast": u(0.9, 1.35)}
    if style == "cartoon":
        return {"passes": float(rng.integers(1, 4)), "diameter": float(rng.choice([5, 7, 9])), "sigma": u(40, 90),
                "step": float(rng.choice([28, 36, 44, 52])), "block": float(rng.choice([7, 9, 11])), "c": u(2, 6),
                "median": float(rng.choice([3, 5, 7]))}  # fmt: skip
    if style == "sketch":
        return {"sigma": u(2.0, 6.0), "paper": float(rng.integers(2)), "darken": u(1.0, 2.0)}
    raise ValueError(f"unknown style {style!r}; valid styles: {', '.join(STYLES)}")


def default_style_params(style: str) -> StyleParams:
    """The family's middle member (what `apply_style` renders without parameters)."""
    mid = {
        "warm": {"mode": 0.0, "gain_r": 1.16, "gain_g": 1.01, "gain_b": 0.80, "contrast": 1.0, "offset": 0.0},
        "cool": {"mode": 0.0, "gain_r": 0.82, "gain_g": 1.01, "gain_b": 1.19, "contrast": 1.0, "offset": 0.0},
        "bright": {"mode": 0.0, "gamma": 0.57, "gain": 1.5, "lift": 0.0},
        "dark": {"mode": 0.0, "gamma": 2.0, "gain": 0.5, "vignette": 0.0},
        "vivid": {"saturation": 1.8, "contrast": 1.1},
        "muted": {"saturation": 0.38, "fade": 0.0},
        "black_and_white": {"w_r": 0.299, "w_g": 0.587, "w_b": 0.114, "contrast": 1.1},
        "cartoon": {"passes": 2.0, "diameter": 7.0, "sigma": 60.0, "step": 40.0, "block": 9.0, "c": 4.0, "median": 5.0},
        "sketch": {"sigma": 3.0, "paper": 0.0, "darken": 1.3},
    }
    if style != "natural" and style not in mid:
        raise ValueError(f"unknown style {style!r}; valid styles: {', '.join(STYLES)}")
    return dict(mid.get(style, {}))


def is_colourless(image: np.ndarray, threshold: float = 7.0) -> bool:
    """Mean |channel − pixel mean| below `threshold` (0–255): a gray or nearly gray photo."""
    small = image[::4, ::4].astype(np.float32)
    return float(np.abs(small - small.mean(2, keepdims=True)).mean()) < threshold


def _u8(x: np.ndarray) -> np.ndarray:
    return np.clip(x, 0, 255).astype(np.uint8)


def _contrast(x: np.ndarray, c: float, offset: float = 0.0) -> np.ndarray:
    # y = (x − 128) c + 128 + offset
    return (x.astype(np.float32) - 128.0) * c + 128.0 + offset


def _gamma(image: np.ndarray, gamma: float) -> np.ndarray:
    x = np.arange(256, dtype=np.float32) / 255.0
    return cv2.LUT(image, _u8(255.0 * x**gamma))


def _saturate(image: np.ndarray, factor: float) -> np.ndarray:
    hsv = cv2.cvtColor(image, cv2.COLOR_RGB2HSV).astype(np.float32)
    hsv[..., 1] = np.clip(hsv[..., 1] * factor, 0, 255)
    return cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB)


def _vignette(image: np.ndarray, amount: float) -> np.ndarray:
    # gain(r) = 1 − amount · r², r = distance from the centre / half-diagonal
    h, w = image.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r2 = ((xx - w / 2) ** 2 + (yy - h / 2) ** 2) / ((w / 2) ** 2 + (h / 2) ** 2)
    return _u8(image * (1.0 - amount * r2)[..., None])


def _temperature(image: np.ndarray, p: StyleParams) -> np.ndarray:
    if p["mode"] == 0:
        shifted = image * np.array([p["gain_r"], p["gain_g"], p["gain_b"]], np.float32)
    else:
        lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float32)
        lab[..., 1] += p["shift_a"]
        lab[..., 2] += p["shift_b"]
        shifted = cv2.cvtColor(_u8(lab), cv2.COLOR_LAB2RGB)
    return _u8(_contrast(_u8(shifted), p["contrast"], p["offset"]))


def _cartoon(image: np.ndarray, p: StyleParams) -> np.ndarray:
    # edge-preserving smoothing, colour quantisation, then dark outlines from an adaptive threshold
    smooth = image
    for _ in range(int(p["passes"])):
        smooth = cv2.bilateralFilter(smooth, int(p["diameter"]), p["sigma"], 7)
    step = int(p["step"])
    quantised = (smooth // step) * step + step // 2
    gray = cv2.medianBlur(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), int(p["median"]))
    edges = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, int(p["block"]), p["c"])
    return cv2.bitwise_and(quantised, quantised, mask=edges)


def _sketch(image: np.ndarray, p: StyleParams) -> np.ndarray:
    # pencil sketch by colour dodge: gray / (1 − blurred inverted gray), strokes darkened by a gamma
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    blurred = cv2.GaussianBlur(255 - gray, (0, 0), sigmaX=p["sigma"])
    sketch = _gamma(cv2.divide(gray, 255 - blurred, scale=256), p["darken"])
    rgb = cv2.cvtColor(sketch, cv2.COLOR_GRAY2RGB)
    if p["paper"] == 1:  # cream paper
        rgb = _u8(rgb * np.array([1.0, 0.95, 0.84], np.float32))
    return rgb


def _render(image: np.ndarray, style: str, p: StyleParams) -> np.ndarray:
    if style in ("warm", "cool"):
        return _temperature(image, p)
    if style == "bright":
        if p["mode"] == 0:
            return _u8(_gamma(image, p["gamma"]) + p["lift"] * 0.5)
        return _u8(image.astype(np.float32) * p["gain"] + p["lift"])
    if style == "dark":
        dark = _gamma(image, p["gamma"]) if p["mode"] == 0 else _u8(image.astype(np.float32) * p["gain"])
        return _vignette(dark, p["vignette"]) if p["vignette"] > 0 else dark
    if style == "vivid":
        return _u8(_contrast(_saturate(image, p["saturation"]), p["contrast"]))
    if style == "muted":
        muted = _saturate(image, p["saturation"])
        return _u8(muted * (1.0 - p["fade"] / 255.0) + p["fade"]) if p["fade"] > 0 else muted
    if style == "black_and_white":
        gray = image.astype(np.float32) @ np.array([p["w_r"], p["w_g"], p["w_b"]], np.float32)
        return cv2.cvtColor(_u8(_contrast(gray, p["contrast"])), cv2.COLOR_GRAY2RGB)
    if style == "cartoon":
        return _cartoon(image, p)
    return _sketch(image, p)


def apply_style(image: np.ndarray, style: str, strength: float = 1.0, params: StyleParams | None = None) -> np.ndarray:
    """Render `image` (H, W, 3 uint8 RGB) in `style` with `params` (default: the family's middle);
    `strength` in [0, 1] blends toward it."""
    if style not in STYLES:
        raise ValueError(f"unknown style {style!r}; valid styles: {', '.join(STYLES)}")
    if style == "natural":
        return image
    styled = _render(image, style, params if params is not None else default_style_params(style))
    if strength >= 1.0:
        return styled
    return cv2.addWeighted(styled, strength, image, 1.0 - strength, 0)
