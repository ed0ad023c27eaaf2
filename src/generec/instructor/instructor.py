"""The instructor: an instruction (or none) plus feedback -> `Guidance` with the way to take.

`Instructor(ws)(user_id, text, history, session)` (the DESIGN contract) runs:

1. check inputs: a known user, a session id, history as Interaction records;
2. the session: kept in memory (`Dialogue`), rebuilt from `ws.instructions` the first time this
   process sees it, so a new process continues the dialogue. Each stored row is one accepted
   turn: its PII-redacted text and the turn's own guidance (before merging), so the session is
   the fold of `dialogue.merge` over the rows, a "dialogue reset" row starting it over;
3. the instruction: a dialogue turn (vocabulary from the catalogue's tags and titles,
   `catalogue.py`; `item_exists` from the workspace; the session's last feed; as "this video" the
   item the session last chose to edit; as the usual length, the median length of what the user
   clicked, liked or watched, for "shorter" / "longer"). A rejected text (empty, too long, binary) raises InputError and stores nothing. With no
   text the session's standing guidance is used, else the feedback alone (`source="feedback"`);
4. fusion (`fusion.py`): the user's feedback and the instruction's concepts become `vector`;
5. activation (`activation.py`) over the current retriever's top-k and the pool `apply` would
   serve from (so "no candidate satisfies" and the served feed agree). With no trained retriever
   the mode stays as parsed and a note says so. The decision lands in `mode`, `target_item` and
   `edit_op`, and its reason in `notes` ("activation: ..."); `mode_explicit` stays true only when
   the way taken is the one the user asked for.

`guidance` is steps 1-4 and `activate` step 5, so that `GeneRec.feed` (pipeline.py) shows them as
its own steps; the instructor does not assemble feeds (`generec/feed.py` and `GeneRec` do).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from generec.errors import InputError
from generec.instructor.activation import (
    Activation,
    CandidateCheck,
    check_candidates,
    decide,
    recent_events,
)
from generec.instructor.catalogue import CatalogueVocabulary, catalogue_vocabulary
from generec.instructor.dialogue import MAX_TURNS, Dialogue, DialogueState, Turn, merge
from generec.feed import served_pool
from generec.instructor.config import InstructorConfig
from generec.instructor.fusion import user_profile, with_vector
from generec.instructor.guidance import Guidance
from generec.types import Event, Instruction, Interaction, Origin
from generec.workspace import Workspace

__all__ = ["Instructor", "InstructorConfig", "session_from_instructions"]

RESET_NOTE = "dialogue reset"
POSITIVE_EVENTS = (Event.CLICK, Event.LIKE, Event.WATCH)


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
        self._catalogue: tuple[int, CatalogueVocabulary] | None = None
        self._lock = threading.RLock()

    # -- the contract -----------------------------------------------------------------------------

    def __call__(
        self,
        user_id: str,
        text: str | None = None,
        history: Sequence[Interaction] | None = None,
        session: str | None = None,
    ) -> Guidance:
        """The guidance for `user_id` now, with the way to take: `guidance` then `activate`."""
        self._check_user(user_id)
        events = list(history) if history is not None and not isinstance(history, (str, bytes)) else history
        if events is None:
            events = self.ws.interactions.for_user(user_id)  # read once for both steps
        guidance = self.guidance(user_id, text, events, session)
        return self.activate(user_id, guidance, events, session)

    def guidance(
        self,
        user_id: str,
        text: str | None = None,
        history: Sequence[Interaction] | None = None,
        session: str | None = None,
    ) -> Guidance:
        """Steps 1-4: the guidance for `user_id` now, before activation. `text`: the instruction, or None for feedback alone;
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
        return with_vector(guidance, profile, encoder, cfg.fusion)

    def activate(self, user_id: str, guidance: Guidance, history: Sequence[Interaction] | None = None, session: str | None = None) -> Guidance:
        """Step 5: the way to take (retrieve, repurpose or create) decided over the retriever's
        top-k and the pool the feed would serve from; returns the guidance with the decision."""
        cfg = self.config
        key = (user_id, self._session_id(session))
        events = list(history) if history is not None else self.ws.interactions.for_user(user_id)
        # 5. activation over the retriever's top-k
        notes: list[str] = []
        candidates: list[CandidateCheck] = []
        model = self.retriever(notes) if cfg.use_retriever else None
        if model is not None:
            k = min(cfg.activation.k, model.data_.n_items)
            rec = model.recommend(user_id, k, exclude_seen=True)
            scored = {s.item_id: s.score for s in rec.items}
            for s in served_pool(self.ws, model, user_id, guidance, k, (), cfg, self.vocabulary()).items:
                scored.setdefault(s.item_id, s.score)  # what `apply` would serve is checked too
            candidates = check_candidates(self.ws, guidance, list(scored), list(scored.values()), self.vocabulary(), cfg.activation)
        recent = recent_events(events, self.clock(), cfg.activation.streak_window_s)
        activation = decide(guidance, candidates, recent, cfg.activation)
        final = activated(guidance, activation, notes)
        if final.mode == "repurpose" and final.target_item is not None:
            self._edited[key] = final.target_item
        return final

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
        catalogue = self.catalogue()
        context = ParseContext(
            vocabulary=catalogue.tags or DEFAULT_VOCABULARY,
            terms=catalogue.terms,
            usual_duration_s=usual_duration(self.ws, user_id),
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

    def catalogue(self) -> CatalogueVocabulary:
        """The catalogue's tags and title terms (recomputed when the item count changes)."""
        count = self.ws.items.count()
        if self._catalogue is None or self._catalogue[0] != count:
            self._catalogue = (count, catalogue_vocabulary(self.ws.items.all(origin=Origin.HUMAN)))
        return self._catalogue[1]

    def vocabulary(self) -> tuple[str, ...]:
        """The catalogue's concepts: its tags (or, with none, its frequent title words)."""
        return self.catalogue().tags

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
        """The current retriever for serving (`LiveRetriever`: the feedback since training folded
        in), reloaded when a new one is saved; or None with a note why not."""
        from generec.retrieval.serving import CURRENT, load_serving

        current = self.ws.path("models") / CURRENT
        try:
            stat = current.stat() if current.is_file() else None
            if stat is None:
                raise InputError(f"no trained retriever in {self.ws.root}")
            key = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
            with self._lock:
                if self._retriever is None or self._retriever_key != key:
                    self._retriever, self._retriever_key = load_serving(self.ws), key
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


def usual_duration(ws: Workspace, user_id: str, last: int = 200) -> float | None:
    """Median media length (s) of the last `last` items the user clicked, liked or watched; None without any."""
    lengths = []
    positives = [e for e in ws.interactions.for_user(user_id) if e.event in POSITIVE_EVENTS]
    for event in sorted(positives, key=lambda e: e.ts)[-last:]:
        item = ws.items.get(event.item_id)
        if item is not None and item.media is not None and item.media.duration:
            lengths.append(float(item.media.duration))
    return round(float(np.median(lengths)), 3) if lengths else None


def activated(guidance: Guidance, activation: Activation, notes: Sequence[str] = ()) -> Guidance:
    """The guidance with the activation's decision in it; `mode_explicit` only if the user asked for that way."""
    repurpose = activation.mode == "repurpose"
    fields = guidance.model_dump()
    fields.update(
        mode=activation.mode,
        mode_explicit=guidance.mode_explicit and activation.mode == guidance.mode,
        target_item=activation.target_item if repurpose else guidance.target_item,
        edit_op=activation.edit_op if repurpose else None,
        notes=(*guidance.notes, *notes, f"activation: {activation.mode}: {activation.reason}"),
    )
    return Guidance.model_validate(fields)
