"""Personal clip: the window of a video this user would watch longest (GeneRec §4, clipping).

A window [a, a + L) slides over the video with stride `stride_s`. Its score is the user's
(steered) preference of the footage it shows, each moment weighted by how likely a viewer still
watches then: viewers drop off, so the opening counts most (weight ρ^(t − a), ρ = `opening_decay`
per second):

    S(a) = ∫_a^{a+L} ρ^(t−a) s(t) dt / ∫_a^{a+L} ρ^(t−a) dt

where s(t) is the score of the keyframe whose interval holds t (keyframes.py). L is
`length_s`, clamped by the guidance's max/min duration and the video's length. The window is
cut to a real MP4 (audio kept) and gets the best keyframe inside it as its cover.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from generec.editor.base import CannotSatisfy, EditContext, EditResult, store_edit, video_item
from generec.editor.cover import RESTYLE_MIN_CLICKS, video_keyframes
from generec.editor.keyframes import KeyframeConfig, Keyframes
from generec.editor.preference import steered_scores
from generec.errors import InputError
from generec.media.video import NO_LIMITS, apply_rotation, cut, frames_at, probe
from generec.types import Item

_DT = 0.1  # s, the integration step of S(a)


@dataclass(frozen=True)
class ClipConfig:
    length_s: float = 5.0
    stride_s: float = 0.5
    min_length_s: float = 1.0  # shorter clips are refused
    opening_decay: float = 0.85  # ρ per second
    include_weight: float = 1.0
    exclude_weight: float = 1.0
    restyle: bool = True  # with no look named, render the clip in the user's look when one suits them
    restyle_min_gain: float = 0.0  # without a look judge: the look must beat the untouched frames by this (z units)
    restyle_min_clicks: int = RESTYLE_MIN_CLICKS  # ... and the user must have clicked this many covers
    keyframes: KeyframeConfig = field(default_factory=KeyframeConfig)

    def __post_init__(self) -> None:
        if self.length_s <= 0 or self.stride_s <= 0 or self.min_length_s <= 0:
            raise InputError(f"ClipConfig: lengths and stride must be positive, found {self.length_s}, {self.stride_s}, {self.min_length_s}")
        if not 0.0 < self.opening_decay <= 1.0:
            raise InputError(f"ClipConfig.opening_decay: expected a value in (0, 1], found {self.opening_decay}")


@dataclass
class ClipChoice:
    start: float
    end: float
    score: float
    first_score: float  # the window starting at 0 under the same scoring


def clip_length(duration: float, cfg: ClipConfig, guidance=None) -> float:
    """L from the config, the guidance's duration bounds and the video; CannotSatisfy when none fits."""
    lo = guidance.min_duration_s if guidance is not None and guidance.min_duration_s else None
    hi = guidance.max_duration_s if guidance is not None and guidance.max_duration_s else None
    if hi is not None and hi < cfg.min_length_s:
        raise CannotSatisfy(f"cannot cut a clip under {hi:g} s: the shortest clip is {cfg.min_length_s:g} s")
    if lo is not None and lo > duration + 1e-6:
        raise CannotSatisfy(f"cannot cut a clip of at least {lo:g} s from a {duration:.2f} s video")
    length = cfg.length_s
    if hi is not None:
        length = min(length, hi)
    if lo is not None:
        length = max(length, lo)
    length = min(length, duration)
    if length < min(cfg.min_length_s, duration) - 1e-9:
        raise CannotSatisfy(f"cannot cut a {length:g} s clip: the shortest clip is {cfg.min_length_s:g} s")
    return length


def window_scores(kf: Keyframes, scores: np.ndarray, length: float, stride: float, decay: float) -> tuple[np.ndarray, np.ndarray]:
    """Starts a (W,) and S(a) (W,) for every window of `length` that fits in the video."""
    last = max(0.0, kf.duration - length)
    starts = np.unique(np.append(np.arange(0.0, last + 1e-9, stride), last))  # (W,)
    offsets = np.arange(0.0, length, _DT) + _DT / 2  # (T,) midpoints
    t = starts[:, None] + offsets[None, :]  # (W, T)
    which = np.clip(np.searchsorted(kf.ends, t, side="right"), 0, len(kf) - 1)  # keyframe holding t
    w = decay ** offsets  # (T,)
    return starts, (scores[which] * w).sum(1) / w.sum()


def choose_clip(kf: Keyframes, ctx: EditContext, length: float, guidance=None, config: ClipConfig | None = None) -> ClipChoice:
    cfg = config or ClipConfig()
    scores = steered_scores(kf.features, ctx.preference, guidance, ctx.bridge, cfg.include_weight, cfg.exclude_weight)
    scores = np.where(kf.usable | ~kf.usable.any(), scores, scores - 1.0)  # transition / dark parts count less
    starts, s = window_scores(kf, scores, length, cfg.stride_s, cfg.opening_decay)
    best = int(np.argmax(s))
    return ClipChoice(float(starts[best]), float(min(starts[best] + length, kf.duration)), float(s[best]), float(s[0]))


class ClipEditor:
    """`ClipEditor(ctx)(item, guidance) -> EditResult`: a personal clip for ctx.user_id."""

    name = "clip"

    def __init__(self, context: EditContext, config: ClipConfig | None = None):
        self.context = context
        self.config = config or ClipConfig()

    def __call__(self, item: Item | str, guidance=None) -> EditResult:
        ctx, cfg = self.context, self.config
        ws = ctx.workspace
        # 1. check inputs, the clip's length
        item = video_item(ws, item, self.name)
        path = ws.media_path(item.media.hash, item.media.mime)
        info = probe(path, NO_LIMITS)  # admitted at import, under that import's limits
        length = clip_length(info.duration, cfg, guidance)
        # 2. keyframes, then the best window
        kf = video_keyframes(ctx, item, cfg.keyframes)
        choice = choose_clip(kf, ctx, length, guidance, cfg)
        params = {"start": round(choice.start, 4), "end": round(choice.end, 4)}
        # 3. the clip's cover: its first usable keyframe; the look: named, or the user's own
        inside = (kf.timestamps >= choice.start) & (kf.timestamps < choice.end)
        cover_t = float(kf.timestamps[inside][np.argmax(kf.usable[inside])]) if inside.any() else choice.start
        shown = sorted({cover_t, *(float(t) for t in kf.timestamps[inside])})  # the window's keyframes and its cover
        frames = [apply_rotation(im, info.rotation) for im in frames_at(path, shown).images]
        cover = frames[shown.index(cover_t)]
        look = guidance.look if guidance is not None else None
        strength = (guidance.style_strength if guidance is not None else None) or 1.0
        if look is None and cfg.restyle:
            from generec.editor.cover import personal_look

            look = personal_look(frames, ctx, cfg.restyle_min_gain, cfg.restyle_min_clicks)
        if look is not None and look != "natural":
            params |= {"style": look, "strength": strength}
        # 4. cut (audio kept), restyle
        with tempfile.TemporaryDirectory(dir=ws.root) as tmp:
            out = Path(tmp) / "clip.mp4"
            cut(path, out, choice.start, choice.end)
            if "style" in params:
                from generec.editor.style import restyle_image, restyle_video

                styled = Path(tmp) / "styled.mp4"
                restyle_video(out, styled, look, params["strength"])
                out, cover = styled, restyle_image(cover, look, params["strength"])
            new = store_edit(ctx, item, self.name, params, guidance, video_file=out, cover=cover, title_suffix=" (clip)")
        return EditResult.stored(ws, new, item, self.name, params, choice.score, choice.first_score)
