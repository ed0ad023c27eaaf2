"""The `regenerate` op: a personal cover re-made by the creator's model (the paper's RDM row).

1. the source: the video's own best keyframe for this user (`choose_cover` on its keyframes);
2. the condition: real catalogue frames retrieved near the source *and* toward the user's taste
   and the guidance (z(cos to the source) + z(steered preference)), mean of the top k; each of
   `candidates` variants draws its own subset;
3. SDEdit from the source at `strength` (the creator's `sdedit_strength` unless set), classifier-
   free guidance against the null condition — or, when revising, against what was rejected;
4. the look: the guidance's, else the user's look judge's choice, never a look they rejected;
5. the best-scored variant, upscaled and cut to the source frame's size, is the new item's cover
   (the parent's video is shared).

**Revision from feedback**: when the user skipped or disliked earlier AI covers of this video
(`rejected_variants`), the next one moves away from them: their cover features are the negative
condition, their anchors and looks are avoided, and the variants are scored minus their
similarity to what was rejected. The new item's params name the variants it revises.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from generec.creator.condition import frame_scores
from generec.editor.base import EditContext, EditResult, store_edit, video_item
from generec.editor.cover import CoverConfig, choose_cover, video_keyframes
from generec.editor.keyframes import KeyframeConfig
from generec.editor.looks import render_look
from generec.editor.preference import steered_scores
from generec.encoders.video import cover_features
from generec.errors import InputError
from generec.media.probe import read_rotation
from generec.media.video import apply_rotation, frames_at
from generec.types import Event, Item, Origin

REJECTING = (Event.SKIP, Event.DISLIKE)


@dataclass(frozen=True)
class RegenerateConfig:
    strength: float | None = None  # SDEdit strength; None: the creator's `sdedit_strength`
    candidates: int = 3
    pool: int = 32  # retrieved frames the conditions are drawn from
    away_weight: float = 1.0  # revision: score − w · z(cos to the rejected covers)
    keyframes: KeyframeConfig = field(default_factory=KeyframeConfig)


def rejected_variants(ws, user_id: str, parent_id: str) -> list[Item]:
    """AI variants of `parent_id` the user skipped or disliked (oldest first)."""
    rejected = {i.item_id for i in ws.interactions.for_user(user_id) if i.event in REJECTING}
    return [c for c in ws.items.children(parent_id) if c.origin == Origin.AI_EDITED and c.id in rejected
            and (c.provenance or {}).get("user_id") == user_id]  # fmt: skip


def _z(x: np.ndarray) -> np.ndarray:
    return (x - x.mean()) / (x.std() + 1e-8) if len(x) > 1 else np.zeros_like(x)


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-8)


class RegenerateEditor:
    name = "regenerate"

    def __init__(self, context: EditContext, generator, frames, config: RegenerateConfig | None = None) -> None:
        self.context, self.generator, self.frames = context, generator, frames
        self.config = config or RegenerateConfig()

    def __call__(self, item: Item | str, guidance=None, rejected: list[Item] | None = None) -> EditResult:
        """The new cover (module doc); `rejected` overrides the variants read from the log."""
        ctx, cfg, gen, fr = self.context, self.config, self.generator, self.frames
        ws = ctx.workspace
        if not getattr(gen, "supports_sdedit", True):
            raise InputError("the regenerate op re-makes a frame by SDEdit, which needs the embedded creator (this backend generates from text only)")
        if cfg.strength is not None and not 0.0 <= cfg.strength <= 1.0:
            raise InputError(f"regenerate strength must lie in [0, 1], found {cfg.strength}")
        item = video_item(ws, item, self.name)
        # 1. the source frame
        kf = video_keyframes(ctx, item, cfg.keyframes)
        choice = choose_cover(kf, ctx, guidance, CoverConfig(keep_original=False))
        path = ws.media_path(item.media.hash, item.media.mime)
        source = apply_rotation(frames_at(path, [choice.t]).images[0], read_rotation(path))
        src_f = kf.features[choice.index]
        # what the user rejected before
        rejected = rejected_variants(ws, ctx.user_id, item.id) if rejected is None else rejected
        negative = avoid_f = None
        avoid_looks: set[str] = set()
        avoid_frames: set[int] = set()
        if rejected:
            avoid_f = cover_features(ws, rejected, ctx.encoder, ctx.cache).features
            negative = avoid_f.mean(0)
            for r in rejected:
                p = (r.provenance or {}).get("params", {})
                avoid_looks.add(p.get("style") or "natural")
                if p.get("checkpoint") == gen.checkpoint_hash:  # frame indices mean something only to the model that used them
                    avoid_frames.update(i for i in p.get("frames", []) if 0 <= i < len(fr))
        # 2. conditions: frames near the source and toward the user's taste
        near = _z(_unit(fr.features) @ _unit(src_f)) + _z(frame_scores(fr, ctx.preference, guidance, ctx.bridge))
        if avoid_f is not None:
            near = near - cfg.away_weight * _z((_unit(fr.features) @ _unit(avoid_f).T).max(1))
        near[list(avoid_frames)] = -np.inf
        pool = np.argsort(-near, kind="stable")[: max(cfg.pool, gen.config.neighbours)]
        rng = np.random.default_rng(ctx.seed + len(rejected))
        k = min(gen.config.neighbours, len(pool))
        subsets = [pool[:k]] + [rng.choice(pool, k, replace=False) for _ in range(cfg.candidates - 1)]
        conds = np.stack([fr.features[s].mean(0) for s in subsets])
        # 3. SDEdit from the source
        strength = gen.config.sdedit_strength if cfg.strength is None else cfg.strength
        stills = gen(conds, seed=int(rng.integers(1 << 31)), init_images=[source] * len(conds), strength=strength, negative=negative, guidance=guidance)
        feats = ctx.encoder.encode(list(stills)).features
        both = np.vstack([src_f[None], feats])  # the source and the variants on one scale
        scores = steered_scores(both, ctx.preference, guidance, ctx.bridge)
        if avoid_f is not None:
            scores = scores - cfg.away_weight * _z((_unit(both) @ _unit(avoid_f).T).max(1))
        base, scores = float(scores[0]), scores[1:]
        best = int(np.argmax(scores))
        # 4. the look
        look, look_note = self._look(guidance, stills[best], avoid_looks)
        # 5. the cover at the parent's size
        h, w = source.shape[:2]
        big = cv2.resize(stills[best], (max(h, w), max(h, w)), interpolation=cv2.INTER_CUBIC)
        y, x = (big.shape[0] - h) // 2, (big.shape[1] - w) // 2
        cover = np.ascontiguousarray(big[y : y + h, x : x + w])
        if look not in (None, "natural"):
            cover = render_look(cover, look)
        params = {"t": round(float(choice.t), 4), "strength": strength, "style": look, "frames": [int(i) for i in subsets[best]],
                  "checkpoint": gen.checkpoint_hash, "revision_of": [r.id for r in rejected]}  # fmt: skip
        notes = [look_note] + ([f"revision of {', '.join(r.id for r in rejected)}: moved away from what was rejected"] if rejected else [])
        new = store_edit(ctx, item, self.name, params, guidance, cover=cover)
        return EditResult.stored(ws, new, item, self.name, params, float(scores[best]), base, notes)

    def _look(self, guidance, still: np.ndarray, avoid: set[str]) -> tuple[str | None, str]:
        if guidance is not None and guidance.look not in (None, "natural"):
            return guidance.look, f"look {guidance.look}: asked for"
        judge = self.context.look_judge
        if judge is None:
            return None, "no look: no look judge for this user"
        decision = judge.choose([still], self.context.encoder)
        if decision.look is not None and decision.look not in avoid:
            return decision.look, f"look {decision.look}: the user's look judge"
        options = {k: v for k, v in decision.judged.items() if k not in avoid}
        base = float(judge.classifier.images([still], self.context.encoder).mean(0) @ judge.taste.rates)
        if options and max(options.values()) - base > judge.margin:
            look = max(options, key=options.get)
            return look, f"look {look}: the user's next-best look (rejected: {', '.join(sorted(avoid))})"
        return None, "no look: none beats the still for this user" + (f" (rejected: {', '.join(sorted(avoid))})" if avoid else "")
