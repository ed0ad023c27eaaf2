"""Item references: "this video", "the second one", "the last one", "#3", "item v00123"."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from generec.instructor.context import ParseContext, ParserConfig
from generec.instructor.tokens import Tokens

ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
    "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "last": -1, "penultimate": -2, "top": 1,
}  # fmt: skip
REF_NOUNS = frozenset("one video vid clip item post reel short thing".split())

CLARIFY_WHICH = "Which video do you mean? Open it, or name it (for example 'the second one' or 'item v00123')."


@dataclass(frozen=True)
class Reference:
    kind: str  # id | feed | deictic | pronoun
    value: str | int | None  # the id as typed, the 1-based feed position (negative from the end)
    start: int
    end: int


def find_references(t: Tokens, is_content: Callable[[str], bool], id_prefix: str = "v") -> list[Reference]:
    """Item references in reading order; tags their tokens "ref" ("pron" for "it")."""
    refs: list[Reference] = []
    w = t.words
    id_re = re.compile(rf"{re.escape(id_prefix)}\d+")
    i = 0
    while i < len(w):
        if t.tags[i] is not None:
            i += 1
            continue
        word = w[i]
        nxt = w[i + 1] if i + 1 < len(w) else None
        # explicit ids: "item v123", "v00123", "item 123", "id 42"
        if word in ("item", "id", "video", "clip", "vid") and nxt is not None and t.tags[i + 1] is None and (
            id_re.fullmatch(nxt) or (word in ("item", "id") and nxt.isdigit())
        ):
            refs.append(Reference("id", nxt, i, i + 2))
            t.tag(i, i + 2, "ref")
            i += 2
            continue
        if id_re.fullmatch(word):
            start = i - 1 if i > 0 and w[i - 1] == "#" and t.tags[i - 1] is None else i
            refs.append(Reference("id", word, start, i + 1))
            t.tag(start, i + 1, "ref")
            i += 1
            continue
        # feed positions: "#3", "number 3", "the second one", "the 2nd video", "the last one"
        if word in ("#", "number", "nr") and nxt is not None and nxt.isdigit() and t.tags[i + 1] is None:
            end = i + 2
            if end < len(w) and w[end] in REF_NOUNS and t.tags[end] is None:
                end += 1
            refs.append(Reference("feed", int(nxt), i, end))
            t.tag(i, end, "ref")
            i = end
            continue
        position = ORDINALS.get(word)
        if position is None and re.fullmatch(r"\d+(?:st|nd|rd|th)", word):
            position = int(re.match(r"\d+", word).group(0))
        if position is not None:
            start, end = i, i + 1
            if t.match(end, ("to", "last")) or t.match(end, ("last",)):  # second to last, second last
                end += 2 if w[end] == "to" else 1
                position = -position
            has_article = start > 0 and w[start - 1] in ("the", "that", "this") and t.tags[start - 1] is None
            has_noun = end < len(w) and w[end] in REF_NOUNS and t.tags[end] is None
            if word == "top" and not has_noun:
                i += 1
                continue
            if has_article or has_noun:
                if has_article:
                    start -= 1
                if has_noun:
                    end += 1
                if t.match(end, ("you", "showed")) or t.match(end, ("you", "showed", "me")):
                    end += 3 if t.match(end, ("you", "showed", "me")) else 2
                refs.append(Reference("feed", position, start, end))
                t.tag(start, end, "ref")
                i = end
                continue
        n = t.longest(i, _BEFORE_LAST)
        if n:
            refs.append(Reference("feed", -2, i, i + n))
            t.tag(i, i + n, "ref")
            i += n
            continue
        # deictic: "this video", "that one", "this" (when it does not modify a content word)
        ordinal_next = nxt is not None and (nxt in ORDINALS or re.fullmatch(r"\d+(?:st|nd|rd|th)", nxt) is not None)
        if word in ("this", "that") and not ordinal_next and nxt not in _NOT_ITEMS:
            if nxt in REF_NOUNS and t.tags[i + 1] is None:
                refs.append(Reference("deictic", None, i, i + 2))
                t.tag(i, i + 2, "ref")
                i += 2
                continue
            relative_clause = nxt in _CLAUSE_STARTERS
            if not relative_clause and (nxt is None or not is_content(nxt) or t.tags[i + 1] is not None):
                refs.append(Reference("deictic", None, i, i + 1))
                t.tag(i, i + 1, "ref")
                i += 1
                continue
        if t.match(i, ("the", "current", "one")) or t.match(i, ("the", "current", "video")):
            refs.append(Reference("deictic", None, i, i + 3))
            t.tag(i, i + 3, "ref")
            i += 3
            continue
        if word == "it":
            refs.append(Reference("pronoun", None, i, i + 1))
            t.tag(i, i + 1, "pron")
        i += 1
    return refs


# "this feed", "this week": "this" before these names no video
_NOT_ITEMS = frozenset("feed app page timeline site week weekend month year morning evening time stuff kind sort type".split())
_BEFORE_LAST = (("the", "one", "before", "last"), ("the", "one", "before", "the", "last"), ("one", "before", "last"))
_CLAUSE_STARTERS = frozenset(
    """is isn't are aren't was wasn't were has have had does doesn't did didn't will would can could should
    i you we they he she it i'm you're we're they're there's is's""".split()
)


def normalise_item_id(raw: str, config: ParserConfig) -> list[str]:
    """Candidate ids for what the user typed: as typed, then in the catalogue's padded format."""
    raw = raw.lower()
    candidates = [raw]
    digits = raw[len(config.item_id_prefix):] if raw.startswith(config.item_id_prefix) else raw
    if digits.isdigit():
        padded = f"{config.item_id_prefix}{int(digits):0{config.item_id_width}d}"
        if padded not in candidates:
            candidates.append(padded)
    return candidates


def resolve_reference(ref: Reference, context: ParseContext, config: ParserConfig) -> tuple[str | None, str | None]:
    """(item id, None) or (None, clarify question). Never raises for a missing item."""
    if ref.kind == "id":
        candidates = normalise_item_id(str(ref.value), config)
        if context.item_exists is None:
            return candidates[-1], None
        for candidate in candidates:
            if context.item_exists(candidate):
                return candidate, None
        return None, f"I can't find item {ref.value}. Which video do you mean?"
    if ref.kind == "feed":
        feed = context.last_feed
        position = int(ref.value)
        if not feed:
            return None, "I haven't shown you any videos yet — which one do you mean?"
        index = position - 1 if position > 0 else len(feed) + position
        if not 0 <= index < len(feed):
            return None, f"I only showed you {len(feed)} videos — which one do you mean?"
        return feed[index], None
    if context.current_item:
        return context.current_item, None
    return None, CLARIFY_WHICH
