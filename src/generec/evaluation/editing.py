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
from typing import Any

import numpy as np

from generec.batch.shards import ShardConfig, blocks, shard_pool
from generec.datasets.oracle import Oracle
from generec.editor.clip import ClipConfig
from generec.editor.cover import CoverConfig
from generec.editor.keyframes import Keyframes, keyframes_many
from generec.editor.look_judge import LookJudgeConfig, look_classifier
from generec.editor.preference import concept_head
from generec.editor.style import restyle_image
from generec.encoders.cache import FeatureCache
from generec.encoders.image import ImageEncoder
from generec.encoders.video import cover_features
from generec.errors import InputError, WorkspaceError
from generec.evaluation import editing_shard
from generec.evaluation.editing_shard import (  # noqa: F401
    CLIP_METRICS,
    CLIP_ROWS,
    COVER_METRICS,
    COVER_ROWS,
    GENEREC_COVER,
    PREF_ROWS,
    EditorShared,
    ShardedFrames,
    UserRows,
    UserTask,
)
from generec.evaluation.judged import clip_steps, judge_on_held_out_looks
from generec.evaluation.protocols import catalogue_without_look_tags
from generec.media.image import load_image
from generec.retrieval.data import make_split
from generec.types import Origin
from generec.workspace import Workspace

# GeneRec (Wang et al., 2023), Table 2: thumbnail selection on MicroLens, Cos@5.
PAPER_COVER_ROWS = {"random frame": 0.4796, "original cover": 0.4978, "CLIP selection": 0.5142, "RDM": 0.5369}

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
    shards: ShardConfig | None = None,
) -> EditorReport:
    """The protocol; `shards` runs steps 6-7 user by user on Ray workers (equal results, any count)."""
    cfg, shards = config or EditorEvalConfig(), shards or ShardConfig()
    shards.check()
    if cfg.strip_look_tags:  # the product reads a copy of the catalogue whose tags name no look
        Oracle.load(ws.oracle_dir)  # refuse a workspace that is no benchmark before copying it
        with catalogue_without_look_tags(ws) as view:
            return _evaluate(view, encoder, cfg, progress, shards)
    return _evaluate(ws, encoder, cfg, progress, shards)


def _evaluate(ws: Workspace, encoder: ImageEncoder, cfg: EditorEvalConfig, progress, shards: ShardConfig) -> EditorReport:
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
    # 6. every row's cover and clip for each (user, item), Cos / PS now, user by user on the shards
    #    (editing_shard.py); the blocks come back in user order
    shared = EditorShared(cfg, encoder.config, model, item_ids, {j: catalogue[j] for j in needed}, paths, covers, head, center,
                          classifier, test_start, kfs)  # fmt: skip
    tasks = [UserTask(int(u), str(train.user_ids[u]), train.matrix[u].indices, top[n]) for n, u in enumerate(users)]
    per_user: list[UserRows] = []
    shown = ShardedFrames(oracle, paths)
    with shard_pool(ws, editing_shard.setup, shared, shards) as pool:
        for rows in pool.map(editing_shard.edit_users, blocks(tasks, 4 * max(1, shards.workers))):
            per_user.extend(rows)
            if progress:
                progress("editor protocol", len(per_user), len(users))
        # 7. judge every other frame shown (the judge's view of a frame is the same for every user), item by item on the shards
        for rows in per_user:
            for j, times in rows.requests.items():
                shown.request(j, times)
        wanted = shown.pending()
        frames_judged, merged = sum(len(t) for _, t in wanted), 0
        for done in pool.map(editing_shard.judge_frames, blocks(wanted, 4 * max(1, shards.workers))):
            shown.merge(done)
            merged += len(done)
            if progress:
                progress("judge shown frames", merged, frames_judged)
    originals = _judged_covers(ws, oracle, {j: catalogue[j] for j in needed})
    # 8. score every row from the pixels shown: P(click) and watch as the oracle's expectation over the judge
    cover_vals = {r: {m: [] for m in COVER_METRICS} for r in COVER_ROWS}
    clip_vals = {r: {m: [] for m in CLIP_METRICS} for r in CLIP_ROWS}
    for rows in per_user:
        for vals, got in ((cover_vals, rows.covers), (clip_vals, rows.clips)):
            for row, metrics in got.items():
                for m, v in metrics.items():
                    vals[row][m].extend(v)
    judged, restyled, agreed = (sum(getattr(r, a) for r in per_user) for a in ("judged", "restyled", "agreed"))
    for uid, j, iid, times, r_judged, g_judged, spans, (c_judged, c_lengths) in (p for r in per_user for p in r.pending):
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
        "seconds": round(time.perf_counter() - started, 1), "workers": shards.workers,
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


# throughput: `generec bench editor` lives in editor_bench.py (kept importable from here)
from generec.evaluation.editor_bench import BackendBench, EditorBench, bench_editor  # noqa: E402, F401
