"""originality on real covers: re-encodes, resizes, crops and mirrors of someone else's cover fail;
an edit showing its own parent passes; a created image that reproduces a training image is memorised."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from generec.errors import InputError
from generec.fidelity.originality import OriginalityCheck, OriginalityConfig
from generec.fidelity.types import FAIL, PASS, SKIP, Candidate, FidelityContext
from helpers import photo

CHECK = OriginalityCheck()


def jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, "JPEG", quality=quality)
    return np.asarray(Image.open(buf).convert("RGB"))


def crop(image: np.ndarray, share: float) -> np.ndarray:
    h, w = image.shape[:2]
    dy, dx = round(h * share / 2), round(w * share / 2)
    return np.ascontiguousarray(image[dy : h - dy, dx : w - dx])


COPIES = {
    "jpeg q50": lambda im: jpeg(im, 50),
    "half size": lambda im: cv2.resize(im, (im.shape[1] // 2, im.shape[0] // 2), interpolation=cv2.INTER_AREA),
    "5 % crop": lambda im: crop(im, 0.05),
    "10 % crop + jpeg q80": lambda im: jpeg(crop(im, 0.10), 80),
    "mirrored": lambda im: np.ascontiguousarray(im[:, ::-1]),
}


def square(name: str, side: int = 64) -> np.ndarray:
    image = photo(name)
    s = min(image.shape[:2])
    return cv2.resize(image[:s, :s], (side, side), interpolation=cv2.INTER_AREA)


def portrait(still: np.ndarray, width: int = 128, height: int = 224) -> np.ndarray:
    """A created cover as the creator makes one: the centre of an upscaled square still at the feed's aspect."""
    big = cv2.resize(still, (256, 256), interpolation=cv2.INTER_CUBIC)
    cw = round(256 * width / height)
    return cv2.resize(big[:, (256 - cw) // 2 : (256 - cw) // 2 + cw], (width, height), interpolation=cv2.INTER_AREA)


def test_a_personal_cover_of_the_parent_passes(pixels):
    frame = pixels.frames("flashy", [1.0])[0]
    result = CHECK(pixels.edit("flashy", "cover", cover=frame, params={"t": 1.0}), pixels.context)
    assert result.verdict == PASS, result.evidence.get("reason")
    assert result.evidence["catalogue"] == 23 and result.evidence["copies"] == []
    assert 0.0 < result.score <= 1.0 and result.evidence["nearest"]["item"] != "flashy"  # the parent is not compared


def test_reencodes_and_crops_of_another_uploaders_cover_fail(pixels):
    theirs = pixels.cover("food0")  # coffee, shown by food0, food2, food4
    for name, make in COPIES.items():
        result = CHECK(pixels.edit("flashy", "cover", cover=make(theirs), params={"t": 1.0}), pixels.context)
        assert result.verdict == FAIL, (name, result.evidence.get("nearest"))
        assert result.evidence["copies"][0]["item"].startswith("food"), name
        assert "copies item food" in result.evidence["reason"]


def test_a_copy_the_parent_already_shows_is_inherited(pixels):
    # animal0 and animal2 have the very same cover: an edit of animal0 that shows it copies no one
    frame = pixels.frames("animal0", [0.0])[0]
    result = CHECK(pixels.edit("animal0", "cover", cover=frame, params={"t": 0.0}), pixels.context)
    assert result.verdict == PASS, result.evidence.get("reason")
    assert {c["item"] for c in result.evidence["inherited"]} >= {"animal2"}


def test_frames_of_a_new_video_are_tested_too(pixels):
    theirs = pixels.cover("person0")
    video = pixels.video("copied", [cv2.resize(theirs, (128, 96))] * 20)
    result = CHECK(pixels.edit("flashy", "style", video=video, params={"style": "warm"}), pixels.context)
    assert result.verdict == FAIL and any(c["picture"].startswith("frame at") for c in result.evidence["copies"])


def test_created_items_copying_the_catalogue_or_a_training_image_fail(pixels):
    stills = np.stack([square(n) for n in ("chelsea", "coffee", "astronaut", "rocket", "immunohistochemistry")])
    context = FidelityContext.for_workspace(pixels.ws, training_frames=stills)
    clean = CHECK(Candidate("create", "create", "a new picture", [], cover=portrait(square("hubble_deep_field"))), context)
    assert clean.verdict == PASS, clean.evidence.get("reason")
    memorised = CHECK(Candidate("create", "create", "a rocket", [], cover=portrait(stills[3])), context)
    assert memorised.verdict == FAIL and memorised.evidence["memorised"]["training_index"] == 3
    assert "memorised" in memorised.evidence["reason"]
    copy = CHECK(Candidate("create", "create", "coffee", [], cover=COPIES["jpeg q50"](pixels.cover("food1"))), context)
    assert copy.verdict == FAIL and copy.evidence["copies"][0]["item"].startswith("food")


def test_the_cover_index_is_kept_on_disk(pixels, monkeypatch):
    CHECK(pixels.edit("flashy", "cover", cover=pixels.frames("flashy", [1.0])[0]), pixels.context)
    assert len(list((pixels.ws.root / "models" / "fidelity").glob("originality-*.npz"))) == 1
    import generec.encoders.video as video

    monkeypatch.setattr(video, "cover_image", lambda *a: pytest.fail("catalogue covers hashed again"))
    index = CHECK.cover_index(FidelityContext.for_workspace(pixels.ws))
    assert index.bits.shape == (23, 64) and [i.id for i in index.items] == sorted(i.id for i in index.items)


def test_nothing_new_is_skipped_and_bad_input_is_refused(pixels):
    assert CHECK(pixels.edit("flashy", "cover"), pixels.context).verdict == SKIP
    with pytest.raises(InputError, match="RGB array"):
        CHECK(Candidate("create", "create", "t", [], cover=np.zeros((8, 8), np.uint8)), pixels.context)
    with pytest.raises(InputError, match="close_phash"):
        OriginalityConfig(close_phash=20, far_phash=10)
