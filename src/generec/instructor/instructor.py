"""The instructor: an instruction (or none) plus feedback -> `Guidance`, and the feed it asks for.

`Instructor(ws)(user_id, text, history, session)` (the DESIGN contract) runs:

1. check inputs: a known user, a session id, history as Interaction records;
2. the session: kept in memory (`Dialogue`), rebuilt from `ws.instructions` the first time this
   process sees it, so a new process continues the dialogue. Each stored row is one accepted
   turn: its PII-redacted text and the turn's own guidance (before merging), so the session is
   the fold of `dialogue.merge` over the rows, a "dialogue reset" row starting it over;
3. the instruction: a dialogue turn (vocabulary from the catalogue, `item_exists` from the
   workspace, the session's last feed, and as "this video" the item the session last chose to
   edit). A rejected text (empty, too long, binary) raises InputError and stores nothing. With no
   text the session's standing guidance is used, else the feedback alone (`source="feedback"`);
4. fusion (`fusion.py`): the user's feedback and the instruction's concepts become `vector`;
5. activation (`activation.py`) over the current retriever's top-k. With no trained retriever
   the mode stays as parsed and a note says so. The decision lands in `mode`, `target_item` and
   `edit_op`, and its reason in `notes` ("activation: ...").

`apply(ws, user_id, guidance, k)` serves the guidance as a `FeedResult`:

- retrieve: `recommend` under `Constraints` from the guidance (items showing an excluded concept
  and items outside the duration bounds are filtered out), then re-ranked: items that match the
  guidance (`match >= min_match`: included concepts, look) first, each group by
  z(retriever score) + `vector_weight` · z(cos(v', item text));
- repurpose: `pipeline.edit` on the target item (clip for durations and pacing, style for a
  look, else cover), the edited item first, then the retrieved feed without its parent. An edit
  that cannot be made (`CannotSatisfy`, a user with no history) falls back to retrieval, noted;
- create: no creator is installed yet; the note says so and the retrieved feed stands in.

The items shown become the session's `last_feed` when `apply` is given the instructor and the
session (`Instructor.apply` does this).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from generec.editor.base import EditResult
from generec.errors import InputError
from generec.instructor.activation import (
    Activation,
    ActivationConfig,
    CandidateCheck,
    check_candidates,
    check_item,
    decide,
    edit_op_for,
    recent_events,
)
from generec.instructor.dialogue import MAX_TURNS, Dialogue, DialogueState, Turn, merge
from generec.instructor.fusion import FusionConfig, item_embeddings, user_profile, with_vector
from generec.instructor.guidance import Guidance, Mode
from generec.pipeline import EditConfig
from generec.types import Instruction, Interaction, Origin
from generec.workspace import Workspace

RESET_NOTE = "dialogue reset"
NO_CREATOR = "no creator installed yet (issue: AI creator)"


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

    def __post_init__(self) -> None:
        if not isinstance(self.default_session, str) or not self.default_session.strip():
            raise InputError(f"InstructorConfig.default_session: expected a non-empty string, found {self.default_session!r}")
        if self.rerank_pool < 1 or self.vector_weight < 0:
            raise InputError(
                "InstructorConfig: rerank_pool must be >= 1 and vector_weight >= 0, "
                f"found {self.rerank_pool}, {self.vector_weight}"
            )


class Instructor:
    """`Instructor(ws)(user_id, text | None, history=None, session=None) -> Guidance`."""

    def __init__(
        self,
        ws: Workspace,
        parser=None,
        config: InstructorConfig | None = None,
        text_encoder=None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.ws = ws
        self.parser = parser
        self.config = config or InstructorConfig()
        self.text_encoder = text_encoder
        self.clock = clock
        self.dialogue = Dialogue()
        self._loaded: set[tuple[str, str]] = set()
        self._edited: dict[tuple[str, str], str] = {}  # the item each session last chose to edit
        self._retriever: Any = None
        self._retriever_key: tuple | None = None
        self._vocabulary: tuple[int, tuple[str, ...]] | None = None
        self._lock = threading.RLock()

    # -- the contract -----------------------------------------------------------------------------

    def __call__(
        self,
        user_id: str,
        text: str | None = None,
        history: Sequence[Interaction] | None = None,
        session: str | None = None,
    ) -> Guidance:
        """The guidance for `user_id` now. `text`: the instruction, or None for feedback alone;
        `history`: the user's feedback (None: the workspace's log), for fusion and skip streaks;
        `session`: the dialogue (None: `config.default_session`)."""
        cfg = self.config
        # 1. check inputs
        self._check_user(user_id)
        session_id = self._session_id(session)
        if history is not None:
            history = None if isinstance(history, (str, bytes)) else list(history)
            if history is None or not all(isinstance(e, Interaction) for e in history):
                raise InputError("history: expected a list of Interaction records (or None for the workspace's log)")
        key = (user_id, session_id)
        with self._lock:
            # 2. the session, rebuilt from the workspace the first time
            self._restore(user_id, session_id)
            # 3. the instruction: a dialogue turn, stored once accepted
            if text is not None:
                guidance = self._turn(user_id, session_id, text)
            else:
                state = self.dialogue.get(user_id, session_id)
                guidance = state.current if state is not None and state.current is not None else Guidance(source="feedback")
        # 4. fusion: feedback and instruction as one vector
        encoder = self._text_encoder()
        events = history if history is not None else self.ws.interactions.for_user(user_id)
        profile = user_profile(self.ws, user_id, encoder, events=events, config=cfg.fusion)
        guidance = with_vector(guidance, profile, encoder, cfg.fusion)
        # 5. activation over the retriever's top-k
        notes: list[str] = []
        candidates: list[CandidateCheck] = []
        model = self.retriever(notes) if cfg.use_retriever else None
        if model is not None:
            k = min(cfg.activation.k, model.data_.n_items)
            rec = model.recommend(user_id, k, exclude_seen=True)
            ids = [s.item_id for s in rec.items]
            candidates = check_candidates(self.ws, guidance, ids, [s.score for s in rec.items], self.vocabulary(), cfg.activation)
        recent = recent_events(events, self.clock(), cfg.activation.streak_window_s)
        activation = decide(guidance, candidates, recent, cfg.activation)
        final = activated(guidance, activation, notes)
        if final.mode == "repurpose" and final.target_item is not None:
            self._edited[key] = final.target_item
        return final

    def apply(self, user_id: str, guidance: Guidance, k: int = 10, session: str | None = None) -> FeedResult:
        """`apply` for this instructor's workspace; the feed becomes the session's last feed."""
        return apply(self.ws, user_id, guidance, k, self.config, instructor=self, session=session, retriever=self.retriever())

    # -- sessions -----------------------------------------------------------------------------------

    def _session_id(self, session: str | None) -> str:
        if session is None:
            return self.config.default_session
        if not isinstance(session, str) or not session.strip():
            raise InputError(f"session must be a non-empty string or None, got {session!r}")
        return session

    def _restore(self, user_id: str, session_id: str) -> None:
        key = (user_id, session_id)
        if key in self._loaded:
            return
        self._loaded.add(key)
        if not self.config.persist or self.dialogue.get(user_id, session_id) is not None:
            return
        rows = self.ws.instructions.for_session(user_id, session_id)
        if rows:
            rebuilt = session_from_instructions(user_id, session_id, rows)
            state = self.dialogue.reset(user_id, session_id)  # a fresh state object, filled in place
            state.turns, state.current = rebuilt.turns, rebuilt.current

    def _turn(self, user_id: str, session_id: str, text: str) -> Guidance:
        from generec.instructor.parser import DEFAULT_VOCABULARY, ParseContext

        state = self.dialogue.get(user_id, session_id)
        current = self._edited.get((user_id, session_id))
        current_item = self.ws.items.get(current) if current else None
        context = ParseContext(
            vocabulary=self.vocabulary() or DEFAULT_VOCABULARY,
            last_feed=state.last_feed if state is not None else (),
            current_item=current_item.id if current_item else None,
            item_exists=lambda i: self.ws.items.get(i) is not None,
            reference_duration_s=current_item.media.duration if current_item and current_item.media else None,
        )  # fmt: skip
        merged = self.dialogue.turn(user_id, session_id, text, self._parser(), context)  # raises before any change
        state = self.dialogue.get(user_id, session_id)
        if merged.source == "dialogue" and RESET_NOTE in merged.notes:  # a bare "start over"
            stored_text, stored = merged.text or "", merged
        else:
            stored_text, stored = state.turns[-1].text, state.turns[-1].guidance
        if self.config.persist:  # the vector is derived (fusion), never part of what the user said
            row = {**stored.model_dump(mode="json"), "vector": None, "vector_space": None}
            self.ws.instructions.add(Instruction(user_id, session_id, self.clock(), stored_text, row))
        return merged

    # -- shared resources ----------------------------------------------------------------------------

    def vocabulary(self) -> tuple[str, ...]:
        """The catalogue's concept tags (recomputed when the item count changes)."""
        from generec.pipeline import catalogue_vocabulary

        count = self.ws.items.count()
        if self._vocabulary is None or self._vocabulary[0] != count:
            self._vocabulary = (count, catalogue_vocabulary(self.ws))
        return self._vocabulary[1]

    def _parser(self):
        if self.parser is None:
            from generec.pipeline import get_parser

            self.parser = get_parser()
        return self.parser

    def _text_encoder(self):
        if self.text_encoder is None:
            from generec.encoders.text import get_text_encoder

            self.text_encoder = getattr(self.parser, "text_encoder", None) or get_text_encoder()
        return self.text_encoder

    def retriever(self, notes: list[str] | None = None):
        """The current retriever (reloaded when a new one is saved), or None with a note why not."""
        from generec.retrieval.serving import CURRENT, load_current

        current = self.ws.path("models") / CURRENT
        try:
            key = (current.stat().st_mtime_ns,) if current.is_file() else None
            if key is None:
                raise InputError(f"no trained retriever in {self.ws.root}")
            if self._retriever is None or self._retriever_key != key:
                self._retriever, self._retriever_key = load_current(self.ws), key
            return self._retriever
        except InputError as exc:
            if notes is not None:
                notes.append(f"activation: no retriever ({exc}); the mode stays as parsed")
            return None

    def _check_user(self, user_id: str) -> None:
        if not isinstance(user_id, str) or not user_id:
            raise InputError(f"user_id must be a non-empty string, got {user_id!r}")
        if self.ws.users.get(user_id) is None:
            raise InputError(f"unknown user {user_id!r}: not in workspace {self.ws.root}")


def session_from_instructions(user_id: str, session_id: str, rows: Sequence[Instruction]) -> DialogueState:
    """A session's state from its stored turns: `merge` folded over them, resets honoured."""
    state = DialogueState(user_id, session_id)
    for row in rows:
        try:
            turn = Guidance.model_validate(row.guidance)
        except ValueError as exc:
            raise InputError(f"session {session_id!r} of {user_id!r}: a stored turn is not valid guidance ({exc})") from None
        if RESET_NOTE in turn.notes:
            state.turns, state.current = [], None
            if turn.source == "dialogue":  # the reset alone, no new request
                continue
        state.turns.append(Turn(row.text, turn))
        state.current = merge(state.current, turn)
    del state.turns[:-MAX_TURNS]
    return state


def activated(guidance: Guidance, activation: Activation, notes: Sequence[str] = ()) -> Guidance:
    """The guidance with the activation's decision in it."""
    repurpose = activation.mode == "repurpose"
    fields = guidance.model_dump()
    fields.update(
        mode=activation.mode,
        target_item=activation.target_item if repurpose else guidance.target_item,
        edit_op=activation.edit_op if repurpose else None,
        notes=(*guidance.notes, *notes, f"activation: {activation.mode}: {activation.reason}"),
    )
    return Guidance.model_validate(fields)


# -- serving the guidance ---------------------------------------------------------------------------


@dataclass
class FeedEntry:
    item_id: str
    way: Mode  # how it reached the feed: retrieve | repurpose | create
    origin: str  # human | ai_edited | ai_created
    score: float | None = None  # the retriever's score (retrieve), the edit's score (repurpose)
    parent_id: str | None = None
    match: float | None = None  # how well it satisfies the guidance (activation.py)


@dataclass
class FeedResult:
    user_id: str
    mode: Mode  # the way taken
    requested_mode: Mode  # the guidance's
    items: list[FeedEntry]
    edits: list[EditResult]
    notes: list[str]
    guidance: Guidance

    @property
    def item_ids(self) -> list[str]:
        return [e.item_id for e in self.items]

    def to_dict(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id, "mode": self.mode, "requested_mode": self.requested_mode,
            "items": [vars(e) for e in self.items], "edits": [e.to_dict() for e in self.edits], "notes": self.notes,
        }  # fmt: skip


def _z(x: np.ndarray) -> np.ndarray:
    return (x - x.mean()) / (x.std() + 1e-8) if len(x) > 1 else np.zeros_like(x)


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
    from generec.pipeline import catalogue_vocabulary
    from generec.retrieval.base import Constraints

    cfg = config or InstructorConfig()
    notes = notes if notes is not None else []
    if k <= 0:
        return []
    vocab = tuple(vocabulary) if vocabulary is not None else catalogue_vocabulary(ws)
    items = {i.id: i for i in ws.items.all(origin=Origin.HUMAN)}
    checks: dict[str, CandidateCheck] = {}

    def check(item_id: str) -> CandidateCheck | None:
        if item_id not in checks and item_id in items:
            checks[item_id] = check_item(items[item_id], guidance, vocabulary=vocab, min_clip_s=cfg.activation.min_clip_s)
        return checks.get(item_id)

    def allowed(item_id: str) -> bool:  # hard: no excluded concept, duration within bounds
        c = check(item_id)
        return c is not None and not c.exclude_hits and c.duration_ok

    # 1. the pool under the hard constraints
    pool = min(model.data_.n_items, max(k, cfg.rerank_pool))
    rec = model.recommend(user_id, pool, exclude_seen=True, constraints=Constraints(exclude=frozenset(exclude), predicate=allowed))
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
                exclude.append(target)
                entries.append(FeedEntry(result.item.id, "repurpose", str(result.item.origin), result.score, target))
    # 3. create: no creator yet
    if guidance.mode == "create":
        notes.append(f"create: {NO_CREATOR}; serving retrieval instead")
    # 4. the retrieved feed fills the rest
    model = retriever
    if model is None:
        try:
            model = load_current(ws)
        except InputError as exc:
            notes.append(f"retrieval: no retriever ({exc})")
    if model is not None:
        vocab = instructor.vocabulary() if instructor is not None else None
        entries += retrieve_feed(ws, model, user_id, guidance, k - len(entries), exclude, cfg, vocab, notes)
    result = FeedResult(user_id, "repurpose" if edits else "retrieve", guidance.mode, entries, edits, notes, guidance)
    # 5. the feed shown becomes the session's last feed
    if instructor is not None:
        instructor.dialogue.set_feed(user_id, instructor._session_id(session), result.item_ids)
    return result
