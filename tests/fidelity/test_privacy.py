"""privacy on real photos and real H.264 files: a face a created item shows fails and is blurred; an
edit may show its source's face but not a new one; a phone number or e-mail on screen fails and is
redacted (the evidence keeps only the redacted text); location tags fail and are stripped."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from generec.errors import InputError
from generec.fidelity.privacy import PrivacyCheck, PrivacyConfig, detect_faces, strip_image_metadata
from generec.fidelity.types import FAIL, PASS, SKIP, Candidate
from generec.media.video import frames_at, probe, write_mp4
from helpers import photo, shot_frames

CHECK = PrivacyCheck()
W, H, FPS = 128, 224, 10
# scripts/setup.sh installs tesseract where it can (root); on CI its absence is a failure, not a skip
needs_tesseract = pytest.mark.skipif(shutil.which("tesseract") is None and not os.environ.get("CI"), reason="tesseract is not installed")


def face_cover() -> np.ndarray:
    """A 128x224 portrait crop of the astronaut photo showing her face."""
    return np.ascontiguousarray(cv2.resize(photo("astronaut")[0:350, 80:280], (W, H), interpolation=cv2.INTER_AREA))


def cat_cover() -> np.ndarray:
    return shot_frames(photo("chelsea"), 1, W, H)[0]


def text_cover() -> np.ndarray:
    """A coffee photo with a white band carrying a phone number and an e-mail address."""
    image = shot_frames(photo("coffee"), 1, W, H)[0].copy()
    image[150:200] = 255
    cv2.putText(image, "call 555-123-4567", (2, 168), cv2.FONT_HERSHEY_SIMPLEX, 0.33, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.putText(image, "ann@example.com", (2, 190), cv2.FONT_HERSHEY_SIMPLEX, 0.33, (0, 0, 0), 1, cv2.LINE_AA)
    return image


def video(path: Path, name: str, seconds: float = 2.0, seed: int = 1) -> Path:
    write_mp4(path, shot_frames(photo(name), int(seconds * FPS), W, H, seed=seed), fps=FPS)
    return path


def create(**kw) -> Candidate:
    return Candidate("create", "create", "made", [], **kw)


def edit(parent_video: Path | None, **kw) -> Candidate:
    return Candidate("edit", kw.pop("op", "cover"), "edit", [], parent_video=parent_video, **kw)


def assert_fixed(candidate: Candidate, result) -> Candidate:
    assert result.verdict == FAIL and result.fix is not None and result.evidence["reason"]
    fixed = result.fix(candidate)
    again = CHECK(fixed, None)
    assert again.verdict == PASS, again.evidence
    return fixed


def test_a_created_cover_showing_a_face_fails_and_the_fix_blurs_it():
    cover = face_cover()
    candidate = create(cover=cover)
    result = CHECK(candidate, None)
    assert result.verdict == FAIL and result.score == 0.0
    (face,) = result.evidence["faces"]
    x, y, w, h = face["box"]
    assert face["where"] == "cover" and 40 <= w <= 90 and 20 <= x and y <= 80  # her face, upper middle
    fixed = assert_fixed(candidate, result)
    changed = np.abs(fixed.cover.astype(int) - cover.astype(int)).sum(-1) > 0
    assert changed[y : y + h, x : x + w].mean() > 0.9 and changed[H - 40 :].mean() < 0.05  # only the face
    assert fixed.cover.shape == cover.shape and fixed.video is None


def test_a_created_cat_cover_passes():
    result = CHECK(create(cover=cat_cover()), None)
    assert result.verdict == PASS and result.score == 1.0
    assert result.evidence["faces"] == [] and result.evidence["pii_text"] == [] and result.fix is None


def test_nothing_new_to_look_at_is_skipped():
    assert CHECK(edit(None, op="cover"), None).verdict == SKIP


def test_an_edit_cover_showing_its_sources_face_passes(tmp_path):
    parent = video(tmp_path / "astronaut.mp4", "astronaut")
    cover = frames_at(parent, [1.0]).images[0]
    assert detect_faces(cover)  # the cover does show a face ...
    for params in ({"t": 1.0}, {}):  # ... one the parent shows there, or somewhere
        result = CHECK(edit(parent, cover=cover, params=params), None)
        assert result.verdict == PASS, (params, result.evidence)


def test_an_edit_cover_with_a_face_not_in_its_source_fails(tmp_path):
    parent = video(tmp_path / "cat.mp4", "chelsea")
    candidate = edit(parent, cover=face_cover(), params={"t": 1.0})
    result = CHECK(candidate, None)
    assert result.verdict == FAIL and "not in the source" in result.evidence["reason"]
    assert_fixed(candidate, result)
    # without the parent's video every face of an edit is new
    assert CHECK(edit(None, cover=face_cover()), None).verdict == FAIL


@needs_tesseract
def test_a_phone_number_and_an_email_on_the_cover_fail_redacted_and_are_filled(tmp_path):
    cover = text_cover()
    candidate = create(cover=cover)
    result = CHECK(candidate, None)
    assert result.verdict == FAIL and result.evidence["ocr"].startswith("tesseract ")
    texts = [p["text"] for p in result.evidence["pii_text"]]
    assert any("[phone]" in t for t in texts) and any("[email]" in t for t in texts), texts
    shown = repr(result.evidence)
    assert "555" not in shown and "4567" not in shown and "ann@" not in shown and "example" not in shown
    for p in result.evidence["pii_text"]:
        x, y, w, h = p["box"]
        assert 150 <= y and y + h <= 202 and w > 30  # within the white band
    fixed = assert_fixed(candidate, result)
    assert np.array_equal(fixed.cover[:140], cover[:140])  # the photo above the band is untouched


def test_a_video_showing_a_face_fails_and_the_fixed_video_is_clean(tmp_path):
    src = video(tmp_path / "astro.mp4", "astronaut", seconds=3.0)
    candidate = create(video=src)
    result = CHECK(candidate, None)
    assert result.verdict == FAIL and result.evidence["faces"]
    assert {f["where"] for f in result.evidence["faces"]} == {"frame"}
    assert 0.0 <= result.score < 1.0
    fixed = assert_fixed(candidate, result)
    assert fixed.video != src and fixed.video.name.endswith(".privacy.mp4") and fixed.video.parent == src.parent
    before, after = probe(src), probe(fixed.video)
    assert (after.width, after.height) == (before.width, before.height)
    assert after.duration == pytest.approx(before.duration, abs=0.11)
    assert not any(detect_faces(f) for f in frames_at(fixed.video, [0.25, 1.0, 1.75, 2.5]).images)


def test_an_edit_video_of_its_sources_face_passes(tmp_path):
    parent = video(tmp_path / "parent.mp4", "astronaut", seconds=2.0)
    clip = tmp_path / "clip.mp4"
    write_mp4(clip, frames_at(parent, [i / FPS for i in range(5, 15)]).images, fps=FPS)  # a span of it
    result = CHECK(edit(parent, op="clip", video=clip), None)
    assert result.verdict == PASS, result.evidence


def test_location_metadata_fails_without_its_value_in_evidence_and_is_stripped(tmp_path):
    path = tmp_path / "tagged.mp4"
    with av.open(str(path), "w", format="mp4") as c:
        c.metadata["location"] = "+48.8577+002.2950/"
        stream = c.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        for frame in shot_frames(photo("chelsea"), 20, W, H):
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                c.mux(packet)
        for packet in stream.encode():
            c.mux(packet)
    candidate = create(video=path)
    result = CHECK(candidate, None)
    assert result.verdict == FAIL and result.score == 0.0 and not result.evidence["faces"]
    assert {m["key"] for m in result.evidence["metadata"]} >= {"location"}
    assert "48.8577" not in repr(result.evidence) and "location" in result.evidence["reason"]
    fixed = assert_fixed(candidate, result)
    with av.open(str(fixed.video)) as c:
        assert not any("location" in k for k in c.metadata)


def test_strip_image_metadata_drops_exif():
    from PIL import Image

    exif = Image.Exif()
    exif[0x0110] = "Pixel 9"  # camera model
    buf = io.BytesIO()
    Image.fromarray(cat_cover()).save(buf, format="JPEG", exif=exif.tobytes())
    assert dict(Image.open(io.BytesIO(buf.getvalue())).getexif())
    clean = Image.open(io.BytesIO(strip_image_metadata(buf.getvalue())))
    assert clean.format == "JPEG" and clean.size == (W, H) and not dict(clean.getexif())
    png = io.BytesIO()
    Image.fromarray(cat_cover()).save(png, format="PNG", exif=exif.tobytes())
    clean = Image.open(io.BytesIO(strip_image_metadata(png.getvalue())))
    assert clean.format == "PNG" and not dict(clean.getexif())
    assert np.array_equal(np.asarray(clean), cat_cover())
    with pytest.raises(InputError):
        strip_image_metadata(b"not an image")


@pytest.mark.parametrize("bad", [{"upsample": -1.0}, {"upsample": 0}, {"ocr_upscale": 0}, {"match_iou": 0},
                                 {"match_iou": 1.5}, {"pad": -0.1}, {"ocr_frames": -1}, {"min_face": 0},
                                 {"scale_factor": 1.0}])  # fmt: skip
def test_the_config_rejects_bad_values(bad):
    with pytest.raises(InputError):
        PrivacyConfig(**bad)


def test_without_tesseract_ocr_is_skipped_and_faces_still_checked(monkeypatch):
    pytesseract = pytest.importorskip("pytesseract")
    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", "/nonexistent/bin/tesseract")
    text = CHECK(create(cover=text_cover()), None)
    assert text.verdict == PASS and text.evidence["ocr"].startswith("skipped")
    face = CHECK(create(cover=face_cover()), None)
    assert face.verdict == FAIL and face.evidence["faces"] and face.evidence["ocr"].startswith("skipped")


def test_a_clean_clip_edit_with_a_new_cover_passes(tmp_path):
    """A 4-s 128x224 clip (8 frames at 2 fps) of a 6-s parent, with a new cover."""
    parent = tmp_path / "parent.mp4"
    frames = shot_frames(photo("chelsea"), 30, W, H, seed=2) + shot_frames(photo("rocket"), 30, W, H, seed=3)
    write_mp4(parent, frames, fps=FPS)
    clip = tmp_path / "clip.mp4"
    write_mp4(clip, frames[10:50], fps=FPS)
    CHECK(edit(parent, op="clip", video=clip, cover=frames[20]), None)  # warm: cascade, parent faces, tesseract version
    candidate = edit(parent, op="clip", video=clip, cover=frames[20], params={"t": 2.0})
    result = CHECK(candidate, None)
    assert result.verdict == PASS, result.evidence
    assert set(result.evidence["timings_s"]) >= {"faces_s", "ocr_s"}


def test_opencvs_haar_cascade_is_the_other_face_detector():
    haar = PrivacyCheck(PrivacyConfig(face_detector="haar"))
    result = haar(create(cover=face_cover()), None)
    assert result.verdict == FAIL and result.evidence["faces"]
    with pytest.raises(InputError, match="face_detector"):
        PrivacyConfig(face_detector="retinaface")
