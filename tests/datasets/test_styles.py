import numpy as np
import pytest

from generec.datasets.styles import STYLES, apply_style, default_style_params, is_colourless, sample_style_params


def _photo(seed: int = 0) -> np.ndarray:
    """A colourful 64 × 96 test image: smooth colour ramps plus a few sharp shapes."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:64, 0:96].astype(np.float32)
    image = np.stack([80 + 100 * xx / 96, 60 + 120 * yy / 64, 200 - 120 * xx / 96], -1)
    for _ in range(6):
        x, y = rng.integers(0, 80), rng.integers(0, 50)
        image[y : y + 12, x : x + 14] = rng.uniform(30, 230, 3)
    return image.astype(np.uint8)


def _members(style: str, n: int = 12) -> list[dict]:
    rng = np.random.default_rng(1)
    return [sample_style_params(style, rng) for _ in range(n)]


def test_a_look_is_a_family_of_filters():
    image = _photo()
    for style in STYLES[1:]:
        members = _members(style)
        renders = [apply_style(image, style, 1.0, p) for p in members]
        # different members draw different parameters and render different pictures
        assert len({tuple(sorted(p.items())) for p in members}) > 1
        assert max(np.abs(renders[0].astype(int) - r.astype(int)).mean() for r in renders[1:]) > 1.0, style


def test_every_member_moves_the_picture_the_looks_way():
    image = _photo()
    f = image.astype(np.float32)
    warmth = (f[..., 0] - f[..., 2]).mean()
    luma = f.mean()
    chroma = np.abs(f - f.mean(2, keepdims=True)).mean()
    for style in STYLES[1:]:
        for p in _members(style):
            r = apply_style(image, style, 1.0, p).astype(np.float32)
            c = np.abs(r - r.mean(2, keepdims=True)).mean()
            if style == "warm":
                assert (r[..., 0] - r[..., 2]).mean() > warmth + 10
            elif style == "cool":
                assert (r[..., 0] - r[..., 2]).mean() < warmth - 10
            elif style == "bright":
                assert r.mean() > luma + 15
            elif style == "dark":
                assert r.mean() < luma - 25
            elif style == "vivid":
                assert c > chroma * 1.3
            elif style == "muted":
                assert 0.5 < c < chroma * 0.6
            elif style == "black_and_white":
                assert c < 0.5
            elif style == "sketch":
                assert (r.mean(2) > 200).mean() > 0.5  # mostly paper
            elif style == "cartoon":  # flat colour areas: far fewer distinct colours
                assert len(np.unique(r.reshape(-1, 3), axis=0)) < len(np.unique(f.reshape(-1, 3), axis=0)) / 2


def test_natural_strength_and_bad_names():
    image = _photo()
    assert apply_style(image, "natural") is image
    assert sample_style_params("natural", np.random.default_rng(0)) == {}
    full = apply_style(image, "dark", 1.0).astype(int)
    half = apply_style(image, "dark", 0.5).astype(int)
    assert np.abs(half - (full + image.astype(int)) / 2).max() <= 1
    assert apply_style(image, "warm", 1.0).tolist() == apply_style(image, "warm", 1.0, default_style_params("warm")).tolist()
    for bad in (lambda: apply_style(image, "neon"), lambda: sample_style_params("neon", np.random.default_rng(0)), lambda: default_style_params("neon")):
        with pytest.raises(ValueError, match="unknown style 'neon'"):
            bad()


def test_colourless_photos_are_recognised():
    image = _photo()
    gray = np.repeat(image.mean(2, keepdims=True), 3, 2).astype(np.uint8)
    assert is_colourless(gray) and not is_colourless(image)
