"""authenticity on real videos: a cover of a real 2-s shot passes and a 0.2-s flash fails (the
clickbait check); a clip of what its title names passes and one of something else fails; a restyle
keeps its source's structure; created items never claim to be human-made."""

from __future__ import annotations

import numpy as np
import pytest

from generec.editor.looks import render_look
from generec.editor.style import restyle_video
from generec.errors import InputError
from generec.fidelity.authenticity import SCAN_VERSION, AuthenticityCheck, AuthenticityConfig
from generec.fidelity.types import FAIL, PASS, SKIP, Candidate
from generec.media.video import cut
from helpers import photo

CHECK = AuthenticityCheck()


def test_a_cover_of_a_real_shot_passes_graded_or_drawn(pixels):
    frame = pixels.frames("flashy", [1.0])[0]  # inside the 2-s shot of chelsea
    for look in (None, "warm", "sketch"):
        cover = frame if look is None else render_look(frame, look)
        params = {"t": 1.0} | ({"style": look, "strength": 1.0} if look else {})
        result = CHECK(pixels.edit("flashy", "cover", cover=cover, params=params), pixels.context)
        assert result.verdict == PASS, (look, result.evidence.get("reason"))
        test = result.evidence["tests"][0]
        assert test["test"] == "cover" and 1.6 <= test["span_s"] <= 2.2 and test["shot"][0] == 0.0


def test_a_regenerated_cover_is_matched_loosely(pixels):
    import cv2

    rng = np.random.default_rng(0)
    frame, flash = pixels.frames("flashy", [1.0, 2.1])

    def sdedit_like(image):  # what a small SDEdit keeps of its source: the layout, not the detail
        noisy = cv2.GaussianBlur(image, (0, 0), 3.0).astype(np.float32) + rng.normal(0, 25, image.shape)
        return np.clip(noisy * 0.9 + 20, 0, 255).astype(np.uint8)

    ok = CHECK(pixels.edit("flashy", "regenerate", cover=sdedit_like(frame), params={"t": 1.0, "strength": 0.6}), pixels.context)
    assert ok.verdict == PASS, ok.evidence.get("reason")
    bad = CHECK(pixels.edit("flashy", "regenerate", cover=sdedit_like(flash), params={"t": 2.1, "strength": 0.6}), pixels.context)
    assert bad.verdict == FAIL and bad.evidence["tests"][0]["span_s"] < 0.3


def test_a_flash_frame_as_cover_fails(pixels):
    flash = pixels.frames("flashy", [2.1])[0]  # the 0.2-s flash of coffee between two 2-s shots
    for params in ({"t": 2.1}, {}, {"t": 1.0}):  # named honestly, not named, named falsely
        result = CHECK(pixels.edit("flashy", "cover", cover=flash, params=params), pixels.context)
        assert result.verdict == FAIL, params
        test = result.evidence["tests"][0]
        assert test["span_s"] < 0.3 and test["required_s"] == pytest.approx(0.6)
        assert "less than the 0.60 s required" in result.evidence["reason"]


def test_a_cover_the_video_never_shows_fails(pixels):
    alien = np.ascontiguousarray(photo("rocket")[:224, 100:228])
    result = CHECK(pixels.edit("flashy", "cover", cover=alien, params={"t": 1.0}), pixels.context)
    assert result.verdict == FAIL and result.score == 0.0 and "matches no frame" in result.evidence["reason"]


def test_the_uploaders_own_cover_is_not_tested(pixels):
    result = CHECK(pixels.edit("flashy", "cover", cover=pixels.cover("flashy"), params={"t": None, "original": True}), pixels.context)
    assert result.verdict == SKIP


def test_the_dense_scan_is_kept_in_the_feature_cache(pixels):
    CHECK(pixels.edit("flashy", "cover", cover=pixels.frames("flashy", [1.0])[0], params={"t": 1.0}), pixels.context)
    digest = pixels.item("flashy").media.hash
    times = pixels.context.cache.get(digest, SCAN_VERSION, "dense6-t")
    assert times is not None and 20 <= len(times) <= 26 and times[0] == 0.0  # 4.2 s looked at ~5-6 times a second


def test_a_clip_must_show_what_its_title_and_tags_name(pixels):
    parent = pixels.item("cat_rocket")  # "my cat", tags [cat]: chelsea 3 s, then a rocket 1 s
    source = pixels.ws.media_path(parent.media.hash, parent.media.mime)
    cut(source, pixels.tmp / "cat.mp4", 0.0, 2.0)
    cut(source, pixels.tmp / "rocket.mp4", 3.0, 4.0)
    cat = CHECK(pixels.edit("cat_rocket", "clip", video=pixels.tmp / "cat.mp4", params={"start": 0.0, "end": 2.0}, title="my cat (clip)"), pixels.context)
    assert cat.verdict == PASS, cat.evidence.get("reason")
    rocket = CHECK(pixels.edit("cat_rocket", "clip", video=pixels.tmp / "rocket.mp4", params={"start": 3.0, "end": 4.0}, title="my cat (clip)"), pixels.context)
    assert rocket.verdict == FAIL, rocket.evidence["tests"]
    clip = next(t for t in rocket.evidence["tests"] if t["test"] == "clip")
    assert clip["z"] < -1.0 < next(t for t in cat.evidence["tests"] if t["test"] == "clip")["z"]


def test_a_restyle_keeps_the_structure_of_its_source(pixels):
    parent = pixels.item("cat_rocket")
    source = pixels.ws.media_path(parent.media.hash, parent.media.mime)
    for look in ("warm", "cartoon"):
        out = pixels.tmp / f"{look}.mp4"
        restyle_video(source, out, look)
        result = CHECK(pixels.edit("cat_rocket", "style", video=out, params={"style": look, "strength": 1.0}), pixels.context)
        assert result.verdict == PASS, (look, result.evidence.get("reason"))
    other = pixels.video("other", pixels.shots([("astronaut", 4.0)]))
    result = CHECK(pixels.edit("cat_rocket", "style", video=other, params={"style": "warm"}), pixels.context)
    assert result.verdict == FAIL and result.evidence["tests"][0]["structure"] < 0.25


def test_created_items_never_claim_to_be_human_made(pixels):
    cover = photo("coffee")[:224, :128]
    made = lambda title, tags, op="create", parent=None: Candidate("create", op, title, tags, cover=cover, parent=parent)  # noqa: E731
    assert CHECK(made("a fresh espresso", ["food"]), pixels.context).verdict == PASS
    for title, tags in (("Real footage of an espresso", ["food"]), ("espresso", ["food", "No AI"]), ("espresso, shot by me", [])):
        result = CHECK(made(title, tags), pixels.context)
        assert result.verdict == FAIL and result.score == 0.0 and "human-made" in result.evidence["reason"], title
    assert CHECK(made("espresso", [], op="cover"), pixels.context).verdict == FAIL
    assert CHECK(made("espresso", [], parent=pixels.item("food0")), pixels.context).verdict == FAIL
    # an edit may keep its parent's words, not add a claim of its own
    edit = pixels.edit("flashy", "cover", cover=pixels.frames("flashy", [1.0])[0], params={"t": 1.0}, title="a day out - real footage")
    assert CHECK(edit, pixels.context).evidence["failed"] == ["claims"]


def test_bad_input_is_refused():
    with pytest.raises(InputError, match="kind"):
        CHECK(Candidate("bogus", "cover", "t", []), None)
    with pytest.raises(InputError, match="dense_fps"):
        AuthenticityConfig(dense_fps=0.0)
