"""Restyle: render a video (or a cover) in another look with OpenCV, keeping its sound.

Looks: warm, cool, bright, dark, vivid, muted, black_and_white, cartoon, sketch, rendered by the
editor's own looks (`looks.py`: white balance, tone curves and chroma in Lab, posterised cartoon
with ink lines, difference-of-Gaussians pencil sketch); the benchmark's renderer is not used.

With no look named by the guidance, the look and its strength come from the user's history: the
look judge (`look_judge.py`, click rates per look from the user's impressions) picks the look,
and each strength of it is applied to a few keyframes, encoded and scored by the user's
preference. Without impressions, every (look, strength) is scored that way and the best one
wins if it beats leaving the video as it is ("natural").
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from generec.editor.base import CannotSatisfy, EditContext, EditResult, store_edit, video_item
from generec.editor.cover import video_keyframes
from generec.editor.keyframes import KeyframeConfig
from generec.editor.looks import render_look
from generec.editor.preference import steered_scores
from generec.errors import InputError
from generec.instructor.guidance import LOOK_STYLES
from generec.media.video import apply_rotation, frames_at, read_rotation, reencode
from generec.types import Item

EDIT_LOOKS = tuple(s for s in LOOK_STYLES if s != "natural")


@dataclass(frozen=True)
class StyleConfig:
    looks: tuple[str, ...] = EDIT_LOOKS
    strengths: tuple[float, ...] = (0.6, 1.0)
    probe_frames: int = 3  # keyframes a look is judged on
    min_gain: float = 0.0  # the chosen look must beat "natural" by more than this (z units)
    crf: int = 20
    keyframes: KeyframeConfig = field(default_factory=KeyframeConfig)

    def __post_init__(self) -> None:
        bad = [s for s in self.looks if s not in EDIT_LOOKS]
        if bad:
            raise InputError(f"StyleConfig.looks: unknown looks {bad}; valid looks: {', '.join(EDIT_LOOKS)}")
        if not self.strengths or any(not 0.0 < s <= 1.0 for s in self.strengths):
            raise InputError(f"StyleConfig.strengths: expected values in (0, 1], found {self.strengths}")


def restyle_image(image: np.ndarray, look: str, strength: float = 1.0) -> np.ndarray:
    """One RGB uint8 image in `look` at `strength` in (0, 1]."""
    if look not in EDIT_LOOKS and look != "natural":
        raise InputError(f"unknown look {look!r}; valid looks: {', '.join(EDIT_LOOKS)}")
    if not 0.0 <= strength <= 1.0:
        raise InputError(f"style strength: expected a value in [0, 1], found {strength}")
    return render_look(image, look, strength)


def restyle_video(src: Path, dst: Path, look: str, strength: float = 1.0, crf: int = 20) -> None:
    """Every frame of `src` in `look`, written to `dst` as H.264 with the original frame times,
    audio (its own layout) and rotation."""
    reencode(src, dst, lambda image: restyle_image(image, look, strength), crf=crf)


@dataclass
class StyleChoice:
    look: str
    strength: float
    score: float  # mean steered preference of the probe frames in this look
    natural_score: float
    table: dict[str, float]  # "look@strength" -> score


def choose_style(
    probes: list[np.ndarray], ctx: EditContext, guidance=None, config: StyleConfig | None = None, look: str | None = None
) -> StyleChoice:
    """Score every (look, strength) on the probe frames; the guidance's look, when named, is kept
    and only its strength is chosen (full unless told); `look` (the look judge's) is kept and
    its strength chosen among the configured ones."""
    cfg = config or StyleConfig()
    fixed = guidance.look if guidance is not None and guidance.look not in (None, "natural") else None
    looks = (fixed,) if fixed else (look,) if look else cfg.looks
    strengths = (guidance.style_strength or 1.0,) if fixed else cfg.strengths
    options = [("natural", 0.0)] + [(name, s) for name in looks for s in strengths]
    images = [restyle_image(p, name, s) if name != "natural" else p for name, s in options for p in probes]
    feats = ctx.encoder.encode(images).features.reshape(len(options), len(probes), -1)  # (O, P, 1280)
    flat = steered_scores(feats.reshape(len(options) * len(probes), -1), ctx.preference, guidance, ctx.bridge)
    per_option = flat.reshape(len(options), len(probes)).mean(1)  # (O,)
    table = {f"{name}@{s:g}": float(v) for (name, s), v in zip(options, per_option)}
    best = int(np.argmax(per_option[1:])) + 1
    return StyleChoice(options[best][0], options[best][1], float(per_option[best]), float(per_option[0]), table)


class StyleEditor:
    """`StyleEditor(ctx)(item, guidance) -> EditResult`: the video restyled for ctx.user_id."""

    name = "style"

    def __init__(self, context: EditContext, config: StyleConfig | None = None):
        self.context = context
        self.config = config or StyleConfig()

    def __call__(self, item: Item | str, guidance=None) -> EditResult:
        ctx, cfg = self.context, self.config
        ws = ctx.workspace
        # 1. check inputs
        item = video_item(ws, item, self.name)
        path = ws.media_path(item.media.hash, item.media.mime)
        # 2. probe frames: the best-quality keyframes, spread over the video
        kf = video_keyframes(ctx, item, cfg.keyframes)
        order = np.argsort(~kf.usable, kind="stable")[: cfg.probe_frames]
        times = sorted(float(kf.timestamps[i]) for i in order)
        rotation = read_rotation(path)
        probes = [apply_rotation(im, rotation) for im in frames_at(path, times).images]
        # 3. choose the look and strength
        named = guidance is not None and guidance.look not in (None, "natural")
        if not named and ctx.look_judge is not None:  # the look from impressions, its strength from the preference
            decision = ctx.look_judge.choose(probes, ctx.encoder)
            if decision.look is None:
                raise CannotSatisfy(
                    f"item {item.id}: no look suits user {ctx.user_id} better than the original (their best look is "
                    f"{ctx.look_judge.taste.best}, the video looks {decision.shown}, "
                    + (f"best render's click-rate gain {decision.gain:+.3f}); " if decision.judged else "no look is rated above it as it is); ")
                    + "name a style to restyle anyway"
                )
            choice = choose_style(probes, ctx, guidance, cfg, decision.look)
        else:
            choice = choose_style(probes, ctx, guidance, cfg)
        if not named and ctx.look_judge is None and choice.score - choice.natural_score <= cfg.min_gain:
            raise CannotSatisfy(
                f"item {item.id}: no look suits user {ctx.user_id} better than the original "
                f"(best {choice.look}@{choice.strength:g}: {choice.score:.3f} vs natural {choice.natural_score:.3f}); "
                "name a style to restyle anyway"
            )
        # 4. render the whole video, keep its audio, and a restyled cover
        params = {"style": choice.look, "strength": round(choice.strength, 4)}
        with tempfile.TemporaryDirectory(dir=ws.root) as tmp:
            out = Path(tmp) / "restyled.mp4"
            restyle_video(path, out, choice.look, choice.strength, cfg.crf)
            cover_t = float(kf.timestamps[order[0]]) if len(order) else 0.0
            cover = restyle_image(apply_rotation(frames_at(path, [cover_t]).images[0], rotation), choice.look, choice.strength)
            new = store_edit(ctx, item, self.name, params, guidance, video_file=out, cover=cover, title_suffix=f" ({choice.look.replace('_', ' ')})")
        notes = [f"{k}: {v:.3f}" for k, v in sorted(choice.table.items(), key=lambda kv: -kv[1])[:3]]
        return EditResult.stored(ws, new, item, self.name, params, choice.score, choice.natural_score, notes)
