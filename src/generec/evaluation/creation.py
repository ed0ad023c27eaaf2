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

from generec.errors import InputError
from generec.fidelity.gate import FidelityBlocked
from generec.evaluation.generation_metrics import diversity, fd_effnet, near_duplicate_threshold, nearest, phash_bits
from generec.evaluation.judged import clip_steps, upright_at
from generec.types import Origin
from generec.workspace import Workspace

PAPER_RDM = {"original Cos@5": 0.4978, "RDM Cos@5": 0.5369}  # GeneRec (Wang et al., 2023), Table 2
PHRASINGS = (
    "make me a {look} video of {concept}",
    "create a new {look} clip about {concept}",
    "generate something with {concept}, {look} style",
    "can you make an original {concept} video in {look}",
)
LOOK_WORDS = {"natural": "natural", "black_and_white": "black and white"}


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


def _shares(cp: np.ndarray, sp: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    w = lengths / lengths.sum()
    c = np.bincount(cp.argmax(1), weights=w, minlength=cp.shape[1])
    s = np.bincount(sp.argmax(1), weights=w, minlength=sp.shape[1])
    return c, s


class _Judged:
    """Covers and videos as shown, judged once."""

    def __init__(self, ws: Workspace, oracle) -> None:
        self.ws, self.oracle, self._covers, self._videos = ws, oracle, {}, {}

    def cover(self, item) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if item.id not in self._covers:
            from generec.encoders.video import cover_image

            im = cover_image(self.ws, item)
            cp, sp = self.oracle.judge_images([im])
            self._covers[item.id] = (cp[0], sp[0], im)
        return self._covers[item.id]

    def video(self, item) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[np.ndarray]]:
        if item.id not in self._videos:
            mids, lengths = clip_steps(0.0, float(item.media.duration))
            frames = upright_at(self.ws.media_path(item.media.hash, item.media.mime), [float(t) for t in mids])
            cp, sp = self.oracle.judge_images(frames)
            self._videos[item.id] = (cp, sp, lengths, frames)
        return self._videos[item.id]

    def ctr(self, user: str, item) -> float:
        cp, sp, _ = self.cover(item)
        return float(self.oracle.click_probs_judged(user, cp[None], sp[None])[0])

    def watch(self, user: str, item) -> float:
        cp, sp, lengths, _ = self.video(item)
        return float(self.oracle.watch_value_judged(user, cp, sp, lengths).ratio)

    def satisfies(self, item, concept: int, look: int) -> tuple[bool, bool]:
        cp, sp, lengths, _ = self.video(item)
        c, s = _shares(cp, sp, lengths)
        return bool(c[concept] >= 0.5), bool(s[look] >= 0.5)


def evaluate_creator(ws: Workspace, config: CreatorEvalConfig | None = None, progress: Callable | None = None) -> CreatorReport:
    from generec.creator.creator import CreateConfig
    from generec.datasets.oracle import Oracle
    from generec.encoders.image import get_image_encoder
    from generec.feed import retrieve_feed
    from generec.pipeline import CreatorSettings, create, parse_instruction
    from generec.retrieval.data import make_split
    from generec.evaluation.editing import _train_multimodal

    cfg = config or CreatorEvalConfig()
    started = time.perf_counter()
    progress = progress or (lambda *a: None)
    # 1. the benchmark, the creator, the test users and a retriever on the training period
    oracle = Oracle.load(ws.oracle_dir)
    if oracle.judge is None:
        raise InputError(f"the oracle in {ws.oracle_dir} has no judge; rebuild the benchmark")
    settings = CreatorSettings(checkpoint=cfg.checkpoint)
    generator, frames, _ = settings.load(ws)
    split = make_split(ws, "microvideo")
    model = _train_multimodal(ws, split, progress) if not cfg.quick else None
    train = split.train
    test_users = np.flatnonzero(np.asarray(split.test.sum(1)).ravel() > 0)
    has_history = np.asarray(train.matrix.sum(1)).ravel() > 0
    pool = test_users[has_history[test_users]]
    rng = np.random.default_rng(cfg.seed)
    if not len(pool):
        raise InputError(f"workspace {ws.root}: no test user with a training history to create for")
    users = [train.user_ids[u] for u in np.sort(rng.choice(pool, size=min(cfg.n_users, len(pool)), replace=False))]
    items = {i.id: i for i in ws.items.all(origin=Origin.HUMAN)}
    judged = _Judged(ws, oracle)
    combos = [(c, s) for c in range(len(oracle.concepts)) for s in range(len(oracle.styles))]
    if cfg.combos:
        combos = [combos[i] for i in np.sort(rng.choice(len(combos), min(cfg.combos, len(combos)), replace=False))]
    # 2. one creation per concept × look
    rows: list[dict[str, Any]] = []
    created = []
    for n, (ci, si) in enumerate(combos):
        user = users[n % len(users)]
        concept, look = oracle.concepts[ci], oracle.styles[si]
        text = PHRASINGS[n % len(PHRASINGS)].format(concept=concept, look=LOOK_WORDS.get(look, look))
        g = parse_instruction(ws, text)
        t0 = time.perf_counter()
        try:
            result = create(ws, user, guidance=g, n=1, create_config=CreateConfig(seed=cfg.seed + n), settings=settings)[0]
        except FidelityBlocked as exc:  # the gate keeps it from the user: nothing shown, nothing satisfied
            rows.append({"user": user, "concept": concept, "look": look, "text": text, "parsed_include": list(g.include), "parsed_style": g.style,
                         "blocked": str(exc), "concept_ok": False, "look_ok": False, "cover_concept_ok": False, "cover_look_ok": False,
                         "seconds": time.perf_counter() - t0, "item": None, **({} if cfg.quick else {"ctr": 0.0, "watch": 0.0})})  # fmt: skip
            progress("create", n + 1, len(combos))
            continue
        seconds = time.perf_counter() - t0
        item = result.item
        created.append((user, item))
        ok_c, ok_s = judged.satisfies(item, ci, si)
        cp, sp, _ = judged.cover(item)
        row = {"user": user, "concept": concept, "look": look, "text": text, "parsed_include": list(g.include), "parsed_style": g.style,
               "concept_ok": ok_c, "look_ok": ok_s, "cover_concept_ok": bool(cp.argmax() == ci), "cover_look_ok": bool(sp.argmax() == si),
               "seconds": seconds, "item": item.id}  # fmt: skip
        if not cfg.quick:
            row |= {"ctr": judged.ctr(user, item), "watch": judged.watch(user, item)}
            rec = model.recommend(user, 5).items
            row["ctr_top5_original"] = float(np.mean([judged.ctr(user, items[s.item_id]) for s in rec]))
            served = retrieve_feed(ws, model, user, g.model_copy(update={"mode": "retrieve"}), 5)
            if served:
                first = items[served[0].item_id]
                row |= {"ctr_served": judged.ctr(user, first), "watch_served": judged.watch(user, first)}
                row["served_satisfied"] = all(judged.satisfies(first, ci, si))
                ok = [items[e.item_id] for e in served if all(judged.satisfies(items[e.item_id], ci, si))]
                row["ctr_best_satisfying"] = max((judged.ctr(user, i) for i in ok), default=None)
            rand = rng.choice(list(items), 5, replace=False)
            row["ctr_random"] = float(np.mean([judged.ctr(user, items[i]) for i in rand]))
        rows.append(row)
        progress("create", n + 1, len(combos))
    asked, per_look = _asked(rows, oracle.styles)
    report = CreatorReport(asked, {}, {}, {}, {}, per_look, {"combos": len(combos), "users": len(users), "rows": rows,
                                                            "checkpoint": generator.checkpoint_hash, "creator_meta": getattr(generator, "meta", {})})  # fmt: skip
    if cfg.quick:
        report.info["seconds"] = time.perf_counter() - started
        return report
    report.for_user = _for_user(rows)
    # 3. realism and novelty
    encoder = get_image_encoder()
    shown = [f for _, item in created for f in judged.video(item)[3]]
    if 3 * len(shown) > len(frames):  # FD needs three real sets as large as the created one
        shown = [shown[i] for i in np.random.default_rng(cfg.seed).choice(len(shown), len(frames) // 3, replace=False)]
    gen_f = encoder.encode(shown).features
    report.realism = fd_effnet(gen_f, frames.features, np.random.default_rng(cfg.seed))
    covers = [judged.cover(item)[2] for _, item in created]
    cov_f = encoder.encode(covers).features
    train_bits = phash_bits(list(frames.images))
    cos, dist = nearest(cov_f, phash_bits(covers), frames.features, train_bits)
    from generec.encoders.video import cover_image

    cat_covers = [cover_image(ws, i) for i in items.values()]
    threshold, cat_nn = near_duplicate_threshold(phash_bits(cat_covers), np.arange(len(cat_covers)))
    report.realism |= {"nearest_cos_median": float(np.median(cos)), "nearest_phash_median": float(np.median(dist)),
                       "nearest_phash_min": float(dist.min()), "catalogue_nn_phash_median": float(np.median(cat_nn)),
                       "near_duplicate_threshold": threshold, "copies": int((dist <= threshold).sum()), "n_covers": len(covers)}  # fmt: skip
    # within-user diversity: a second creation of the same request
    divs = []
    for n in range(min(cfg.diversity_users, len(rows))):
        r = rows[n]
        g = parse_instruction(ws, r["text"])
        try:
            two = create(ws, r["user"], guidance=g, n=2, create_config=CreateConfig(seed=cfg.seed + 10_000 + n), settings=settings)
        except FidelityBlocked:
            continue
        if len(two) < 2:
            continue
        divs.append(diversity(encoder.encode([judged.cover(c.item)[2] for c in two]).features))
        progress("diversity", n + 1, cfg.diversity_users)
    report.realism["within_user_diversity"] = float(np.mean(divs)) if divs else float("nan")
    # 4. generated covers (the paper's protocol) and revision
    report.covers, report.revision = _covers_and_revision(ws, cfg, users, model, items, judged, generator, frames, oracle, progress)
    report.info["seconds"] = time.perf_counter() - started
    return report


def _asked(rows: list[dict], styles: list[str]) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    mean = lambda key, rs: float(np.mean([r[key] for r in rs])) if rs else float("nan")  # noqa: E731
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


def _covers_and_revision(ws, cfg, users, model, items, judged, generator, frames, oracle, progress):
    from generec.editor.preference import history_covers
    from generec.editor.regenerate import RegenerateEditor
    from generec.pipeline import EditConfig, edit_context

    def unit(x):
        return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-8)

    rng = np.random.default_rng(cfg.seed + 1)
    vals = {k: [] for k in ("orig_cos", "regen_cos", "orig_ps", "regen_ps", "orig_ctr", "regen_ctr")}
    first_p, revised_p, blocked = [], [], 0
    chosen = users[: cfg.regenerate_users]
    for n, user in enumerate(chosen):
        ctx, _ = edit_context(ws, user, None, EditConfig(), "regenerate")
        hist = history_covers(ws, user, ctx.encoder, ctx.cache).mean(0)
        editor = RegenerateEditor(ctx, generator, frames)
        for rank, s in enumerate(model.recommend(user, 5).items):
            parent = items[s.item_id]
            try:
                res = editor(parent)
            except FidelityBlocked:  # the original cover stays: counted as no change
                blocked += 1
                continue
            orig_im, new_im = judged.cover(parent)[2], judged.cover(res.item)[2]
            f = ctx.encoder.encode([orig_im, new_im]).features
            cos = unit(f) @ unit(hist)
            ps = model.score_content([user, user], f, [parent.id, parent.id])
            vals["orig_cos"].append(cos[0]), vals["regen_cos"].append(cos[1])
            vals["orig_ps"].append(ps[0]), vals["regen_ps"].append(ps[1])
            p0, p1 = judged.ctr(user, parent), judged.ctr(user, res.item)
            vals["orig_ctr"].append(p0), vals["regen_ctr"].append(p1)
            if rank == 0 and rng.random() >= p1:  # the simulated user skips it: revise
                try:
                    rev = editor(parent, rejected=[res.item])
                except FidelityBlocked:
                    continue
                first_p.append(p1)
                revised_p.append(judged.ctr(user, rev.item))
        progress("regenerate", n + 1, len(chosen))
    covers = {"original": {"Cos@5": float(np.mean(vals["orig_cos"])), "PS@5": float(np.mean(vals["orig_ps"])), "CTR@5": float(np.mean(vals["orig_ctr"]))},
              "regenerated": {"Cos@5": float(np.mean(vals["regen_cos"])), "PS@5": float(np.mean(vals["regen_ps"])), "CTR@5": float(np.mean(vals["regen_ctr"]))}}  # fmt: skip
    revision = {"rejected_ctr": float(np.mean(first_p)) if first_p else float("nan"), "revision_ctr": float(np.mean(revised_p)) if revised_p else float("nan"),
                "improved_share": float(np.mean(np.array(revised_p) > np.array(first_p))) if first_p else float("nan"), "n": len(first_p), "blocked_covers": blocked}  # fmt: skip
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
