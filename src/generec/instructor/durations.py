"""Lengths in the text: numbers and units, comparators before and after, ranges, approximations."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from generec.instructor.tokens import Tokens, phrase_tokens

RELATIVE = {"shorter": "shorter", "shortest": "shorter", "longer": "longer", "longest": "longer"}

NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fourty": 40,
    "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100,
}  # fmt: skip
UNITS = {
    "s": 1.0, "sec": 1.0, "secs": 1.0, "second": 1.0, "seconds": 1.0, "m": 60.0, "min": 60.0, "mins": 60.0,
    "minute": 60.0, "minutes": 60.0, "h": 3600.0, "hr": 3600.0, "hrs": 3600.0, "hour": 3600.0, "hours": 3600.0,
}  # fmt: skip
SHORT_UNITS = frozenset(("s", "m", "h"))

MAX_BEFORE = (
    "under", "below", "less than", "less then", "shorter than", "shorter then", "at most", "at the most",
    "no more than", "no longer than", "not more than", "not longer than", "not over", "max", "maximum", "max of",
    "a maximum of", "up to", "within", "in under", "lower than", "fewer than", "<", "< =", "capped at",
    "down to", "down to the best", "down to the first", "to the best", "to the first", "to just", "to only",
    "max length", "maximum length", "max duration", "maximum duration", "length under", "length below",
    "max length of", "max duration of", "length limit", "time limit", "limit",
)  # fmt: skip
MIN_BEFORE = (
    "over", "above", "more than", "more then", "longer than", "longer then", "at least", "no less than",
    "no shorter than", "not less than", "not shorter than", "not under", "min", "minimum", "min of",
    "a minimum of", "greater than", ">", "> =", "starting at", "upwards of", "beyond", "min length",
    "minimum length", "min duration", "minimum duration", "length over", "length above",
)  # fmt: skip
APPROX_BEFORE = ("about", "around", "roughly", "approximately", "approx", "~", "circa", "close to", "nearly",
                 "almost", "like", "somewhere around", "something like")  # fmt: skip
MAX_AFTER = ("or less", "or shorter", "or under", "or below", "or fewer", "max", "maximum", "tops", "at most",
             "at the most", "and under", "and below", "or so max")  # fmt: skip
MIN_AFTER = ("or more", "or longer", "or over", "or above", "at least", "minimum", "min", "plus", "+", "and up",
             "and above", "and over", "or greater")  # fmt: skip
APPROX_AFTER = ("or so", "ish", "give or take", "more or less", "approx", "roughly", "or thereabouts")
DURATION_NEGATORS = ("nothing", "none", "no", "not", "no videos", "no video", "no clips", "no clip", "no vids",
                     "no ones", "nothing that's", "nothing thats", "nothing that is", "anything but")  # fmt: skip


@dataclass(frozen=True)
class DurationBound:
    """One duration constraint found in the text."""

    kind: str  # max | min | range | approx
    low: float | None
    high: float | None
    start: int  # token span
    end: int


def _read_number(t: Tokens, i: int) -> tuple[float, int, bool] | None:
    """A quantity at token i: (value, next index, written with digits)."""
    w = t.words
    n = len(w)
    if i >= n or t.tags[i] is not None:
        return None
    if re.fullmatch(r"\d+(?:\.\d+)?", w[i]):
        value, j, digits = float(w[i]), i + 1, True
    elif w[i] in NUMBER_WORDS:
        value, j, digits = float(NUMBER_WORDS[w[i]]), i + 1, False
        if value >= 20 and value % 10 == 0 and j < n:  # twenty five, twenty-five
            k = j + 1 if w[j] == "-" else j
            if k < n and w[k] in NUMBER_WORDS and NUMBER_WORDS[w[k]] < 10:
                value, j = value + NUMBER_WORDS[w[k]], k + 1
    elif t.match(i, ("half", "a")) or t.match(i, ("half", "an")):
        return 0.5, i + 2, False
    elif t.match(i, ("a", "quarter", "of", "a")) or t.match(i, ("a", "quarter", "of", "an")):
        return 0.25, i + 4, False
    elif t.match(i, ("quarter", "of", "a")) or t.match(i, ("quarter", "of", "an")):
        return 0.25, i + 3, False
    elif t.match(i, ("a", "couple", "of")):
        return 2.0, i + 3, False
    elif t.match(i, ("couple", "of")) or t.match(i, ("a", "couple")):
        return 2.0, i + 2, False
    elif w[i] in ("a", "an"):
        return 1.0, i + 1, False
    else:
        return None
    if t.match(j, ("and", "a", "half")):
        value, j = value + 0.5, j + 3
    return value, j, digits


def _read_unit(t: Tokens, j: int, digits: bool, article: bool) -> tuple[float, int] | None:
    if j < len(t) and t.tags[j] is None and t.words[j] in UNITS:
        word = t.words[j]
        if word in SHORT_UNITS and not digits:
            return None
        if article and UNITS[word] == 1.0:  # "a second" is a figure of speech, not a length
            return None
        return UNITS[word], j + 1
    return None


def _read_duration(t: Tokens, i: int) -> tuple[float, int] | None:
    """A length with a unit at token i: (seconds, next index)."""
    w = t.words
    if i < len(w) and t.tags[i] is None and re.fullmatch(r"\d{1,2}:[0-5]\d", w[i]):
        minutes, seconds = w[i].split(":")
        j = i + 1
        if j < len(w) and w[j] in ("min", "mins", "minute", "minutes"):
            j += 1
        return 60.0 * int(minutes) + int(seconds), j
    number = _read_number(t, i)
    if number is None:
        return None
    value, j, digits = number
    unit = _read_unit(t, j, digits, article=w[i] in ("a", "an"))
    if unit is None:
        return None
    mult, j = unit
    seconds = value * mult
    if t.match(j, ("and", "a", "half")):
        seconds, j = seconds + 0.5 * mult, j + 3
    if mult > 1.0:  # 1 min 30 s, 2 minutes and 10 seconds
        k = j + 1 if t.match(j, ("and",)) else j
        more = _read_number(t, k)
        if more is not None:
            unit2 = _read_unit(t, more[1], more[2], article=False)
            if unit2 is not None and unit2[0] < mult:
                seconds, j = seconds + more[0] * unit2[0], unit2[1]
    return seconds, j


def _skip_long(t: Tokens, j: int) -> int:
    for phrase in (("long",), ("in", "length"), ("of", "length")):
        if t.match(j, phrase):
            return j + len(phrase)
    return j


_MAX_BEFORE, _MIN_BEFORE, _APPROX_BEFORE = phrase_tokens(MAX_BEFORE), phrase_tokens(MIN_BEFORE), phrase_tokens(APPROX_BEFORE)
_MAX_AFTER, _MIN_AFTER, _APPROX_AFTER = phrase_tokens(MAX_AFTER), phrase_tokens(MIN_AFTER), phrase_tokens(APPROX_AFTER)
_DURATION_NEGATORS = phrase_tokens(DURATION_NEGATORS)


def _prefix_before(t: Tokens, end: int, phrases: Sequence[tuple[str, ...]]) -> int:
    """Length of the longest phrase that ends right before token `end` (0: none)."""
    best = 0
    for phrase in phrases:
        start = end - len(phrase)
        if len(phrase) > best and start >= 0 and t.match(start, phrase):
            best = len(phrase)
    return best


def _read_range(t: Tokens, i: int) -> tuple[float, float, int] | None:
    """A range at token i: "between 5 and 10 seconds", "from 1 to 2 min", "5-10 s", "10 or 15 seconds"."""
    lead = 1 if t.words[i] in ("between", "from") else 0
    if not (lead or t.words[i][:1].isdigit() or t.words[i] in NUMBER_WORDS):
        return None
    first = _read_duration(t, i + lead)  # (seconds, next) with its own unit
    if first is not None:
        low, after, bare = first[0], first[1], False
    else:  # "5 - 10 seconds": the first number borrows the second's unit
        number = _read_number(t, i + lead)
        if number is None or t.words[i + lead] in ("a", "an"):
            return None
        low, after, bare = number[0], number[1], True
    joiners = (("and",), ("to",), ("-",), ("until",), ("till",)) if lead else (("-",), ("to",), ("or",))
    k = next((after + len(p) for p in joiners if t.match(after, p)), None)
    second = _read_duration(t, k) if k is not None else None
    if second is None:
        return None
    high, end = second
    if bare:
        low *= _unit_of(t, k, end)
    return min(low, high), max(low, high), _skip_long(t, end)


def _suffix_after(t: Tokens, end: int) -> tuple[str, int] | None:
    """("max" | "min" | "approx", length) of a comparator right after a length ("or less", "+")."""
    best = None
    for kind, phrases in (("max", _MAX_AFTER), ("min", _MIN_AFTER), ("approx", _APPROX_AFTER)):
        for phrase in phrases:
            if t.match(end, phrase) and (best is None or len(phrase) > best[1]):
                best = (kind, len(phrase))
    return best


def extract_durations(t: Tokens, trim_verb: bool = False) -> list[DurationBound]:
    """Find length constraints and tag their tokens "dur". `trim_verb`: "to 10 s" is a maximum.

    Without a comparator a length is approximate ("two minutes", "about 20 s", "a minute or so").
    A negated comparator flips: "nothing over a minute" is a maximum, "no clips under 8 s" a minimum.
    """
    bounds: list[DurationBound] = []
    i = 0
    while i < len(t):
        if t.tags[i] is not None:
            i += 1
            continue
        # 1. ranges
        found_range = _read_range(t, i)
        if found_range is not None:
            low, high, end = found_range
            bounds.append(DurationBound("range", low, high, i, end))
            t.tag(i, end, "dur")
            i = end
            continue
        # 2. one length, then what comes before and after it
        found = _read_duration(t, i)
        if found is None:
            i += 1
            continue
        seconds, end = found
        start, kind = i, "approx"
        n_max = _prefix_before(t, start, _MAX_BEFORE)
        n_min = _prefix_before(t, start, _MIN_BEFORE)
        n_approx = _prefix_before(t, start, _APPROX_BEFORE)
        if n_max or n_min:
            kind = "max" if n_max >= n_min else "min"
            start -= max(n_max, n_min)
            n_neg = _prefix_before(t, start, _DURATION_NEGATORS)
            if n_neg:
                kind = "min" if kind == "max" else "max"
                start -= n_neg
        elif n_approx:
            start -= n_approx
        elif trim_verb and start > 0 and t.match(start - 1, ("to",)):  # "trim it to 10 s"
            kind, start = "max", start - 1
        end = _skip_long(t, end)
        suffix = _suffix_after(t, end)
        if suffix is not None:
            if kind == "approx":
                kind = suffix[0]
            end += suffix[1]
        low = seconds if kind in ("min", "approx") else None
        high = seconds if kind in ("max", "approx") else None
        bounds.append(DurationBound(kind, low, high, start, end))
        t.tag(start, end, "dur")
        i = end
    return bounds


def _unit_of(t: Tokens, start: int, end: int) -> float:
    """The unit multiplier of the duration spelt by tokens start..end (for "5-10 seconds")."""
    for k in range(start, end):
        if t.words[k] in UNITS:
            return UNITS[t.words[k]]
    return 1.0


def combine_durations(
    bounds: Sequence[DurationBound], tolerance: float
) -> tuple[float | None, float | None, list[str]]:
    """(min_duration_s, max_duration_s, notes) from all bounds; an approximate x is [x(1-t), x(1+t)]."""
    lows: list[float] = []
    highs: list[float] = []
    for b in bounds:
        if b.kind == "approx":
            lows.append(round(b.low * (1 - tolerance), 6))
            highs.append(round(b.high * (1 + tolerance), 6))
        else:
            if b.low is not None:
                lows.append(b.low)
            if b.high is not None:
                highs.append(b.high)
    low = max(lows) if lows else None
    high = min(highs) if highs else None
    notes: list[str] = []
    if high is not None and high <= 0:
        high = None
    if low is not None and high is not None and low > high:  # contradictory: keep the last constraint
        last = bounds[-1]
        low, high = (last.low, last.high) if last.kind != "approx" else (lows[-1], highs[-1])
        notes.append("conflicting durations: kept the last one")
    return low, high, notes
