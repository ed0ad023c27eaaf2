"""The AI editor's evaluation, after the GeneRec paper's feasibility study, plus the simulator.

For a sample of test users of the micro-video benchmark and each user's top-K items from the
multimodal retriever (trained on the benchmark's training period only):

- Cos@K: cos(features of the new cover / clip, User_Hist), User_Hist = mean features of the
  covers of the user's training clicks (the paper's reference vector);
- PS@K: the multimodal retriever's score of the new content for the user (x̂ with the item's
  collaborative part kept, so only the content term differs between rows);
- oracle CTR@K (covers): the simulated user's click probability for the frame as shown, judged
  from its pixels (`judged.py`: the oracle's judge gives concept and style probabilities, the
  click model is taken in expectation over them);
- oracle watch@K (clips): the simulated user's expected share of the clip watched, one judged
  frame per second of it;
- CTR_label@K / watch_label@K: the old score by labels (the source segment's ground truth plus
  the look an edit applied), what an edit would earn if its look were rendered perfectly.

With `strip_look_tags` the product reads a copy of the catalogue whose tags hold no look word.

Rows: covers — random frame, original cover, generec (User_Hist), generec (User_Emb); clips —
random clip, first clip, unclipped, generec (User_Hist), generec (User_Emb). The paper's
published thumbnail rows are printed beside ours; its numbers are on MicroLens with CLIP
features, so only the relative gains compare.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from generec.datasets.oracle import ClipRef, FrameRef, Oracle
from generec.editor.base import EditContext
from generec.editor.clip import ClipConfig, choose_clip, clip_length
from generec.editor.cover import CoverConfig, choose_cover, personal_look
from generec.editor.keyframes import Keyframes, keyframes_many
from generec.editor.look_judge import LookJudge, LookJudgeConfig, look_classifier, look_taste
from generec.editor.preference import Preference, concept_head, retriever_preference
from generec.editor.style import restyle_image
from generec.encoders.cache import FeatureCache
from generec.encoders.image import ImageEncoder
from generec.encoders.video import cover_features
from generec.errors import InputError, WorkspaceError
from generec.evaluation.judged import ShownFrames, clip_steps, judge_on_held_out_looks, rotation_of, upright_at
from generec.evaluation.protocols import catalogue_without_look_tags
from generec.media.image import load_image
from generec.media.video import apply_rotation, frames_at
from generec.retrieval.data import make_split
from generec.types import Origin
from generec.workspace import Workspace

# GeneRec (Wang et al., 2023), Table 2: thumbnail selection on MicroLens, Cos@5.
PAPER_COVER_ROWS = {"random frame": 0.4796, "original cover": 0.4978, "CLIP selection": 0.5142, "RDM": 0.5369}

PREF_ROWS = ("frame: User_Hist", "frame: User_Emb", "frame: concepts")
GENEREC_COVER = "generec cover (concepts + User_Hist frame, look)"
COVER_ROWS = ("random frame", "original cover", *PREF_ROWS, GENEREC_COVER)
CLIP_ROWS = ("random clip", "first clip", "unclipped", "clip: User_Hist", "clip: User_Emb", "clip: concepts",
             "generec clip (concepts window + look)")  # fmt: skip


@dataclass(frozen=True)
class EditorEvalConfig:
    n_users: int = 200
    ks: tuple[int, ...] = (5, 10)
    clip_length_s: float = 5.0
    seed: int = 0
    cover: CoverConfig = field(default_factory=CoverConfig)
    clip: ClipConfig = field(default_factory=ClipConfig)
    looks: LookJudgeConfig = field(default_factory=LookJudgeConfig)
    strip_look_tags: bool = False  # the product reads every item's tags without the benchmark's look words


@dataclass
class EditorReport:
    covers: dict[str, dict[str, float]]  # row -> metric@K -> value
    clips: dict[str, dict[str, float]]
    paper: dict[str, float]
    info: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"covers": self.covers, "clips": self.clips, "paper_cover_cos@5": self.paper, "info": self.info}


def _unit(x: np.ndarray) -> np.ndarray:
    return x / (np.linalg.norm(x, axis=-1, keepdims=True) + 1e-8)


def _train_multimodal(ws: Workspace, split, progress) -> Any:
    from generec.encoders.item import item_features
    from generec.evaluation.protocols import attach_features
    from generec.retrieval.trainer import tune_and_fit

    attach_features(split, item_features(ws, ws.items.all(origin=Origin.HUMAN), progress))
    return tune_and_fit("multimodal", split, budget=1, progress=progress).model


def evaluate_editor(
    ws: Workspace,
    encoder: ImageEncoder,
    config: EditorEvalConfig | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> EditorReport:
    cfg = config or EditorEvalConfig()
    if cfg.strip_look_tags:  # the product reads a copy of the catalogue whose tags name no look
        Oracle.load(ws.oracle_dir)  # refuse a workspace that is no benchmark before copying it
        with catalogue_without_look_tags(ws) as view:
            return _evaluate(view, encoder, cfg, progress)
    return _evaluate(ws, encoder, cfg, progress)


def _evaluate(ws: Workspace, encoder: ImageEncoder, cfg: EditorEvalConfig, progress) -> EditorReport:
    started = time.perf_counter()
    # 1. check inputs: a benchmark workspace with an oracle (and its judge) and a stored split
    oracle = Oracle.load(ws.oracle_dir)
    if oracle.judge is None:
        raise WorkspaceError(f"the oracle in {ws.oracle_dir} has no judge; rebuild the benchmark")
    if max(cfg.ks) < 1 or cfg.n_users < 1:
        raise InputError(f"expected positive ks and n_users, found {cfg.ks} and {cfg.n_users}")
    split = make_split(ws, "microvideo")
    cache = FeatureCache.for_workspace(ws)
    # 2. the multimodal retriever on the training period
    model = _train_multimodal(ws, split, progress)
    train, item_ids = split.train, split.train.item_ids
    # 3. test users (seeded sample) and their top-K
    test_users = np.flatnonzero(np.asarray(split.test.sum(1)).ravel() > 0)
    has_history = np.asarray(train.matrix.sum(1)).ravel() > 0
    pool = test_users[has_history[test_users]]
    rng = np.random.default_rng(cfg.seed)
    users = np.sort(rng.choice(pool, size=min(cfg.n_users, len(pool)), replace=False))
    k_max = max(cfg.ks)
    scores = model.score_users(users)  # (n, I)
    scores[train.matrix[users].nonzero()] = -np.inf
    top = np.argsort(-scores, axis=1)[:, :k_max]  # (n, K)
    # 4. covers of every catalogue item (the originals, User_Hist), the concept head, μ
    items = {i.id: i for i in ws.items.all(origin=Origin.HUMAN)}
    catalogue = [items[i] for i in item_ids]
    covers = cover_features(ws, catalogue, encoder, cache, progress).features  # (I, 1280)
    head = concept_head(ws, encoder, cache)
    center = covers.mean(0)
    classifier = look_classifier(ws, encoder, cache, cfg.looks, progress)  # the look judge learns from training-period impressions only
    test_start = split.info["test_start"]
    # 5. keyframes of the recommended items (cached per video)
    needed = sorted(set(top.ravel().tolist()))
    paths = {j: ws.media_path(catalogue[j].media.hash, catalogue[j].media.mime) for j in needed}
    found = keyframes_many([paths[j] for j in needed], [catalogue[j].media.hash for j in needed], encoder, cache, cfg.cover.keyframes, progress)
    kfs: dict[int, Keyframes] = dict(zip(needed, found))
    shown = ShownFrames(oracle, paths)
    # 6. choose every row's cover and clip for every (user, item); Cos / PS now, pixels judged later
    cover_vals = {r: {m: [] for m in ("cos", "ps", "ctr", "ctr_label")} for r in COVER_ROWS}
    clip_vals = {r: {m: [] for m in ("cos", "ps", "watch", "seconds", "watch_label")} for r in CLIP_ROWS}
    pending = []  # per (user, item): what each row shows, scored in step 8
    judged = 0  # users whose looks come from impressions (the rest: the centred User_Hist judge)
    restyled = agreed = 0  # generec covers restyled, and how many of those the oracle's judge sees in that look
    random_frames = _random_frames(ws, catalogue, users, top, rng, encoder, oracle)
    for n, u in enumerate(users):
        uid = str(train.user_ids[u])
        clicked = covers[train.matrix[u].indices]
        hist = clicked.mean(0)
        prefs = dict(zip(PREF_ROWS, (Preference(uid, "history", hist, len(clicked)), retriever_preference(model, uid),
                                     Preference(uid, "concepts", head.taste(clicked), len(clicked), head))))  # fmt: skip
        look_pref = Preference(uid, "history", hist, len(clicked), center=center)
        taste = look_taste(ws, uid, classifier, encoder, cache, before=test_start) if classifier is not None else None
        judge = LookJudge.for_taste(classifier, taste) if taste is not None else None  # type: ignore[union-attr]
        look_ctx = EditContext(ws, uid, look_pref, encoder, cache, look_judge=judge)
        judged += judge is not None
        for rank, j in enumerate(top[n]):
            iid, kf, path = str(item_ids[j]), kfs[j], paths[j]
            duration = oracle.videos[iid].duration
            # covers
            rt, rf, r_judged = random_frames[(n, rank)]
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
                restyled += 1
                agreed += oracle.styles[int(g_judged[1][0].argmax())] == look
            feats = np.stack([f for _, f in chosen.values()])
            cos = _unit(feats) @ _unit(hist)
            ps = model.score_content([uid] * len(feats), feats, [iid] * len(feats))
            for r, (row, (t, _)) in enumerate(chosen.items()):
                cover_vals[row]["cos"].append(cos[r])
                cover_vals[row]["ps"].append(ps[r])
                label_look = look if row == GENEREC_COVER else None
                cover_vals[row]["ctr_label"].append(oracle.click_prob(uid, FrameRef(iid, min(t, duration), label_look)))
            for row in PREF_ROWS:
                shown.request(j, [chosen[row][0]])
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
                clip_vals[row]["cos"].append(cos[r])
                clip_vals[row]["ps"].append(ps[r])
                clip_vals[row]["watch_label"].append(label.ratio)
                shown.request(j, clip_steps(a, b)[0])
            # the generec clip as shown: one frame per second of the window, in the look
            mids, lengths = clip_steps(*spans[CLIP_ROWS[6]])
            c_judged = oracle.judge_images([restyle_image(f, clip_look) for f in upright_at(path, list(mids))]) if clip_look else None
            pending.append((uid, j, iid, {row: chosen[row][0] for row in PREF_ROWS}, r_judged, g_judged, spans, (c_judged, lengths)))
        if progress:
            progress("editor protocol", n + 1, len(users))
    # 7. judge every other frame shown (the judge's view of a frame is the same for every user)
    frames_judged = shown.resolve(progress)
    originals = _judged_covers(ws, oracle, {j: catalogue[j] for j in needed})
    # 8. score every row from the pixels shown: P(click) and watch as the oracle's expectation over the judge
    for uid, j, iid, times, r_judged, g_judged, spans, (c_judged, c_lengths) in pending:
        q = oracle.videos[iid].quality
        judged_covers = {"random frame": r_judged, "original cover": originals[j], **{row: shown.get(j, [t]) for row, t in times.items()}, GENEREC_COVER: g_judged}
        for row in COVER_ROWS:
            cover_vals[row]["ctr"].append(float(oracle.click_probs_judged(uid, *judged_covers[row], q)[0]))
        for row, (a, b) in spans.items():
            if row == CLIP_ROWS[6] and c_judged is not None:
                (cp, sp), lengths = c_judged, c_lengths
            else:  # as uploaded (the generec clip left in its look: the concepts window's frames)
                mids, lengths = clip_steps(a, b)
                cp, sp = shown.get(j, mids)
            value = oracle.watch_value_judged(uid, cp, sp, lengths)
            clip_vals[row]["watch"].append(value.ratio)
            clip_vals[row]["seconds"].append(value.seconds)
    # 9. how well the judge sees each look, as the product renders it and as the benchmark does, on held-out videos
    looks_seen = judge_on_held_out_looks(ws, oracle, {i.id: i for i in catalogue}, restyle_image, cfg.seed)
    # 10. @K: mean over each user's first K items, then over users
    report_covers = {row: _at_k(vals, len(users), k_max, cfg.ks) for row, vals in cover_vals.items()}
    report_clips = {row: _at_k(vals, len(users), k_max, cfg.ks) for row, vals in clip_vals.items()}
    info = {
        "users": int(len(users)), "items_edited": len(needed), "clip_length_s": cfg.clip_length_s, "seed": cfg.seed,
        "mean_keyframes": float(np.mean([len(kf) for kf in kfs.values()])), "users_with_look_judge": judged,
        "look_classes": list(classifier.looks_) if classifier is not None else [], "look_tags": not cfg.strip_look_tags,
        "scored_by": "pixels (the oracle's judge); *_label: the applied look's label", "frames_judged": frames_judged,
        "generec_covers_restyled": restyled, "restyled_judged_in_their_look": agreed, **looks_seen,
        "seconds": round(time.perf_counter() - started, 1),
    }  # fmt: skip
    return EditorReport(report_covers, report_clips, PAPER_COVER_ROWS, info)


def _judged_covers(ws: Workspace, oracle: Oracle, items: dict[int, Any]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """The judge's view of each item's catalogue cover, the image users are shown."""
    keys = list(items)
    cp, sp = oracle.judge_images([load_image(ws.media_path(items[j].cover.hash, items[j].cover.mime)) for j in keys])
    return {j: (cp[n : n + 1], sp[n : n + 1]) for n, j in enumerate(keys)}


def _at_k(vals: dict[str, list[float]], n_users: int, k_max: int, ks: Sequence[int]) -> dict[str, float]:
    out = {}
    for metric, values in vals.items():
        grid = np.asarray(values, np.float64).reshape(n_users, k_max)
        for k in ks:
            out[f"{metric}@{k}"] = float(grid[:, :k].mean())
    return out


def _clip_features(kf: Keyframes, start: float, end: float) -> np.ndarray:
    """The time-weighted mean of the keyframe features a span shows."""
    w = kf.weights_in(start, end)
    return (w[:, None] * kf.features).sum(0) / max(w.sum(), 1e-8)


def _random_frames(ws, catalogue, users, top, rng, encoder, oracle) -> dict[tuple[int, int], tuple[float, np.ndarray, tuple[np.ndarray, np.ndarray]]]:
    """A uniformly random frame of each recommended item, per (user row, rank): (t, features, judged)."""
    picks, images = [], []
    for n in range(len(users)):
        for rank, j in enumerate(top[n]):
            it = catalogue[j]
            path = ws.media_path(it.media.hash, it.media.mime)
            t = float(rng.uniform(0.0, it.media.duration or 0.0))
            got = frames_at(path, [t])
            picks.append(((n, rank), got.timestamps[0]))
            images.append(apply_rotation(got.images[0], rotation_of(path)))
    feats = encoder.encode(images).features
    cp, sp = oracle.judge_images(images)
    return {key: (t, f, (cp[k : k + 1], sp[k : k + 1])) for k, ((key, t), f) in enumerate(zip(picks, feats))}


# throughput: `generec bench editor` lives in editor_bench.py (kept importable from here)
from generec.evaluation.editor_bench import BackendBench, EditorBench, bench_editor  # noqa: E402, F401
