"""Polarity: which content words the user wants (include), does not want (exclude) or only mentions.

Besides "no", "less", "stop showing me", ... a complaint is a negation: a question that objects
("why so many people??", "what's with all the buildings"), a verdict after its object ("cats are
the worst", "these space videos are boring", "it's getting old"), and the common sarcasm ("oh
great, more food videos, just what i wanted"), which turns every wanted topic into an unwanted one.
A negator before an aversion cancels it ("i don't hate dogs", "don't stop the cat videos"), an
approving verdict wants its clause ("..., dogs are fine"), and a trailing "no" answers the
question before it ("cats? no.").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from generec.instructor.durations import RELATIVE
from generec.instructor.styles import StyleMention
from generec.instructor.tokens import Tokens, phrase_tokens
from generec.instructor.vocabulary import COMMUNICATION, FILLER_PHRASES, STOP_WORDS

NEGATIONS = (
    "no more", "no", "not", "never", "without", "less", "fewer", "except", "except for", "excluding", "exclude",
    "minus", "hide", "avoid", "skip", "block", "remove", "hate", "dislike", "nothing", "none", "stop",
    "stop showing", "stop showing me", "stop recommending", "stop recommending me", "stop sending", "don't",
    "do not", "doesn't", "didn't", "tired of", "sick of", "bored of", "bored with", "fed up with", "enough",
    "enough of", "enough with", "anything but", "everything but", "all but", "anything except", "other than",
    "apart from", "aside from", "instead of", "rather than", "too many", "too much", "get rid of", "filter out",
    "not into", "not a fan of", "can't stand", "cannot stand", "no longer", "less of", "ban", "mute", "ditch",
    "nope", "had enough of", "no thanks to", "don't like", "don't want", "not interested in", "isn't", "aren't",
    "is not", "are not", "wasn't", "weren't", "isn't about", "aren't about", "nothing to do with",
    "no need for", "less with", "away from", "leave out", "cut out", "pass on", "done with", "i'm done with",
    "over it with", "not in the mood for", "not feeling", "neither",
    # objecting questions and aversions
    "why", "why do you keep showing me", "why do you keep", "why do i keep getting", "why do i keep seeing",
    "what's with", "what is with", "whats with", "what's up with", "not another", "allergic to", "scared of",
    "afraid of", "terrified of", "don't eat", "can't eat", "do not eat",
)  # fmt: skip
# A verdict after its object: "cats are the worst", "the text ones are so annoying".
COMPLAINTS = (
    "the worst", "are the worst", "is the worst", "boring", "so boring", "are boring", "is boring", "are so boring",
    "annoying", "so annoying", "are annoying", "are so annoying", "is annoying", "getting old", "is getting old",
    "it's getting old", "terrible", "are terrible", "is terrible", "awful", "are awful", "suck", "sucks", "gross",
    "overrated", "are overrated", "is overrated", "is too much", "are too much", "get old", "got old",
)  # fmt: skip
# A verdict after its object that approves: "no more cats please, dogs are fine".
APPROVALS = (
    "are fine", "is fine", "are ok", "is ok", "are okay", "is okay", "are good", "is good", "are great",
    "is great", "are cool", "is cool", "are alright", "is alright", "are all right", "are nice", "is nice",
    "can stay", "are welcome", "is welcome", "are still fine", "is still fine",
)  # fmt: skip
# A double negation: a plain negator before an aversion cancels it ("i don't hate dogs", "don't
# stop the cat videos", "never get tired of cats"); before "no" / "nothing" it only insists
# ("i don't want no cats").
NEGATORS = ("don't", "do not", "dont", "not", "never", "doesn't", "does not", "didn't", "won't", "wouldn't")
AVERSIONS = (
    "hate", "dislike", "stop", "stop showing", "stop showing me", "stop recommending", "stop recommending me",
    "stop sending", "hide", "avoid", "skip", "block", "remove", "exclude", "mute", "ban", "ditch", "get rid of",
    "filter out", "leave out", "cut out", "tired of", "sick of", "bored of", "bored with", "fed up with",
)  # fmt: skip
INCLUDES = (
    "more", "more of", "only", "just", "show", "show me", "give me", "give", "want", "i want", "like", "love",
    "prefer", "need", "include", "including", "featuring", "add", "plus", "some", "lots of", "bring", "find",
    "recommend", "see", "yes", "also", "instead", "rather", "with", "don't mind", "do not mind", "wouldn't mind",
    "i don't mind", "fine with", "okay with", "ok with", "why not", "fan of", "a fan of", "big fan of",
    "huge fan of", "liked", "loved", "miss",
)  # fmt: skip
# Sarcasm: an opener at the start with a cue of repetition, or a marker anywhere ("just what i
# wanted", "🙄"). A plain opener ("great", "wow") is often sincere ("awesome, more cats!"), so it
# needs a cue that complains ("another", "again", "keep ... coming"); an ironic one ("oh great",
# "love how") any cue, "more" and "all" included.
SARCASM_OPENERS = (
    "oh", "great", "wow", "fantastic", "thrilling", "yay", "wonderful", "perfect", "amazing", "awesome", "sure",
)  # fmt: skip
IRONIC_OPENERS = (
    "oh great", "oh good", "oh joy", "oh wow", "oh yay", "oh boy", "just great", "love how", "i love how",
    "gotta love", "yeah because", "yeah right", "because i totally", "cool cool",
)  # fmt: skip
SARCASM_MARKERS = (
    "just what i wanted", "just what i needed", "exactly what i wanted", "exactly what i needed", "said no one",
    "i totally need", "because i totally need", "🙄", "😒", "/ s",
)  # fmt: skip
REPETITION_CUES = frozenset("another again still now 100 keep coming".split())
IRONIC_CUES = REPETITION_CUES | {"more", "all"}
CONTRASTS = ("but", "however", "though", "although", "yet", "whereas", "while", "then", "and then", "but rather")
INCLUDE_CUES = frozenset("please more only just show want give like love yes instead rather see prefer need".split())
CONJUNCTIONS = frozenset("and & plus then , also".split())
POSTFIX_NO = frozenset(("no", "nope", "nah"))

INCLUDE, EXCLUDE, NEUTRAL = "include", "exclude", "neutral"

_NEGATIONS = sorted(phrase_tokens(NEGATIONS), key=len, reverse=True)
_INCLUDES = sorted(phrase_tokens(INCLUDES), key=len, reverse=True)
_CONTRASTS = sorted(phrase_tokens(CONTRASTS), key=len, reverse=True)
_COMMUNICATION = [tuple(p) for p in COMMUNICATION]
_FILLERS = [tuple(p) for p in FILLER_PHRASES]
_COMPLAINTS = sorted(phrase_tokens(COMPLAINTS), key=len, reverse=True)
_APPROVALS = sorted(phrase_tokens(APPROVALS), key=len, reverse=True)
_NEGATORS = sorted(phrase_tokens(NEGATORS), key=len, reverse=True)
_AVERSIONS = sorted(phrase_tokens(AVERSIONS), key=len, reverse=True)
_SARCASM_OPENERS = sorted(phrase_tokens(SARCASM_OPENERS), key=len, reverse=True)
_IRONIC_OPENERS = sorted(phrase_tokens(IRONIC_OPENERS), key=len, reverse=True)
_SARCASM_MARKERS = sorted(phrase_tokens(SARCASM_MARKERS), key=len, reverse=True)
_BOUNDARY_PUNCT = frozenset(".!?;()-[]")


def tag_sarcasm(t: Tokens) -> bool:
    """Whether the instruction is sarcastic; tags its opener or marker "stop" (not a style, not a topic)."""
    words = t.words
    for i in range(len(t)):
        n = t.longest(i, _SARCASM_MARKERS)
        if n:
            t.tag(i, i + n, "stop")
            return True
    start = 2 if words[:2] == ["oh", ","] else 0  # "oh, great, ..."
    n = t.longest(start, _IRONIC_OPENERS) or (start == 2 and t.longest(start, _SARCASM_OPENERS))
    cues = IRONIC_CUES
    if not n:
        n, cues = t.longest(0, _SARCASM_OPENERS), REPETITION_CUES
        n = 0 if words[:n] == ["oh"] else n
    end = start + n if n and start == 2 else n
    if n and set(words[end:]) & cues and not set(words) & {"please", "pls", "plz"}:
        t.tag(0, end, "stop")
        return True
    return False


def tag_complaints(t: Tokens) -> None:
    """Tag verdicts after their object: "negpost" ("are the worst", "getting old"), "incpost" ("are fine")."""
    i = 0
    while i < len(t):
        n, tag = t.longest(i, _COMPLAINTS), "negpost"
        if not n:
            n, tag = t.longest(i, _APPROVALS), "incpost"
        if n and i > 0 and t.tags[i] is None:
            t.tag(i, i + n, tag)
            i += n
        else:
            i += 1


def tag_double_negations(t: Tokens) -> None:
    """Tag a negator and the aversion right after it ("don't hate", "never get tired of") "inc"."""
    i = 0
    while i < len(t):
        n = t.longest(i, _NEGATORS) if t.tags[i] is None else 0
        j = i + n
        if n and t.words[j : j + 1] == ["get"]:  # "never get tired of"
            j += 1
        m = t.longest(j, _AVERSIONS) if n and j < len(t) and t.tags[j] is None else 0
        if m:
            t.tag(i, j + m, "inc")
            i = j + m
        else:
            i += 1


def tag_cues(t: Tokens) -> None:
    """Tag negation ("neg"), include ("inc"), contrast ("bound"), comma, "too", relative lengths, stop words."""
    i = 0
    while i < len(t):
        if t.tags[i] is not None:
            i += 1
            continue
        word = t.words[i]
        n = next((len(p) for p in (*_COMMUNICATION, *_FILLERS) if t.match(i, p)), 0)
        if n:
            t.tag(i, i + n, "stop")
            i += n
            continue
        n = t.longest(i, _NEGATIONS)
        if n and t.longest(i, _INCLUDES) <= n:  # "don't mind" is an include, "don't" a negation
            t.tag(i, i + n, "neg")
            i += n
            continue
        if word == "than" and any(w in ("rather", "prefer", "preferably") for w in t.words[:i]):
            t.tags[i] = "neg"  # "I'd rather see plants than buildings"
            i += 1
            continue
        n = t.longest(i, _CONTRASTS)
        if n:
            t.tag(i, i + n, "bound")
            i += n
            continue
        if word in RELATIVE:
            t.tags[i] = "rel"
        elif t.match(i, ("too", "long")) or t.match(i, ("too", "short")):
            t.tag(i, i + 2, "rel")
            i += 2
            continue
        elif word == "too":
            t.tags[i] = "too"
        elif word == ",":
            t.tags[i] = "comma"
        elif word in _BOUNDARY_PUNCT:
            t.tags[i] = "bound"
        elif word == ":":
            t.tags[i] = "stop"
        else:
            n = t.longest(i, _INCLUDES)
            if n:
                t.tag(i, i + n, "inc")
                i += n
                continue
            if word in STOP_WORDS or word.startswith("[") or not any(c.isalpha() for c in word):
                t.tags[i] = "stop"
        i += 1


@dataclass
class Chunk:
    """Consecutive content words and the polarity they were said with."""

    words: list[str]
    polarity: str
    start: int


def polarity_scan(t: Tokens, styles: Sequence[StyleMention]) -> tuple[list[Chunk], list[tuple[StyleMention, str]]]:
    """Content chunks and style mentions, each said with include, exclude or neutral polarity.

    A negation opens an exclude scope. It runs over "and" / "or" and over a comma followed by a
    bare list ("no cats, dogs or birds"); it ends at a contrast or sentence punctuation, at a
    comma whose clause has its own cue ("no cats, show me dogs"), and at an include cue once the
    negated object was said ("less people more animals", "no cats and more dogs"); an include cue
    before the object does not end it ("I don't want to see any more paintings"). A postfix "no"
    ("flowers yes, buildings no") excludes its clause. A style is negated only inside the
    negation's own comma-free span, or right after "too" ("too dark"). A verdict ("negpost",
    `tag_complaints`) excludes the chunks of its clause, or of the nearest clause before it that has any;
    an approval ("incpost": "dogs are fine") includes its clause's chunks.
    """
    chunks: list[Chunk] = []
    styled: list[tuple[StyleMention, str]] = []
    by_start = {s.start: s for s in styles}
    w, tags = t.words, t.tags
    polarity = NEUTRAL
    comma_in_scope = False  # a comma has passed since the negation
    scope_start = -1  # token index of the negation that opened the exclude scope
    clause_start = 0  # token index where the current clause began
    clause_starts = [0]  # every clause's start, for a verdict in a clause of its own ("..., it's getting old")
    current: list[int] = []

    def flush() -> None:
        if current:
            chunks.append(Chunk([w[k] for k in current], polarity, current[0]))
            current.clear()

    def clause_has_cue(i: int) -> bool:
        for k in range(i + 1, len(w)):
            if tags[k] in ("comma", "bound"):
                return False
            if tags[k] in ("neg", "inc", "incpost") or w[k] in INCLUDE_CUES:
                return True
        return False

    def clause_ends_after(i: int) -> bool:
        for k in range(i, len(w)):
            if tags[k] in ("comma", "bound"):
                return True
            if tags[k] != "stop":
                return False
        return True

    i = 0
    while i < len(w):
        tag = tags[i]
        if tag in (None, "concept"):
            current.append(i)
            i += 1
            continue
        flush()
        if tag == "negpost":  # "cats are the worst": the clause before, or the one before it
            end = i
            while end < len(w) and tags[end] == "negpost":
                end += 1
            for start in reversed(clause_starts):
                targets = [c for c in chunks if c.start >= start]
                if targets:
                    break
            for chunk in targets:
                chunk.polarity = EXCLUDE
            polarity = NEUTRAL
            i = end
            continue
        if tag == "incpost":  # "dogs are fine": the clause before it is wanted
            end = i
            while end < len(w) and tags[end] == "incpost":
                end += 1
            for chunk in chunks:
                if chunk.start >= clause_start:
                    chunk.polarity = INCLUDE
            polarity = NEUTRAL
            i = end
            continue
        if tag == "neg":
            end = i
            while end < len(w) and tags[end] == "neg":
                end += 1
            if w[i] in POSTFIX_NO and clause_ends_after(end):  # "buildings no", "cats: no.", "cats? no."
                start = clause_start
                if not any(c.start >= start for c in chunks) and start >= 2 and w[start - 1] in ("?", ","):
                    start = clause_starts[-2] if len(clause_starts) > 1 else 0  # "cats? no.": the question's clause
                for chunk in chunks:
                    if chunk.start >= start:
                        chunk.polarity = EXCLUDE
                styled = [(m, EXCLUDE if m.start >= start else p) for m, p in styled]
            else:
                polarity, comma_in_scope, scope_start = EXCLUDE, False, i
            i = end
            continue
        object_given = bool(chunks) and chunks[-1].polarity == EXCLUDE and chunks[-1].start > scope_start
        if tag == "inc":
            after_joint = i > 0 and (w[i - 1] in CONJUNCTIONS or tags[i - 1] == "comma")
            if polarity != EXCLUDE or after_joint or object_given or w[i] in ("instead", "rather", "only", "just"):
                polarity = INCLUDE
        elif w[i] == "about" and polarity == EXCLUDE and object_given:
            polarity = NEUTRAL  # "a clip without text about architecture": the topic is architecture
        elif tag == "bound":
            polarity, comma_in_scope, clause_start = NEUTRAL, False, i + 1
            clause_starts.append(clause_start)
        elif tag == "comma":
            if polarity == EXCLUDE and not clause_has_cue(i):
                comma_in_scope = True
            else:
                polarity, comma_in_scope = NEUTRAL, False
            clause_start = i + 1
            clause_starts.append(clause_start)
        elif tag == "style" and i in by_start:
            mention = by_start[i]
            negated = (polarity == EXCLUDE and not comma_in_scope) or (i > 0 and tags[i - 1] == "too")
            styled.append((mention, EXCLUDE if negated else INCLUDE))
            i = mention.end
            continue
        i += 1
    flush()
    return chunks, styled
