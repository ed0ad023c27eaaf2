"""Serving guidance: `apply(ws, user_id, guidance, k)` -> a `FeedResult`.

- retrieve: `recommend` under `Constraints` from the guidance (items showing an excluded concept
  and items outside the duration bounds are filtered out), then re-ranked: items that match the
  guidance (`match >= min_match`: included concepts, look) first, each group by
  z(retriever score) + `vector_weight` · z(cos(v', item text));
- repurpose: `pipeline.edit` on the target item (clip for durations and pacing, style for a
  look, else cover), the edited item first, then the retrieved feed without its parent. An edit
  that cannot be made (`CannotSatisfy`, a user with no history) falls back to retrieval, noted;
- create: `pipeline.create` makes `create_n` new items (the AI creator, within its time budget),
  which lead the feed; without a trained creator, or for a request it cannot make, the note says
  why and the retrieved feed stands in.

The items shown become the session's `last_feed` when `apply` is given the instructor and the
session (`Instructor.apply` does this).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from generec.editor.base import EditResult
from generec.errors import InputError
from generec.instructor.activation import ActivationConfig, CandidateCheck, check_item, edit_op_for
from generec.instructor.catalogue import catalogue_vocabulary
from generec.instructor.fusion import FusionConfig, item_embeddings
from generec.instructor.guidance import Guidance, Mode
from generec.creator.creator import CreateConfig
from generec.pipeline import EditConfig
from generec.types import Origin
from generec.workspace import Workspace

if TYPE_CHECKING:
    from generec.instructor.instructor import Instructor



@dataclass(frozen=True)
class InstructorConfig:
    default_session: str = "default"  # the session of a call that names none
    persist: bool = True  # store accepted turns in ws.instructions (and rebuild sessions from them)
    use_retriever: bool = True  # False: no activation over candidates (the parsed mode stays)
    rerank_pool: int = 50  # items `apply` fetches and re-ranks
    vector_weight: float = 0.5  # weight of z(cos(v', item)) against z(retriever score) in `apply`
    fusion: FusionConfig = field(default_factory=FusionConfig)
    activation: ActivationConfig = field(default_factory=ActivationConfig)
    edit: EditConfig = field(default_factory=EditConfig)
    create_n: int = 1  # items the creator makes when activation picks create
    create: CreateConfig = field(default_factory=CreateConfig)

    def __post_init__(self) -> None:
        if not isinstance(self.default_session, str) or not self.default_session.strip():
            raise InputError(f"InstructorConfig.default_session: expected a non-empty string, found {self.default_session!r}")
        if self.create_n < 1:
            raise InputError(f"InstructorConfig.create_n must be >= 1, found {self.create_n}")
        if self.rerank_pool < 1 or self.vector_weight < 0:
            raise InputError(
                "InstructorConfig: rerank_pool must be >= 1 and vector_weight >= 0, "
                f"found {self.rerank_pool}, {self.vector_weight}"
            )


# -- serving the guidance ---------------------------------------------------------------------------


@dataclass
class FeedEntry:
    item_id: str
    way: Mode  # how it reached the feed: retrieve | repurpose | create
    origin: str  # human | ai_edited | ai_created
    score: float | None = None  # the retriever's score (retrieve), the edit's score (repurpose)
    parent_id: str | None = None
    match: float | None = None  # how well it satisfies the guidance (activation.py)
    label: str | None = None  # shown with the item: "AI-edited", "AI-created", "+ flagged for review"


@dataclass
class FeedResult:
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


def _z(x: np.ndarray) -> np.ndarray:
    return (x - x.mean()) / (x.std() + 1e-8) if len(x) > 1 else np.zeros_like(x)


def served_pool(ws: Workspace, model, user_id: str, guidance: Guidance, k: int, exclude: Sequence[str],
                config: InstructorConfig, vocabulary: Sequence[str], check: Callable | None = None):
    """The retriever's pool under the guidance's hard constraints (no excluded concept, duration
    within bounds): what `retrieve_feed` re-ranks, and what activation checks besides its top-k."""
    from generec.retrieval.base import Constraints

    if check is None:
        items = {i.id: i for i in ws.items.all(origin=Origin.HUMAN)}

        def check(item_id: str) -> CandidateCheck | None:
            item = items.get(item_id)
            return None if item is None else check_item(item, guidance, vocabulary=vocabulary, min_clip_s=config.activation.min_clip_s)

    def allowed(item_id: str) -> bool:
        c = check(item_id)
        return c is not None and not c.exclude_hits and c.duration_ok

    pool = min(model.data_.n_items, max(k, config.rerank_pool))
    return model.recommend(user_id, pool, exclude_seen=True, constraints=Constraints(exclude=frozenset(exclude), predicate=allowed))


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
    vocab = tuple(vocabulary) if vocabulary is not None else catalogue_vocabulary(ws.items.all(origin=Origin.HUMAN)).tags
    items = {i.id: i for i in ws.items.all(origin=Origin.HUMAN)}
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
    return [FeedEntry(rec.items[j].item_id, "retrieve", "human", rec.items[j].score, None, found[j].match) for j in order[:k]]


def apply(
    ws: Workspace,
    user_id: str,
    guidance: Guidance,
    k: int = 10,
    config: InstructorConfig | None = None,
    instructor: Instructor | None = None,
    session: str | None = None,
    retriever=None,
) -> FeedResult:
    """Serve `guidance` to `user_id`: a feed of `k` items (module doc)."""
    from generec.pipeline import edit
    from generec.retrieval.serving import load_current

    cfg = config or InstructorConfig()
    # 1. check inputs
    if not isinstance(guidance, Guidance):
        raise InputError(f"guidance: expected a Guidance, found {type(guidance).__name__}")
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
        raise InputError(f"k must be a positive integer, got {k!r}")
    if ws.users.get(user_id) is None:
        raise InputError(f"unknown user {user_id!r}: not in workspace {ws.root}")
    notes: list[str] = []
    entries: list[FeedEntry] = []
    edits: list[EditResult] = []
    exclude: list[str] = []
    # 2. repurpose: edit the target item (its edit leads the feed)
    if guidance.mode == "repurpose":
        target = guidance.target_item
        if target is None:
            notes.append("repurpose: no video to edit was named; serving retrieval")
        else:
            op = guidance.edit_op or edit_op_for(guidance)
            lean = guidance.model_copy(update={"vector": None, "vector_space": None})  # provenance keeps the request, not the vector
            try:
                result = edit(ws, op, user_id, target, guidance=lean, config=cfg.edit)
            except InputError as exc:  # CannotSatisfy, a user with no history to edit for, ...
                notes.append(f"repurpose: could not {op} {target} ({exc}); serving retrieval")
            else:
                edits.append(result)
                notes.append(f"repurpose: {op} of {target}, preference: {result.preference}")
                exclude.append(target)
                entries.append(FeedEntry(result.item.id, "repurpose", str(result.item.origin), result.score, target))
    # 3. create: new items lead the feed
    creations: list = []
    if guidance.mode == "create":
        from generec.pipeline import create

        lean = guidance.model_copy(update={"vector": None, "vector_space": None})
        try:
            creations = create(ws, user_id, guidance=lean, n=min(cfg.create_n, k), config=cfg.edit, create_config=cfg.create)
        except InputError as exc:  # no trained creator, a blocked or impossible request, ...
            notes.append(f"create: {exc}; serving retrieval instead")
        else:
            notes.append(f"create: {len(creations)} new item(s) by the AI creator")
            entries += [FeedEntry(c.item.id, "create", str(c.item.origin), c.score) for c in creations]
    # 4. the retrieved feed fills the rest
    model = retriever
    if model is None:
        try:
            model = load_current(ws)
        except InputError as exc:
            notes.append(f"retrieval: no retriever ({exc})")
    baseline: list[FeedEntry] = []
    if model is not None:  # the human feed the user would have had; its head fills the rest
        vocab = instructor.vocabulary() if instructor is not None else None
        baseline = retrieve_feed(ws, model, user_id, guidance, k + len(exclude), (), cfg, vocab, notes)
        entries += [e for e in baseline if e.item_id not in exclude][: k - len(entries)]
    # 5. fidelity at the feed level: only servable AI items, labelled; no crowding out (bias.py)
    entries, bias = fidelity_pass(ws, user_id, guidance, entries, baseline[:k], notes)
    way = "create" if creations else "repurpose" if edits else "retrieve"
    result = FeedResult(user_id, way, guidance.mode, entries, edits, notes, guidance, creations, bias)
    # 6. the feed shown becomes the session's last feed
    if instructor is not None:
        instructor.dialogue.set_feed(user_id, instructor._session_id(session), result.item_ids)
    return result


def fidelity_pass(ws: Workspace, user_id: str, guidance: Guidance, entries: list[FeedEntry], baseline: list[FeedEntry],
                  notes: list[str]) -> tuple[list[FeedEntry], dict | None]:  # fmt: skip
    """The feed without AI items the fidelity policy keeps out, each AI item labelled, and the
    bias check (fidelity/bias.py) applied with the policy's feed action."""
    from generec.fidelity.bias import FeedBias, FeedView
    from generec.fidelity.gate import gate_for, servable
    from generec.types import POSITIVE_EVENTS

    items = {e.item_id: ws.items.get(e.item_id) for e in [*entries, *baseline]}
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
    parents = {it.parent_id: ws.items.get(it.parent_id) for it in items.values() if it is not None and it.parent_id}
    history = [ws.items.get(i.item_id) for i in ws.interactions.for_user(user_id) if i.event in POSITIVE_EVENTS]
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
