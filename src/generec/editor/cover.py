"""Personal cover: the frame of a video this user would most like to click (GeneRec §4, thumbnail
selection).

The paper scores every frame by its dot product with the user's vector and keeps the best. Here
the candidates are the video's keyframes (one good frame per shot part, see `keyframes.py`), so
transition, dark and blurred frames never become covers, and only a handful of frames need the
image encoder. Guidance steers the choice (include / exclude concepts through the text→image
bridge) and, when it names a look, the chosen frame is restyled.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from generec.editor.base import EditContext, EditResult, store_edit, video_item
from generec.editor.keyframes import KeyframeConfig, Keyframes, keyframes
from generec.editor.preference import Preference, steered_scores
from generec.encoders.video import cover_features
from generec.media.video import apply_rotation, frames_at, read_rotation
from generec.types import Item


# Without a look judge, a look is read off the centred User_Hist direction v_u − μ; from fewer
# clicked covers than this it is noise (on a 5-video import every option "wins" by ~3 z), so no look.
RESTYLE_MIN_CLICKS = 8


@dataclass(frozen=True)
class CoverConfig:
    keyframes: KeyframeConfig = field(default_factory=KeyframeConfig)
    include_weight: float = 1.0
    exclude_weight: float = 1.0
    style_strength: float = 1.0  # when guidance names a look and no strength
    restyle: bool = True  # with no look named, also render the frame in the user's best look
    restyle_min_gain: float = 0.0  # without a look judge: ... when it beats the untouched frame by this (z units)
    restyle_min_clicks: int = RESTYLE_MIN_CLICKS  # ... and when the user has clicked at least this many covers
    keep_original: bool = True  # the uploader's cover is a candidate too: it stays when it suits the user best
    history_weight: float = 0.5  # λ: z(taste) + λ z(cos(f, User_Hist)) when the context carries User_Hist


@dataclass
class CoverChoice:
    index: int  # into the keyframes; -1: the uploader's cover
    t: float  # seconds (0.0 for the uploader's cover)
    score: float
    scores: np.ndarray  # (K,) every keyframe's score; -inf where the quality guard failed
    original_score: float | None  # the uploader's cover under the same scoring
    guard_relaxed: bool  # no keyframe passed the quality guard, so all were considered


def choose_cover(
    kf: Keyframes,
    ctx: EditContext,
    guidance=None,
    config: CoverConfig | None = None,
    original: np.ndarray | None = None,
) -> CoverChoice:
    """argmax over usable keyframes of the steered preference score, plus λ × the standardised
    cosine with User_Hist when the context carries it (on `default`, λ = 0.5 keeps the concept
    taste's oracle CTR and adds most of User_Hist's Cos); `original` (1280,) is scored alongside
    (standardised together) so the two scores compare."""
    cfg = config or CoverConfig()
    feats = kf.features if original is None else np.vstack([kf.features, original[None]])
    scores = steered_scores(feats, ctx.preference, guidance, ctx.bridge, cfg.include_weight, cfg.exclude_weight)
    if ctx.history is not None and cfg.history_weight > 0:  # the paper's rule as a second opinion
        scores = scores + cfg.history_weight * steered_scores(feats, Preference(ctx.user_id, "history", ctx.history, 0))
    orig_score = float(scores[-1]) if original is not None else None
    scores = scores[: len(kf)]
    relaxed = not kf.usable.any()
    masked = np.where(kf.usable | relaxed, scores, -np.inf)
    best = int(np.argmax(masked))
    if orig_score is not None and cfg.keep_original and orig_score >= masked[best]:
        return CoverChoice(-1, 0.0, orig_score, masked, orig_score, relaxed)
    return CoverChoice(best, float(kf.timestamps[best]), float(scores[best]), masked, orig_score, relaxed)


def personal_look(
    images: np.ndarray | list[np.ndarray], ctx: EditContext, min_gain: float = 0.0, min_clicks: int = RESTYLE_MIN_CLICKS
) -> str | None:
    """The look (full strength) to show `images` (a cover, or the frames of a clip) in for this
    user, or None to leave them as they are. With a look judge (impressions), its decision; else
    the look the look preference scores highest, if it beats the untouched images by `min_gain`
    and the preference stands on at least `min_clicks` clicked covers."""
    from generec.editor.style import StyleConfig, choose_style

    frames = [images] if isinstance(images, np.ndarray) and images.ndim == 3 else list(images)
    if ctx.look_judge is not None:
        return ctx.look_judge.choose(frames, ctx.encoder).look
    judge = dataclasses.replace(ctx, preference=ctx.look_preference or ctx.preference)
    if judge.preference is None or judge.preference.n_history < min_clicks:
        return None
    choice = choose_style(frames, judge, None, StyleConfig(strengths=(1.0,)))
    return choice.look if choice.score - choice.natural_score > min_gain else None


def video_keyframes(ctx: EditContext, item: Item, config: KeyframeConfig) -> Keyframes:
    path = ctx.workspace.media_path(item.media.hash, item.media.mime)
    return keyframes(path, item.media.hash, ctx.encoder, ctx.cache, config)


class CoverEditor:
    """`CoverEditor(ctx)(item, guidance) -> EditResult` with a new cover for ctx.user_id."""

    name = "cover"

    def __init__(self, context: EditContext, config: CoverConfig | None = None):
        self.context = context
        self.config = config or CoverConfig()

    def __call__(self, item: Item | str, guidance=None) -> EditResult:
        ctx, cfg = self.context, self.config
        ws = ctx.workspace
        # 1. check inputs
        item = video_item(ws, item, self.name)
        # 2. keyframes (one decode pass, cached) and the uploader's cover
        kf = video_keyframes(ctx, item, cfg.keyframes)
        original = cover_features(ws, [item], ctx.encoder, ctx.cache).features[0]
        # 3. score and choose
        choice = choose_cover(kf, ctx, guidance, cfg, original)
        notes = ["no frame passed the quality guard; chose among all keyframes"] if choice.guard_relaxed else []
        # 4. the chosen frame at full resolution, upright (or the uploader's cover), restyled when asked
        if choice.index < 0:
            from generec.encoders.video import cover_image

            image = cover_image(ws, item)
            params: dict = {"t": None, "original": True}
        else:
            path = ws.media_path(item.media.hash, item.media.mime)
            image = apply_rotation(frames_at(path, [choice.t]).images[0], read_rotation(path))
            params = {"t": round(choice.t, 4)}
        look = guidance.look if guidance is not None else None
        strength = guidance.style_strength if guidance is not None and guidance.style_strength is not None else cfg.style_strength
        if look is None and cfg.restyle:
            look = personal_look(image, ctx, cfg.restyle_min_gain, cfg.restyle_min_clicks)
            source = "impressions (click rate per look)" if ctx.look_judge is not None else "clicked covers"
            notes += [f"look {look} from the user's {source}"] if look else []
        if look is not None and look != "natural":
            from generec.editor.style import restyle_image

            image = restyle_image(image, look, strength)
            params |= {"style": look, "strength": strength}
        # 5. store the new item: the parent's video with a personal cover
        new = store_edit(ctx, item, self.name, params, guidance, cover=image)
        return EditResult.stored(ws, new, item, self.name, params, choice.score, choice.original_score or 0.0, notes)



def side_by_side(original: np.ndarray, personal: np.ndarray, height: int = 256, gap: int = 8) -> np.ndarray:
    """The two covers at the same height, original on the left, on a white strip."""
    import cv2

    def fit(image: np.ndarray) -> np.ndarray:
        h, w = image.shape[:2]
        return cv2.resize(image, (max(1, round(w * height / h)), height), interpolation=cv2.INTER_AREA)

    a, b = fit(original), fit(personal)
    canvas = np.full((height, a.shape[1] + gap + b.shape[1], 3), 255, np.uint8)
    canvas[:, : a.shape[1]] = a
    canvas[:, a.shape[1] + gap :] = b
    return canvas
