"""privacy: an AI-made item must not show a person's face, or personal data, that its source did not.

What is looked at: the cover (when the candidate has a new one) and, when it has a new video, the
frames `Candidate.frames` samples (`sample_fps`, at most `max_frames`), plus the video file's tags.

1. faces: `face_detector = "nudenet"` (default): the FACE_FEMALE / FACE_MALE classes of NudeNet's
   shipped ONNX detector (the one the safety check loads) scoring >= `face_score`; or "haar":
   OpenCV's shipped frontal-face Haar cascade on the gray image upsampled `upsample` times. On the
   red-team's created face videos of the `small` benchmark (20) and its 260 covers not tagged
   person: Haar (min_neighbors 3) found faces in 13/20 items and in 23/260 clean covers; NudeNet's
   face classes at 0.3 in 18/20 and 3/260 (the union of both: 18/20, 12/260 with Haar at 5). A created item may show no face at all. An edit may show
   the faces its source shows: a face is "in the source" when a face box of the parent video (its
   frame at the op's `t` for a cover, else/also `parent_frames` frames spread over it) overlaps it
   with IoU >= `match_iou`, both boxes in relative coordinates (x / W, y / H) since an edit's size
   may differ. Any parent face matches any edit frame (a face the source shows anywhere is not
   new to its audience), and each frame of an edited video is also matched against the parent's
   own frame at the same moment (`start` + t for a clip, t for a restyle). No parent video: every face of an edit is new. Frames
   are tested as stored (a rotated video's faces lie on their side; not corrected).
2. on-screen text: Tesseract through pytesseract. Spawning tesseract costs ~0.1 s whatever the
   image, so it runs once per check: in the cover and `ocr_frames` evenly spread frames, text-like
   regions (strong horizontal runs of gradient, a cheap morphological test) are cropped, upscaled
   `ocr_upscale` times in gray, and stacked with white gaps into one mosaic. Words are grouped into
   lines (crop, block, paragraph, line); a line whose `redact_pii` differs from it is personal
   data, and its changed words (difflib against the redacted line) are the regions to redact. Any
   PII on screen fails, even when the source showed it (a new audience). Without tesseract the
   OCR is skipped and the evidence says so; that alone never fails.
3. metadata: a cover is an in-memory array (no EXIF). The video's container and stream tags are
   searched for `metadata_keys` (location, GPS, device make/model); only the key names go to the
   evidence. `strip_image_metadata` re-encodes PNG/JPEG bytes without EXIF, for other callers.
4. fix: blurs (Gaussian, sigma a quarter of the box's larger side) every failing face box padded by
   `pad`, and fills every PII box with its median colour, on the cover, and on EVERY frame of the
   video through `media.encode.reencode` (times and audio kept; tags are not copied, which strips
   the metadata). Per frame, faces are detected again (with the same rule) and the failing boxes
   of the sampled frames within one sampling step are added; PII boxes of all sampled frames are
   applied to every frame (on-screen text is mostly a fixed overlay). The new video is written next
   to the old one (`*.privacy.mp4`).
5. verdict: fail on any new face, PII line or metadata tag; skip when nothing new is shown.
   Score: share of looked-at images without findings, 0 when metadata tags were found.
"""

from __future__ import annotations

import difflib
import io
import itertools
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from generec.errors import GenerecError, InputError
from generec.fidelity.types import FAIL, PASS, SKIP, Candidate, CheckResult, FidelityContext, sample_video
from generec.instructor.sanitize import redact_pii
from generec.media.video import NO_LIMITS, frames_at, iter_raw_frames, probe, reencode

Box = tuple[int, int, int, int]  # x, y, w, h in the image's pixels
_CASCADE: list[cv2.CascadeClassifier] = []  # loaded once per process
_VERSIONS: dict[str, str] = {}  # tesseract command -> "tesseract <version>"
_PARENT_FACES: dict[tuple, list[tuple[float, float, float, float]]] = {}  # (path, mtime, size, cfg) -> rel. boxes


@dataclass(frozen=True)
class PrivacyConfig:
    face_detector: str = "nudenet"  # nudenet | haar (module docstring, 1.)
    face_score: float = 0.3  # NudeNet face score a face needs
    upsample: float = 2.0  # Haar: face detection on the image scaled this much
    min_neighbors: int = 3  # Haar cascade's minNeighbors (3: no false face on the benchmark's photos)
    min_face: int = 20  # Haar: smallest face side, in the image's own pixels
    scale_factor: float = 1.1
    match_iou: float = 0.3  # an edit's face is its source's when a parent face overlaps it this much
    parent_frames: int = 8  # parent frames searched for faces (besides the cover's `t`)
    ocr: bool = True
    ocr_frames: int = 4  # video frames read by OCR (the cover too)
    ocr_upscale: float = 3.0
    ocr_whole: int = 1  # the first images (the cover, when there is one) are also read whole
    ocr_config: str = "--psm 3"
    pad: float = 0.2  # of a face box's size, on each side, when blurring
    metadata_keys: tuple[str, ...] = ("location", "gps", "xyz", "latitude", "longitude", "make", "model", "device",
                                      "serial")  # fmt: skip

    def __post_init__(self) -> None:
        if not (self.upsample > 0 and self.ocr_upscale > 0 and self.scale_factor > 1):
            raise InputError(f"PrivacyConfig: expected upsample > 0, ocr_upscale > 0, scale_factor > 1, found "
                             f"{self.upsample}, {self.ocr_upscale}, {self.scale_factor}")  # fmt: skip
        if not 0 < self.match_iou <= 1 or self.pad < 0:
            raise InputError(f"PrivacyConfig: expected match_iou in (0, 1], pad >= 0, found {self.match_iou}, "
                             f"{self.pad}")  # fmt: skip
        if self.face_detector not in ("nudenet", "haar") or not 0 < self.face_score < 1:
            raise InputError(f"PrivacyConfig: face_detector must be nudenet or haar and face_score in (0, 1), found {self.face_detector!r}, {self.face_score}")
        if min(self.min_neighbors, self.ocr_frames, self.parent_frames) < 0 or self.min_face < 1:
            raise InputError("PrivacyConfig: expected min_neighbors, ocr_frames, parent_frames >= 0 and min_face >= 1")


# -- faces ----------------------------------------------------------------------------------------


def _cascade() -> cv2.CascadeClassifier:
    if not _CASCADE:
        c = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
        if c.empty():
            raise GenerecError("privacy: OpenCV's haarcascade_frontalface_default.xml could not be loaded")
        _CASCADE.append(c)
    return _CASCADE[0]


def detect_faces(image: np.ndarray, config: PrivacyConfig = PrivacyConfig()) -> list[Box]:
    """Face boxes (x, y, w, h) of an RGB uint8 image, in its own pixels."""
    if config.face_detector == "nudenet":
        from generec.fidelity.safety import detect_nudity

        found = detect_nudity([np.ascontiguousarray(image)])[0]
        return [tuple(int(v) for v in d["box"]) for d in found if d["class"] in ("FACE_FEMALE", "FACE_MALE") and d["score"] >= config.face_score]
    gray = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)
    up = config.upsample
    if up != 1:
        gray = cv2.resize(gray, None, fx=up, fy=up, interpolation=cv2.INTER_LINEAR)
    side = max(1, round(config.min_face * up))
    found = _cascade().detectMultiScale(gray, config.scale_factor, config.min_neighbors, minSize=(side, side))
    return [tuple(int(round(v / up)) for v in box) for box in np.asarray(found).reshape(-1, 4)]


def _relative(box: Box, shape: tuple[int, ...]) -> tuple[float, float, float, float]:
    h, w = shape[:2]
    return box[0] / w, box[1] / h, box[2] / w, box[3] / h


def _iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def _parent_faces(candidate: Candidate, config: PrivacyConfig, t: float | None) -> list[tuple[float, ...]]:
    """Relative face boxes of the parent: at `t` (when given) and in `parent_frames` spread frames (cached)."""
    path = Path(candidate.parent_video)
    boxes: list[tuple[float, ...]] = []
    if t is not None:
        duration = probe(path, NO_LIMITS).duration or 0.0
        frame = frames_at(path, [min(max(float(t), 0.0), duration)]).images[0]
        boxes += [_relative(b, frame.shape) for b in detect_faces(frame, config)]
    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size, config.face_detector, config.face_score, config.upsample,
           config.min_neighbors, config.min_face, config.scale_factor, config.parent_frames)  # fmt: skip
    if key not in _PARENT_FACES and config.parent_frames > 0:
        if len(_PARENT_FACES) > 64:
            _PARENT_FACES.clear()
        _, frames = sample_video(path, candidate.sample_fps, config.parent_frames)
        _PARENT_FACES[key] = [_relative(b, f.shape) for f in frames for b in detect_faces(f, config)]
    return boxes + _PARENT_FACES.get(key, [])


def _aligned_parent_faces(candidate: Candidate, config: PrivacyConfig, times: np.ndarray) -> list[list[tuple[float, ...]]]:
    """Per edit frame, the relative face boxes of the parent's frame at the same moment."""
    path = Path(candidate.parent_video)
    duration = probe(path, NO_LIMITS).duration or 0.0
    start = float(candidate.params.get("start", 0.0)) if candidate.op == "clip" else 0.0
    at = [min(max(start + float(t), 0.0), max(0.0, duration - 1e-3)) for t in times]
    frames = frames_at(path, at).images
    return [[_relative(b, f.shape) for b in detect_faces(f, config)] for f in frames]


def _new_faces(image: np.ndarray, candidate: Candidate, config: PrivacyConfig, parent: list | None) -> list[Box]:
    """The faces of `image` that its source does not show (all of them for a created item)."""
    faces = detect_faces(image, config)
    if candidate.kind != "edit" or parent is None:
        return faces
    return [b for b in faces if not any(_iou(_relative(b, image.shape), p) >= config.match_iou for p in parent)]


# -- on-screen text ---------------------------------------------------------------------------------


def _tesseract() -> tuple[Any, str | None]:
    """(pytesseract, None) when OCR can run, else (None, why not)."""
    try:
        import pytesseract
    except ImportError:
        return None, "skipped: pytesseract is not installed"
    if shutil.which(pytesseract.pytesseract.tesseract_cmd) is None:
        return None, f"skipped: no tesseract binary ({pytesseract.pytesseract.tesseract_cmd!r} not found)"
    return pytesseract, None


def _text_regions(gray: np.ndarray) -> list[Box]:
    """Boxes of text-like regions: dense horizontal runs of strong gradient, 5-60 px tall."""
    grad = cv2.morphologyEx(gray, cv2.MORPH_GRADIENT, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3)))
    _, bw = cv2.threshold(grad, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    joined = cv2.morphologyEx(bw, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (9, 1)))
    contours, _ = cv2.findContours(joined, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    h_img, w_img = gray.shape
    boxes = []
    for contour in contours:
        x, y, w, h = cv2.boundingRect(contour)
        if 5 <= h <= min(60, h_img) and w >= 1.5 * h and cv2.countNonZero(bw[y : y + h, x : x + w]) >= 0.3 * w * h:
            x0, y0 = max(0, x - 3), max(0, y - 3)  # padded by 3 px
            boxes.append((x0, y0, min(w_img, x + w + 3) - x0, min(h_img, y + h + 3) - y0))
    return boxes


def _read(tess: Any, crops: list[tuple[int, Box]], grays: list[np.ndarray], images: list[np.ndarray],
          config: PrivacyConfig, found: list[list]) -> None:
    """One tesseract run over a mosaic of `crops` ((image index, box)); PII lines go to `found`."""
    up, gap = config.ocr_upscale, 24
    tiles, where, y = [], [], gap  # where: (image index, crop box, y offset in the mosaic)
    for i, (x0, y0, w, h) in crops:
        tile = cv2.resize(grays[i][y0 : y0 + h, x0 : x0 + w], None, fx=up, fy=up, interpolation=cv2.INTER_CUBIC)
        tiles.append((tile, y))
        where.append((i, (x0, y0, w, h), y))
        y += tile.shape[0] + gap
    if not tiles:
        return
    mosaic = np.full((y, max(t.shape[1] for t, _ in tiles) + 2 * gap), 255, np.uint8)
    for tile, y0 in tiles:
        mosaic[y0 : y0 + tile.shape[0], gap : gap + tile.shape[1]] = tile
    data = tess.image_to_data(mosaic, config=config.ocr_config, output_type=tess.Output.DICT)
    lines: dict[tuple, list[int]] = {}
    for k, word in enumerate(data["text"]):
        if word.strip():
            cy = data["top"][k] + data["height"][k] / 2
            crop = max((j for j, w in enumerate(where) if w[2] <= cy), default=0)
            lines.setdefault((crop, data["block_num"][k], data["par_num"][k], data["line_num"][k]), []).append(k)
    for (crop, *_), ks in lines.items():
        words = [data["text"][k].strip() for k in ks]
        text = " ".join(words)
        redacted = redact_pii(text)
        if redacted == text:
            continue
        starts = np.cumsum([0] + [len(w) + 1 for w in words[:-1]])
        ops = difflib.SequenceMatcher(None, text, redacted, autojunk=False).get_opcodes()
        changed = [(a, b) for op, a, b, _, _ in ops if op != "equal"]  # the original's changed characters
        hit = [k for k, s, w in zip(ks, starts, words)
               if any(a < s + len(w) and s <= max(a, b - 1) for a, b in changed)] or ks  # fmt: skip
        i, (cx, cy, _, _), off = where[crop]  # mosaic pixels -> the image's: minus the offsets, / up, + crop origin
        x0, y0 = cx + (min(data["left"][k] for k in hit) - gap) / up, cy + (min(data["top"][k] for k in hit) - off) / up
        x1 = cx + (max(data["left"][k] + data["width"][k] for k in hit) - gap) / up
        y1 = cy + (max(data["top"][k] + data["height"][k] for k in hit) - off) / up
        h, w = images[i].shape[:2]
        x0, y0, x1, y1 = max(0, int(x0) - 1), max(0, int(y0) - 1), min(w, int(x1) + 3), min(h, int(y1) + 3)
        found[i].append((redacted, (x0, y0, x1 - x0, y1 - y0)))


def find_pii_text(images: list[np.ndarray], config: PrivacyConfig = PrivacyConfig()) -> tuple[list[list], str]:
    """Per image, [(redacted line, box of its personal data)] for the lines showing PII; and what the OCR was.

    One tesseract run over a mosaic of every image's text-like regions (module docstring)."""
    tess, why = _tesseract()
    found: list[list[tuple[str, Box]]] = [[] for _ in images]
    if tess is None or not config.ocr:
        return found, why or "skipped: disabled by config"
    up, gap = config.ocr_upscale, 24
    try:
        cmd = tess.pytesseract.tesseract_cmd
        version = _VERSIONS.get(cmd) or _VERSIONS.setdefault(cmd, f"tesseract {tess.get_tesseract_version()}")
        grays = [cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY) for image in images]
        # the first `ocr_whole` images (the cover) read whole, each on its own: text on a busy ground
        # escapes the region test, and a whole picture in a mosaic of crops reads badly
        for i in range(min(config.ocr_whole, len(images))):
            _read(tess, [(i, (0, 0, grays[i].shape[1], grays[i].shape[0]))], grays, images, config, found)
        _read(tess, [(i, box) for i, g in enumerate(grays) for box in _text_regions(g)], grays, images, config, found)
    except tess.TesseractNotFoundError:
        return found, "skipped: tesseract not found"
    for lines in found:  # a line read twice (whole and as a region) is one finding
        seen: list = []
        lines[:] = [x for x in lines if not any(x[0] == y[0] and _iou(x[1], y[1]) > 0.3 for y in seen) and not seen.append(x)]
    return found, version


# -- metadata ---------------------------------------------------------------------------------------


def video_metadata_findings(path: Path, keys: tuple[str, ...] = PrivacyConfig.metadata_keys) -> list[dict[str, str]]:
    """The container and stream tags of `path` whose key names a location or a device (values never kept)."""
    import av

    out = []
    with av.open(str(path)) as c:
        tagged = [("container", c.metadata)] + [(f"stream {s.index}", s.metadata) for s in c.streams]
        for where, tags in tagged:
            out += [{"where": where, "key": k} for k in tags if any(word in k.lower() for word in keys)]
    return out


def strip_image_metadata(data: bytes) -> bytes:
    """PNG or JPEG bytes re-encoded through PIL without EXIF (or any other ancillary chunk)."""
    from PIL import Image

    try:
        im = Image.open(io.BytesIO(data))
        fmt = im.format
        im.load()
    except Exception as e:  # noqa: BLE001 - PIL raises many types for a bad file
        raise InputError(f"strip_image_metadata: expected PNG or JPEG bytes, found unreadable data ({e})") from e
    if fmt not in ("PNG", "JPEG"):
        raise InputError(f"strip_image_metadata: expected PNG or JPEG bytes, found {fmt}")
    clean = Image.new(im.mode, im.size)  # pixels only: no info, EXIF, ICC or text chunks
    clean.paste(im)
    if im.mode == "P":
        clean.putpalette(im.getpalette() or [])
    buf = io.BytesIO()
    clean.save(buf, format=fmt, **({"quality": 95} if fmt == "JPEG" else {}))
    return buf.getvalue()


# -- the fix ----------------------------------------------------------------------------------------


def _redact(image: np.ndarray, faces: list[Box], texts: list[Box], pad: float) -> np.ndarray:
    """Faces blurred (padded by `pad`), text boxes filled with their median colour."""
    out = image.copy()
    h, w = out.shape[:2]
    for x, y, bw, bh in faces:
        px, py = int(round(pad * bw)), int(round(pad * bh))
        x0, y0, x1, y1 = max(0, x - px), max(0, y - py), min(w, x + bw + px), min(h, y + bh + py)
        if x1 > x0 and y1 > y0:
            sigma = max(2.0, 0.25 * max(x1 - x0, y1 - y0))
            out[y0:y1, x0:x1] = cv2.GaussianBlur(out[y0:y1, x0:x1], (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)
    for x, y, bw, bh in texts:
        if bw > 0 and bh > 0:
            roi = out[y : y + bh, x : x + bw]
            roi[:] = np.median(roi.reshape(-1, 3), axis=0).astype(np.uint8)
    return out


def _make_fix(check: PrivacyCheck, cover_faces: list[Box], cover_text: list[Box], frame_faces: dict[float, list[Box]],
              frame_text: list[Box], video_dirty: bool):  # fmt: skip
    config = check.config

    def fix(candidate: Candidate) -> Candidate:
        changes: dict[str, Any] = {}
        if candidate.cover is not None and (cover_faces or cover_text):
            changes["cover"] = _redact(candidate.cover, cover_faces, cover_text, config.pad)
        if candidate.video is not None and video_dirty:
            src = Path(candidate.video)
            times = [t for t, _ in iter_raw_frames(src)]
            parent = check._parent(candidate, None)
            step = 1.0 / max(candidate.sample_fps, 1e-6)
            counter = itertools.count()  # reencode passes the frames in the order iter_raw_frames gives them

            def per_frame(frame: np.ndarray) -> np.ndarray:
                t = times[min(next(counter), len(times) - 1)] if times else 0.0
                faces = _new_faces(frame, candidate, config, parent)
                faces += [b for ts, boxes in frame_faces.items() if abs(ts - t) <= step for b in boxes]
                return _redact(frame, faces, frame_text, config.pad)

            fd, name = tempfile.mkstemp(suffix=".privacy.mp4", prefix=f"{src.stem}.", dir=src.parent)
            os.close(fd)  # reencode writes a temporary file and renames it onto `name`
            reencode(src, name, per_frame)
            changes["video"] = Path(name)
        return candidate.replace(**changes)

    return fix


# -- the check --------------------------------------------------------------------------------------


class PrivacyCheck:
    name = "privacy"

    def __init__(self, config: PrivacyConfig | None = None) -> None:
        self.config = config or PrivacyConfig()

    def _parent(self, candidate: Candidate, t: float | None) -> list | None:
        """The parent's relative face boxes; None when there is no parent video (faces are then new)."""
        if candidate.kind != "edit" or candidate.parent_video is None or not Path(candidate.parent_video).is_file():
            return None
        return _parent_faces(candidate, self.config, t)

    def __call__(self, candidate: Candidate, context: FidelityContext | None = None) -> CheckResult:
        config, timings = self.config, {}
        clock = time.perf_counter()
        # 1. what is shown: the new cover and the sampled frames of the new video
        times, frames = candidate.frames
        if candidate.cover is None and len(frames) == 0:
            return CheckResult(self.name, SKIP, 1.0, {"reason": "no new cover or video to look at"})
        timings["decode_s"] = time.perf_counter() - clock
        # 2. faces: every face of a created item, faces not in the source of an edit
        clock = time.perf_counter()
        faces, cover_faces, frame_faces = [], [], {}
        if candidate.cover is not None:
            t = candidate.params.get("t")
            parent = self._parent(candidate, None if t is None else float(t))
            cover_faces = _new_faces(candidate.cover, candidate, config, parent)
            faces += [{"where": "cover", "t": None if t is None else float(t), "box": list(b)} for b in cover_faces]
        if len(frames):
            parent = self._parent(candidate, None)
            aligned = _aligned_parent_faces(candidate, config, times) if parent is not None else [[] for _ in times]
            for t, frame, own in zip(times, frames, aligned):
                new = _new_faces(frame, candidate, config, None if parent is None else parent + own)
                if new:
                    frame_faces[float(t)] = new
                    faces += [{"where": "frame", "t": round(float(t), 3), "box": list(b)} for b in new]
        timings["faces_s"] = time.perf_counter() - clock
        # 3. on-screen text: the cover and `ocr_frames` spread frames, one tesseract run
        clock = time.perf_counter()
        n_ocr = min(config.ocr_frames, len(frames))
        picks = np.unique(np.linspace(0, len(frames) - 1, n_ocr).round().astype(int)) if n_ocr else []
        has_cover = candidate.cover is not None
        images = ([candidate.cover] if has_cover else []) + [frames[k] for k in picks]
        labels = ([("cover", None)] if has_cover else []) + [("frame", round(float(times[k]), 3)) for k in picks]
        found, ocr = find_pii_text(images, config)
        pii, cover_text, frame_text = [], [], []
        for (where, t), lines in zip(labels, found):
            for text, box in lines:
                pii.append({"where": where, "t": t, "text": text, "box": list(box)})
                (cover_text if where == "cover" else frame_text).append(box)
        timings["ocr_s"] = time.perf_counter() - clock
        # 4. metadata of the new video file
        clock = time.perf_counter()
        metadata = video_metadata_findings(candidate.video, config.metadata_keys) if candidate.video is not None else []
        timings["metadata_s"] = time.perf_counter() - clock
        # 5. verdict, score, evidence and the fix
        dirty = {"cover"} if cover_faces or cover_text else set()
        dirty |= {("frame", t) for t in frame_faces} | {(p["where"], p["t"]) for p in pii if p["where"] == "frame"}
        n_images = (candidate.cover is not None) + len(frames)
        score = 0.0 if metadata else 1.0 - len(dirty) / max(1, n_images)
        evidence: dict[str, Any] = {"faces": faces, "pii_text": pii, "metadata": metadata, "ocr": ocr,
                                    "timings_s": {k: round(v, 4) for k, v in timings.items()}}  # fmt: skip
        if not (faces or pii or metadata):
            return CheckResult(self.name, PASS, 1.0, evidence)
        shown = "not in the source" if candidate.kind == "edit" else "shown"
        reasons = [f"{len(faces)} face(s) {shown}"] if faces else []
        reasons += [f"{len(pii)} line(s) of personal data on screen"] if pii else []
        reasons += [f"location/device metadata ({', '.join(sorted({m['key'] for m in metadata}))})"] if metadata else []
        evidence["reason"] = "; ".join(reasons)
        video_dirty = bool(frame_faces or frame_text or metadata)
        fix = _make_fix(self, cover_faces, cover_text, frame_faces, frame_text, video_dirty)
        return CheckResult(self.name, FAIL, score, evidence, fix)
