"""Which way the user asks for: rules over mode verbs, and exemplar sentences for the embedding fallback."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from generec.instructor.references import Reference
from generec.instructor.styles import StyleMention
from generec.instructor.tokens import Tokens, phrase_tokens, t_has

MODE_EXEMPLARS: dict[str, tuple[str, ...]] = {
    "retrieve": (
        "show me more cooking videos", "I want to see space stuff", "more videos like this", "find me clips about dogs",
        "recommend something with flowers", "no more cats please", "I'd like to watch art videos",
        "give me more of these", "search for architecture", "any videos of people?", "shorter videos please",
        "something calm under a minute", "less food, more science", "what else do you have", "cat videos",
        # a bare noun phrase is a request for what exists
        "a clip of the sea", "clips of birds", "short videos with dogs", "a video about history",
        "funny clips of people",
    ),
    "repurpose": (
        "edit this video", "shorten this", "make this one a cartoon", "pick a better cover for it",
        "trim it to ten seconds", "change the thumbnail of this clip", "make it black and white",
        "restyle the second one", "cut the boring part out of this video", "give this video a warmer look",
        "crop this clip", "make this one brighter", "turn that video into a sketch",
        "use a different cover image for it", "keep only the best part of this clip",
    ),
    "create": (
        "make me a video about space", "generate a new clip of flowers", "create an original video of cats",
        "produce a brand new video about cooking", "render a new animation of planets",
        "I want a new video made about the ocean", "generate something new for me",
        "make a fresh clip of people dancing", "can you create a short film about architecture",
        "imagine a video of a garden at night", "build me a new clip from scratch",
        "compose a video mixing art and science", "make a custom video just for me",
        "synthesize a video of galaxies", "generate an animation of a city",
    ),
}  # fmt: skip

CREATE_STRONG = frozenset(
    "generate generated create created produce render synthesize synthesise imagine compose".split()
)
CREATE_WEAK = frozenset("make build craft film shoot design whip cook".split())
CREATE_NOUNS = frozenset(
    "video vid clip one film movie reel short animation something piece story montage compilation".split()
)
EDIT_STRONG = frozenset(
    "edit shorten trim restyle recolor recolour colorize colourize crop remix retouch stylize stylise condense".split()
)
EDIT_WEAK = frozenset(
    "make turn put give pick choose select change cut convert transform swap replace use redo speed set apply".split()
)
RETRIEVE_CUES = frozenset("show find recommend search see watch browse play similar".split())
COVER_WORDS = frozenset("cover covers thumbnail thumbnails thumb poster".split())
CLIP_WORDS = frozenset("shorten trim cut condense highlight highlights excerpt snippet boring".split())
STYLE_VERBS = frozenset("restyle recolor recolour colorize colourize stylize stylise filter grade regrade".split())


@dataclass(frozen=True)
class ModeRule:
    mode: str | None  # None: no rule fired
    edit_cue: str | None  # cover | clip | style: what the wording asks of an edit
    retrieve_cue: bool


_CLIP_PHRASES = phrase_tokens(("best part", "best parts", "best bits", "best moments", "the highlights", "only the part"))
_RETRIEVE_PHRASES = phrase_tokens(
    ("more like", "like this", "like that", "like the", "same as", "similar to", "more of", "give me more")
)


def rule_mode(t: Tokens, refs: Sequence[Reference], styles: Sequence[StyleMention], has_duration: bool) -> ModeRule:
    w = t.words
    explicit_refs = [r for r in refs if r.kind != "pronoun"]
    ref_tokens = {k for r in refs for k in range(r.start, r.end)}
    words = set(w)
    cover = bool(words & COVER_WORDS) or t_has(w, ("preview", "image"))
    clip = bool(words & CLIP_WORDS) or any(t_has(w, p) for p in _CLIP_PHRASES)
    style_verb = bool(words & STYLE_VERBS) or t_has(w, ("look", "like"))
    edit_cue = "cover" if cover else "clip" if clip else "style" if style_verb else None
    retrieve_cue = bool(words & RETRIEVE_CUES) or any(t_has(w, p) for p in _RETRIEVE_PHRASES)
    like_ref = any(r.start > 0 and w[r.start - 1] in ("like", "to", "as") and r.kind != "pronoun" for r in refs)

    # create: "make me a (new) video about ...", "generate a clip of ...", "create something"
    create = False
    for i, word in enumerate(w):
        if word not in CREATE_STRONG and word not in CREATE_WEAK:
            continue
        for k in range(i + 1, min(i + 7, len(w))):
            if k in ref_tokens or w[k] in ("this", "that", "it", "the", "these", "those", ".", "!", "?", ";"):
                break
            if w[k] in CREATE_NOUNS:
                create = True
                break
        if word in CREATE_STRONG and not explicit_refs:
            create = True
    edit_strong = any(word in EDIT_STRONG for word in w)
    pronoun_edit = any(r.kind == "pronoun" and _edit_verb_near(w, r.start) for r in refs)
    edit_weak = any(word in EDIT_WEAK for word in w) and (explicit_refs or pronoun_edit)
    has_look = bool(styles)

    if create and not (explicit_refs or pronoun_edit):
        return ModeRule("create", None, retrieve_cue)
    if explicit_refs and like_ref:
        return ModeRule("retrieve", None, True)
    if edit_strong or edit_weak or pronoun_edit or (cover and not retrieve_cue):
        return ModeRule("repurpose", edit_cue, retrieve_cue)
    if explicit_refs and (has_look or edit_cue or (has_duration and not retrieve_cue)) and not retrieve_cue:
        return ModeRule("repurpose", edit_cue, retrieve_cue)
    if create:
        return ModeRule("create", None, retrieve_cue)
    if retrieve_cue:
        return ModeRule("retrieve", None, True)
    return ModeRule(None, edit_cue, False)


MODE_WORDS = (
    EDIT_STRONG | EDIT_WEAK | CREATE_STRONG | CREATE_WEAK | COVER_WORDS | CLIP_WORDS | STYLE_VERBS | RETRIEVE_CUES
) | CREATE_NOUNS
_EDIT_WORDS = EDIT_STRONG | EDIT_WEAK | COVER_WORDS | CLIP_WORDS | STYLE_VERBS


def _edit_verb_near(words: Sequence[str], i: int) -> bool:
    """Whether "it" at i is the object of an edit: "make it", "turn it", "a cover for it", "out of it"."""
    if any(b in _EDIT_WORDS for b in words[max(0, i - 3) : i]):
        return True
    return i > 0 and words[i - 1] in ("for", "of") and any(b in _EDIT_WORDS for b in words[:i])


def mode_probabilities(
    sentence: np.ndarray, exemplars: np.ndarray, labels: Sequence[str], temperature: float, top_k: int
) -> dict[str, float]:
    """softmax over modes of (mean of a mode's k best exemplar cosines) / temperature."""
    sims = exemplars @ sentence  # (E,)
    modes = list(dict.fromkeys(labels))
    label_arr = np.asarray(labels)
    scores = np.array([np.sort(sims[label_arr == m])[-top_k:].mean() for m in modes])
    z = (scores - scores.max()) / temperature
    p = np.exp(z) / np.exp(z).sum()
    return {m: float(x) for m, x in zip(modes, p)}
