"""`generec evaluate fidelity`: the red-team protocol for the fidelity checks, and the watermark table.

The red-team set is built by this module from real photos that packages ship and from the
workspace's own catalogue (the benchmark's videos), never from the checks' own outputs:

| case | made of | the check that must catch it |
|---|---|---|
| face | a created video panning over a photo with a frontal face | privacy |
| pii_text | a catalogue video with an e-mail or phone number drawn on screen | privacy |
| near_duplicate | a "created" item that is another uploader's cover/video after JPEG q50, resize, crop or +10 % brightness | originality |
| misleading_cover | a cover edit showing a 0.2 s flash frame of another concept spliced into the video | authenticity |
| frozen / black | a clip whose middle 2 s are one frame held / black | quality |
| dark / blurred | a cover edit 4× darker / blurred (σ = 2.5 px) | quality |

Clean edits are the editor's real cover, clip and restyle edits of random (user, video) pairs; each
is checked by the same gate and marked, then dropped before it is stored (the workspace is left
as it was). Reported: per check precision and recall on its cases (a red-team item failing a
check that is not its own is counted apart, not as a false positive), the false-block and flag
rates on clean edits, the gate's time against the edit's, and the watermark's robustness
(`watermark_robustness.py`) on clips of the catalogue's videos.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from generec.fidelity.gate import Gate
from generec.fidelity.policy import Policy
from generec.fidelity.types import Candidate
from generec.types import Origin

CASES = {
    "face": "privacy", "pii_text": "privacy", "near_duplicate": "originality", "misleading_cover": "authenticity",
    "frozen": "quality", "black": "quality", "dark": "quality", "blurred": "quality",
}  # fmt: skip
# photos.csv names with a frontal face, and the face's box (x, y, w, h) in the photo's pixels
# (looked at by us). Every frame of a face item shows the whole box: without it, a pan over the
# football photo could show the crowd and a leg but no face (2 of the first 20 items did).
FACE_BOXES = {"astronaut": (173, 82, 102, 98), "grace_hopper.jpg": (168, 120, 188, 215), "data/messi5.jpg": (213, 82, 50, 54)}
FACE_PHOTOS = tuple(FACE_BOXES)


@dataclass(frozen=True)
class FidelityEvalConfig:
    clean: int = 100
    per_case: int = 20
    clips: int = 100  # watermark robustness clips
    seed: int = 0
    width: int = 128
    height: int = 224
    fps: float = 12.0
    seconds: float = 4.0


@dataclass
class FidelityReport:
    n_red_team: int
    n_clean: int
    checks: dict[str, dict[str, float]]  # check -> precision, recall, tp, fn, fp
    cases: dict[str, dict[str, float]]  # case -> caught (by its check), blocked, flagged, n
    clean: dict[str, float]  # false_block_rate, flag_rate, per-check fail rates
    timing: dict[str, float]  # median gate / edit seconds and their ratio
    watermark: dict[str, Any]
    misses: list[dict[str, Any]] = field(default_factory=list)  # red-team items their check let through
    clean_failures: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


class _Stop(Exception):
    """Raised by the recording gate after checking and marking: nothing is stored."""


class RecordingGate(Gate):
    """The real gate; it records each admitted candidate's report and timings, then stops the write."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.records: list[dict[str, Any]] = []

    def admit(self, candidate: Candidate, item_id: str, provenance: dict[str, Any], tmp: Path):
        t0 = time.perf_counter()
        result = self.check(candidate)
        t1 = time.perf_counter()
        if result.decision != "block":
            self.mark(result.candidate, item_id, provenance, tmp)
        self.records.append({"report": result.report, "check_s": t1 - t0, "gate_s": time.perf_counter() - t0})
        raise _Stop


# -- the red-team set --------------------------------------------------------------------------------


def _pan(image: np.ndarray, n: int, w: int, h: int, rng: np.random.Generator, zoom: float = 0.9,
         keep: tuple[int, int, int, int] | None = None) -> list[np.ndarray]:
    """n frames (h, w, 3): a window of the portrait aspect moving across `image` (a slow pan and
    zoom); with `keep` (x, y, w, h), every frame shows that box whole where the window can hold it."""
    H, W = image.shape[:2]
    ch = min(H, W * h / w) * zoom
    cw = ch * w / h
    shrink = 0.92  # the window's smallest scale below
    (bx, by, bw, bh) = keep if keep is not None else (0, 0, 0, 0)

    def span(lo: float, hi: float, room: float, u: np.ndarray) -> np.ndarray:
        """Window starts in [lo, hi] (a box wider than the window: centred on it, within the image)."""
        return lo + (hi - lo) * u if lo <= hi else np.full_like(u, min(max((lo + hi) / 2, 0.0), room))

    x_lo, x_hi = (max(0.0, bx + bw - cw * shrink), min(float(bx), W - cw)) if keep else (0.0, W - cw)
    y_lo, y_hi = (max(0.0, by + bh - ch * shrink), min(float(by), H - ch)) if keep else (0.0, H - ch)
    x0, x1 = span(x_lo, x_hi, W - cw, rng.uniform(0, 1, 2))  # the same draws with or without `keep`
    y0, y1 = span(y_lo, y_hi, H - ch, rng.uniform(0, 1, 2))
    out = []
    for i in range(n):
        a = i / max(1, n - 1)
        s = 1.0 - 0.08 * a
        x, y = x0 + (x1 - x0) * a * 0.3, y0 + (y1 - y0) * a * 0.3
        crop = image[int(y) : int(y + ch * s), int(x) : int(x + cw * s)]
        out.append(cv2.resize(crop, (w, h), interpolation=cv2.INTER_AREA))
    return out


def _write(path: Path, frames: list[np.ndarray], fps: float) -> Path:
    from generec.media.encode import write_mp4

    write_mp4(path, frames, fps)
    return path


def _text_frame(frame: np.ndarray, text: str, where: float) -> np.ndarray:
    """`text` drawn as a caption band (white on black), as an uploader's on-screen text would be."""
    out = frame.copy()
    h, w = out.shape[:2]
    scale = 0.38 if len(text) <= 18 else 0.3
    (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    y = int(h * where)
    cv2.rectangle(out, (0, y - th - 4), (w, y + 4), (0, 0, 0), -1)
    cv2.putText(out, text, (max(1, (w - tw) // 2), y), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA)
    return out


def _pii(rng: np.random.Generator) -> str:
    if rng.random() < 0.5:
        user = "".join(rng.choice(list("abcdefghijklmnopqrstuvwxyz"), int(rng.integers(4, 8))))
        return f"{user}@{rng.choice(['mail.com', 'web.de', 'inbox.org'])}"
    return f"+1 {rng.integers(200, 999)} {rng.integers(200, 999)} {rng.integers(1000, 9999)}"


def _transform(image: np.ndarray, how: str) -> np.ndarray:
    from PIL import Image

    if how == "jpeg50":
        import io

        buf = io.BytesIO()
        Image.fromarray(image).save(buf, "JPEG", quality=50)
        return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
    if how == "resize":
        h, w = image.shape[:2]
        return cv2.resize(cv2.resize(image, (int(w * 0.75), int(h * 0.75)), interpolation=cv2.INTER_AREA), (w, h))
    if how == "crop":
        h, w = image.shape[:2]
        dy, dx = int(h * 0.05), int(w * 0.05)
        return cv2.resize(image[dy : h - dy, dx : w - dx], (w, h))
    return np.clip(image.astype(np.float32) * 1.1, 0, 255).astype(np.uint8)  # brightness +10 %


def red_team(ws, cfg: FidelityEvalConfig, tmp: Path) -> list[tuple[str, Candidate]]:
    """(case, candidate) pairs, `per_case` of each case (module doc)."""
    from generec.datasets.photos import load_photos
    from generec.media.decode import sample_frames
    from generec.media.image import load_image

    rng = np.random.default_rng(cfg.seed)
    n = int(cfg.fps * cfg.seconds)
    w, h = cfg.width, cfg.height
    catalogue = [it for it in ws.items.all(origin=Origin.HUMAN) if it.media is not None and it.cover is not None]
    if len(catalogue) < 4:
        raise ValueError(f"workspace {ws.root}: the red-team set needs a catalogue of at least 4 videos, found {len(catalogue)}")
    photos = load_photos()
    faces = [p for p in photos if p.name in FACE_PHOTOS]
    out: list[tuple[str, Candidate]] = []

    def video_of(item) -> Path:
        return ws.media_path(item.media.hash, item.media.mime)

    def frames_of(item, k: int) -> list[np.ndarray]:
        return sample_frames(video_of(item), k).images

    for j in range(cfg.per_case):
        item = catalogue[int(rng.integers(len(catalogue)))]
        other = next(o for o in (catalogue[int(rng.integers(len(catalogue)))] for _ in range(50)) if o.uploader != item.uploader and set(o.tags) != set(item.tags))
        d = tmp / f"{j:03d}"
        d.mkdir()
        # face: a created video over a face photo
        if faces:
            photo = faces[j % len(faces)]
            face, (bx, by, bw, bh) = photo.image, FACE_BOXES[photo.name]
            if j % 2:  # mirrored, and its face box with it
                face, bx = face[:, ::-1], face.shape[1] - bx - bw
            frames = _pan(face, n, w, h, rng, zoom=float(rng.uniform(0.7, 1.0)), keep=(bx, by, bw, bh))
            out.append(("face", Candidate("create", "create", "A video of people (AI-created)", ["person", "ai-created"],
                                          video=_write(d / "face.mp4", frames, cfg.fps), cover=frames[0])))  # fmt: skip
        # pii_text: the catalogue video with an e-mail or a phone number on screen (a clip edit)
        text, where = _pii(rng), float(rng.uniform(0.2, 0.9))
        shown = [_text_frame(f, text, where) for f in frames_of(item, n)]
        out.append(("pii_text", Candidate("edit", "clip", item.title + " (clip)", list(item.tags), video=_write(d / "pii.mp4", shown, cfg.fps),
                                          cover=shown[0], parent=item, parent_video=video_of(item), params={"start": 0.0, "end": cfg.seconds})))  # fmt: skip
        # near_duplicate: another uploader's item, transformed, passed off as created
        how = ("jpeg50", "resize", "crop", "brightness")[j % 4]
        copied = [_transform(f, how) for f in frames_of(other, n)]
        cover = _transform(load_image(ws.media_path(other.cover.hash, other.cover.mime)), how)
        out.append(("near_duplicate", Candidate("create", "create", "A video (AI-created)", list(other.tags),
                                                video=_write(d / "dup.mp4", copied, cfg.fps), cover=cover, params={"transform": how})))  # fmt: skip
        # misleading_cover: a 0.2 s flash of another concept spliced in, used as the cover
        base = frames_of(item, n)
        flash = frames_of(other, 1)[0]
        if flash.shape != base[0].shape:  # a landscape flash in a portrait video: shown at the video's size
            flash = cv2.resize(flash, (base[0].shape[1], base[0].shape[0]), interpolation=cv2.INTER_AREA)
        at = int(rng.integers(n // 4, 3 * n // 4))
        k = max(1, round(0.2 * cfg.fps))
        spliced = base[:at] + [flash] * k + base[at + k :]
        out.append(("misleading_cover", Candidate("edit", "cover", item.title, list(item.tags), cover=flash, parent=item,
                                                  parent_video=_write(d / "flash.mp4", spliced, cfg.fps), params={"t": at / cfg.fps})))  # fmt: skip
        # frozen / black: the middle 2 s held on one frame / black
        mid = slice(n // 4, n // 4 + int(2 * cfg.fps))
        frozen = list(base)
        frozen[mid] = [base[n // 4]] * len(frozen[mid])
        black = list(base)
        black[mid] = [np.zeros_like(base[0])] * len(black[mid])
        for case, frames in (("frozen", frozen), ("black", black)):
            out.append((case, Candidate("edit", "clip", item.title + " (clip)", list(item.tags), video=_write(d / f"{case}.mp4", frames, cfg.fps),
                                        cover=base[0], parent=item, parent_video=video_of(item), params={"start": 0.0, "end": cfg.seconds})))  # fmt: skip
        # dark / blurred covers of a real frame of the video
        t = float(rng.uniform(0.5, max(0.6, (item.media.duration or 2.0) - 0.5)))
        from generec.media.decode import frames_at

        real = frames_at(video_of(item), [t]).images[0]
        dark = (real.astype(np.float32) * 0.25).astype(np.uint8)
        blurred = cv2.GaussianBlur(real, (0, 0), 2.5)
        for case, cov in (("dark", dark), ("blurred", blurred)):
            out.append((case, Candidate("edit", "cover", item.title, list(item.tags), cover=cov, parent=item, parent_video=video_of(item), params={"t": t})))
    return out


# -- the protocol ------------------------------------------------------------------------------------


def _clean_edits(ws, gate: RecordingGate, cfg: FidelityEvalConfig, progress: Callable | None) -> list[dict[str, Any]]:
    """Real cover / clip / restyle edits of random (user, video) pairs through the recording gate."""
    from generec.editor.base import CannotSatisfy
    from generec.errors import InputError
    from generec.editor.looks import LOOKS
    from generec.pipeline import EditConfig, edit

    rng = np.random.default_rng(cfg.seed + 1)
    users = ws.users.ids()
    items = [it.id for it in ws.items.all(origin=Origin.HUMAN) if it.media is not None]
    ops = ("cover", "clip", "style")
    looks = sorted(set(LOOKS) - {"natural"})
    rows: list[dict[str, Any]] = []
    tries = 0
    while len(rows) < cfg.clean and tries < cfg.clean * 3:
        tries += 1
        user, item, op = users[int(rng.integers(len(users)))], items[int(rng.integers(len(items)))], ops[tries % 3]
        # a restyle into a named look (without one, most users have no look that beats the original)
        asked = f"in {looks[int(rng.integers(len(looks)))]} style" if op == "style" else None
        before = len(gate.records)
        t0 = time.perf_counter()
        try:
            edit(ws, op, user, item, instruction=asked, config=EditConfig())
        except _Stop:
            pass
        except (CannotSatisfy, InputError):  # a user with no history, a video too short to clip: not an edit
            continue
        total = time.perf_counter() - t0
        if len(gate.records) == before:  # the same edit already stored: nothing was checked
            continue
        rec = gate.records[-1]
        rows.append({"op": op, "user": user, "item": item, "edit_s": total - rec["gate_s"], **rec})
        if progress:
            progress("clean edits", len(rows), cfg.clean)
    return rows


def evaluate_fidelity(ws, cfg: FidelityEvalConfig | None = None, policy: Policy | None = None, progress: Callable | None = None) -> FidelityReport:
    from generec.fidelity.gate import _GATES

    cfg = cfg or FidelityEvalConfig()
    gate = RecordingGate(ws, policy)
    key = str(Path(ws.root).resolve())
    saved = _GATES.get(key)
    _GATES[key] = gate  # the pipeline's edits go through the recording gate
    try:
        with tempfile.TemporaryDirectory() as tmp:
            # 1. the red-team set, checked
            cases = red_team(ws, cfg, Path(tmp))
            results = []
            for i, (case, cand) in enumerate(cases):
                results.append((case, gate.check(cand).report))
                if progress:
                    progress("red team", i + 1, len(cases))
            # 2. clean edits, checked and marked
            clean = _clean_edits(ws, gate, cfg, progress)
            # 3. the watermark's robustness on clips of the catalogue's videos
            watermark = _watermark_table(ws, gate, cfg, progress)
    finally:
        if saved is not None:
            _GATES[key] = saved
        else:
            _GATES.pop(key, None)
    return _summarise(results, clean, watermark)


def _watermark_table(ws, gate: Gate, cfg: FidelityEvalConfig, progress: Callable | None) -> dict[str, Any]:
    from generec.evaluation.watermark_robustness import watermark_robustness
    from generec.media.decode import iter_frames

    rng = np.random.default_rng(cfg.seed + 2)
    catalogue = [it for it in ws.items.all(origin=Origin.HUMAN) if it.media is not None]
    n = int(cfg.fps * cfg.seconds)
    clips = []
    for _ in range(cfg.clips):
        item = catalogue[int(rng.integers(len(catalogue)))]
        path = ws.media_path(item.media.hash, item.media.mime)
        clip = [f for t, f in iter_frames(path) if t < cfg.seconds][:n]  # its first seconds, every frame
        clips.append(clip)
    report = watermark_robustness(clips, gate.keys.watermark_key, seed=cfg.seed)
    return report.to_dict()


def _failed(report: dict[str, Any], check: str) -> bool:
    """Did `check` find something: a failure, or one its fix repaired (the re-check then passes)?"""
    return any(c["check"] == check and (c["verdict"] == "fail" or c.get("fixed")) for c in report["checks"])


def _summarise(results: list[tuple[str, dict]], clean: list[dict[str, Any]], watermark: dict[str, Any]) -> FidelityReport:
    checks = sorted(set(CASES.values()) | {c["check"] for _, r in results for c in r["checks"]})
    per_check: dict[str, dict[str, float]] = {}
    for check in checks:
        own = [r for case, r in results if CASES[case] == check]
        tp = sum(_failed(r, check) for r in own)
        fp = sum(_failed(row["report"], check) for row in clean)
        per_check[check] = {"tp": tp, "fn": len(own) - tp, "fp_clean": fp, "recall": tp / len(own) if own else float("nan"),
                            "precision": tp / (tp + fp) if tp + fp else float("nan"),
                            "fails_other_cases": sum(_failed(r, check) for case, r in results if CASES[case] != check)}  # fmt: skip
    per_case = {}
    for case in CASES:
        rs = [r for c, r in results if c == case]
        if rs:
            per_case[case] = {"n": len(rs), "caught": sum(_failed(r, CASES[case]) for r in rs) / len(rs),
                              "blocked": sum(r["decision"] == "block" for r in rs) / len(rs),
                              "flagged": sum(r["decision"] == "flag" for r in rs) / len(rs)}  # fmt: skip
    n = max(1, len(clean))
    clean_rates = {"false_block_rate": sum(r["report"]["decision"] == "block" for r in clean) / n,
                   "flag_rate": sum(r["report"]["decision"] == "flag" for r in clean) / n,
                   **{f"fail_{c}": sum(_failed(r["report"], c) for r in clean) / n for c in checks}}  # fmt: skip
    ratio = [r["gate_s"] / r["edit_s"] for r in clean if r["edit_s"] > 0]
    timing = {"median_edit_s": float(np.median([r["edit_s"] for r in clean])) if clean else float("nan"),
              "median_gate_s": float(np.median([r["gate_s"] for r in clean])) if clean else float("nan"),
              "median_check_s": float(np.median([r["check_s"] for r in clean])) if clean else float("nan"),
              "median_gate_over_edit": float(np.median(ratio)) if ratio else float("nan")}  # fmt: skip
    misses = [{"case": case, "checks": {c["check"]: (c["verdict"], c["score"]) for c in r["checks"]}} for case, r in results if not _failed(r, CASES[case])]
    fails = [{"op": r["op"], "item": r["item"], "user": r["user"], "decision": r["report"]["decision"],
              "failed": {c["check"]: c["evidence"] for c in r["report"]["checks"] if c["verdict"] == "fail"}} for r in clean if r["report"]["decision"] != "serve"]  # fmt: skip
    return FidelityReport(len(results), len(clean), per_check, per_case, clean_rates, timing, watermark, misses[:40],
                          json.loads(json.dumps(fails[:40], default=str)))  # fmt: skip


def print_fidelity_report(report: FidelityReport, console) -> None:
    from rich.table import Table

    t = Table(title=f"fidelity red team: {report.n_red_team} items, {report.n_clean} clean edits", title_justify="left")
    for col in ("check", "recall", "precision", "tp", "fn", "fails on clean", "fails other cases"):
        t.add_column(col, justify="right" if col != "check" else "left")
    for name, m in report.checks.items():
        t.add_row(name, f"{m['recall']:.3f}", f"{m['precision']:.3f}", str(m["tp"]), str(m["fn"]), str(m["fp_clean"]), str(m["fails_other_cases"]))
    console.print(t)
    c = Table(title="per case", title_justify="left")
    for col in ("case", "n", "caught", "blocked", "flagged"):
        c.add_column(col, justify="right" if col != "case" else "left")
    for name, m in report.cases.items():
        c.add_row(name, str(m["n"]), f"{m['caught']:.3f}", f"{m['blocked']:.3f}", f"{m['flagged']:.3f}")
    console.print(c)
    console.print(f"clean edits: false blocks {report.clean['false_block_rate']:.3f}, flagged {report.clean['flag_rate']:.3f}; "
                  f"gate {report.timing['median_gate_s']:.3f} s vs edit {report.timing['median_edit_s']:.3f} s (median ratio {report.timing['median_gate_over_edit']:.3f})")  # fmt: skip
    wm = report.watermark
    if wm:
        console.print(f"watermark: {json.dumps(wm.get('summary', wm), default=str)[:2000]}")
