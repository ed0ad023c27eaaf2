"""The creator evaluation's creating work (creation.py steps 2, 3b and 4), run on a shard.

The driver makes what every shard reads once (`CreatorShared`: the config, the users, the
multimodal retriever of the training period); a shard (`batch/shards.py`: a Ray actor, or the
driver itself with `workers=0`) loads the creator and the oracle once and then, for a contiguous
block of tasks:

2. `create_combos`: one creation per concept × look, judged from its pixels, scored for its user
   against what would have been served instead;
3b. `diversity_pairs`: a second request of the same words, two creations, their diversity;
4. `regenerate_users`: regenerated covers of a user's top-5 (Cos@5, PS@5, CTR@5) and the
   revision after a simulated skip.

Shards write nothing to the database: the item rows they make are held back (`DeferredItems`,
as the batch jobs' workers do) and come back with the results, and the driver stores each
block's rows in one transaction. Media go to the content-addressed store as they are written.
Nothing a task computes depends on the other tasks of its block or on the rows other blocks
stored: its seeds are its own (the creation's `seed + n`, the revision draw's
`default_rng([seed + 1, n])`, the random items' `default_rng([seed, n])`), and each model batch
holds one task's rows.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from generec.evaluation.judged import clip_steps, upright_at
from generec.fidelity.gate import FidelityBlocked
from generec.types import Item, Origin
from generec.workspace import Workspace

PHRASINGS = (
    "make me a {look} video of {concept}",
    "create a new {look} clip about {concept}",
    "generate something with {concept}, {look} style",
    "can you make an original {concept} video in {look}",
)
LOOK_WORDS = {"natural": "natural", "black_and_white": "black and white"}


def _shares(cp: np.ndarray, sp: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    w = lengths / lengths.sum()
    c = np.bincount(cp.argmax(1), weights=w, minlength=cp.shape[1])
    s = np.bincount(sp.argmax(1), weights=w, minlength=sp.shape[1])
    return c, s


def shown_frames(ws: Workspace, item: Item) -> list[np.ndarray]:
    """One frame per second of a video, as shown (upright)."""
    mids, _ = clip_steps(0.0, float(item.media.duration))
    return upright_at(ws.media_path(item.media.hash, item.media.mime), [float(t) for t in mids])


class Judged:
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

    def video(self, item) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if item.id not in self._videos:
            _, lengths = clip_steps(0.0, float(item.media.duration))
            cp, sp = self.oracle.judge_images(shown_frames(self.ws, item))
            self._videos[item.id] = (cp, sp, lengths)
        return self._videos[item.id]

    def ctr(self, user: str, item) -> float:
        cp, sp, _ = self.cover(item)
        return float(self.oracle.click_probs_judged(user, cp[None], sp[None])[0])

    def watch(self, user: str, item) -> float:
        cp, sp, lengths = self.video(item)
        return float(self.oracle.watch_value_judged(user, cp, sp, lengths).ratio)

    def satisfies(self, item, concept: int, look: int) -> tuple[bool, bool]:
        cp, sp, lengths = self.video(item)
        c, s = _shares(cp, sp, lengths)
        return bool(c[concept] >= 0.5), bool(s[look] >= 0.5)


@dataclass(frozen=True)
class CreatorShared:
    """What every shard reads, made once by the driver (creation.py step 1)."""

    cfg: Any  # CreatorEvalConfig
    model: Any  # the multimodal retriever of the training period (None with `quick`)


@dataclass
class Block:
    """A block's results in task order, and the item rows it made (for the driver to store)."""

    results: list[Any]
    items: list[Item] = field(default_factory=list)


class CreatorShard:
    """One process's state: the workspace (item writes held back), the oracle, the creator."""

    def __init__(self, ws: Workspace, shared: CreatorShared) -> None:
        from generec.batch.worker import DeferredItems
        from generec.datasets.oracle import Oracle
        from generec.pipeline import CreatorSettings

        self.ws, self.shared, self.cfg, self.model = ws, shared, shared.cfg, shared.model
        self.deferred = DeferredItems(ws.items)
        ws.items = self.deferred
        self.oracle = Oracle.load(ws.oracle_dir)
        self.settings = CreatorSettings(checkpoint=self.cfg.checkpoint)
        self.generator, self.frames, _ = self.settings.load(ws)
        self.items = {i.id: i for i in ws.items.all(origin=Origin.HUMAN)}
        self.judged = Judged(ws, self.oracle)

    def block(self, results: list[Any]) -> Block:
        return Block(results, self.deferred.take())


def setup(ws: Workspace, shared: CreatorShared) -> CreatorShard:
    return CreatorShard(ws, shared)


def request_text(n: int, concept: str, look: str) -> str:
    return PHRASINGS[n % len(PHRASINGS)].format(concept=concept, look=LOOK_WORDS.get(look, look))


def create_combos(shard: CreatorShard, tasks: list[tuple[int, int, int, str]]) -> Block:
    """Step 2 for a block of (n, concept index, look index, user): one result row each."""
    return shard.block([_create_combo(shard, *task) for task in tasks])


def _create_combo(shard: CreatorShard, n: int, ci: int, si: int, user: str) -> dict[str, Any]:
    from generec.creator.creator import CreateConfig
    from generec.feed import retrieve_feed
    from generec.pipeline import create, parse_instruction

    ws, cfg, oracle, judged, items = shard.ws, shard.cfg, shard.oracle, shard.judged, shard.items
    concept, look = oracle.concepts[ci], oracle.styles[si]
    text = request_text(n, concept, look)
    g = parse_instruction(ws, text)
    head = {"user": user, "concept": concept, "look": look, "text": text, "parsed_include": list(g.include), "parsed_style": g.style}
    t0 = time.perf_counter()
    try:
        result = create(ws, user, guidance=g, n=1, create_config=CreateConfig(seed=cfg.seed + n), settings=shard.settings)[0]
    except FidelityBlocked as exc:  # the gate keeps it from the user: nothing shown, nothing satisfied
        return head | {"blocked": str(exc), "concept_ok": False, "look_ok": False, "cover_concept_ok": False, "cover_look_ok": False,
                       "seconds": time.perf_counter() - t0, "item": None, **({} if cfg.quick else {"ctr": 0.0, "watch": 0.0})}  # fmt: skip
    seconds = time.perf_counter() - t0
    item = result.item
    ok_c, ok_s = judged.satisfies(item, ci, si)
    cp, sp, _ = judged.cover(item)
    row = head | {"concept_ok": ok_c, "look_ok": ok_s, "cover_concept_ok": bool(cp.argmax() == ci), "cover_look_ok": bool(sp.argmax() == si),
                  "seconds": seconds, "item": item.id}  # fmt: skip
    if cfg.quick:
        return row
    model = shard.model
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
    rand = np.random.default_rng([cfg.seed, n]).choice(sorted(items), 5, replace=False)
    row["ctr_random"] = float(np.mean([judged.ctr(user, items[i]) for i in rand]))
    return row


def diversity_pairs(shard: CreatorShard, tasks: list[tuple[int, str, str]]) -> Block:
    """Step 3b for a block of (n, user, text): the diversity of two creations, None when blocked."""
    from generec.creator.creator import CreateConfig
    from generec.encoders.image import get_image_encoder
    from generec.evaluation.generation_metrics import diversity
    from generec.pipeline import create, parse_instruction

    encoder, out = get_image_encoder(), []
    for n, user, text in tasks:
        g = parse_instruction(shard.ws, text)
        try:
            two = create(shard.ws, user, guidance=g, n=2, create_config=CreateConfig(seed=shard.cfg.seed + 10_000 + n), settings=shard.settings)
        except FidelityBlocked:
            two = []
        out.append(diversity(encoder.encode([shard.judged.cover(c.item)[2] for c in two]).features) if len(two) == 2 else None)
    return shard.block(out)


def regenerate_users(shard: CreatorShard, tasks: list[tuple[int, str]]) -> Block:
    """Step 4 for a block of (n, user): per user, their covers' values and the revision."""
    return shard.block([_regenerate_user(shard, n, user) for n, user in tasks])


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-8)


def _regenerate_user(shard: CreatorShard, n: int, user: str) -> dict[str, Any]:
    from generec.editor.preference import history_covers
    from generec.editor.regenerate import RegenerateEditor
    from generec.pipeline import EditConfig, edit_context

    ws, model, judged = shard.ws, shard.model, shard.judged
    rng = np.random.default_rng([shard.cfg.seed + 1, n])  # the simulated response to the user's first cover
    vals: dict[str, list[float]] = {k: [] for k in ("orig_cos", "regen_cos", "orig_ps", "regen_ps", "orig_ctr", "regen_ctr")}
    out: dict[str, Any] = {"vals": vals, "first_p": None, "revised_p": None, "blocked": 0}
    ctx, _ = edit_context(ws, user, None, EditConfig(), "regenerate")
    hist = history_covers(ws, user, ctx.encoder, ctx.cache).mean(0)
    editor = RegenerateEditor(ctx, shard.generator, shard.frames)
    for rank, s in enumerate(model.recommend(user, 5).items):
        parent = shard.items[s.item_id]
        try:
            res = editor(parent)
        except FidelityBlocked:  # the original cover stays: counted as no change
            out["blocked"] += 1
            continue
        f = ctx.encoder.encode([judged.cover(parent)[2], judged.cover(res.item)[2]]).features
        cos = _unit(f) @ _unit(hist)
        ps = model.score_content([user, user], f, [parent.id, parent.id])
        p0, p1 = judged.ctr(user, parent), judged.ctr(user, res.item)
        for key, pair in (("cos", cos), ("ps", ps), ("ctr", (p0, p1))):
            vals[f"orig_{key}"].append(float(pair[0]))
            vals[f"regen_{key}"].append(float(pair[1]))
        if rank == 0 and rng.random() >= p1:  # the simulated user skips it: revise
            try:
                rev = editor(parent, rejected=[res.item])
            except FidelityBlocked:
                continue
            out["first_p"], out["revised_p"] = p1, judged.ctr(user, rev.item)
    return out
