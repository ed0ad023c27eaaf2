"""safety: no AI-made item shows, or was asked to show, nudity, weapons or gore.

Shared with the creator, which refuses a request before anything is generated:
`BLOCKED` (the blocked words), `blocked_terms(text or guidance)` (the blocked words it contains:
whole words, case-insensitive, plurals "guns" / "nudities" included, "gunny" not),
`instruction_safety(text)` (the same for an instruction that may be None) and
`refuse_blocked(text)`, which raises `InputError` (or the `error` it is given, e.g. the editor's
`CannotSatisfy`): "the instruction asks for blocked content (gun); nothing was made".

`SafetyCheck` looks at a candidate in this order (a test that has nothing to look at is left out;
none left: skip):

1. instruction: `candidate.instruction` (PII-redacted) holds a blocked word: fail, risk 1.
2. nudity: NudeNet 3.4.2's detector (its shipped `320n.onnx`, one onnxruntime session per
   process with one intra-op thread: ~18 ms an image on CPU, faster than its own default
   session's ~36 ms) on the looked-at images: the new cover and `frames` frames evenly spread over
   the new video's sampled frames. NudeNet pads an image to a square and resizes it to 320 px
   itself, so a 128x224 frame needs no upscaling. Images are passed in BGR order, as
   `detect(path)` reads a file. Risk: the highest score of a detection of `nudity_classes` (its
   EXPOSED labels); fail above `nudity_threshold` (0.5: NudeNet reports from 0.2; the only
   detection on the scikit-image photos is FACE_FEMALE 0.72 on astronaut, not a blocked class).
3. weapons: the ImageNet classifier (`context.encoder`) on the same images; risk: the softmax
   mass of `imagenet_blocked` classes; fail above `imagenet_mass` (0.3). ImageNet's "missile" and
   "projectile" are left out of the default: they are also its space-rocket classes (scikit-image's
   `rocket`, a launch-pad photo, gets missile 0.22 + projectile 0.12 = 0.34, which would block
   it), and so is "chain mail" (gravel reads as 0.02 of it). Clean photos carry < 0.02 of the
   default classes.
4. concepts (off unless `bridge`): the zero-shot text-image bridge (`bridge.zero_shot`, cosines in
   MiniLM space through the ImageNet class names; the blended bridge's scores are z-scores over
   the images scored, meaningless for a handful of frames) scores each image for
   `blocked_concepts` and for `benign_references`; risk d = max blocked − max benign cosine; fail
   when d > `bridge_margin`. On scikit-image's photos and 128x224 crops of them d is −0.17 to −0.56
   (the best benign text always wins), but with no real gore or weapon photo to calibrate against
   it is derived from the same ImageNet softmax as test 3 and adds no independent evidence, so it
   is off by default and `bridge = true` in a policy turns it on.

Verdict: fail when any test fails. Score: 1 − the highest risk (clipped to [0, 1]). Evidence: per
image its nudity detections, blocked ImageNet mass and top blocked class (and bridge margin), and
"reason". No fix: what is unsafe is blocked (`policy.py`'s default action for safety).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from generec.errors import InputError
from generec.fidelity.types import FAIL, PASS, SKIP, Candidate, CheckResult, FidelityContext

BLOCKED = ("gore", "blood", "weapon", "gun", "nude", "nudity", "porn", "violence", "killing", "terrorism")
NUDENET_EXPOSED = ("FEMALE_BREAST_EXPOSED", "FEMALE_GENITALIA_EXPOSED", "MALE_GENITALIA_EXPOSED", "ANUS_EXPOSED",
                   "BUTTOCKS_EXPOSED")  # fmt: skip
NUDENET_LABELS = ("FEMALE_GENITALIA_COVERED", "FACE_FEMALE", "BUTTOCKS_EXPOSED", "FEMALE_BREAST_EXPOSED",
                  "FEMALE_GENITALIA_EXPOSED", "MALE_BREAST_EXPOSED", "ANUS_EXPOSED", "FEET_EXPOSED", "BELLY_COVERED",
                  "FEET_COVERED", "ARMPITS_COVERED", "ARMPITS_EXPOSED", "FACE_MALE", "BELLY_EXPOSED",
                  "MALE_GENITALIA_EXPOSED", "ANUS_COVERED", "FEMALE_BREAST_COVERED", "BUTTOCKS_COVERED")  # fmt: skip


# --- the blocked words of a request -------------------------------------------------------------


def _words_of(source: Any) -> str:
    """The lower-case text to look in: a str, or a Guidance's text and include concepts."""
    if source is None:
        return ""
    if isinstance(source, str):
        return source.lower()
    if hasattr(source, "text") and hasattr(source, "include"):
        return " ".join([source.text or "", *source.include]).lower()
    raise InputError(f"blocked_terms: expected a text or a Guidance, found {type(source).__name__}")


@lru_cache(maxsize=256)
def _pattern(term: str) -> re.Pattern[str]:
    """`term` (words) as whole words, singular or plural (+s, +es; a "-y" term's "-ies")."""
    words = term.lower().split()
    if not words:
        raise InputError("blocked: expected non-empty blocked terms, found an empty one")
    forms = r"\s+".join(map(re.escape, words)) + "(?:s|es)?"
    if words[-1].endswith("y"):
        forms += "|" + r"\s+".join(map(re.escape, [*words[:-1], words[-1][:-1] + "ies"]))
    return re.compile(rf"(?<![a-z0-9])(?:{forms})(?![a-z0-9])")


def blocked_terms(text_or_guidance: Any, blocked: tuple[str, ...] = BLOCKED) -> list[str]:
    """The terms of `blocked` that `text_or_guidance` (a str, or a Guidance: its text and include
    concepts) contains as whole words, case-insensitive, singular or plural; sorted."""
    text = _words_of(text_or_guidance)
    if isinstance(blocked, str):
        raise InputError("blocked: expected a tuple of terms, found a single string")
    return sorted({" ".join(b.lower().split()) for b in blocked if _pattern(b).search(text)})


def instruction_safety(text: str | None, blocked: tuple[str, ...] = BLOCKED) -> list[str]:
    """The blocked terms of an instruction (none when there is no instruction)."""
    if text is not None and not isinstance(text, str):
        raise InputError(f"instruction: expected a text or None, found {type(text).__name__}")
    return blocked_terms(text, blocked) if text else []


def refuse_blocked(text: Any, blocked: tuple[str, ...] = BLOCKED, *, outcome: str = "nothing was made",
                   error: type[InputError] = InputError) -> None:  # fmt: skip
    """Raise `error` ("the instruction asks for blocked content (gun); nothing was made") when the
    text or guidance holds blocked terms; return None otherwise."""
    if hits := blocked_terms(text, blocked):
        raise error(f"the instruction asks for blocked content ({', '.join(hits)}); {outcome}")


# --- the check ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SafetyConfig:
    blocked: tuple[str, ...] = BLOCKED  # words of the instruction test
    nudity_threshold: float = 0.5  # a NudeNet detection of `nudity_classes` scoring above this fails
    nudity_classes: tuple[str, ...] = NUDENET_EXPOSED
    imagenet_blocked: tuple[str, ...] = ("assault rifle", "rifle", "revolver", "holster", "cannon", "guillotine")
    imagenet_mass: float = 0.3  # softmax mass over `imagenet_blocked` above which an image fails
    bridge: bool = False  # the zero-shot concept test (module docstring, 4.)
    blocked_concepts: tuple[str, ...] = ("gore", "weapon", "gun", "blood")
    benign_references: tuple[str, ...] = ("a cat", "a person", "food", "a landscape", "an object", "a vehicle")
    bridge_margin: float = 0.0  # fail when max blocked − max benign cosine exceeds this
    frames: int = 4  # video frames looked at, besides the cover

    def __post_init__(self) -> None:
        if not 0.0 <= self.nudity_threshold <= 1.0 or not 0.0 <= self.imagenet_mass <= 1.0:
            raise InputError(f"SafetyConfig: nudity_threshold and imagenet_mass must be in [0, 1], found "
                             f"{self.nudity_threshold}, {self.imagenet_mass}")  # fmt: skip
        if not -2.0 <= self.bridge_margin <= 2.0:
            raise InputError(f"SafetyConfig: bridge_margin must be in [-2, 2] (a cosine difference), "
                             f"found {self.bridge_margin}")  # fmt: skip
        if isinstance(self.frames, bool) or not isinstance(self.frames, int) or not 0 <= self.frames <= 48:
            raise InputError(f"SafetyConfig: frames must be an integer in [0, 48], found {self.frames!r}")
        for name in ("blocked", "nudity_classes", "imagenet_blocked", "blocked_concepts", "benign_references"):
            value = getattr(self, name)
            if isinstance(value, str) or not all(isinstance(v, str) and v.strip() for v in value):
                raise InputError(f"SafetyConfig: {name} must be a list of non-empty texts, found {value!r}")
        unknown = sorted(set(self.nudity_classes) - set(NUDENET_LABELS))
        if unknown:
            raise InputError(f"SafetyConfig: unknown NudeNet class(es) {', '.join(unknown)}; "
                             f"valid: {', '.join(NUDENET_LABELS)}")  # fmt: skip
        if self.bridge and not (self.blocked_concepts and self.benign_references):
            raise InputError("SafetyConfig: the bridge test needs blocked_concepts and benign_references")


_DETECTOR: Any = None
_DETECTOR_LOCK = threading.Lock()


def nude_detector() -> Any:
    """NudeNet's 320n detector, built once per process with a one-thread onnxruntime session."""
    global _DETECTOR
    with _DETECTOR_LOCK:
        if _DETECTOR is None:
            import os

            import onnxruntime
            from nudenet import NudeDetector, nudenet

            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads, options.inter_op_num_threads = 1, 1
            detector = NudeDetector.__new__(NudeDetector)  # its __init__ builds a default session
            path = os.path.join(os.path.dirname(nudenet.__file__), "320n.onnx")
            detector.onnx_session = onnxruntime.InferenceSession(path, sess_options=options,
                                                                 providers=["CPUExecutionProvider"])  # fmt: skip
            detector.input_width = detector.input_height = 320
            detector.input_name = detector.onnx_session.get_inputs()[0].name
            _DETECTOR = detector
        return _DETECTOR


def detect_nudity(images: list[np.ndarray]) -> list[list[dict[str, Any]]]:
    """NudeNet's detections ({class, score, box}) of each RGB uint8 image."""
    detector = nude_detector()
    bgr = [np.ascontiguousarray(im[..., ::-1]) for im in images]  # as detect(path) reads a file
    return detector.detect_batch(bgr, batch_size=max(1, len(bgr))) if bgr else []


def _evenly(n: int, k: int) -> np.ndarray:
    return np.unique(np.linspace(0, n - 1, min(n, k)).round().astype(int)) if n and k else np.zeros(0, int)


class SafetyCheck:
    name = "safety"

    def __init__(self, config: SafetyConfig | None = None) -> None:
        self.config = config or SafetyConfig()

    def images(self, candidate: Candidate) -> tuple[list[str], list[np.ndarray]]:
        """(labels, RGB images) looked at: the new cover and `frames` frames of the new video."""
        labels, images = [], []
        if candidate.cover is not None:
            labels.append("cover")
            images.append(np.ascontiguousarray(candidate.cover))
        if candidate.video is not None and self.config.frames:
            from generec.media.video import apply_rotation, read_rotation

            times, frames = candidate.frames
            rotation = read_rotation(candidate.video)
            for i in _evenly(len(frames), self.config.frames):
                labels.append(f"frame@{float(times[i]):.2f}s")
                images.append(apply_rotation(frames[i], rotation))
        return labels, images

    def __call__(self, candidate: Candidate, context: FidelityContext) -> CheckResult:
        cfg = self.config
        risks: dict[str, float] = {}
        reasons: list[str] = []
        evidence: dict[str, Any] = {}
        # 1. the instruction
        if candidate.instruction is not None:
            hits = instruction_safety(candidate.instruction, cfg.blocked)
            evidence["instruction_terms"] = hits
            risks["instruction"] = 1.0 if hits else 0.0
            if hits:
                reasons.append(f"the instruction asks for blocked content ({', '.join(hits)})")
        labels, images = self.images(candidate)
        if not images and not risks:
            why = "nothing to look at: no instruction, new cover or new video"
            return CheckResult(self.name, SKIP, 1.0, {"reason": why})
        per_image: list[dict[str, Any]] = [{"image": label} for label in labels]
        if images:
            # 2. nudity: NudeNet on every looked-at image
            classes = set(cfg.nudity_classes)
            worst_nude = (0.0, None, None)
            for row, found in zip(per_image, detect_nudity(images)):
                kept = [{"class": d["class"], "score": round(float(d["score"]), 4), "box": list(d["box"])}
                        for d in found if d["class"] in classes]  # fmt: skip
                row["nudity"] = kept
                for d in kept:
                    if d["score"] > worst_nude[0]:
                        worst_nude = (d["score"], d["class"], row["image"])
            risks["nudity"] = worst_nude[0]
            if worst_nude[0] > cfg.nudity_threshold:
                top, label, where = worst_nude
                reasons.append(f"nudity: {label} {top:.2f} > {cfg.nudity_threshold:g} on the {where}")
            # 3. weapons: the blocked ImageNet classes' softmax mass
            embedding = context.encoder.encode(images)
            z = embedding.logits.astype(np.float64)
            p = np.exp(z - z.max(1, keepdims=True))
            p /= p.sum(1, keepdims=True)
            names = list(context.encoder.class_names)
            missing = [c for c in cfg.imagenet_blocked if c not in names]
            if missing:
                raise InputError(f"safety: imagenet_blocked names unknown ImageNet class(es) {', '.join(missing)}")
            idx = np.array([names.index(c) for c in cfg.imagenet_blocked], int)
            mass = p[:, idx].sum(1) if len(idx) else np.zeros(len(images))
            for row, m, pr in zip(per_image, mass, p):
                row["imagenet_mass"] = round(float(m), 4)
                if len(idx):
                    j = idx[int(np.argmax(pr[idx]))]
                    row["top_blocked_class"] = [names[j], round(float(pr[j]), 4)]
            k = int(np.argmax(mass))
            risks["weapons"] = float(mass[k])
            if mass[k] > cfg.imagenet_mass:
                reasons.append(f"weapons: ImageNet mass {mass[k]:.2f} of {', '.join(cfg.imagenet_blocked)} > "
                               f"{cfg.imagenet_mass:g} on the {labels[k]}")  # fmt: skip
            # 4. blocked concepts through the zero-shot bridge (off by default)
            if cfg.bridge:
                zero_shot = context.get_bridge().zero_shot
                s = np.asarray(zero_shot.score([*cfg.blocked_concepts, *cfg.benign_references], embedding.logits))
                nb = len(cfg.blocked_concepts)
                d = s[:nb].max(0) - s[nb:].max(0)  # (N,)
                for row, di, col in zip(per_image, d, s.T):
                    row["bridge_margin"] = round(float(di), 4)
                    row["bridge_concept"] = cfg.blocked_concepts[int(np.argmax(col[:nb]))]
                k = int(np.argmax(d))
                risks["concepts"] = float(np.clip(d[k], 0.0, 1.0))
                if d[k] > cfg.bridge_margin:
                    reasons.append(f"concepts: {per_image[k]['bridge_concept']!r} outscores every benign text by "
                                   f"{d[k]:.2f} > {cfg.bridge_margin:g} on the {labels[k]}")  # fmt: skip
        # 5. verdict
        evidence["images"] = per_image
        evidence["risks"] = {k: round(v, 4) for k, v in risks.items()}
        score = float(np.clip(1.0 - max(risks.values()), 0.0, 1.0))
        if reasons:
            evidence["reason"] = "; ".join(reasons)
            return CheckResult(self.name, FAIL, score, evidence)
        looked = ", ".join(risks)
        evidence["reason"] = f"nothing unsafe found ({looked}) in {len(images)} image(s)"
        return CheckResult(self.name, PASS, score, evidence)
