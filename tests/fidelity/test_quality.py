"""quality on real pictures and real H.264 files: clean edits pass, degraded ones fail, and the
catalogue's statistics are computed once and kept on disk."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from generec.editor.looks import render_look
from generec.errors import InputError
from generec.fidelity.quality import QualityCheck, QualityConfig, measure_image
from generec.fidelity.types import FAIL, PASS, SKIP, Candidate, FidelityContext
from generec.media.image import encode_image
from generec.media.video import cut
from generec.types import Item, Kind, Media
from helpers import photo

CHECK = QualityCheck()


def failed(result) -> set[str]:
    return {name.split(" ", 1)[1] for name in result.evidence["failed"]}


def test_measures_of_real_photos_and_their_degradations():
    cat = photo("chelsea")
    m = measure_image(cat)
    assert set(m) == {"sharpness", "luma", "clipped", "blockiness", "levels", "side"}
    assert measure_image(cv2.GaussianBlur(cat, (0, 0), 2.0))["sharpness"] < m["sharpness"] - 0.5
    assert measure_image((cat * 0.5).astype(np.uint8))["sharpness"] == pytest.approx(m["sharpness"], abs=0.1)  # contrast-free
    buf = io.BytesIO()
    Image.fromarray(cat).save(buf, "JPEG", quality=5)
    assert measure_image(np.asarray(Image.open(buf).convert("RGB")))["blockiness"] > 1.5 > m["blockiness"]
    assert measure_image((cat // 32 * 32).astype(np.uint8))["levels"] < 0.3 < m["levels"]


def test_a_clean_cover_and_a_graded_one_pass(pixels):
    frame = pixels.frames("flashy", [1.0])[0]
    for cover, params in ((frame, {"t": 1.0}), (render_look(frame, "warm"), {"t": 1.0, "style": "warm"})):
        result = CHECK(pixels.edit("flashy", "cover", cover=cover, params=params), pixels.context)
        assert result.verdict == PASS, result.evidence.get("reason")
        assert result.score == 1.0
    assert result.evidence["catalogue"] == {"covers": 23, "bounds": "percentile"}


def test_blurred_dark_and_blocky_covers_fail(pixels):
    frame = pixels.frames("flashy", [1.0])[0]
    buf = io.BytesIO()
    Image.fromarray(frame).save(buf, "JPEG", quality=5)
    cases = {
        "sharpness": cv2.GaussianBlur(frame, (0, 0), 2.0),
        "darkened": (frame * 0.25).astype(np.uint8),
        "blockiness": np.asarray(Image.open(buf).convert("RGB")),
    }
    for measure, cover in cases.items():
        result = CHECK(pixels.edit("flashy", "cover", cover=cover, params={"t": 1.0}), pixels.context)
        assert result.verdict == FAIL and measure in failed(result), (measure, result.evidence["failed"])
        assert 0.0 <= result.score < 1.0
        assert measure in result.evidence["reason"] and "by " in result.evidence["reason"]  # which measure, by how much


def test_black_and_frozen_videos_fail_a_graded_one_passes(pixels):
    parent = pixels.item("cat_rocket")
    source = pixels.ws.media_path(parent.media.hash, parent.media.mime)
    from generec.editor.style import restyle_video

    graded = pixels.tmp / "warm.mp4"
    restyle_video(source, graded, "warm")
    shots = pixels.frames("cat_rocket", [i / 10 for i in range(40)])
    black = pixels.video("black", shots[:10] + [np.zeros_like(shots[0])] * 20 + shots[30:], audio=True)
    frozen = pixels.video("frozen", [shots[0]] * 40, audio=True)
    ok = CHECK(pixels.edit("cat_rocket", "style", video=graded, params={"style": "warm"}), pixels.context)
    assert ok.verdict == PASS, ok.evidence.get("reason")
    for path, measure in ((black, "black"), (frozen, "frozen")):
        result = CHECK(pixels.edit("cat_rocket", "style", video=path, params={"style": "warm"}), pixels.context)
        assert result.verdict == FAIL and measure in failed(result), result.evidence["failed"]
    assert CHECK(pixels.edit("cat_rocket", "style", video=frozen, params={"style": "warm"}), pixels.context).evidence["measures"]["video"]["frozen_s"] >= 3.5


def test_a_clip_that_loses_the_sound_of_its_source_fails(pixels):
    parent = pixels.item("cat_rocket")
    kept = pixels.tmp / "clip.mp4"
    cut(pixels.ws.media_path(parent.media.hash, parent.media.mime), kept, 0.0, 2.0)
    silent = pixels.video("silent", pixels.frames("cat_rocket", [i / 10 for i in range(20)]))
    params = {"start": 0.0, "end": 2.0}
    ok = CHECK(pixels.edit("cat_rocket", "clip", video=kept, params=params), pixels.context)
    assert ok.verdict == PASS, ok.evidence.get("reason")
    assert ok.evidence["measures"]["audio_dbfs"]["candidate"] > -30
    bad = CHECK(pixels.edit("cat_rocket", "clip", video=silent, params=params), pixels.context)
    assert bad.verdict == FAIL and failed(bad) == {"silence"}


def test_catalogue_statistics_are_kept_on_disk_and_read_back(pixels, monkeypatch):
    cover = pixels.frames("flashy", [1.0])[0]
    CHECK(pixels.edit("flashy", "cover", cover=cover), pixels.context)
    files = list((pixels.ws.root / "models" / "fidelity").glob("quality-*.json"))
    assert len(files) == 1 and not list(files[0].parent.glob(".*.tmp"))
    # a new process reads them back: no cover is loaded again
    import generec.encoders.video as video

    monkeypatch.setattr(video, "cover_image", lambda *a: pytest.fail("catalogue covers measured again"))
    fresh = FidelityContext.for_workspace(pixels.ws)
    assert CHECK.bounds(fresh) == CHECK.bounds(pixels.context)
    assert "quality.catalogue.300" in fresh.memo


def test_a_tiny_catalogue_uses_the_absolute_bounds(workspace):
    cat = photo("chelsea")[:224, :128]
    digest = workspace.media.put_bytes(encode_image(cat), "image/png")
    workspace.items.add(Item("one", Kind.IMAGE, title="cat", media=Media(digest, "image/png", width=128, height=224)))
    context = FidelityContext.for_workspace(workspace)
    good = CHECK(Candidate("create", "create", "a cat", ["cat"], cover=photo("coffee")[:224, :128]), context)
    assert good.verdict == PASS and good.evidence["catalogue"] == {"covers": 1, "bounds": "absolute"}
    dark = CHECK(Candidate("create", "create", "a cat", ["cat"], cover=np.full((224, 128, 3), 8, np.uint8)), context)
    assert dark.verdict == FAIL and "underexposed" in failed(dark)
    small = CHECK(Candidate("create", "create", "a cat", ["cat"], cover=cv2.resize(cat, (32, 56))), context)
    assert "resolution" in failed(small)


def test_nothing_new_is_skipped_and_bad_input_is_refused(pixels):
    assert CHECK(pixels.edit("flashy", "cover"), pixels.context).verdict == SKIP
    with pytest.raises(InputError, match="kind"):
        CHECK(Candidate("bogus", "cover", "t", [], cover=photo("coffee")), pixels.context)
    with pytest.raises(InputError, match="RGB image"):
        CHECK(Candidate("create", "create", "t", [], cover=np.zeros((10, 10), np.uint8)), pixels.context)
    with pytest.raises(InputError, match="min_percentile"):
        QualityConfig(min_percentile=60.0)
