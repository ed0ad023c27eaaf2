"""The editor's own looks, measured on real photos: each one does what its name says."""

import cv2
import numpy as np
import pytest

from generec.editor.looks import LOOKS, render_look
from generec.editor.style import EDIT_LOOKS, restyle_image
from generec.errors import InputError
from helpers import photo

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket")


@pytest.fixture(scope="module")
def photos() -> dict[str, np.ndarray]:
    return {name: photo(name)[::2, ::2].copy() for name in PHOTOS}


def lab(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)  # L in [0, 100]


def chroma(image: np.ndarray) -> np.ndarray:
    a = lab(image)
    return np.hypot(a[..., 1], a[..., 2])


def red_minus_blue(image: np.ndarray) -> float:
    return float((image[..., 0].astype(int) - image[..., 2]).mean())


def edge_map(image: np.ndarray) -> np.ndarray:
    g = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    return np.hypot(cv2.Sobel(g, cv2.CV_32F, 1, 0), cv2.Sobel(g, cv2.CV_32F, 0, 1))


def test_the_editor_renders_every_look_the_product_names():
    assert set(LOOKS) == set(EDIT_LOOKS)


@pytest.mark.parametrize("name", PHOTOS)
def test_white_balance_looks_shift_red_against_blue(photos, name):
    image = photos[name]
    assert red_minus_blue(restyle_image(image, "warm")) > red_minus_blue(image) + 20
    assert red_minus_blue(restyle_image(image, "cool")) < red_minus_blue(image) - 20
    # a white balance shift, not an exposure change
    for look in ("warm", "cool"):
        assert lab(restyle_image(image, look))[..., 0].mean() == pytest.approx(lab(image)[..., 0].mean(), abs=2.0)


@pytest.mark.parametrize("name", PHOTOS)
def test_tone_looks_move_mean_luma_and_keep_black_and_white(photos, name):
    image = photos[name]
    luma = lab(image)[..., 0].mean()
    up, down = lab(restyle_image(image, "bright"))[..., 0], lab(restyle_image(image, "dark"))[..., 0]
    assert up.mean() > luma + 10 and down.mean() < luma - 10
    # the tone curves fix the end points: highlights do not blow out, shadows do not newly crush
    white = (image == 255).all(-1).mean()
    assert (restyle_image(image, "bright") == 255).all(-1).mean() <= white + 0.01
    black = (image <= 2).all(-1).mean()
    assert (restyle_image(image, "dark") <= 2).all(-1).mean() <= black + 0.02


@pytest.mark.parametrize("name", PHOTOS)
def test_saturation_looks(photos, name):
    image = photos[name]
    c = chroma(image).mean()
    assert chroma(restyle_image(image, "vivid")).mean() > 1.3 * c
    assert chroma(restyle_image(image, "muted")).mean() < 0.45 * c


def test_vivid_keeps_skin_natural(photos):
    image = photos["astronaut"]
    vivid = chroma(restyle_image(image, "vivid"))
    face, suit = (slice(50, 80), slice(100, 125)), (slice(180, 240), slice(10, 60))  # her cheeks; the orange suit
    face_gain = vivid[face].mean() / chroma(image)[face].mean()
    suit_gain = vivid[suit].mean() / chroma(image)[suit].mean()
    assert face_gain < 1.4 < 1.5 < suit_gain


@pytest.mark.parametrize("name", PHOTOS)
def test_black_and_white_has_no_chroma_and_more_contrast(photos, name):
    image, out = photos[name], restyle_image(photos[name], "black_and_white")
    assert (out[..., 0] == out[..., 1]).all() and (out[..., 1] == out[..., 2]).all()
    assert lab(out)[..., 0].std() > lab(image)[..., 0].std()


@pytest.mark.parametrize("name", PHOTOS)
def test_cartoon_is_flat_colour_with_ink_lines(photos, name):
    image, out = photos[name], restyle_image(photos[name], "cartoon")
    colours = len(np.unique(out.reshape(-1, 3), axis=0))
    assert colours < len(np.unique(image.reshape(-1, 3), axis=0)) / 50
    ink = (out == (25, 20, 20)).all(-1)
    assert 0.01 < ink.mean() < 0.3
    # the lines sit on the photo's edges
    assert edge_map(image)[ink].mean() > 2 * edge_map(image)[~ink].mean()
    assert chroma(out).mean() > 0.8 * chroma(image).mean()  # a cartoon keeps its colour


@pytest.mark.parametrize("name", PHOTOS)
def test_sketch_is_light_paper_with_dark_lines(photos, name):
    image, out = photos[name], restyle_image(photos[name], "sketch")
    assert (out[..., 0] == out[..., 2]).all()
    gray = out[..., 0]
    assert (gray > 180).mean() > 0.75  # mostly paper, even for the dark rocket photo
    lines = gray < 100
    assert 0.005 < lines.mean() < 0.15
    assert edge_map(image)[lines].mean() > 2 * edge_map(image)[~lines].mean()


@pytest.mark.parametrize("look", sorted(LOOKS))
def test_every_look_keeps_the_structure_shape_and_dtype(photos, look):
    for image in photos.values():
        out = restyle_image(image, look)
        assert out.shape == image.shape and out.dtype == np.uint8
        r = np.corrcoef(edge_map(image).ravel(), edge_map(out).ravel())[0, 1]
        assert r > (0.4 if look in ("cartoon", "sketch") else 0.9), (look, r)
    odd = photos["coffee"][:33, :47]  # odd sizes and a non-contiguous view
    assert restyle_image(odd[:, ::-1], look).shape == (33, 47, 3)


def test_looks_are_distinct_from_each_other(photos):
    for image in photos.values():
        outs = {look: restyle_image(image, look).astype(np.int16) for look in LOOKS}
        for a in LOOKS:
            for b in LOOKS:
                if a < b:
                    assert np.abs(outs[a] - outs[b]).mean() > 5, (a, b)


def test_strength_blends_from_the_source(photos):
    image = photos["coffee"]
    for look in LOOKS:
        full = np.abs(restyle_image(image, look).astype(int) - image).mean()
        half = np.abs(restyle_image(image, look, 0.5).astype(int) - image).mean()
        assert 0.35 * full < half < 0.65 * full, look
        assert (restyle_image(image, look, 0.0) == image).all()
    assert restyle_image(image, "natural") is image


def test_bad_looks_and_images_are_refused(photos):
    with pytest.raises(InputError, match="unknown look 'vaporwave'.*warm.*sketch"):
        restyle_image(photos["coffee"], "vaporwave")
    with pytest.raises(InputError, match=r"strength.*\[0, 1\].*1.5"):
        restyle_image(photos["coffee"], "warm", 1.5)
    with pytest.raises(InputError, match=r"\(H, W, 3\) uint8"):
        render_look(photos["coffee"].astype(np.float32), "warm")
