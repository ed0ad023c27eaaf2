"""The AI creator: `Creator(context)(guidance, n) -> list[CreationResult]`, new items for one user.

Each creation is a micro-video of `n_shots` generated stills:

1. check the request: blocked concepts and impossible durations are refused before anything runs;
2. retrieve real frames the user asked for and likes (`condition.py`) and generate each shot from
   them with the creator's model (`pipeline.py`, or the diffusers backend): from noise, or, for a
   `variation_share` of the shots, by SDEdit from the retrieved anchor frame; `candidates` stills
   per shot, the one the user's steered preference scores highest is kept;
3. the look: the guidance's, else the user's look judge's choice on the stills, else none;
4. the montage (`montage.py`): moves, crossfades, the look, a silent track, at the duration asked
   (`duration_s` unless the guidance bounds it); the cover is the first shot in its look;
5. the fidelity gate (`fidelity/gate.py`): the checks (a memorised training image, a face, unsafe
   content ...), their fixes, the invisible watermark and the signed C2PA manifest; a blocked
   creation is not stored (`FidelityBlocked`);
6. store it: `origin="ai_created"`, no parent, title and tags from the guidance, provenance with
   the model, checkpoint hash, guidance, seed and the frames each shot came from, the fidelity
   report and the watermark id — media and row in one go (nothing is left behind by a failure).
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

import generec
from generec.creator.condition import frame_scores, shot_conditions
from generec.creator.montage import MontageConfig, write_montage
from generec.editor.base import CannotSatisfy, _image_media, _video_media, fidelity_summary
from generec.editor.looks import render_look
from generec.fidelity.gate import FidelityBlocked, gate_for, watermark_hex
from generec.fidelity.safety import BLOCKED, blocked_terms, refuse_blocked  # noqa: F401 (re-exported: pipeline)
from generec.fidelity.types import Candidate
from generec.errors import InputError
from generec.media.video import NO_LIMITS, probe
from generec.types import Item, Kind, Origin

if TYPE_CHECKING:
    from generec.creator.frames import TrainingFrames
    from generec.editor.base import EditContext
    from generec.instructor.guidance import Guidance

CREATOR_UPLOADER = "generec-creator"


@dataclass(frozen=True)
class CreateConfig:
    duration_s: float = 6.0  # the length when the guidance sets none
    n_shots: int = 3
    candidates: int = 2  # stills generated per shot; the best-scored is kept
    pool: int = 48  # retrieved frames the shots draw their anchors from
    montage: MontageConfig = field(default_factory=lambda: MontageConfig(width=128, height=224, fps=12.0))
    shot_side: int = 224  # stills are upscaled to this side before the montage moves over them
    time_budget_s: float = 60.0  # stop making more items (of n) once this is spent
    blocked: tuple[str, ...] = BLOCKED
    seed: int = 0

    def __post_init__(self) -> None:
        if self.n_shots < 1 or self.candidates < 1 or self.pool < 1:
            raise InputError("CreateConfig: n_shots, candidates and pool must be >= 1")


@dataclass
class CreationResult:
    item: Item
    media_path: Path
    cover_path: Path
    params: dict[str, Any]
    score: float  # the kept stills' mean steered preference
    seconds: float
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"item_id": self.item.id, "title": self.item.title, "tags": self.item.tags, "media_path": str(self.media_path),
                "cover_path": str(self.cover_path), "params": self.params, "score": self.score, "seconds": self.seconds,
                "notes": self.notes, "origin": str(self.item.origin), "fidelity": fidelity_summary(self.item)}  # fmt: skip


def duration_for(guidance: Guidance | None, cfg: CreateConfig) -> float:
    """The creation's length: `duration_s` inside the guidance's bounds; impossible bounds are refused."""
    lo, hi = cfg.montage.min_duration_s, cfg.montage.max_duration_s
    want_lo = guidance.min_duration_s if guidance is not None and guidance.min_duration_s is not None else None
    want_hi = guidance.max_duration_s if guidance is not None and guidance.max_duration_s is not None else None
    if want_hi is not None and want_hi < lo:
        raise CannotSatisfy(f"a created video lasts at least {lo:g} s; the instruction asks for at most {want_hi:g} s")
    if want_lo is not None and want_lo > hi:
        raise CannotSatisfy(f"a created video lasts at most {hi:g} s; the instruction asks for at least {want_lo:g} s")
    d = cfg.duration_s
    if want_hi is not None:
        d = min(d, want_hi)
    if want_lo is not None:
        d = max(d, want_lo)
    return float(min(max(d, lo), hi))


def title_and_tags(guidance: Guidance | None, look: str | None) -> tuple[str, list[str]]:
    concepts = list(guidance.include) if guidance is not None else []
    subject = " and ".join(concepts) if concepts else "things you like"
    styled = f"{look.replace('_', ' ')} " if look else ""
    return f"A {styled}video of {subject} (AI-created)", [*concepts, *([look] if look else []), "ai-created"]


def creation_id(user_id: str, guidance: Guidance | None, seed: int, checkpoint: str) -> str:
    key = json.dumps({"user": user_id, "guidance": json.loads(guidance.to_json()) if guidance else None, "seed": seed, "model": checkpoint}, sort_keys=True)
    return f"created-{hashlib.sha256(key.encode()).hexdigest()[:12]}"


class Creator:
    """Makes new items for `context.user_id` (module doc). `generator` is a `CreatorPipeline` (or a
    diffusers backend with the same call); `frames` are the catalogue frames it learned from."""

    def __init__(self, context: EditContext, generator, frames: TrainingFrames, config: CreateConfig | None = None,
                 model: str = "embedded") -> None:  # fmt: skip
        self.ctx = context
        self.generator = generator
        self.frames = frames
        self.config = config or CreateConfig()
        self.model = model

    def stills(self, guidance: Guidance | None, seed: int) -> tuple[list[np.ndarray], list[dict], float]:
        """The shots of one creation (steps 2): stills, what each came from, their mean score."""
        cfg, gen = self.config, self.generator
        rng = np.random.default_rng(seed)
        scores = frame_scores(self.frames, self.ctx.preference, guidance, self.ctx.bridge)
        conds = shot_conditions(self.frames, scores, cfg.n_shots, gen.config.neighbours, rng, cfg.pool)
        reps = [c for c in conds for _ in range(cfg.candidates)]
        varied = rng.random(len(reps)) < gen.config.variation_share
        features = np.stack([c.features for c in reps])
        # one batch from noise, one by SDEdit from the anchors
        out: list[np.ndarray | None] = [None] * len(reps)
        for flag in (False, True):
            rows = [i for i in range(len(reps)) if varied[i] == flag]
            if not rows:
                continue
            init = [self.frames.images[reps[i].anchor] for i in rows] if flag else None
            made = gen(features[rows], seed=int(rng.integers(1 << 31)), init_images=init, guidance=guidance)
            for i, im in zip(rows, made):
                out[i] = im
        feats = self.ctx.encoder.encode(out).features
        from generec.editor.preference import steered_scores

        s = steered_scores(feats, self.ctx.preference, guidance, self.ctx.bridge)
        stills, info, kept = [], [], []
        for j, c in enumerate(conds):
            rows = list(range(j * cfg.candidates, (j + 1) * cfg.candidates))
            best = max(rows, key=lambda r: s[r])
            stills.append(out[best])
            kept.append(float(s[best]))
            info.append({"anchor_frame": c.anchor, "anchor_item": c.anchor_item, "frames": c.frames, "sdedit": bool(varied[best]),
                         "strength": gen.config.sdedit_strength if varied[best] else 1.0})  # fmt: skip
        return stills, info, float(np.mean(kept))

    def choose_look(self, guidance: Guidance | None, stills: list[np.ndarray]) -> tuple[str | None, str]:
        if guidance is not None and guidance.look not in (None, "natural"):
            return guidance.look, "the look asked for"
        if self.ctx.look_judge is not None:
            decision = self.ctx.look_judge.choose(stills, self.ctx.encoder)
            return decision.look, f"the user's look judge (gain {decision.gain:+.3f})"
        return None, "no look: no look judge for this user"

    def __call__(self, guidance: Guidance | None, n: int = 1) -> list[CreationResult]:
        cfg = self.config
        # 1. check the request before anything is generated
        if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= 16:
            raise InputError(f"n: expected 1 to 16 items to create, found {n!r}")
        if guidance is not None:
            refuse_blocked(guidance, cfg.blocked, outcome="nothing was created", error=CannotSatisfy)
        duration = duration_for(guidance, cfg)
        results: list[CreationResult] = []
        blocked: list[FidelityBlocked] = []
        start = time.perf_counter()
        for i in range(n):
            if results and time.perf_counter() - start > cfg.time_budget_s:
                results[-1].notes.append(f"time budget {cfg.time_budget_s:g} s spent: made {len(results)} of {n}")
                break
            try:
                results.append(self.create_one(guidance, cfg.seed + self.ctx.seed + i, duration))
            except FidelityBlocked as exc:  # one blocked creation does not lose the others (already stored)
                blocked.append(exc)
        if blocked and not results:
            raise blocked[0]
        if blocked:
            results[-1].notes.append(f"{len(blocked)} more creation(s) blocked by the fidelity policy: {blocked[0]}")
        return results

    def create_one(self, guidance: Guidance | None, seed: int, duration: float) -> CreationResult:
        t0 = time.perf_counter()
        ws, cfg = self.ctx.workspace, self.config
        item_id = creation_id(self.ctx.user_id, guidance, seed, self.generator.checkpoint_hash)
        existing = ws.items.get(item_id)
        if existing is not None:  # the same request again: nothing new to make or write
            return _result(ws, existing, existing.provenance.get("params", {}), float("nan"), t0, ["already created"])
        stills, shots, score = self.stills(guidance, seed)
        look, why = self.choose_look(guidance, stills)
        big = [cv2.resize(s, (cfg.shot_side, cfg.shot_side), interpolation=cv2.INTER_CUBIC) for s in stills]
        title, tags = title_and_tags(guidance, look)
        with tempfile.TemporaryDirectory() as tmp, ws.media.staging():
            path = Path(tmp) / "created.mp4"
            write_montage(path, big, duration, cfg.montage, look, seed)
            cover = _portrait(render_look(big[0], look) if look not in (None, "natural") else big[0], cfg.montage)
            params = {"duration_s": duration, "look": look, "look_reason": why, "shots": shots}
            provenance = {
                "generator": f"generec.creator.{self.model}", "version": generec.__version__, "model": self.model,
                "checkpoint_hash": self.generator.checkpoint_hash, "frames_hash": getattr(self.generator, "frames_hash", None),
                "user_id": self.ctx.user_id, "seed": seed, "params": params,
                "guidance": json.loads(guidance.to_json()) if guidance is not None else None,
                "preference": self.ctx.preference.source if self.ctx.preference is not None else None,
            }  # fmt: skip
            # 5. the fidelity gate (checks, fixes, watermark, signed manifest), then store
            gate = self.ctx.fidelity or gate_for(ws)
            if gate.context.training_frames is not self.frames.images:  # memorisation: against what this model learned from
                gate.context.training_frames = self.frames.images
            candidate = Candidate("create", "create", title, tags, video=path, cover=cover, params=params,
                                  instruction=guidance.text if guidance is not None else None)  # fmt: skip
            checked, marked = gate.admit(candidate, item_id, provenance, Path(tmp))
            info = probe(marked.video, NO_LIMITS)
            digest, _ = ws.media.put_file(marked.video, "video/mp4")
            media = _video_media(info, digest)
            cover_media = _image_media(checked.candidate.cover, ws.media.put_bytes(marked.cover, "image/png"), "image/png")
            item = Item(id=item_id, kind=Kind.VIDEO, title=title, text=title, tags=tags, media=media, cover=cover_media,
                        origin=Origin.AI_CREATED, parent_id=None, uploader=CREATOR_UPLOADER, created_at=time.time(),
                        provenance=provenance, fidelity=checked.report, watermark_id=watermark_hex(marked.watermark_id))  # fmt: skip
            ws.items.add(item)
        return _result(ws, item, params, score, t0, [f"look: {why}"])


def _portrait(image: np.ndarray, m: MontageConfig) -> np.ndarray:
    """The centre of a square still at the montage's aspect and size (the cover the feed shows)."""
    h, w = image.shape[:2]
    cw = min(w, round(h * m.width / m.height))
    x = (w - cw) // 2
    return cv2.resize(np.ascontiguousarray(image[:, x : x + cw]), (m.width, m.height), interpolation=cv2.INTER_AREA)


def _result(ws, item: Item, params: dict, score: float, t0: float, notes: list[str]) -> CreationResult:
    return CreationResult(item, ws.media_path(item.media.hash, item.media.mime), ws.media_path(item.cover.hash, item.cover.mime),
                          params, score, time.perf_counter() - t0, notes)  # fmt: skip
