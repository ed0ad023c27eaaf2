"""Activation: which way serves the user now — retrieve, repurpose or create (GeneRec §3).

`check_candidates` reads what each retrieved item says about itself (tags, title words, media
duration; never the pixels' ground truth) and scores how well it satisfies the guidance:

- concepts: an included concept that is a catalogue concept is shown by an item when one of its
  tags is that concept or one of its title / text / tag words grounds to it through the parser's
  synonym table ("pets" -> animal); a term off the vocabulary ("cats" when "no cats but dogs"
  kept the narrow word) must appear literally (singular or plural);
- durations: `min_duration_s <= media.duration <= max_duration_s`; a video too long can be
  clipped (to no less than `min_clip_s`), one too short cannot be fixed;
- look: a look (`Guidance.look`) is shown when the item is tagged with it ("natural": tagged
  with no other look); a restyle can give any item any look. Pacing styles (calm, fast) cannot
  be read from metadata and do not count.

    match = share of included concepts shown (1 with none asked)
            × [no excluded concept] × [duration within bounds] × [look shown]
    match_if_edited = the same after the edits that can fix it (clip: too long; restyle: look)

`decide` applies the rules in order:

1. an explicit create or repurpose ("make me a video of…", "shorten this"), or a repurpose that
   names its video, wins. "show me…" is
   an explicit retrieve, but a retrieve request may still be served another way (rules 3–5):
   it says the user wants content, not that they refuse an edited one;
2. `skip_streak` items skipped (or disliked) in a row, with no click, like or watch since:
   create — the catalogue is not working for this user right now;
3. at least `min_satisfying` candidates with match >= `min_match`: retrieve;
4. else some candidate with match_if_edited >= `min_match`: repurpose the best such candidate
   (highest match_if_edited, then retriever rank) with the op that fixes it — clip when the
   duration is wrong (a clip also renders an asked look), style when only the look is, cover
   when nothing needs fixing;
5. else create: nothing retrieved could be edited to fit (e.g. an included concept no
   candidate shows, or every candidate is too short);
6. with no candidates to check, the parsed mode stays.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from generec.errors import InputError
from generec.instructor.guidance import LOOK_STYLES, STYLE_VOCABULARY, EditOp, Guidance, Mode
from generec.instructor.tokens import word_forms
from generec.instructor.vocabulary import CONCEPT_MULTI, CONCEPT_SYNONYMS
from generec.types import Event, Interaction, Item
from generec.workspace import Workspace

STREAK_BREAKERS = (Event.CLICK, Event.LIKE, Event.WATCH)
STREAK_EVENTS = (Event.SKIP, Event.DISLIKE)


@dataclass(frozen=True)
class ActivationConfig:
    k: int = 50  # candidates the retriever proposes
    min_match: float = 0.5  # a candidate satisfies the guidance at this match or above
    min_satisfying: int = 1  # retrieval suffices with this many satisfying candidates
    skip_streak: int = 3  # this many skips in a row switch to create; 0: never
    streak_window_s: float = 1800.0  # only feedback this recent counts toward a streak
    min_clip_s: float = 1.0  # the shortest clip the clip op cuts (ClipConfig.min_length_s)

    def __post_init__(self) -> None:
        if self.k < 1 or self.min_satisfying < 1 or self.skip_streak < 0:
            raise InputError(
                "ActivationConfig: k and min_satisfying must be >= 1 and skip_streak >= 0, "
                f"found {self.k}, {self.min_satisfying}, {self.skip_streak}"
            )
        if not 0.0 < self.min_match <= 1.0:
            raise InputError(f"ActivationConfig.min_match: expected a value in (0, 1], found {self.min_match}")


@dataclass(frozen=True)
class CandidateCheck:
    item_id: str
    rank: int  # in the retriever's list, from 0
    score: float  # the retriever's score
    match: float  # in [0, 1], the item as it is (see the module doc)
    match_if_edited: float  # in [0, 1], after the edits in `edits`
    include_hits: tuple[str, ...]  # included concepts the item shows
    exclude_hits: tuple[str, ...]  # excluded concepts the item shows
    duration_s: float | None
    duration_ok: bool  # True when no bound is asked
    duration_fixable: bool  # too long, and a clip within the bounds can be cut
    look_ok: bool  # True when no look is asked
    edits: tuple[EditOp, ...]  # what would fix it: "clip" (duration), "style" (look)

    @property
    def edit_op(self) -> EditOp:
        """The one op that applies every fix: a clip also renders the asked look."""
        return "clip" if "clip" in self.edits else "style" if "style" in self.edits else "cover"


@dataclass(frozen=True)
class Activation:
    mode: Mode
    reason: str
    target_item: str | None = None
    edit_op: EditOp | None = None
    satisfying: int = 0  # candidates with match >= min_match
    editable: int = 0  # candidates with match_if_edited >= min_match


# -- reading an item ------------------------------------------------------------------------------


def _synonyms() -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    """word -> concept, and multi-word phrase -> concepts, from the parser's tables."""
    words: dict[str, str] = {}
    phrases: dict[str, tuple[str, ...]] = {p: cs for p, cs in CONCEPT_MULTI.items()}
    for concept, synonyms in CONCEPT_SYNONYMS.items():
        for s in (concept, *synonyms):
            if " " in s:
                phrases.setdefault(s, (concept,))
            else:
                words.setdefault(s, concept)
    return words, phrases


_WORD = re.compile(r"[a-z]+")
_SYNONYMS: tuple[dict[str, str], dict[str, tuple[str, ...]]] | None = None


@dataclass(frozen=True)
class ItemReading:
    """What an item's metadata says: concepts (tags and grounded words), words, looks."""

    concepts: frozenset[str]
    words: frozenset[str]  # every word and its singular forms
    text: str  # lower-case title, text and tags, for multi-word terms
    looks: frozenset[str]
    duration_s: float | None


_READINGS: dict[tuple, ItemReading] = {}  # an item's reading, keyed by what it is read from


def read_item(item: Item) -> ItemReading:
    """`_read_item`, memoised on the item's metadata (a feed reads the same items again and again)."""
    key = (item.id, item.title, item.text, tuple(item.tags), item.media.duration if item.media is not None else None)
    reading = _READINGS.get(key)
    if reading is None:
        if len(_READINGS) > 200_000:
            _READINGS.clear()
        reading = _READINGS[key] = _read_item(item)
    return reading


def _read_item(item: Item) -> ItemReading:
    global _SYNONYMS
    if _SYNONYMS is None:
        _SYNONYMS = _synonyms()
    synonym_words, synonym_phrases = _SYNONYMS
    tags = [t.lower() for t in item.tags]
    text = " ".join([item.title, item.text, *(t.replace("_", " ") for t in tags)]).lower()
    raw = _WORD.findall(text)
    words = frozenset(f for w in raw for f in word_forms(w))
    concepts = {t for t in tags if t not in STYLE_VOCABULARY}
    for w in raw:
        for f in word_forms(w):
            if f in synonym_words:
                concepts.add(synonym_words[f])
    padded = f" {' '.join(raw)} "
    for phrase, cs in synonym_phrases.items():
        if f" {phrase} " in padded:
            concepts.update(cs)
    looks = frozenset(t for t in tags if t in LOOK_STYLES)
    duration = item.media.duration if item.media is not None else None
    return ItemReading(frozenset(concepts), words, padded, looks, duration)


def shows(reading: ItemReading, term: str, vocabulary: Iterable[str]) -> bool:
    """Whether the item shows `term`: a concept through grounding, any other term literally."""
    if term in reading.concepts:
        return True
    if term in vocabulary and term in CONCEPT_SYNONYMS:  # a table concept: only through grounding
        return False
    words = _WORD.findall(term)
    if len(words) > 1:
        return f" {' '.join(words)} " in reading.text
    return bool(words) and bool(set(word_forms(words[0])) & reading.words)


# -- checking candidates --------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _vocab_set(vocabulary: tuple[str, ...]) -> frozenset[str]:
    """The terms read as concepts: the catalogue's and the synonym table's (built once per vocabulary)."""
    return frozenset(vocabulary) | frozenset(CONCEPT_SYNONYMS)


def check_item(
    item: Item, guidance: Guidance, rank: int = 0, score: float = 0.0, vocabulary: Iterable[str] = (), min_clip_s: float = 1.0
) -> CandidateCheck:
    r = read_item(item)
    if guidance.include or guidance.exclude:
        vocab = _vocab_set(tuple(vocabulary))
        inc = tuple(t for t in guidance.include if shows(r, t, vocab))
        exc = tuple(t for t in guidance.exclude if shows(r, t, vocab))
    else:
        inc = exc = ()
    share = len(inc) / len(guidance.include) if guidance.include else 1.0
    lo, hi = guidance.min_duration_s, guidance.max_duration_s
    d = r.duration_s
    if lo is None and hi is None:
        duration_ok, fixable = True, False
    elif d is None:  # no media length to compare with: only a clip could say
        duration_ok, fixable = False, hi is not None and hi >= min_clip_s and lo is None
    else:
        duration_ok = (lo is None or d >= lo - 1e-6) and (hi is None or d <= hi + 1e-6)
        fixable = not duration_ok and hi is not None and d > hi and hi >= min_clip_s and (lo is None or lo <= hi)
    look = guidance.look
    if look is None:
        look_ok = True
    elif look == "natural":
        look_ok = not (r.looks - {"natural"})
    else:
        look_ok = look in r.looks
    edits: list[EditOp] = []
    if fixable:
        edits.append("clip")
    if not look_ok:
        edits.append("style")
    clean = 0.0 if exc else 1.0
    match = share * clean * duration_ok * look_ok
    match_if_edited = share * clean * (duration_ok or fixable)
    return CandidateCheck(
        item.id, rank, float(score), float(match), float(match_if_edited), inc, exc, d, duration_ok, fixable, look_ok,
        tuple(edits),
    )  # fmt: skip


def check_candidates(
    ws: Workspace,
    guidance: Guidance,
    item_ids: Sequence[str],
    scores: Sequence[float] | None = None,
    vocabulary: Iterable[str] | None = None,
    config: ActivationConfig | None = None,
) -> list[CandidateCheck]:
    """One check per retrieved item, in the retriever's order; unknown ids are an InputError."""
    cfg = config or ActivationConfig()
    if isinstance(item_ids, str):
        raise InputError("item_ids: expected a list of item ids, found a single string")
    if scores is not None and len(scores) != len(item_ids):
        raise InputError(f"scores: expected {len(item_ids)} scores (one per item), found {len(scores)}")
    if vocabulary is None:
        from generec.instructor.catalogue import catalogue_vocabulary
        from generec.types import Origin

        vocabulary = catalogue_vocabulary(ws.items.all(origin=Origin.HUMAN)).tags
    vocabulary = tuple(vocabulary)
    from generec.instructor.catalogue import catalogue_items

    catalogue = catalogue_items(ws)
    out = []
    for rank, item_id in enumerate(item_ids):
        item = catalogue.get(item_id) or ws.items.get(item_id)
        if item is None:
            raise InputError(f"unknown item {item_id!r}: not in workspace {ws.root}")
        score = float(scores[rank]) if scores is not None else 0.0
        out.append(check_item(item, guidance, rank, score, vocabulary, cfg.min_clip_s))
    return out


# -- feedback -------------------------------------------------------------------------------------


def recent_events(events: Sequence[Interaction], now: float, window_s: float) -> list[Interaction]:
    """The events of the last `window_s` seconds before `now`, oldest first."""
    return sorted((e for e in events if now - window_s <= e.ts <= now), key=lambda e: e.ts)


def skip_streak(events: Sequence[Interaction]) -> int:
    """Distinct items skipped or disliked since the last click, like or watch (impressions do not
    break a streak)."""
    items: set[str] = set()
    for e in sorted(events, key=lambda e: e.ts, reverse=True):
        if e.event in STREAK_BREAKERS:
            break
        if e.event in STREAK_EVENTS:
            items.add(e.item_id)
    return len(items)


# -- the decision ---------------------------------------------------------------------------------


def editable_candidates(candidates: Sequence[CandidateCheck], config: ActivationConfig) -> list[CandidateCheck]:
    """Candidates that miss the guidance as they are but meet it once edited, best first
    (highest match_if_edited, then retriever rank)."""
    m = config.min_match
    found = [c for c in candidates if c.match < m and c.edits and c.match_if_edited >= m]
    return sorted(found, key=lambda c: (-c.match_if_edited, c.rank))


def edit_op_for(guidance: Guidance) -> EditOp:
    """The op a repurpose request implies when it names none."""
    if guidance.edit_op is not None:
        return guidance.edit_op
    if guidance.max_duration_s is not None or guidance.style in ("calm", "fast"):
        return "clip"
    return "style" if guidance.look not in (None, "natural") else "cover"


def decide(
    guidance: Guidance,
    candidates: Sequence[CandidateCheck],
    recent_events: Sequence[Interaction] = (),
    config: ActivationConfig | None = None,
) -> Activation:
    """The way to serve `guidance`, given the retriever's checked candidates (module doc)."""
    cfg = config or ActivationConfig()
    satisfying = [c for c in candidates if c.match >= cfg.min_match]
    editable = editable_candidates(candidates, cfg)
    counts = {"satisfying": len(satisfying), "editable": len(editable)}
    # 1. an explicit create or repurpose wins
    if guidance.mode_explicit and guidance.mode == "create":
        return Activation("create", "the user asked for a new video", **counts)
    if guidance.mode == "repurpose" and (guidance.mode_explicit or guidance.target_item is not None):
        op = edit_op_for(guidance)
        if guidance.target_item is None:
            return Activation("repurpose", "the user asked for an edit but named no video", None, op, **counts)
        return Activation("repurpose", f"the user asked to edit {guidance.target_item}", guidance.target_item, op, **counts)
    # 2. a run of skips: the catalogue is not working for this user now
    streak = skip_streak(recent_events)
    if cfg.skip_streak and streak >= cfg.skip_streak:
        return Activation("create", f"the user skipped {streak} items in a row", **counts)
    # 6. nothing to check: the parsed mode stays
    if not candidates:
        return Activation(guidance.mode, "no retrieved candidates to check", guidance.target_item, guidance.edit_op, **counts)
    # 3. retrieval satisfies the guidance
    if len(satisfying) >= cfg.min_satisfying:
        best = satisfying[0]
        why = f"{len(satisfying)} of {len(candidates)} candidates satisfy the guidance (best {best.item_id}, match {best.match:.2f})"
        return Activation("retrieve", why, **counts)
    # 4. an edit can make a candidate fit
    if editable:
        best = editable[0]
        fixes = " and ".join({"clip": "too long: clip", "style": "wrong look: restyle"}[e] for e in best.edits)
        why = f"no candidate satisfies the guidance; {best.item_id} can ({fixes})"
        return Activation("repurpose", why, best.item_id, best.edit_op, **counts)
    # 5. nothing retrieved can be edited to fit
    missing = [t for t in guidance.include if not any(t in c.include_hits for c in candidates)]
    why = f"no candidate shows {', '.join(missing)}" if missing else "no candidate can be edited to fit"
    return Activation("create", f"{why} (of {len(candidates)})", **counts)
