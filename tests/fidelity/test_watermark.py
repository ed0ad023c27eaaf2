"""The invisible watermark: embedding, the code, detection after attacks, and bad input."""

from __future__ import annotations

import io

import av
import cv2
import numpy as np
import pytest
from PIL import Image

from generec.errors import InputError
from generec.evaluation.watermark_robustness import pyav_reencode, watermark_robustness
from generec.fidelity.watermark import Watermarker, WatermarkConfig, _votes, conv_encode, luma, message_bits, psnr
from helpers import photo, shot_frames

KEY = b"generec-test-watermark-key-32byt"
WID = 0x5EC0DE42


@pytest.fixture(scope="module")
def wm() -> Watermarker:
    return Watermarker(KEY)


def frame(name: str = "chelsea", seed: int = 0) -> np.ndarray:
    return shot_frames(photo(name), 1, 128, 224, seed=seed)[0]


def jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, "JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


@pytest.mark.parametrize("name", ["chelsea", "coffee", "astronaut", "rocket"])
def test_an_embedded_id_is_invisible_and_read_back(wm, name):
    image = frame(name)
    marked = wm.embed(image, WID)
    assert marked.shape == image.shape and marked.dtype == np.uint8
    assert psnr(image, marked) >= 35.0
    reading = wm.detect([marked])
    assert reading.detected and reading.watermark_id == WID
    assert not wm.detect([image]).detected  # the unmarked photo


@pytest.mark.parametrize("attack", ["jpeg50", "resize0.75", "brightness", "crop10"])
def test_the_id_survives_common_attacks_on_one_cover(wm, attack):
    marked = wm.embed(frame("coffee"), WID)
    h, w = marked.shape[:2]
    attacked = {
        "jpeg50": lambda: jpeg(marked, 50),
        "resize0.75": lambda: cv2.resize(marked, (96, 168), interpolation=cv2.INTER_AREA),
        "brightness": lambda: np.clip(marked * 1.1, 0, 255).astype(np.uint8),
        "crop10": lambda: marked[round(h * 0.05) : h - round(h * 0.05), round(w * 0.05) : w - round(w * 0.05)],
    }[attack]()
    reading = wm.detect([attacked])
    assert reading.detected and reading.watermark_id == WID
    if attack == "crop10":
        assert reading.alignment["scale"] == pytest.approx(0.9)


def test_the_weighted_vote_keeps_what_a_few_strong_frames_carry(wm):
    """2 marked frames among 60 unmarked ones (as after a re-encode: the I-frame keeps the mark, later
    frames lose it): the equal vote dilutes it, the vote weighted by each frame's share keeps it."""
    code = 2.0 * conv_encode(message_bits(WID)) - 1.0
    marked = [wm.embed(f, WID) for f in shot_frames(photo("chelsea"), 2, 128, 224, seed=0)]
    unmarked = shot_frames(photo("coffee"), 30, 128, 224, seed=1) + shot_frames(photo("astronaut"), 30, 128, 224, seed=2)
    zf = np.stack([wm._zscores(luma(f)) for f in marked + unmarked])
    equal, weighted = _votes(zf)
    assert weighted @ code > 3 * (equal @ code) > 0
    assert wm.detect(marked + unmarked).watermark_id == WID
    zf_clean = np.stack([wm._zscores(luma(f)) for f in unmarked])
    assert not wm.detect(unmarked).detected and len(_votes(zf_clean)) in (1, 2)


def test_files_marked_with_the_earlier_layout_are_still_read(wm):
    old = Watermarker(KEY, WatermarkConfig(first_coefficient=3, legacy_first_coefficients=()))
    marked = old.embed(frame("coffee"), WID)
    reading = wm.detect([jpeg(marked, 75)])
    assert reading.detected and reading.watermark_id == WID and reading.alignment["layout"] == 3.0
    assert not Watermarker(KEY, WatermarkConfig(legacy_first_coefficients=())).detect([marked]).detected
    assert wm.detect([wm.embed(frame("coffee"), WID)]).alignment.get("layout") is None  # the current one


def test_another_key_reads_nothing(wm):
    marked = wm.embed(frame("astronaut"), WID)
    assert not Watermarker(b"another-workspace-key-of-32bytes").detect([marked]).detected


def test_a_large_frame_is_marked_on_the_canonical_grid(wm):
    big = cv2.resize(frame("rocket"), (720, 1260), interpolation=cv2.INTER_CUBIC)
    marked = wm.embed(big, WID)
    assert psnr(big, marked) >= 35.0
    small = cv2.resize(marked, (128, 224), interpolation=cv2.INTER_AREA)
    assert wm.detect([small]).watermark_id == WID


def test_a_video_from_plain_pyav_with_surround_audio_is_marked_and_survives_crf28(wm, tmp_path):
    """A file made outside our writer (plain PyAV, 5.1 AAC); the marked copy keeps its sound and
    the id is read back after another PyAV re-encode at CRF 28."""
    src = tmp_path / "plain.mp4"
    frames = shot_frames(photo("chelsea"), 36, 128, 224, seed=3)
    with av.open(str(src), "w") as out:
        v = out.add_stream("libx264", rate=12)
        v.width, v.height, v.pix_fmt = 128, 224, "yuv420p"
        a = out.add_stream("aac", rate=48000, layout="5.1")
        for f in frames:
            out.mux(v.encode(av.VideoFrame.from_ndarray(f, format="rgb24")))
        out.mux(v.encode())
        samples = (0.1 * np.sin(np.arange(48000 * 3) / 48000 * 2 * np.pi * 440)).astype(np.float32)
        for start in range(0, len(samples), 1024):
            chunk = np.repeat(samples[None, start : start + 1024], 6, axis=0)
            af = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="5.1")
            af.sample_rate = 48000
            out.mux(a.encode(af))
        out.mux(a.encode())
    dst = tmp_path / "marked.mp4"
    wm.embed_video(src, dst, WID)
    with av.open(str(dst)) as c:
        assert c.streams.audio and c.streams.audio[0].channels == 6
        decoded = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    assert len(decoded) == len(frames)
    assert wm.detect_file(dst).watermark_id == WID
    again = pyav_reencode(decoded, 28)
    reading = wm.detect(again)
    assert reading.detected and reading.watermark_id == WID and reading.frames == len(again)


def test_unmarked_media_is_not_watermarked(wm, tmp_path):
    clips = [shot_frames(photo(n), 12, 128, 224, seed=k) for k, n in enumerate(["chelsea", "coffee", "rocket", "page"])]
    for clip in clips:
        assert not wm.detect(clip).detected
        assert not wm.detect([clip[0]]).detected
    path = tmp_path / "plain.png"
    Image.fromarray(clips[0][0]).save(path)
    reading = wm.detect_file(path)
    assert not reading.detected and reading.watermark_id is None


def test_the_robustness_table_on_two_clips():
    clips = [shot_frames(photo(n), 12, 128, 224, seed=k) for k, n in enumerate(["coffee", "rocket"])]
    report = watermark_robustness(clips, KEY, seed=1, hd_clips=1).to_dict()
    assert set(report["attacks"]) >= {"none", "jpeg75", "jpeg50", "resize0.75", "brightness+10%", "crop10%", "h264_crf23", "h264_crf28", "720p_h264_crf28"}
    assert report["attacks"]["none"]["exact_recovery"] == 1.0
    assert report["psnr_db"]["p5"] >= 35.0
    assert report["false_positives"]["clip_detections"] == 0 and report["false_positives"]["frame_detections"] == 0


def test_bad_input_is_refused(wm, tmp_path):
    with pytest.raises(InputError, match="16 bytes"):
        Watermarker(b"short")
    with pytest.raises(InputError, match="32-bit"):
        wm.embed(frame(), 2**32)
    with pytest.raises(InputError, match="RGB uint8"):
        wm.embed(frame().astype(np.float32), WID)
    with pytest.raises(InputError, match="16 px"):
        wm.embed(np.zeros((8, 8, 3), np.uint8), WID)
    with pytest.raises(InputError, match="no such file"):
        wm.detect_file(tmp_path / "missing.mp4")
    with pytest.raises(InputError, match="short_side"):
        WatermarkConfig(short_side=100)
