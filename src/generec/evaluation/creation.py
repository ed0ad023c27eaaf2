"""`generec evaluate creator`: the AI creator on the micro-video benchmark, every score on pixels.

For every concept × look (the benchmark's 10 × 10), one instruction in words (`PHRASINGS`, written
before any tuning) for a test user, parsed by the product and served by `pipeline.create`:

- asked: the oracle's judge reads the created video (one frame per second) and its cover; a
  creation shows the concept (look) when the length-weighted share of frames judged so is ≥ 0.5;
- good for the user: the pixel-judged click probability of the created cover and the watch share
  of the video, against (a) the original covers of the user's top-5 retrieved items, (b) what the
  instructor would have served instead (its top retrieved item under the same guidance) and the
  best of its top 5 that satisfies the instruction when one does, (c) random catalogue items;
- realism and novelty: FD-EffNet of created frames against real catalogue frames, beside real vs
  real (`generation_metrics.py`); each cover's nearest training image (cosine, pHash) against
  the catalogue's own near-duplicate threshold; within-user diversity of two creations;
- the paper's protocol for generated covers: `regenerate` on the top-5 items of test users,
  Cos@5 (cosine to User_Hist) and PS@5 (the multimodal retriever's score), beside the original
  covers and the paper's RDM row;
- revision: a simulated response (click with the judged probability, seeded) to the first
  regenerated cover of each user's top item; for the skipped ones, the revision's probability.

Created and regenerated items are stored in the workspace like any (origin ai_created / ai_edited).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from generec.batch.shards import ShardConfig, blocks, shard_pool
from generec.errors import InputError
from generec.evaluation import creation_shard
from generec.evaluation.creation_shard import LOOK_WORDS, PHRASINGS, CreatorShared, shown_frames  # noqa: F401
from generec.evaluation.generation_metrics import fd_effnet, near_duplicate_threshold, nearest, phash_bits
from generec.types import Origin
from generec.workspace import Workspace

PAPER_RDM = {"original Cos@5": 0.4978, "RDM Cos@5": 0.5369}  # GeneRec (Wang et al., 2023), Table 2


@dataclass(frozen=True)
class CreatorEvalConfig:
    n_users: int = 50
    seed: int = 0
    combos: int = 0  # 0: every concept × look; else a seeded sample of this many
    regenerate_users: int = 20  # users whose top-5 covers are regenerated (Cos@5 / PS@5)
    diversity_users: int = 10
    checkpoint: str | None = None  # a snapshot to evaluate instead of models/creator/creator.pt
    quick: bool = False  # only what the judge says (the accuracy curve against training minutes)


@dataclass
class CreatorReport:
    asked: dict[str, float]
    for_user: dict[str, float]
    realism: dict[str, float]
    covers: dict[str, dict[str, float]]
    revision: dict[str, float]
    per_look: dict[str, dict[str, float]] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"asked": self.asked, "for_user": self.for_user, "realism": self.realism, "covers": self.covers,
                "revision": self.revision, "per_look": self.per_look, "paper": PAPER_RDM, "info": self.info}  # fmt: skip


def evaluate_creator(ws: Workspace, config: CreatorEvalConfig | None = None, progress: Callable | None = None,
                     shards: ShardConfig | None = None) -> CreatorReport:  # fmt: skip
    """The evaluation; `shards` runs the creating steps (2, 3b, 4) on Ray workers, one task at a
    time (equal results for any number of workers: `creation_shard.py`)."""
    from generec.batch.jobs import _write as store_rows
    from generec.datasets.oracle import Oracle
    from generec.encoders.image import get_image_encoder
    from generec.evaluation.editing import _train_multimodal
    from generec.pipeline import CreatorSettings
    from generec.retrieval.data import make_split

    cfg, shards = config or CreatorEvalConfig(), shards or ShardConfig()
    shards.check()
    started = time.perf_counter()
    progress = progress or (lambda *a: None)
    # 1. the benchmark, the creator, the test users and a retriever on the training period
    oracle = Oracle.load(ws.oracle_dir)
    if oracle.judge is None:
        raise InputError(f"the oracle in {ws.oracle_dir} has no judge; rebuild the benchmark")
    generator, frames, _ = CreatorSettings(checkpoint=cfg.checkpoint).load(ws)
    split = make_split(ws, "microvideo")
    model = _train_multimodal(ws, split, progress) if not cfg.quick else None
    train = split.train
    test_users = np.flatnonzero(np.asarray(split.test.sum(1)).ravel() > 0)
    has_history = np.asarray(train.matrix.sum(1)).ravel() > 0
    pool = test_users[has_history[test_users]]
    rng = np.random.default_rng(cfg.seed)
    if not len(pool):
        raise InputError(f"workspace {ws.root}: no test user with a training history to create for")
    users = [str(train.user_ids[u]) for u in np.sort(rng.choice(pool, size=min(cfg.n_users, len(pool)), replace=False))]
    combos = [(c, s) for c in range(len(oracle.concepts)) for s in range(len(oracle.styles))]
    if cfg.combos:
        combos = [combos[i] for i in np.sort(rng.choice(len(combos), min(cfg.combos, len(combos)), replace=False))]

    def run(pool, fn, tasks: list, stage: str) -> list:
        """`fn` over `tasks`, one task a block; each block's item rows stored in one transaction."""
        out = []
        for block in pool.map(fn, blocks(tasks, len(tasks))):
            store_rows(ws, block)
            out.extend(block.results)
            progress(stage, len(out), len(tasks))
        return out

    with shard_pool(ws, creation_shard.setup, CreatorShared(cfg, model), shards) as workers:
        # 2. one creation per concept × look, for the users in turn
        rows = run(workers, creation_shard.create_combos, [(n, c, s, users[n % len(users)]) for n, (c, s) in enumerate(combos)], "create")
        asked, per_look = _asked(rows, oracle.styles)
        report = CreatorReport(asked, {}, {}, {}, {}, per_look, {"combos": len(combos), "users": len(users), "rows": rows, "workers": shards.workers,
                                                                "checkpoint": generator.checkpoint_hash, "creator_meta": getattr(generator, "meta", {})})  # fmt: skip
        if cfg.quick:
            report.info["seconds"] = time.perf_counter() - started
            return report
        report.for_user = _for_user(rows)
        # 3. realism and novelty of what was created (as shown: one frame per second, the cover)
        report.realism = _realism(ws, cfg, [ws.items.get(r["item"]) for r in rows if r["item"]], frames, get_image_encoder())
        # within-user diversity: a second request of the same words, two creations
        divs = run(workers, creation_shard.diversity_pairs, [(n, rows[n]["user"], rows[n]["text"]) for n in range(min(cfg.diversity_users, len(rows)))], "diversity")
        divs = [d for d in divs if d is not None]
        report.realism["within_user_diversity"] = float(np.mean(divs)) if divs else float("nan")
        # 4. generated covers (the paper's protocol) and revision, user by user
        per_user = run(workers, creation_shard.regenerate_users, list(enumerate(users[: cfg.regenerate_users])), "regenerate")
    report.covers, report.revision = _covers_and_revision(per_user)
    report.info["seconds"] = time.perf_counter() - started
    return report


def _realism(ws: Workspace, cfg: CreatorEvalConfig, created: list, frames, encoder) -> dict[str, float]:
    """FD-EffNet of the created frames against real ones; each cover's nearest training image."""
    from generec.encoders.video import cover_image

    shown = [f for item in created for f in shown_frames(ws, item)]
    if 3 * len(shown) > len(frames):  # FD needs three real sets as large as the created one
        shown = [shown[i] for i in np.random.default_rng(cfg.seed).choice(len(shown), len(frames) // 3, replace=False)]
    out = fd_effnet(encoder.encode(shown).features, frames.features, np.random.default_rng(cfg.seed))
    covers = [cover_image(ws, item) for item in created]
    cos, dist = nearest(encoder.encode(covers).features, phash_bits(covers), frames.features, phash_bits(list(frames.images)))
    cat_covers = [cover_image(ws, i) for i in ws.items.all(origin=Origin.HUMAN)]
    threshold, cat_nn = near_duplicate_threshold(phash_bits(cat_covers), np.arange(len(cat_covers)))
    return out | {"nearest_cos_median": float(np.median(cos)), "nearest_phash_median": float(np.median(dist)),
                  "nearest_phash_min": float(dist.min()), "catalogue_nn_phash_median": float(np.median(cat_nn)),
                  "near_duplicate_threshold": threshold, "copies": int((dist <= threshold).sum()), "n_covers": len(covers)}  # fmt: skip


def _asked(rows: list[dict], styles: list[str]) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    mean = lambda key, rs: float(np.mean([r[key] for r in rs])) if rs else float("nan")
    asked = {"concept_accuracy": mean("concept_ok", rows), "look_accuracy": mean("look_ok", rows),
             "both": float(np.mean([r["concept_ok"] and r["look_ok"] for r in rows])),
             "cover_concept_accuracy": mean("cover_concept_ok", rows), "cover_look_accuracy": mean("cover_look_ok", rows),
             "parsed_right": float(np.mean([r["concept"] in r["parsed_include"] and r["parsed_style"] == r["look"] for r in rows])),
             "median_seconds": float(np.median([r["seconds"] for r in rows])), "n": len(rows),
             "blocked": sum(bool(r.get("blocked")) for r in rows)}  # fmt: skip
    per_look = {s: {"concept": mean("concept_ok", [r for r in rows if r["look"] == s]), "look": mean("look_ok", [r for r in rows if r["look"] == s])}
                for s in styles}  # fmt: skip
    return asked, per_look


def _for_user(rows: list[dict]) -> dict[str, float]:
    def mean(key: str, rs: list[dict]) -> float:
        vals = [r[key] for r in rs if r.get(key) is not None]
        return float(np.mean(vals)) if vals else float("nan")

    unmet = [r for r in rows if not r.get("served_satisfied", False)]
    out = {"ctr_created": mean("ctr", rows), "ctr_served_instead": mean("ctr_served", rows), "ctr_top5_original": mean("ctr_top5_original", rows),
           "ctr_random": mean("ctr_random", rows), "ctr_best_satisfying": mean("ctr_best_satisfying", rows),
           "share_with_a_satisfying_item": float(np.mean([r.get("ctr_best_satisfying") is not None for r in rows])),
           "watch_created": mean("watch", rows), "watch_served_instead": mean("watch_served", rows),
           "unmet_n": len(unmet), "unmet_ctr_created": mean("ctr", unmet), "unmet_ctr_served_instead": mean("ctr_served", unmet),
           "unmet_satisfied_created": float(np.mean([r["concept_ok"] and r["look_ok"] for r in unmet])) if unmet else float("nan"),
           "satisfied_created": float(np.mean([r["concept_ok"] and r["look_ok"] for r in rows])),
           "satisfied_served_instead": mean("served_satisfied", rows)}  # fmt: skip
    return out


def _covers_and_revision(per_user: list[dict]) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    vals = {k: [v for u in per_user for v in u["vals"][k]] for k in ("orig_cos", "regen_cos", "orig_ps", "regen_ps", "orig_ctr", "regen_ctr")}
    pairs = [(u["first_p"], u["revised_p"]) for u in per_user if u["first_p"] is not None]
    first_p, revised_p = np.array([p for p, _ in pairs]), np.array([r for _, r in pairs])
    covers = {"original": {"Cos@5": float(np.mean(vals["orig_cos"])), "PS@5": float(np.mean(vals["orig_ps"])), "CTR@5": float(np.mean(vals["orig_ctr"]))},
              "regenerated": {"Cos@5": float(np.mean(vals["regen_cos"])), "PS@5": float(np.mean(vals["regen_ps"])), "CTR@5": float(np.mean(vals["regen_ctr"]))}}  # fmt: skip
    revision = {"rejected_ctr": float(first_p.mean()) if pairs else float("nan"), "revision_ctr": float(revised_p.mean()) if pairs else float("nan"),
                "improved_share": float(np.mean(revised_p > first_p)) if pairs else float("nan"), "n": len(pairs),
                "blocked_covers": sum(u["blocked"] for u in per_user)}  # fmt: skip
    return covers, revision


def sample_grid(ws: Workspace, report: CreatorReport, concepts: list[str], looks: list[str], cell: tuple[int, int] = (72, 128)) -> np.ndarray:
    """The created covers as one image: a row per concept, a column per look (grey where none was made)."""
    import cv2

    from generec.media.image import load_image

    w, h = cell
    grid = np.full((len(concepts) * (h + 4) + 4, len(looks) * (w + 4) + 4, 3), 40, np.uint8)
    for r in report.info["rows"]:
        item = ws.items.get(r["item"])
        if item is None or item.cover is None:
            continue
        im = cv2.resize(load_image(ws.media_path(item.cover.hash, item.cover.mime)), (w, h), interpolation=cv2.INTER_AREA)
        y, x = 4 + concepts.index(r["concept"]) * (h + 4), 4 + looks.index(r["look"]) * (w + 4)
        grid[y : y + h, x : x + w] = im
    return grid
