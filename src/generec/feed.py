"""Feed assembly for `GeneRec.feed` (pipeline.py): the steps' parts, each a plain function.

- retrieve (`retrieve_feed`): `recommend` under `Constraints` from the guidance (items showing an
  excluded concept and items outside the duration bounds are filtered out), then re-ranked: items
  that match the guidance (`match >= min_match`: included concepts, look) first, each group by
  z(retriever score) + `vector_weight` · z(cos(v', item text));
- repurpose (`repurpose`): `pipeline.edit` on the target item (clip for durations and pacing,
  style for a look, else cover); an edit that cannot be made (`CannotSatisfy`, a user with no
  history) falls back to retrieval, noted;
- create (`create`): `pipeline.create` makes `create_n` new items, which lead the feed; without a
  trained creator, or for a request it cannot make, the note says why;
- personal variants (`personal_variants`): a retrieved item for which this user already has a
  servable AI-edited variant is shown as that variant (the personal cover or clip made for them);
- fidelity at the feed level (`fidelity_pass`): only servable AI items, labelled; the bias check.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from generec.editor.base import EditResult
from generec.errors import InputError
from generec.instructor.activation import CandidateCheck, check_item
from generec.instructor.catalogue import catalogue_items, catalogue_vocabulary
from generec.instructor.config import InstructorConfig
from generec.instructor.fusion import item_embeddings
from generec.instructor.guidance import Guidance, Mode
from generec.types import Origin
from generec.workspace import Workspace


@dataclass
class FeedEntry:
    item_id: str
    way: Mode  # how it reached the feed: retrieve | repurpose | create
    origin: str  # human | ai_edited | ai_created
    score: float | None = None  # the retriever's score (retrieve), the edit's score (repurpose)
    parent_id: str | None = None
    match: float | None = None  # how well it satisfies the guidance (activation.py)
    label: str | None = None  # shown with the item: "AI-edited", "AI-created", "+ flagged for review"
    reason: str = ""  # one line: why the user sees it


@dataclass
class Feed:
    """What `GeneRec.feed` returns: the entries in order, the way taken, and why."""

    user_id: str
    mode: Mode  # the way taken
    requested_mode: Mode  # the guidance's
    items: list[FeedEntry]
    edits: list[EditResult]
    notes: list[str]
    guidance: Guidance
    creations: list = field(default_factory=list)  # CreationResult of the items the creator made
    fidelity: dict[str, Any] | None = None  # the feed-level bias check's result (fidelity/bias.py)

    @property
    def item_ids(self) -> list[str]:
        return [e.item_id for e in self.items]

    def to_dict(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id, "mode": self.mode, "requested_mode": self.requested_mode,
            "items": [vars(e) for e in self.items], "edits": [e.to_dict() for e in self.edits],
            "creations": [c.to_dict() for c in self.creations], "notes": self.notes, "fidelity": self.fidelity,
        }  # fmt: skip


FeedResult = Feed  # the name before the loop object


def _z(x: np.ndarray) -> np.ndarray:
    return (x - x.mean()) / (x.std() + 1e-8) if len(x) > 1 else np.zeros_like(x)


def served_pool(ws: Workspace, model, user_id: str, guidance: Guidance, k: int, exclude: Sequence[str],
                config: InstructorConfig, vocabulary: Sequence[str], check: Callable | None = None):
    """The retriever's pool under the guidance's hard constraints (no excluded concept, duration
    within bounds): what `retrieve_feed` re-ranks, and what activation checks besides its top-k."""
    from generec.retrieval.base import Constraints

    if check is None:
        items = catalogue_items(ws)

        def check(item_id: str) -> CandidateCheck | None:
            item = items.get(item_id)
            return None if item is None else check_item(item, guidance, vocabulary=vocabulary, min_clip_s=config.activation.min_clip_s)

    def allowed(item_id: str) -> bool:
        c = check(item_id)
        return c is not None and not c.exclude_hits and c.duration_ok

    pool = min(model.data_.n_items, max(k, config.rerank_pool))
    hard = guidance.exclude or guidance.min_duration_s is not None or guidance.max_duration_s is not None
    return model.recommend(user_id, pool, exclude_seen=True, constraints=Constraints(exclude=frozenset(exclude), predicate=allowed if hard else None))


def retrieve_feed(
    ws: Workspace,
    model,
    user_id: str,
    guidance: Guidance,
    k: int,
    exclude: Sequence[str] = (),
    config: InstructorConfig | None = None,
    vocabulary: Sequence[str] | None = None,
    notes: list[str] | None = None,
) -> list[FeedEntry]:
    """The user's top-k under the guidance's hard constraints, re-ranked by its soft ones."""
    cfg = config or InstructorConfig()
    notes = notes if notes is not None else []
    if k <= 0:
        return []
    items = catalogue_items(ws)
    vocab = tuple(vocabulary) if vocabulary is not None else catalogue_vocabulary(list(items.values())).tags
    checks: dict[str, CandidateCheck] = {}

    def check(item_id: str) -> CandidateCheck | None:
        if item_id not in checks and item_id in items:
            checks[item_id] = check_item(items[item_id], guidance, vocabulary=vocab, min_clip_s=cfg.activation.min_clip_s)
        return checks.get(item_id)

    # 1. the pool under the hard constraints
    rec = served_pool(ws, model, user_id, guidance, k, exclude, cfg, vocab, check)
    if rec.fallback:
        notes.append(f"retrieval: {rec.fallback}")
    if not rec.items:
        notes.append("retrieval: no item meets the guidance's exclusions and durations")
        return []
    # 2. re-rank: matching items first; within a group, z(score) + w · z(cos(v', item))
    found = [check(s.item_id) for s in rec.items]
    blend = _z(np.array([s.score for s in rec.items], np.float64))
    if guidance.vector is not None and cfg.vector_weight > 0:
        from generec.encoders.text import get_text_encoder

        encoder = get_text_encoder()
        if guidance.vector_space == encoder.version:
            sims = item_embeddings([items[s.item_id] for s in rec.items], encoder) @ np.asarray(guidance.vector, np.float32)
            blend = blend + cfg.vector_weight * _z(sims.astype(np.float64))
        else:
            notes.append(f"retrieval: the guidance's vector is in {guidance.vector_space!r}, not {encoder.version!r}; not used")
    order = sorted(range(len(found)), key=lambda j: (found[j].match < cfg.activation.min_match, -blend[j], j))
    wanted = ", ".join([*guidance.include, *([guidance.look] if guidance.look else [])])

    def reason(j: int) -> str:
        why = "your taste" if rec.fallback is None else rec.fallback.split(":")[0]
        fits = f"; matches {wanted}" if wanted and found[j].match >= cfg.activation.min_match else ""
        return f"retrieved by {rec.model} for {why}{fits}"

    return [FeedEntry(rec.items[j].item_id, "retrieve", "human", rec.items[j].score, None, found[j].match, reason=reason(j)) for j in order[:k]]


def repurpose(ws: Workspace, user_id: str, guidance: Guidance, cfg: InstructorConfig, notes: list[str]) -> EditResult | None:
    """The edit activation asked for (its item leads the feed), or None with a note why not."""
    from generec.instructor.activation import edit_op_for
    from generec.pipeline import edit

    target = guidance.target_item
    if target is None:
        notes.append("repurpose: no video to edit was named; serving retrieval")
        return None
    op = guidance.edit_op or edit_op_for(guidance)
    lean = guidance.model_copy(update={"vector": None, "vector_space": None})  # provenance keeps the request, not the vector
    try:
        result = edit(ws, op, user_id, target, guidance=lean, config=cfg.edit)
    except InputError as exc:  # CannotSatisfy, a user with no history to edit for, a blocked edit ...
        notes.append(f"repurpose: could not {op} {target} ({exc}); serving retrieval")
        return None
    notes.append(f"repurpose: {op} of {target}, preference: {result.preference}")
    return result


def create(ws: Workspace, user_id: str, guidance: Guidance, k: int, cfg: InstructorConfig, notes: list[str]) -> list:
    """The creator's new items for the guidance (CreationResult), or [] with a note why not."""
    from generec.pipeline import create as make

    lean = guidance.model_copy(update={"vector": None, "vector_space": None})
    try:
        creations = make(ws, user_id, guidance=lean, n=min(cfg.create_n, k), config=cfg.edit, create_config=cfg.create)
    except InputError as exc:  # no trained creator, a blocked or impossible request, ...
        notes.append(f"create: {exc}; serving retrieval instead")
        return []
    notes.append(f"create: {len(creations)} new item(s) by the AI creator")
    return creations


def personal_variants(ws: Workspace, user_id: str, entries: list[FeedEntry]) -> list[FeedEntry]:
    """Each retrieved catalogue item for which `user_id` has a servable AI-edited variant becomes
    its newest such variant (way "repurpose", made earlier); other entries are kept as they are."""
    from generec.fidelity.gate import servable

    out, children = [], ws.items.children_of([e.item_id for e in entries if e.way == "retrieve"])
    for e in entries:
        mine = [c for c in children.get(e.item_id, []) if e.way == "retrieve" and c.origin == Origin.AI_EDITED
                and (c.provenance or {}).get("user_id") == user_id and servable(c)]  # fmt: skip
        if not mine:
            out.append(e)
            continue
        variant = max(mine, key=lambda c: (c.created_at, c.id))
        op = (variant.provenance or {}).get("op", "edit")
        out.append(FeedEntry(variant.id, "repurpose", str(variant.origin), e.score, e.item_id, e.match,
                             reason=f"your personal {op} of this video, made earlier; {e.reason}"))  # fmt: skip
    return out


def fidelity_pass(ws: Workspace, user_id: str, guidance: Guidance, entries: list[FeedEntry], baseline: list[FeedEntry],
                  notes: list[str]) -> tuple[list[FeedEntry], dict | None]:  # fmt: skip
    """The feed without AI items the fidelity policy keeps out, each AI item labelled, and the
    bias check (fidelity/bias.py) applied with the policy's feed action."""
    from generec.fidelity.bias import FeedBias, FeedView
    from generec.fidelity.gate import gate_for, servable
    from generec.types import POSITIVE_EVENTS

    catalogue = catalogue_items(ws)  # human items from the cache; AI items re-read (their review state changes)
    items = {e.item_id: catalogue.get(e.item_id) or ws.items.get(e.item_id) for e in [*entries, *baseline]}
    kept = []
    for e in entries:
        item = items[e.item_id]
        if item is None or not servable(item):
            notes.append(f"fidelity: {e.item_id} is not served (blocked or unreviewed)")
            continue
        if item.origin != Origin.HUMAN:
            report = item.fidelity or {}
            review = report.get("decision") == "flag" and report.get("review") != "approved"
            e.label = ("AI-created" if item.origin == Origin.AI_CREATED else "AI-edited") + (" · flagged for review" if review else "")
        kept.append(e)
    if not any(items[e.item_id].origin != Origin.HUMAN for e in kept):
        return kept, None  # a feed of human items only: nothing for the bias check, no gate to load
    policy = gate_for(ws).policy.feed
    check = FeedBias(policy)
    parents = {it.parent_id: catalogue.get(it.parent_id) or ws.items.get(it.parent_id) for it in items.values() if it is not None and it.parent_id}
    history = [catalogue.get(i.item_id) or ws.items.get(i.item_id) for i in ws.interactions.for_user(user_id, feedback_only=True) if i.event in POSITIVE_EVENTS]
    view = FeedView(
        [items[e.item_id] for e in kept], [items[e.item_id] for e in baseline], [h for h in history if h is not None],
        {k: v for k, v in parents.items() if v is not None}, {guidance.target_item} if guidance.target_item else set(),
        guidance.look, bool(guidance.include), guidance.mode == "create" and bool(guidance.mode_explicit),
    )  # fmt: skip
    result = check(view)
    report = {**result.to_dict(), "action": policy.action if result.failed else "pass"}
    if result.failed and policy.action in ("fix", "block"):
        shown = check.rebalance(view) if policy.action == "fix" else [it for it in view.baseline]
        by_id = {e.item_id: e for e in [*kept, *baseline]}
        dropped = [e.item_id for e in kept if e.item_id not in {it.id for it in shown}]
        kept = [by_id[it.id] for it in shown if it.id in by_id]
        if dropped:
            notes.append(f"fidelity: the feed was rebalanced ({', '.join(dropped)} dropped)")
        else:
            notes.append(f"fidelity: feed bias {result.evidence.get('drop', [])} kept: no human item can take their place")
    elif result.failed:
        notes.append(f"fidelity: feed bias {result.evidence}")
    return kept, report
