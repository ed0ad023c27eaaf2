"""The watermark's robustness table: bit accuracy and exact-id recovery after common attacks.

For each clip (RGB frames of one catalogue video, `fps` a second):
1. a random nonzero 32-bit id is embedded in every frame (`Watermarker.embed`) and the clip is
   written as the gate writes it (H.264, CRF 20, `media.encode.write_mp4`); PSNR of the embedding
   is measured on the frames before encoding;
2. each attack acts on the decoded marked clip: JPEG q75 / q50 of every frame (PIL), resize 0.75x
   (area), brightness +10 % (x1.1, clipped), crop 10 % (5 % off each side, not resized back),
   and a re-encode by plain PyAV (libx264, yuv420p) at CRF 23 and 28; `none` is the file as
   written; and at 720p: the clip upscaled (bicubic) to a 720-px short side, marked at that size,
   re-encoded at CRF 28;
3. the detector reads the attacked clip: exact recovery (the id decoded, CRC-checked) and bit
   accuracy (the 64 message bits the Viterbi decoder returns against the true ones, whether or
   not the CRC matched).
False positives: the same attacks on the *unmarked* clips (and each unmarked frame alone), where
any detection is a false positive.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
from PIL import Image

from generec.fidelity.watermark import Watermarker, WatermarkConfig, message_bits, psnr

FPS = 12


def _jpeg(q: int) -> Callable[[np.ndarray], np.ndarray]:
    def attack(frame: np.ndarray) -> np.ndarray:
        buf = io.BytesIO()
        Image.fromarray(frame).save(buf, "JPEG", quality=q)
        return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))

    return attack


def _resize(s: float) -> Callable[[np.ndarray], np.ndarray]:
    return lambda f: cv2.resize(f, (round(f.shape[1] * s), round(f.shape[0] * s)), interpolation=cv2.INTER_AREA)


def _crop(share: float) -> Callable[[np.ndarray], np.ndarray]:
    def attack(f: np.ndarray) -> np.ndarray:
        h, w = f.shape[:2]
        dy, dx = round(h * share / 2), round(w * share / 2)
        return f[dy : h - dy, dx : w - dx]

    return attack


FRAME_ATTACKS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "none": lambda f: f, "jpeg75": _jpeg(75), "jpeg50": _jpeg(50), "resize0.75": _resize(0.75),
    "brightness+10%": lambda f: np.clip(f.astype(np.float32) * 1.1, 0, 255).astype(np.uint8), "crop10%": _crop(0.10),
}  # fmt: skip
CODEC_ATTACKS = {"h264_crf23": 23, "h264_crf28": 28}


def pyav_reencode(frames: list[np.ndarray], crf: int, fps: int = FPS) -> list[np.ndarray]:
    """Frames through plain PyAV's libx264 (yuv420p, `crf`) and back, in memory."""
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        s = out.add_stream("libx264", rate=fps)
        s.height, s.width = frames[0].shape[0] // 2 * 2, frames[0].shape[1] // 2 * 2
        s.pix_fmt = "yuv420p"
        s.options = {"crf": str(crf), "preset": "medium"}
        for f in frames:
            out.mux(s.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(f[: s.height, : s.width]), format="rgb24")))
        out.mux(s.encode())
    buf.seek(0)
    with av.open(buf) as c:
        return [fr.to_ndarray(format="rgb24") for fr in c.decode(video=0)]


def _write_read(frames: list[np.ndarray], tmp: Path, crf: int = 20) -> list[np.ndarray]:
    from generec.media.decode import iter_frames
    from generec.media.encode import write_mp4

    path = tmp / "marked.mp4"
    write_mp4(path, frames, FPS, crf=crf)
    return [f for _, f in iter_frames(path)]


@dataclass
class RobustnessReport:
    clips: int
    frames_per_clip: float
    psnr_db: dict[str, float]  # median / 5th percentile over clips (128-px and 720p)
    attacks: dict[str, dict[str, float]]  # attack -> exact recovery, bit accuracy, median confidence
    false_positives: dict[str, Any]  # unmarked clips and frames read, detections
    config: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"clips": self.clips, "frames_per_clip": self.frames_per_clip, "psnr_db": self.psnr_db, "attacks": self.attacks,
                "false_positives": self.false_positives, "config": self.config}  # fmt: skip


def watermark_robustness(clips: list[list[np.ndarray]], key: bytes, seed: int = 0, config: WatermarkConfig | None = None,
                         hd_clips: int = 10, progress: Callable[[int, int], None] | None = None) -> RobustnessReport:  # fmt: skip
    """The table above for `clips` (each a list of RGB uint8 frames at `FPS`)."""
    wm = Watermarker(key, config)
    rng = np.random.default_rng(seed)
    rows: dict[str, list[tuple[bool, float, float]]] = {}
    psnrs, psnrs_hd, fp_clip, fp_frame, n_frames, h0_conf = [], [], 0, 0, 0, []
    attacks = list(FRAME_ATTACKS) + list(CODEC_ATTACKS)
    with tempfile.TemporaryDirectory(prefix="generec-wm-") as tmp_dir:
        tmp = Path(tmp_dir)
        for k, clip in enumerate(clips):
            wid = int(rng.integers(1, 2**32))
            truth = message_bits(wid)
            marked = [wm.embed(f, wid) for f in clip]
            psnrs.append(float(np.mean([psnr(a, b) for a, b in zip(clip, marked)])))
            written = _write_read(marked, tmp)
            unmarked = _write_read(list(clip), tmp)
            for name in attacks:
                if name in CODEC_ATTACKS:
                    got, clean = pyav_reencode(written, CODEC_ATTACKS[name]), pyav_reencode(unmarked, CODEC_ATTACKS[name])
                else:
                    got, clean = [FRAME_ATTACKS[name](f) for f in written], [FRAME_ATTACKS[name](f) for f in unmarked]
                r = wm.detect(got)
                exact = r.detected and r.watermark_id == wid
                acc = 1.0 if exact else float((wm.message(got) == truth).mean())  # unaligned bits when a crop was not found
                rows.setdefault(name, []).append((exact, acc, r.confidence))
                fp = wm.detect(clean)
                fp_clip += fp.detected
                h0_conf.append(fp.confidence)
                fp_frame += sum(wm.detect([f]).detected for f in clean[:: max(1, len(clean) // 4)])
                n_frames += len(clean[:: max(1, len(clean) // 4)])
            if k < hd_clips:  # 720p: upscaled, marked at that size, CRF 28
                hd = [_to_720p(f) for f in clip]
                hd_marked = [wm.embed(f, wid) for f in hd]
                psnrs_hd.append(float(np.mean([psnr(a, b) for a, b in zip(hd, hd_marked)])))
                got = pyav_reencode(_write_read(hd_marked, tmp), 28)
                r = wm.detect(got)
                rows.setdefault("720p_h264_crf28", []).append((r.detected and r.watermark_id == wid, float((wm.message(got) == truth).mean()), r.confidence))
                fp_clip += wm.detect(pyav_reencode(hd, 28)).detected
            if progress:
                progress(k + 1, len(clips))
    table = {name: {"exact_recovery": float(np.mean([x[0] for x in v])), "bit_accuracy": float(np.mean([x[1] for x in v])),
                    "median_confidence": float(np.median([x[2] for x in v])), "n": len(v)} for name, v in rows.items()}  # fmt: skip
    n_unmarked = len(clips) * len(attacks) + min(hd_clips, len(clips))
    return RobustnessReport(
        len(clips), float(np.mean([len(c) for c in clips])) if clips else 0.0,
        {"median": float(np.median(psnrs)), "p5": float(np.percentile(psnrs, 5)),
         **({"720p_median": float(np.median(psnrs_hd))} if psnrs_hd else {})} if psnrs else {},
        table,
        {"unmarked_clips": n_unmarked, "clip_detections": int(fp_clip), "unmarked_frames": n_frames, "frame_detections": int(fp_frame),
         "rate": (fp_clip + fp_frame) / max(1, n_unmarked + n_frames),
         "max_confidence": float(max(h0_conf)) if h0_conf else float("nan"), "min_confidence": wm.config.min_confidence},
        {"short_side": wm.config.short_side, "strength": wm.config.strength, "coefficients": wm.config.n_coefficients,
         "fps": FPS, "embed_crf": 20},
    )  # fmt: skip


def _to_720p(frame: np.ndarray) -> np.ndarray:
    h, w = frame.shape[:2]
    s = 720 / min(h, w)
    return cv2.resize(frame, (round(w * s) // 2 * 2, round(h * s) // 2 * 2), interpolation=cv2.INTER_CUBIC)
