"""Per-user dialogue state: later instructions refine earlier ones.

A session is keyed by (user_id, session_id). Each turn is parsed on its own, then merged into the
session's current guidance by `merge`:

- a field the new turn sets (not None) overrides: style, style_strength, edit_op, target_item,
  durations; `user_vector` overrides when the new turn moves it off the default "history";
- include / exclude accumulate; a concept newly excluded leaves include and vice versa;
- mode: the new turn's mode wins only if it is explicit (`mode_explicit`), else the earlier one
  stays; `edit_op` follows only into repurpose mode. A repurpose turn that names no item but says
  what to change ("actually make it a cartoon") refers back: after a retrieve or create request
  it refines that request (mode unchanged, only the style moves); after a repurpose it keeps the
  earlier target item. Either way the turn's "which video?" clarify is dropped;
- durations: explicit numbers in the new turn win (an earlier bound that would contradict them is
  dropped). A turn that only says "longer" (no number; read from the embedded parser's note
  `relative_duration:longer`, else from the words "longer", "too short", ...) raises the floor:
  min := previous max and max is dropped; with no previous max, min := previous min × DURATION_STEP.
  "shorter" mirrors it: max := previous min and min is dropped; with no previous min,
  max := previous max ÷ DURATION_STEP. With no earlier bound at all, a relative turn changes
  nothing and says so in `notes`;
- clarify (but see "refers back"), confidence, text, source and notes come from the newest turn only.

A reset phrase ("start over", "reset", "forget that", "never mind everything"; case- and
typo-tolerant) empties the session; whatever follows it in the same message is the new first turn.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import re
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from pydantic import ValidationError

from generec.errors import InputError
from generec.instructor.guidance import Guidance
from generec.instructor.sanitize import clean_text, redact_pii

if TYPE_CHECKING:
    from generec.instructor.llm import GuidanceParser
    from generec.instructor.parser import ParseContext

DIALOGUE_VERSION = 1
MAX_TURNS = 50  # per session; older turns are dropped (their effect lives on in `current`)
MAX_CONCEPTS = 20  # per list after merging; the oldest go first
DURATION_STEP = 2.0  # how much "longer" / "shorter" moves a one-sided bound

RESET_PHRASES = (
    "start over", "start again", "restart", "reset", "forget that", "forget everything",
    "never mind everything", "clear everything", "from scratch",
)  # fmt: skip
# Words that may surround a reset phrase without changing its meaning ("ok, let's start over please").
_FILLERS = frozenset(
    "ok okay alright please pls lets let's let us just can we could you hey oh so um uhm hmm no "
    "wait actually and now then all".split()
)
_CLAUSE = re.compile(r"[^,.;:!?]+")
_LONGER = re.compile(r"(?<!\bno )(?<!\bany )\blonger\b|\btoo short\b|\bnot (?:so|that|as) short\b|\bmore time\b")
_SHORTER = re.compile(r"\bshorter\b|\btoo long\b|\bnot (?:so|that|as) long\b|\bless time\b")


class Turn(NamedTuple):
    text: str  # PII-redacted
    guidance: Guidance  # this turn alone, before merging


@dataclass
class DialogueState:
    user_id: str
    session_id: str
    turns: list[Turn] = field(default_factory=list)
    current: Guidance | None = None  # every turn so far, merged
    last_feed: tuple[str, ...] = ()  # item ids last shown in this session

    def to_dict(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "session_id": self.session_id,
            "turns": [{"text": t.text, "guidance": t.guidance.model_dump(mode="json")} for t in self.turns],
            "current": None if self.current is None else self.current.model_dump(mode="json"),
            "last_feed": list(self.last_feed),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DialogueState:
        return cls(
            user_id=_identifier(data["user_id"], "user_id"),
            session_id=_identifier(data["session_id"], "session_id"),
            turns=[Turn(str(t["text"]), Guidance.model_validate(t["guidance"])) for t in data["turns"]],
            current=None if data["current"] is None else Guidance.model_validate(data["current"]),
            last_feed=tuple(str(i) for i in data["last_feed"]),
        )


def merge(previous: Guidance | None, turn: Guidance) -> Guidance:
    """The guidance after `turn`, given the guidance of every earlier turn (see the module doc)."""
    if previous is None:
        return turn
    notes = list(turn.notes)

    # 1. mode: an explicit new mode wins, else the earlier one stays. A repurpose turn that names
    #    no item but says what to change ("make it a cartoon") refers to the session: "it" is the
    #    earlier request (whose mode stays) or, after a repurpose, the earlier target item
    refers_back = (
        turn.mode == "repurpose"
        and turn.target_item is None
        and (previous.mode != "repurpose" or previous.target_item is not None)
        and _says_what(turn)
    )
    decides = turn if turn.mode_explicit and not (refers_back and previous.mode != "repurpose") else previous
    mode, mode_explicit = decides.mode, decides.mode_explicit
    edit_op = (turn.edit_op or previous.edit_op) if mode == "repurpose" else decides.edit_op

    # 2. concepts accumulate; the newest word on a concept wins
    include = [c for c in previous.include if c not in turn.exclude] + list(turn.include)
    exclude = [c for c in previous.exclude if c not in turn.include] + list(turn.exclude)

    # 3. style and its strength
    style = turn.style if turn.style is not None else previous.style
    if turn.style_strength is not None:
        style_strength = turn.style_strength
    else:
        style_strength = previous.style_strength if style == previous.style else None

    # 4. durations: numbers win, else "longer" / "shorter" move the earlier bounds
    lo, hi, note = _durations(previous, turn)
    if note:
        notes.append(note)

    fields = turn.model_dump()
    fields.update(
        mode=mode,
        mode_explicit=mode_explicit,
        edit_op=edit_op,
        include=_dedupe(include)[-MAX_CONCEPTS:],
        exclude=_dedupe(exclude)[-MAX_CONCEPTS:],
        style=style,
        style_strength=style_strength,
        min_duration_s=lo,
        max_duration_s=hi,
        target_item=turn.target_item if turn.target_item is not None else previous.target_item,
        user_vector=turn.user_vector if turn.user_vector != "history" else previous.user_vector,
        clarify=None if refers_back else turn.clarify,  # "which video?" is answered by the session
        notes=tuple(notes),
    )
    # confidence, text, source: the newest turn's, already in `fields`
    return Guidance.model_validate(fields)


def _says_what(turn: Guidance) -> bool:
    """The turn changes something (concepts, style, length), beyond naming a mode."""
    relative = any(n.startswith("relative_duration:") for n in turn.notes)
    return bool(
        turn.include or turn.exclude or turn.style or relative
        or turn.min_duration_s is not None or turn.max_duration_s is not None
    )  # fmt: skip


def _durations(previous: Guidance, turn: Guidance) -> tuple[float | None, float | None, str | None]:
    """(min_duration_s, max_duration_s, note) after `turn`."""
    lo, hi = previous.min_duration_s, previous.max_duration_s
    if turn.min_duration_s is not None or turn.max_duration_s is not None:
        if turn.min_duration_s is not None:
            lo = turn.min_duration_s
            if hi is not None and turn.max_duration_s is None and hi < lo:
                hi = None  # "at least 60 s" after "under 30 s": the old cap goes
        if turn.max_duration_s is not None:
            hi = turn.max_duration_s
            if lo is not None and turn.min_duration_s is None and lo > hi:
                lo = None
        return lo, hi, None
    relative = {n.split(":", 1)[1] for n in turn.notes if n.startswith("relative_duration:")}
    if relative:
        longer, shorter = "longer" in relative, "shorter" in relative
    else:
        text = (turn.text or "").lower()
        longer, shorter = _LONGER.search(text) is not None, _SHORTER.search(text) is not None
    if longer == shorter:  # neither, or both (no way to tell which)
        return lo, hi, None
    if lo is None and hi is None:
        return None, None, f"{'longer' if longer else 'shorter'}: no earlier duration to compare with"
    if longer:
        return (hi, None, None) if hi is not None else (lo * DURATION_STEP, None, None)
    return (None, lo, None) if lo is not None else (None, hi / DURATION_STEP, None)


def reset_request(text: str) -> tuple[bool, str]:
    """(is this a reset?, the text after the reset phrase). Leading filler clauses ("ok", "no")
    are skipped; the first real clause must be a reset phrase, allowing for typos."""
    for match in _CLAUSE.finditer(text):
        words = [w for w in re.findall(r"[a-z']+", match.group().lower()) if w not in _FILLERS]
        if not words:
            continue
        if _is_reset_phrase(" ".join(words)):
            return True, text[match.end() :].lstrip(" ,.;:!?").strip()
        return False, text
    return False, text


def _is_reset_phrase(candidate: str) -> bool:
    for phrase in RESET_PHRASES:
        cutoff = 0.8 if len(phrase) > 6 else 0.9  # a short phrase tolerates one slip at most
        if difflib.SequenceMatcher(None, candidate, phrase).ratio() >= cutoff:
            return True
    return False


class Dialogue:
    """Every open session's state, keyed by (user_id, session_id)."""

    def __init__(self) -> None:
        self._states: dict[tuple[str, str], DialogueState] = {}
        self._lock = threading.Lock()

    def turn(
        self,
        user_id: str,
        session_id: str,
        text: str,
        parser: GuidanceParser,
        context: ParseContext | None = None,
    ) -> Guidance:
        """Parse one instruction, merge it into the session, and return the merged guidance."""
        # 1. check inputs; bad text raises before any state changes
        key = (_identifier(user_id, "user_id"), _identifier(session_id, "session_id"))
        message = clean_text(text)

        # 2. a reset phrase empties the session; the rest of the message is a fresh first turn
        was_reset, cleaned = reset_request(message)
        if was_reset:
            self.reset(*key)
            if not cleaned:
                return Guidance(text=redact_pii(message), source="dialogue", notes=("dialogue reset",))
        state = self._state(*key)

        # 3. parse the turn alone, with the session's last feed when the caller's context has none
        if dataclasses.is_dataclass(context) and state.last_feed and not getattr(context, "last_feed", None):
            context = dataclasses.replace(context, last_feed=state.last_feed)
        parsed = parser.parse(cleaned, context)
        if was_reset:
            parsed = parsed.model_copy(update={"notes": ("dialogue reset", *parsed.notes)})

        # 4. merge into the session and record the turn
        with self._lock:
            merged = merge(state.current, parsed)
            state.turns.append(Turn(parsed.text if parsed.text is not None else redact_pii(cleaned), parsed))
            del state.turns[:-MAX_TURNS]
            state.current = merged
        return merged

    def reset(self, user_id: str, session_id: str) -> DialogueState:
        """Forget the session; its last feed is kept (the user still sees it)."""
        key = (_identifier(user_id, "user_id"), _identifier(session_id, "session_id"))
        with self._lock:
            old = self._states.get(key)
            state = DialogueState(*key, last_feed=old.last_feed if old else ())
            self._states[key] = state
        return state

    def get(self, user_id: str, session_id: str) -> DialogueState | None:
        return self._states.get((user_id, session_id))

    def set_feed(self, user_id: str, session_id: str, item_ids: list[str] | tuple[str, ...]) -> None:
        """Record which items the session was last shown (what "this one" / "the second" refer to)."""
        state = self._state(_identifier(user_id, "user_id"), _identifier(session_id, "session_id"))
        with self._lock:
            state.last_feed = tuple(str(i) for i in item_ids)

    def __len__(self) -> int:
        return len(self._states)

    def _state(self, user_id: str, session_id: str) -> DialogueState:
        with self._lock:
            return self._states.setdefault((user_id, session_id), DialogueState(user_id, session_id))

    # -- persistence ----------------------------------------------------------------------------

    def to_json(self) -> str:
        with self._lock:
            states = [s.to_dict() for s in self._states.values()]
        return json.dumps({"version": DIALOGUE_VERSION, "sessions": states})

    @classmethod
    def from_json(cls, text: str) -> Dialogue:
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or data.get("version") != DIALOGUE_VERSION:
                raise InputError(
                    f"dialogue file: version {data.get('version') if isinstance(data, dict) else None!r} "
                    f"is not supported (expected {DIALOGUE_VERSION})"
                )
            states = [DialogueState.from_dict(s) for s in data["sessions"]]
        except InputError:
            raise
        except (ValueError, KeyError, TypeError, ValidationError) as exc:
            raise InputError(f"dialogue file: not a saved dialogue ({type(exc).__name__}: {exc})") from None
        dialogue = cls()
        for state in states:
            dialogue._states[(state.user_id, state.session_id)] = state
        return dialogue


def _identifier(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{name} must be a non-empty string, got {value!r}")
    return value


def _dedupe(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))
