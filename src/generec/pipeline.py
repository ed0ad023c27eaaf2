"""Glue: the library calls that the CLI, the service and batch jobs make. No model code lives here.

- `GeneRec(workspace, config)`: the loop. `feed(user, k, instruction, session)` runs the
  instructor, activation, retrieval, repurposing or creation, the fidelity gate and the feed's
  assembly, and logs the impressions; `feedback(user, item, event, value)` writes an event at
  once, and the next feed folds it in (`retrieval/live.py`) without a retrain.
- `edit(...)` repurposes one catalogue item for one user: the instruction (if any) becomes
  guidance, the user's preference is built, and the op writes a new AI-edited item.
- `create(...)` makes new items for one user with the AI creator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from generec.editor.base import EditResult, check_user, video_item
from generec.editor.clip import ClipConfig, ClipEditor, clip_length
from generec.editor.context import edit_context, look_judge_or_reason, user_preference  # noqa: F401 (the library's names)
from generec.editor.cover import CoverConfig, CoverEditor
from generec.editor.look_judge import LookJudgeConfig
from generec.editor.regenerate import RegenerateConfig
from generec.editor.style import StyleConfig, StyleEditor
from generec.errors import InputError
from generec.instructor.guidance import Guidance
from generec.types import Origin
from generec.workspace import Workspace

EDIT_OPS = ("cover", "clip", "style", "regenerate")


@dataclass(frozen=True)
class EditConfig:
    preference: str = "concepts"  # history | concepts | retriever (see editor/preference.py)
    seed: int = 0
    cover: CoverConfig = field(default_factory=CoverConfig)
    clip: ClipConfig = field(default_factory=ClipConfig)
    style: StyleConfig = field(default_factory=StyleConfig)
    looks: LookJudgeConfig = field(default_factory=LookJudgeConfig)
    regenerate: RegenerateConfig = field(default_factory=RegenerateConfig)


@dataclass(frozen=True)
class CreatorSettings:
    backend: str = "embedded"  # embedded | diffusers
    diffusers_path: str | None = None  # a local DiffusionPipeline directory (backend "diffusers")
    device: str | None = None  # the diffusers backend's device; None: CUDA when present
    checkpoint: str | None = None  # an embedded checkpoint other than models/creator/creator.pt (a snapshot)

    def load(self, ws: Workspace):
        """(generator, frames, model name), loaded once per process."""
        from generec.creator.loading import load_creator

        return load_creator(ws, self.backend, self.diffusers_path, self.device, self.checkpoint)


def parse_instruction(ws: Workspace, text: str, item_id: str | None = None, duration: float | None = None) -> Guidance:
    """Guidance from an instruction about `item_id`, with the embedded parser."""
    from generec.instructor.catalogue import catalogue_vocabulary
    from generec.instructor.parser import DEFAULT_VOCABULARY, ParseContext

    catalogue = catalogue_vocabulary(ws.items.all(origin=Origin.HUMAN))  # its tags and title words
    context = ParseContext(
        vocabulary=catalogue.tags or DEFAULT_VOCABULARY, terms=catalogue.terms, current_item=item_id,
        item_exists=lambda i: ws.items.get(i) is not None, reference_duration_s=duration,
    )  # fmt: skip
    return get_parser().parse(text, context)


_PARSER = None


def get_parser():
    """The process-wide embedded parser (its exemplar embeddings are computed once)."""
    global _PARSER
    if _PARSER is None:
        from generec.instructor.parser import EmbeddedParser

        _PARSER = EmbeddedParser()
    return _PARSER


def edit(
    ws: Workspace,
    op: str,
    user_id: str,
    item_id: str,
    instruction: str | None = None,
    guidance: Guidance | None = None,
    config: EditConfig | None = None,
    settings: CreatorSettings | None = None,
) -> EditResult:
    cfg = config or EditConfig()
    # 1. check inputs (before any model loads)
    if op not in EDIT_OPS:
        raise InputError(f"unknown edit op {op!r}; valid ops: {', '.join(EDIT_OPS)}")
    check_user(ws, user_id)
    item = video_item(ws, item_id, op)
    if instruction is not None and guidance is not None:
        raise InputError("give an instruction or a guidance object, not both")
    # 2. the instruction becomes guidance
    if instruction is not None:
        guidance = parse_instruction(ws, instruction, item.id, item.media.duration)
    if guidance is not None:  # a request for blocked content is refused before anything is made
        from generec.fidelity.safety import refuse_blocked

        refuse_blocked(guidance)
    if op == "clip":  # an unsatisfiable length fails before anything is computed or stored
        clip_length(item.media.duration or 0.0, cfg.clip, guidance)
    # 3. the user's preference, the bridge, the look judge
    ctx, look_note = edit_context(ws, user_id, guidance, cfg, op)
    # 4. the op writes the new item
    if op == "regenerate":  # the creator's model re-makes the cover
        from generec.editor.regenerate import RegenerateEditor

        generator, frames, _ = (settings or CreatorSettings()).load(ws)
        result = RegenerateEditor(ctx, generator, frames, cfg.regenerate)(item, guidance)
    else:
        ops: dict[str, Any] = {"cover": CoverEditor(ctx, cfg.cover), "clip": ClipEditor(ctx, cfg.clip), "style": StyleEditor(ctx, cfg.style)}
        result = ops[op](item, guidance)
    if look_note:
        result.notes.append(look_note)
    return result


def create(
    ws: Workspace,
    user_id: str,
    instruction: str | None = None,
    guidance: Guidance | None = None,
    n: int = 1,
    config: EditConfig | None = None,
    create_config=None,
    settings: CreatorSettings | None = None,
) -> list:
    """`n` new AI-created items for `user_id` (`creator/creator.py`), from an instruction or guidance."""
    from generec.creator.creator import CreateConfig, Creator, blocked_terms, duration_for

    cfg, ccfg, st = config or EditConfig(), create_config or CreateConfig(), settings or CreatorSettings()
    # 1. check inputs; blocked or impossible requests fail before any model loads
    check_user(ws, user_id)
    if instruction is not None and guidance is not None:
        raise InputError("give an instruction or a guidance object, not both")
    if instruction is not None:
        guidance = parse_instruction(ws, instruction)
    if guidance is not None:
        if hits := blocked_terms(guidance, ccfg.blocked):
            raise InputError(f"the instruction asks for blocked content ({', '.join(hits)}); nothing was created")
        duration_for(guidance, ccfg)
    # 2. the creator (loaded once per process) and the user's context
    generator, frames, model = st.load(ws)
    ctx, _ = edit_context(ws, user_id, guidance, cfg, "create")
    # 3. create
    return Creator(ctx, generator, frames, ccfg, model)(guidance, n)


# -- the loop -------------------------------------------------------------------------------------

FEEDBACK_EVENTS = ("impression", "click", "like", "dislike", "skip", "watch")
MAX_BATCH = 1000  # events in one feedback call


@dataclass(frozen=True)
class GeneRecConfig:
    """The loop's settings; the instructor's config carries the edit and creation settings."""

    instructor: Any = None  # InstructorConfig (None: its defaults)
    max_k: int = 100  # the longest feed one call may ask for
    log_impressions: bool = True  # step 8: what was shown is logged, with the way it came
    personal_variants: bool = True  # a retrieved item the user has an AI variant of is shown as that variant
    history_events: int = 2000  # the instructor reads the user's last n events (impressions aside); the retriever's fold-in reads all

    def __post_init__(self) -> None:
        if self.max_k < 1:
            raise InputError(f"GeneRecConfig.max_k must be >= 1, found {self.max_k}")


@dataclass(frozen=True)
class FeedbackEvent:
    """One event as a client sends it; `event_id` makes it idempotent."""

    item_id: str
    event: str
    value: float | None = None
    event_id: str | None = None
    source: str | None = None
    ts: float | None = None


@dataclass(frozen=True)
class FeedbackResult:
    stored: int
    duplicates: int


class GeneRec:
    """The loop as one object: `feed` and `feedback` (module doc). Models load once per object,
    and the current retriever is reloaded when a newer one is saved (`generec train`)."""

    def __init__(self, workspace: Workspace, config: GeneRecConfig | None = None, parser=None, clock=None) -> None:
        import time

        from generec.instructor.config import InstructorConfig
        from generec.instructor.instructor import Instructor

        self.ws = workspace
        self.config = config or GeneRecConfig()
        self.clock = clock or time.time
        self.instructor = Instructor(workspace, parser=parser, config=self.config.instructor or InstructorConfig(), clock=self.clock)

    def retriever(self, notes: list[str] | None = None):
        """The serving retriever (`LiveRetriever`), or None with a note why there is none."""
        return self.instructor.retriever(notes)

    def feed(self, user: str, k: int = 10, instruction: str | None = None, session: str | None = None, guidance=None):
        """A feed of `k` entries for `user`; `instruction`: what they asked for now (None: their
        session's standing request, else their feedback alone). `guidance`: an already activated
        `Guidance` to serve instead of an instruction (steps 2 and 3 are skipped)."""
        from generec.types import Event, Interaction

        with self.ws.db.memoised_reads():  # one feed asks some questions in several places: each once
            feed = self._feed(user, k, instruction, session, guidance)
        # 8. log the impressions with their source
        if self.config.log_impressions and feed.items:
            now = self.clock()
            self.ws.interactions.add_many(Interaction(user, e.item_id, now, Event.IMPRESSION, None, e.way) for e in feed.items)
        return feed

    def _feed(self, user: str, k: int, instruction: str | None, session: str | None, guidance):
        """Steps 1-7 of `feed`."""
        from generec.feed import Feed, FeedEntry, create, fidelity_pass, personal_variants, repurpose, retrieve_feed

        cfg, icfg = self.config, self.instructor.config
        # 1. check inputs
        check_user(self.ws, user)
        if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= cfg.max_k:
            raise InputError(f"k must be an integer from 1 to {cfg.max_k}, got {k!r}")
        if guidance is not None and instruction is not None:
            raise InputError("give an instruction or a guidance object, not both")
        if guidance is None:
            events = self.ws.interactions.for_user(user, feedback_only=True, last=cfg.history_events)  # read once: fusion, skip streaks
            # 2. the instructor: instruction + feedback -> guidance (a rejected text raises, nothing stored)
            guidance = self.instructor.guidance(user, instruction, events, session)
            # 3. activation: retrieve, repurpose or create
            guidance = self.instructor.activate(user, guidance, events, session)
        elif not isinstance(guidance, Guidance):
            raise InputError(f"guidance: expected a Guidance, found {type(guidance).__name__}")
        notes: list[str] = []
        # 4. retrieve: the human feed the user would have had (it also fills what is left)
        model = self.retriever(notes)
        baseline = retrieve_feed(self.ws, model, user, guidance, k + 1, (), icfg, self.instructor.vocabulary(), notes) if model else []
        if model is None:
            notes.append("retrieval: no trained retriever; run `generec train`")
        # 5. repurpose or create where activation says so (each new item passes the fidelity gate
        #    and is watermarked and signed before it is stored: editor/base.py, creator/creator.py)
        made: list = []
        edits, creations = [], []
        if guidance.mode == "repurpose" and (result := repurpose(self.ws, user, guidance, icfg, notes)) is not None:
            edits.append(result)
            made.append(FeedEntry(result.item.id, "repurpose", str(result.item.origin), result.score, result.parent.id,
                                  reason=f"AI {result.op} of “{result.parent.title or result.parent.id}”, made for you now"))  # fmt: skip
        if guidance.mode == "create":
            creations = create(self.ws, user, guidance, k, icfg, notes)
            wanted = ", ".join(guidance.include) or "your taste"
            made += [FeedEntry(c.item.id, "create", str(c.item.origin), c.score, reason=f"made for you by the AI creator: {wanted}") for c in creations]
        exclude = {guidance.target_item} if edits else set()
        retrieved = [e for e in baseline if e.item_id not in exclude][: k - len(made)]
        if cfg.personal_variants:
            retrieved = personal_variants(self.ws, user, retrieved)
        # 6. fidelity at the feed level: only servable AI items, labelled; the bias check
        entries, bias = fidelity_pass(self.ws, user, guidance, [*made, *retrieved], baseline[:k], notes)
        # 7. the feed: labelled entries with the way each came and why
        way = "create" if creations else "repurpose" if edits else "retrieve"
        feed = Feed(user, way, guidance.mode, entries, edits, notes, guidance, creations, bias)
        self.instructor.dialogue.set_feed(user, self.instructor._session_id(session), feed.item_ids)
        return feed

    def warm(self, max_items: int = 20_000, stop=None) -> dict[str, Any]:
        """Load now what the first feeds would load: the retriever, the instruction parser, the
        text encoder and the embeddings of the catalogue's item texts (the first `max_items`, at
        most what the text cache holds; the rest as feeds ask). Without it the first feed after a
        start waited for the models (3.3 s on `small`) and each user's first feed for their
        history's texts (0.24 s). `stop`: a `threading.Event` checked between batches of texts.
        Returns what was warmed, and how long."""
        import time

        from generec.instructor.catalogue import catalogue_items
        from generec.instructor.fusion import TEXT_CACHE, item_embeddings

        t0 = time.perf_counter()
        notes: list[str] = []
        retriever = self.retriever(notes)
        self.instructor._parser()
        encoder = self.instructor._text_encoder()
        items = list(catalogue_items(self.ws).values())[: max(0, min(max_items, TEXT_CACHE.size))]
        done = 0
        for start in range(0, len(items), 256):  # in batches: one encoder call each, a stop heard within one
            if stop is not None and stop.is_set():
                break
            item_embeddings(items[start : start + 256], encoder)
            done = min(len(items), start + 256)
        return {"retriever": retriever is not None, "notes": notes, "texts": done, "seconds": round(time.perf_counter() - t0, 3)}

    def visible(self, user: str, item_id: str):
        """The item if `user` may see it (a catalogue item, or an AI item made for them), else
        NotFoundError: another user's variant is answered as if it did not exist."""
        from generec.errors import NotFoundError
        from generec.types import Origin

        item = self.ws.items.get(item_id) if isinstance(item_id, str) else None
        if item is None or (item.origin != Origin.HUMAN and (item.provenance or {}).get("user_id") != user):
            raise NotFoundError(f"unknown item {item_id!r}")
        return item

    def feedback(self, user: str, item: str, event: str, value: float | None = None, event_id: str | None = None) -> FeedbackResult:
        """One event, written at once (`feedback_many` with one event)."""
        return self.feedback_many(user, [FeedbackEvent(item, event, value, event_id)])

    def feedback_many(self, user: str, events: list[FeedbackEvent]) -> FeedbackResult:
        """Events of `user`, checked whole and then written in one transaction: a bad event
        stores none of them. Feedback on an AI variant counts for its parent too (training reads
        it so, `retrieval/data.positives`; the live fold-in too, `retrieval/live.py`)."""
        from generec.errors import FieldError
        from generec.types import Event, Interaction

        # 1. check inputs: the user, then every event (the field at fault is named)
        check_user(self.ws, user)
        if not 1 <= len(events) <= MAX_BATCH:
            raise FieldError("events", f"expected 1 to {MAX_BATCH} events, got {len(events)}")
        now, rows = self.clock(), []
        for n, e in enumerate(events):
            where = f"events[{n}]" if len(events) > 1 else "event"
            if e.event not in FEEDBACK_EVENTS:
                raise FieldError(f"{where}.event", f"{e.event!r} is not one of {', '.join(FEEDBACK_EVENTS)}")
            self.visible(user, e.item_id)
            if e.event == "watch" and (e.value is None or not 0.0 <= float(e.value) <= 1.0):
                raise FieldError(f"{where}.value", f"a watch event needs the watch ratio in [0, 1], got {e.value!r}")
            if e.event != "watch" and e.value is not None:
                raise FieldError(f"{where}.value", f"only watch events take a value, got {e.value!r} for {e.event!r}")
            if e.event_id is not None and (not isinstance(e.event_id, str) or not 1 <= len(e.event_id) <= 100):
                raise FieldError(f"{where}.id", "expected a string of 1 to 100 characters")
            rows.append(Interaction(user, e.item_id, e.ts if e.ts is not None else now, Event(e.event), e.value, e.source or "feed", e.event_id))
        # 2. write: one transaction, each event id once
        stored, duplicates = self.ws.interactions.add_once(rows)
        return FeedbackResult(stored, duplicates)
