"""The oracle: the benchmark's simulated users, asked what they would do with new media.

Two ways to ask. From pixels (what users see): the judge gives concept and style probabilities
for each frame shown and the oracle takes the expectation of the simulator's click and watch
models over them (`click_probs`, `watch_value_judged`; the editing protocol scores every row so).
From labels: a `FrameRef` / `ClipRef` into a benchmark video uses the ground truth of its source
segments plus the look an edit claims to apply — what the edit would earn if the look were
rendered perfectly.
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
    cover_click_prob,
    expected_click_probs,
    expected_continue_probs,
    expected_watch,
    seconds_grid,
    watch_share,
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
        return float(self.click_probs(user_id, [np.asarray(cover)])[0])

    def click_probs(self, user_id: str, covers: list[np.ndarray], quality: np.ndarray | float = 0.0) -> np.ndarray:
        """(N,) P(click) of each cover judged from its pixels alone: the expectation over the
        judge's concept and style distribution, for an item of `quality` (0: average)."""
        cp, sp = self.judge_images(covers)
        return self.click_probs_judged(user_id, cp, sp, quality)

    def judge_images(self, images: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """The judge's (N, C) concept and (N, S) style probabilities: judge once, score many users."""
        return self._judge().predict_probs([np.asarray(im) for im in images])

    def click_probs_judged(self, user_id: str, concept_probs: np.ndarray, style_probs: np.ndarray, quality: np.ndarray | float = 0.0) -> np.ndarray:
        return expected_click_probs(self.cfg, self._user(user_id), concept_probs, style_probs, quality)

    def watch_value_judged(self, user_id: str, concept_probs: np.ndarray, style_probs: np.ndarray, lengths: np.ndarray) -> WatchValue:
        """Expected watch of a clip whose steps (lengths (T,) s) show judged frames ((T, C), (T, S))."""
        lengths = np.asarray(lengths, np.float64)
        if not len(lengths) or lengths.min() <= 0:
            raise InputError(f"watch_value_judged needs at least one step of positive length, found {lengths}")
        ratio = watch_share(expected_continue_probs(self.cfg, self._user(user_id), concept_probs, style_probs), lengths)
        return WatchValue(ratio, ratio * float(lengths.sum()))

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
        # the frame in the middle of each second stands for that second
        n_steps = int(np.ceil(len(clip) / fps - 1e-9))
        lengths = np.minimum(1.0, len(clip) / fps - np.arange(n_steps))
        mids = np.arange(n_steps) + lengths / 2
        frames = [clip[min(len(clip) - 1, int(t * fps))] for t in mids]
        cp, sp = self.judge_images(frames)
        return self.watch_value_judged(user_id, cp, sp, lengths)

    def _judge(self) -> Judge:
        if self.judge is None:
            raise WorkspaceError("this oracle has no judge; rebuild the benchmark")
        return self.judge
