"""The editor protocol's per-user work (editing.py steps 6 and 7), run on a shard of users.

The driver makes everything users share once (`EditorShared`: the retriever, the covers, the
concept head, the look classifier, the keyframes); a shard (`batch/shards.py`, a Ray actor or the
driver itself) then, for a contiguous block of users:

6. chooses every row's cover and clip for each of the user's top-K items and scores Cos and PS
   (`edit_users`), and says which catalogue frames it shows (`UserRows.requests`);
7. judges the requested frames item by item (`judge_frames`), each item's frames in one batch as
   `ShownFrames.resolve` does, after the driver has gathered every user's requests.

Nothing here depends on which users share a shard: a user's random draws come from their own
generator, `default_rng([seed, row])` with `row` the user's row in the training matrix (so a
user's draws do not change when other users are sampled either): first the random frame of each
of their K items, then the start of each random clip; every batch (encoder, judge, retriever)
holds one user's or one item's rows only.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from generec.datasets.oracle import ClipRef, FrameRef, Oracle
from generec.editor.base import EditContext
from generec.editor.clip import ClipConfig, choose_clip, clip_length
from generec.editor.cover import choose_cover, personal_look
from generec.editor.keyframes import Keyframes
from generec.editor.look_judge import LookJudge, look_taste
from generec.editor.preference import Preference, retriever_preference
from generec.editor.style import restyle_image
from generec.encoders.cache import FeatureCache
from generec.encoders.image import ImageEncoderConfig, get_image_encoder
from generec.evaluation.judged import ShownFrames, clip_steps, rotation_of, upright_at
from generec.media.video import apply_rotation, frames_at
from generec.types import Item
from generec.workspace import Workspace

PREF_ROWS = ("frame: User_Hist", "frame: User_Emb", "frame: concepts")
GENEREC_COVER = "generec cover (concepts + User_Hist frame, look)"
COVER_ROWS = ("random frame", "original cover", *PREF_ROWS, GENEREC_COVER)
CLIP_ROWS = ("random clip", "first clip", "unclipped", "clip: User_Hist", "clip: User_Emb", "clip: concepts",
             "generec clip (concepts window + look)")  # fmt: skip
COVER_METRICS = ("cos", "ps", "ctr", "ctr_label")
CLIP_METRICS = ("cos", "ps", "watch", "seconds", "watch_label")


@dataclass(frozen=True)
class EditorShared:
    """What every shard reads, made once by the driver (editing.py steps 1-5)."""

    cfg: Any  # EditorEvalConfig
    encoder: ImageEncoderConfig  # the caller's encoder; shards run it on one thread
    model: Any  # the multimodal retriever of the training period
    item_ids: np.ndarray  # (I,) column -> item id
    catalogue: dict[int, Item]  # the recommended items, by column
    paths: dict[int, Path]  # their media files
    covers: np.ndarray  # (I, 1280) the catalogue covers' features
    head: Any  # the concept head
    center: np.ndarray  # (1280,) μ, the mean cover
    classifier: Any  # the look classifier, or None
    test_start: float
    keyframes: dict[int, Keyframes]  # of the recommended items, by column


@dataclass(frozen=True)
class UserTask:
    row: int  # the user's row in the training matrix (seeds their generator)
    user_id: str
    clicked: np.ndarray  # columns of their training clicks
    top: np.ndarray  # (K,) columns of their top-K


@dataclass
class UserRows:
    """One user's K values of every row and metric step 6 fills (the pixel scores come in step 8)."""

    covers: dict[str, dict[str, list[float]]]
    clips: dict[str, dict[str, list[float]]]
    pending: list[tuple]  # per item: what each row shows, for step 8
    requests: dict[int, list[float]] = field(default_factory=dict)  # column -> times of catalogue frames shown
    judged: bool = False  # has a look judge from impressions
    restyled: int = 0  # generec covers restyled
    agreed: int = 0  # of those, judged by the oracle in the look applied

    def request(self, j: int, times) -> None:
        self.requests.setdefault(j, []).extend(float(t) for t in times)


class EditorShard:
    """One process's state: the workspace, the oracle, an encoder on one thread, the cache."""

    def __init__(self, ws: Workspace, shared: EditorShared) -> None:
        self.ws, self.shared = ws, shared
        self.oracle = Oracle.load(ws.oracle_dir)
        self.encoder = get_image_encoder(dataclasses.replace(shared.encoder, num_threads=1))
        self.cache = FeatureCache.for_workspace(ws)


def setup(ws: Workspace, shared: EditorShared) -> EditorShard:
    return EditorShard(ws, shared)


class ShardedFrames(ShownFrames):
    """`ShownFrames` whose requests are judged elsewhere (`judge_frames`): `pending` lists them,
    `merge` takes the judged frames back."""

    def pending(self) -> list[tuple[int, list[float]]]:
        return [(item, sorted(t for t in times if (item, t) not in self._judged)) for item, times in sorted(self._wanted.items())]

    def judged(self) -> dict[tuple[int, float], tuple[np.ndarray, np.ndarray]]:
        return dict(self._judged)

    def merge(self, judged: dict[tuple[int, float], tuple[np.ndarray, np.ndarray]]) -> None:
        self._judged.update(judged)


def judge_frames(shard: EditorShard, wanted: list[tuple[int, list[float]]]) -> dict[tuple[int, float], tuple[np.ndarray, np.ndarray]]:
    """Step 7 for a block of items: (column, time) -> the judge's (concept, style) probabilities."""
    frames = ShardedFrames(shard.oracle, shard.shared.paths)
    for item, times in wanted:
        frames.request(item, times)
    frames.resolve()
    return frames.judged()


def edit_users(shard: EditorShard, tasks: list[UserTask]) -> list[UserRows]:
    """Step 6 for a block of users, in their order."""
    return [_edit_user(shard, task) for task in tasks]


def _unit(x: np.ndarray) -> np.ndarray:
    return x / (np.linalg.norm(x, axis=-1, keepdims=True) + 1e-8)


def _edit_user(shard: EditorShard, task: UserTask) -> UserRows:
    ws, oracle, encoder, cache, sh = shard.ws, shard.oracle, shard.encoder, shard.cache, shard.shared
    cfg, model, covers, uid = sh.cfg, sh.model, sh.covers, task.user_id
    rng = np.random.default_rng([cfg.seed, task.row])  # the user's own draws (module doc)
    out = UserRows({r: {m: [] for m in COVER_METRICS if m != "ctr"} for r in COVER_ROWS},
                   {r: {m: [] for m in CLIP_METRICS if m not in ("watch", "seconds")} for r in CLIP_ROWS}, [])  # fmt: skip
    # the user's vectors: User_Hist, User_Emb, concepts; the look judge from impressions
    clicked = covers[task.clicked]
    hist = clicked.mean(0)
    prefs = dict(zip(PREF_ROWS, (Preference(uid, "history", hist, len(clicked)), retriever_preference(model, uid),
                                 Preference(uid, "concepts", sh.head.taste(clicked), len(clicked), sh.head))))  # fmt: skip
    look_pref = Preference(uid, "history", hist, len(clicked), center=sh.center)
    taste = look_taste(ws, uid, sh.classifier, encoder, cache, before=sh.test_start) if sh.classifier is not None else None
    judge = LookJudge.for_taste(sh.classifier, taste) if taste is not None else None
    look_ctx = EditContext(ws, uid, look_pref, encoder, cache, look_judge=judge)
    out.judged = judge is not None
    random_frames = _random_frames(sh, task.top, rng, encoder, oracle)
    for rank, j in enumerate(task.top):
        iid, kf, path = str(sh.item_ids[j]), sh.keyframes[j], sh.paths[j]
        duration = oracle.videos[iid].duration
        # covers
        rt, rf, r_judged = random_frames[rank]
        chosen = {"random frame": (rt, rf), "original cover": (0.0, covers[j])}
        for row, pref in prefs.items():
            ctx = EditContext(ws, uid, pref, encoder, cache)
            choice = choose_cover(kf, ctx, None, cfg.cover, covers[j])
            chosen[row] = (choice.t, kf.features[choice.index] if choice.index >= 0 else covers[j])
        # the cover op: concepts + λ User_Hist frame, rendered in the user's look when one suits them
        ctx = EditContext(ws, uid, prefs["frame: concepts"], encoder, cache, history=hist)
        choice = choose_cover(kf, ctx, None, cfg.cover, covers[j])
        t = choice.t
        image = upright_at(path, [t])[0]  # t = 0: the cover
        look = personal_look(image, look_ctx, cfg.cover.restyle_min_gain)
        styled = restyle_image(image, look) if look else image
        chosen[GENEREC_COVER] = (t, encoder.encode([styled]).features[0])
        g_judged = oracle.judge_images([styled])
        if look:
            out.restyled += 1
            out.agreed += oracle.styles[int(g_judged[1][0].argmax())] == look
        feats = np.stack([f for _, f in chosen.values()])
        cos = _unit(feats) @ _unit(hist)
        ps = model.score_content([uid] * len(feats), feats, [iid] * len(feats))
        for r, (row, (t, _)) in enumerate(chosen.items()):
            out.covers[row]["cos"].append(cos[r])
            out.covers[row]["ps"].append(ps[r])
            label_look = look if row == GENEREC_COVER else None
            out.covers[row]["ctr_label"].append(oracle.click_prob(uid, FrameRef(iid, min(t, duration), label_look)))
        for row in PREF_ROWS:
            out.request(j, [chosen[row][0]])
        # clips
        length = clip_length(kf.duration, ClipConfig(length_s=cfg.clip_length_s))
        start = float(rng.uniform(0.0, max(0.0, kf.duration - length)))
        spans = {"random clip": (start, start + length), "first clip": (0.0, length), "unclipped": (0.0, kf.duration)}
        for row, pref in zip(CLIP_ROWS[3:6], prefs.values()):
            ctx = EditContext(ws, uid, pref, encoder, cache)
            c = choose_clip(kf, ctx, length, None, cfg.clip)
            spans[row] = (c.start, c.end)
        spans = {row: (a, min(b, duration)) for row, (a, b) in spans.items()}
        # the clip op: the concepts window in the user's look (the look judged on the keyframes it shows)
        a, b = spans["clip: concepts"]
        inside = np.flatnonzero((kf.timestamps >= a) & (kf.timestamps < b))
        shown_kf = inside if len(inside) else np.array([int(np.argmax(kf.weights_in(a, b)))])
        frames = upright_at(path, [float(kf.timestamps[i]) for i in shown_kf])
        clip_look = personal_look(frames, look_ctx, cfg.clip.restyle_min_gain)
        spans[CLIP_ROWS[6]] = (a, b)
        styled = encoder.encode([restyle_image(f, clip_look) if clip_look else f for f in frames]).features
        w = kf.weights_in(a, b)[shown_kf]
        feats = np.stack([_clip_features(kf, a, b) for a, b in list(spans.values())[:-1]] + [(w[:, None] * styled).sum(0) / max(w.sum(), 1e-8)])
        cos = _unit(feats) @ _unit(hist)
        ps = model.score_content([uid] * len(feats), feats, [iid] * len(feats))
        for r, (row, (a, b)) in enumerate(spans.items()):
            label = oracle.watch_value(uid, ClipRef(iid, a, b, clip_look if row == CLIP_ROWS[6] else None))
            out.clips[row]["cos"].append(cos[r])
            out.clips[row]["ps"].append(ps[r])
            out.clips[row]["watch_label"].append(label.ratio)
            out.request(j, clip_steps(a, b)[0])
        # the generec clip as shown: one frame per second of the window, in the look
        mids, lengths = clip_steps(*spans[CLIP_ROWS[6]])
        c_judged = oracle.judge_images([restyle_image(f, clip_look) for f in upright_at(path, list(mids))]) if clip_look else None
        out.pending.append((uid, j, iid, {row: chosen[row][0] for row in PREF_ROWS}, r_judged, g_judged, spans, (c_judged, lengths)))
    return out


def _clip_features(kf: Keyframes, start: float, end: float) -> np.ndarray:
    """The time-weighted mean of the keyframe features a span shows."""
    w = kf.weights_in(start, end)
    return (w[:, None] * kf.features).sum(0) / max(w.sum(), 1e-8)


def _random_frames(sh: EditorShared, top: np.ndarray, rng: np.random.Generator, encoder, oracle: Oracle) -> list[tuple[float, np.ndarray, tuple[np.ndarray, np.ndarray]]]:
    """A uniformly random frame of each of the user's items, by rank: (t, features, judged)."""
    times, images = [], []
    for j in top:
        path = sh.paths[j]
        got = frames_at(path, [float(rng.uniform(0.0, sh.catalogue[j].media.duration or 0.0))])
        times.append(got.timestamps[0])
        images.append(apply_rotation(got.images[0], rotation_of(path)))
    feats = encoder.encode(images).features
    cp, sp = oracle.judge_images(images)
    return [(t, f, (cp[k : k + 1], sp[k : k + 1])) for k, (t, f) in enumerate(zip(times, feats))]
