"""The oracle: the benchmark's simulated users, asked what they would do with new media.

For a cover or clip cut from a benchmark video it uses the ground truth carried from the source
segments plus the edit applied (a restyle changes the style the users see). For media with no
carried ground truth (created later by a generative model) it asks the judge for concept and
style probabilities and takes the expectation over them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from generec.datasets.judge import Judge
from generec.datasets.microvideo import JUDGE_FILE, TRUTH_FILE, TRUTH_VERSION
from generec.datasets.simulator import (
    Segment,
    SimulatorConfig,
    UserTaste,
    VideoTruth,
    click_logit,
    cover_click_prob,
    expected_watch,
    seconds_grid,
    sigmoid,
)
from generec.errors import InputError, WorkspaceError


@dataclass(frozen=True)
class FrameRef:
    """A frame of a benchmark video, optionally restyled by an edit."""

    item_id: str
    t: float = 0.0
    style: str | None = None


@dataclass(frozen=True)
class ClipRef:
    """A span [start, end) of a benchmark video, optionally restyled by an edit."""

    item_id: str
    start: float
    end: float
    style: str | None = None


@dataclass(frozen=True)
class WatchValue:
    ratio: float  # expected share of the clip watched, in [0, 1]
    seconds: float  # expected seconds watched


class Oracle:
    def __init__(self, concepts: list[str], styles: list[str], cfg: SimulatorConfig, users: dict[str, UserTaste], videos: dict[str, VideoTruth], judge: Judge | None) -> None:
        self.concepts = concepts
        self.styles = styles
        self.cfg = cfg
        self.users = users
        self.videos = videos
        self.judge = judge

    @classmethod
    def load(cls, oracle_dir: str | Path) -> Oracle:
        oracle_dir = Path(oracle_dir)
        path = oracle_dir / TRUTH_FILE
        if not path.is_file():
            raise WorkspaceError(f"no oracle at {oracle_dir}: only a workspace built with `generec data build microvideo` has one")
        data = json.loads(path.read_text())
        if data.get("version") != TRUTH_VERSION:
            raise WorkspaceError(f"{path}: ground truth version {data.get('version')} != {TRUTH_VERSION}; rebuild the benchmark")
        users = {uid: UserTaste(np.array(u["concept"]), np.array(u["style"]), u["activity"]) for uid, u in data["users"].items()}
        videos = {
            vid: VideoTruth(v["duration"], v["fps"], v["quality"], [Segment(**s) for s in v["segments"]], [tuple(t) for t in v["transitions"]])
            for vid, v in data["videos"].items()
        }
        judge = Judge.load(oracle_dir / JUDGE_FILE) if (oracle_dir / JUDGE_FILE).is_file() else None
        return cls(data["concepts"], data["styles"], SimulatorConfig(**data["simulator"]), users, videos, judge)

    # lookups ---------------------------------------------------------------------------------

    def _user(self, user_id: str) -> UserTaste:
        try:
            return self.users[user_id]
        except KeyError:
            raise InputError(f"unknown user {user_id!r}: the oracle has no simulated user of that id") from None

    def _video(self, item_id: str) -> VideoTruth:
        try:
            return self.videos[item_id]
        except KeyError:
            raise InputError(f"item {item_id!r} carries no ground truth; pass its pixels to use the judge") from None

    def _style(self, style: str | None) -> int | None:
        if style is None:
            return None
        if style not in self.styles:
            raise InputError(f"unknown style {style!r}; the oracle knows: {', '.join(self.styles)}")
        return self.styles.index(style)

    def truth_at(self, item_id: str, t: float) -> Segment:
        return self._video(item_id).segment_at(t)

    # the two questions -----------------------------------------------------------------------

    def click_prob(self, user_id: str, cover: FrameRef | np.ndarray) -> float:
        """P(user clicks an impression showing this cover)."""
        user = self._user(user_id)
        if isinstance(cover, FrameRef):
            video = self._video(cover.item_id)
            if not 0.0 <= cover.t <= video.duration:
                raise InputError(f"t={cover.t} is outside item {cover.item_id!r} (0–{video.duration:.2f} s)")
            return cover_click_prob(self.cfg, user, video, cover.t, self._style(cover.style))
        out = self._judge().predict([np.asarray(cover)])[0]
        # E over the judge's (concept, style) distribution, for an item of average quality
        logits = np.array([[click_logit(self.cfg, user, c, s, 0.0) for s in range(len(self.styles))] for c in range(len(self.concepts))])
        return float(out.concept_probs @ sigmoid(logits) @ out.style_probs)

    def watch_value(self, user_id: str, clip: ClipRef | list[np.ndarray], fps: float | None = None) -> WatchValue:
        """Expected share and seconds of the clip the user watches once they have clicked it."""
        user = self._user(user_id)
        if isinstance(clip, ClipRef):
            video = self._video(clip.item_id)
            if not (0.0 <= clip.start < clip.end <= video.duration + 1e-6):
                raise InputError(f"clip [{clip.start}, {clip.end}) is outside item {clip.item_id!r} (0–{video.duration:.2f} s)")
            concepts, styles, lengths = seconds_grid(video, clip.start, clip.end, self._style(clip.style))
            ratio = expected_watch(self.cfg, user, concepts, styles, lengths)
            return WatchValue(ratio, ratio * float(lengths.sum()))
        if not clip or not fps:
            raise InputError("watch_value of raw frames needs at least one frame and its fps")
        # one judged frame per second stands for that second
        step = max(1, round(fps))
        frames = clip[::step]
        outs = self._judge().predict(frames)
        lengths = np.full(len(frames), 1.0)
        lengths[-1] = len(clip) / fps - (len(frames) - 1)
        concepts = np.array([int(o.concept_probs.argmax()) for o in outs])
        styles = np.array([int(o.style_probs.argmax()) for o in outs])
        ratio = expected_watch(self.cfg, user, concepts, styles, lengths)
        return WatchValue(ratio, ratio * float(lengths.sum()))

    def _judge(self) -> Judge:
        if self.judge is None:
            raise WorkspaceError("this oracle has no judge; rebuild the benchmark")
        return self.judge
