"""What every fidelity check shares: the candidate it looks at, its context, and its result.

A check is `check(candidate, context) -> CheckResult` (`FidelityCheck`). The candidate is an
AI-edited or AI-created item *before* it is stored as servable: its new video file (or None when
it reuses the parent's video, as a cover edit does), its cover image, its parent and what the op
chose. A check never reads benchmark ground truth; it looks at pixels, sound, text and the
catalogue.

A check's `verdict` is what it saw ("pass", "fail", or "skip" when it does not apply, e.g. the
audio test of a silent source); what to do about a failure (pass / fix / flag / block) is the
policy's (`policy.py`). A `fix` is a function that returns a repaired candidate, which is then
checked again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from generec.types import Item

if TYPE_CHECKING:
    from generec.encoders.cache import FeatureCache
    from generec.encoders.image import ImageEncoder
    from generec.workspace import Workspace

PASS, FAIL, SKIP = "pass", "fail", "skip"
VERDICTS = (PASS, FAIL, SKIP)


@dataclass
class Candidate:
    """An AI-made item waiting for its checks.

    `kind` is "edit" (repurposed from `parent`) or "create" (no parent). `video` is the new video
    file, or None when the item shows its parent's video unchanged (a personal cover). `cover` is
    the RGB uint8 (H, W, 3) cover image, or None when the parent's cover is kept.
    """

    kind: str  # "edit" | "create"
    op: str  # cover | clip | style | regenerate | create
    title: str
    tags: list[str]
    video: Path | None = None
    cover: np.ndarray | None = None
    parent: Item | None = None
    parent_video: Path | None = None  # the parent's media file (edits)
    params: dict[str, Any] = field(default_factory=dict)  # what the op chose (timestamp, span, look, ...)
    instruction: str | None = None  # the instruction's PII-redacted text, when there was one
    sample_fps: float = 2.0  # video frames looked at per second
    max_frames: int = 48

    @cached_property
    def frames(self) -> tuple[np.ndarray, np.ndarray]:
        """(times (n,), frames (n, H, W, 3) uint8) of `video` sampled at `sample_fps` (at most
        `max_frames`); empty when there is no new video."""
        if self.video is None:
            return np.zeros(0), np.zeros((0, 1, 1, 3), np.uint8)
        return sample_video(self.video, self.sample_fps, self.max_frames)

    def replace(self, **changes: Any) -> Candidate:
        """A copy with `changes` (a fix's result); sampled frames are read again."""
        return dataclasses.replace(self, **changes)


def sample_video(path: Path, fps: float, max_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """(times, frames) shown at the centres of equal segments, `fps` a second, at most `max_frames`."""
    from generec.media.decode import sample_frames
    from generec.media.video import NO_LIMITS, probe

    duration = probe(path, NO_LIMITS).duration or 0.0
    n = int(min(max_frames, max(1, round(duration * fps))))
    frames = sample_frames(path, n)
    return np.asarray(frames.timestamps, float), np.stack(frames.images)


@dataclass
class CheckResult:
    check: str  # the check's name
    verdict: str  # pass | fail | skip
    score: float  # the check's own measure (documented in its module); higher is better
    evidence: dict[str, Any] = field(default_factory=dict)  # what it saw: numbers, boxes, matches
    fix: Callable[[Candidate], Candidate] | None = None  # repairs the candidate, when the check can

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"CheckResult {self.check}: verdict must be one of {VERDICTS}, found {self.verdict!r}")

    @property
    def failed(self) -> bool:
        return self.verdict == FAIL

    def to_dict(self) -> dict[str, Any]:
        return {"check": self.check, "verdict": self.verdict, "score": float(self.score), "evidence": self.evidence,
                "fixable": self.fix is not None}  # fmt: skip


@dataclass
class FidelityContext:
    """What the checks read besides the candidate: the workspace (catalogue, media, caches), the
    image encoder, and the text→image bridge (loaded on first use). `training_frames` are the AI
    creator's training images (N, h, w, 3) uint8, for the memorisation test of created items."""

    workspace: Workspace
    encoder: ImageEncoder
    cache: FeatureCache
    bridge: Any = None
    training_frames: np.ndarray | None = None
    memo: dict[str, Any] = field(default_factory=dict)  # per-process results checks reuse (catalogue statistics)

    @classmethod
    def for_workspace(cls, ws: Workspace, **kwargs: Any) -> FidelityContext:
        from generec.encoders.cache import FeatureCache
        from generec.encoders.image import get_image_encoder

        return cls(ws, get_image_encoder(), FeatureCache.for_workspace(ws), **kwargs)

    def get_bridge(self):
        if self.bridge is None:
            from generec.encoders.bridge import load_text_image_bridge

            self.bridge = load_text_image_bridge(self.workspace)
        return self.bridge


class FidelityCheck(Protocol):
    name: str

    def __call__(self, candidate: Candidate, context: FidelityContext) -> CheckResult: ...
