"""How the benchmark's simulated users word a request: hand-written phrasings in users' voice.

The activation study (`evaluation/activation.py`) decides *what* a simulated user asks for from
their true tastes (a liked concept, a disliked one, a liked look, a length); this module decides
*how they type it*. The phrasings were written by hand for the benchmark, as people type into a
search box: questions, complaints, slang, typos, and words for a concept that the catalogue's
titles and tags never use ("floofs", "grub", "spaaace"). They were not taken from the
instruction parser's synonym tables, and nothing under `generec.instructor` reads this module,
so the parser meets them as it would meet a user: unseen.

Slots in a template: {x} the asked concept, {y} the concept the user refuses, {look} the asked
look, {d} a whole number of seconds. One seeded generator per (seed, user) picks a template and
its words, so a user's wording does not depend on which other users are sampled.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from generec.errors import InputError

KINDS = ("duration", "look", "concept", "exclude")
CREATE_KIND = "create"  # asking for a new video (the activation study's creation arm)

# concept -> what people call it (bare noun phrases: they follow "got any", "more", "no ...")
CONCEPT_PHRASES: dict[str, tuple[str, ...]] = {
    "animal": (
        "doggos", "pups", "floofs", "critters", "birbs", "furry friends", "cute animals", "fluffy pets", "kitties",
        "sea creatures", "farm animals", "animls", "wild animals", "cats n dogs",
    ),
    "person": (
        "people", "ppl", "humans", "real people", "faces", "folks", "portraits of ppl", "actual humans",
        "people doing stuff", "selfies", "peeps", "everyday people", "random strangers", "human beings",
    ),
    "food": (
        "snacks", "food", "yummy food", "grub", "noms", "eats", "munchies", "desserts", "cooking", "foood",
        "tasty stuff", "home cooking", "sweets",
    ),
    "plant": (
        "plants", "flowers", "greenery", "houseplants", "flowrs", "green leafy stuff", "trees", "gardens",
        "blooms", "succulents", "pretty flowers", "plant babies", "potted plants", "wildflowers",
    ),
    "architecture": (
        "buildings", "architecture", "old churches", "skyscrapers", "city views", "cool houses", "castles",
        "architecure", "buildngs", "old towns",
    ),
    "space": (
        "space", "spaaace", "stars and planets", "galaxies", "planets", "outer space", "night sky stuff",
        "astronomy", "rockets", "the cosmos", "starry skies", "space stuff", "moon pics",
    ),
    "texture": (
        "textures", "patterns", "close ups of surfaces", "fabrics", "satisfying textures", "materials",
        "surface details", "textured stuff",
    ),
    "text": (
        "text", "typography", "handwriting", "signs", "fonts", "calligraphy", "words on screen", "lettering",
        "old letters", "writing", "handwritten notes", "neon signs", "cool fonts", "old books",
    ),
    "science": (
        "science", "lab stuff", "experiments", "microscope footage", "chemistry", "sciency stuff", "biology",
        "nerdy science", "sciense",
    ),
    "art": (
        "art", "paintings", "murals", "sculptures", "graffiti", "artsy stuff", "museum pieces", "paintngs",
        "artwork", "creative art", "oil paintings", "art pieces",
    ),
}  # fmt: skip

# look -> what people call it (noun phrases: "doggos in {look}", "snacks with {look}")
LOOK_PHRASES: dict[str, tuple[str, ...]] = {
    "natural": ("natural colours", "no filter", "normal colours", "the real colours", "no editing"),
    "warm": ("warm colours", "golden sunset tones", "a cozy warm glow", "orangey tones", "warm vibes"),
    "cool": ("cool blue tones", "cold colours", "an icy blue feel", "bluish tones", "blue-ish colours"),
    "bright": ("bright light", "lots of light", "a bright airy feel", "well-lit shots", "brighter colours"),
    "dark": ("dark moody lighting", "a dark vibe", "low light", "moody shadows", "darker tones"),
    "vivid": ("super vivid colours", "popping colours", "bold saturated colours", "crazy colours", "vibrant colours"),
    "muted": ("muted colours", "faded colours", "washed-out tones", "soft pastel tones", "a faded film look"),
    "black_and_white": ("black and white", "b&w", "black n white", "grayscale", "no colour at all"),
    "cartoon": ("cartoon style", "a cartoony look", "anime style", "a comic look", "toon style"),
    "sketch": ("pencil sketch style", "a hand-drawn look", "sketch style", "a drawing style", "charcoal style"),
}  # fmt: skip

TEMPLATES: dict[str, tuple[str, ...]] = {
    "concept": (
        "got any {x}?", "more {x} pls", "{x}!!", "show me {x}", "i want {x}", "anything with {x}?",
        "{x} please", "in the mood for {x}", "i love {x}, more of that", "gimme {x}", "{x} vids",
        "do u have {x}", "need more {x} in my feed", "really into {x} lately", "can i see some {x}",
    ),
    "exclude": (
        "not into {y}, more {x} pls", "i'm sick of {y}. got any {x}?", "no more {y}!! {x} instead",
        "enough {y} already, show me {x}", "{x} yes, {y} no", "skip the {y} and give me {x}",
        "ugh {y} again... {x} please", "stop showing me {y}, i want {x}", "less {y}, more {x}",
        "{x} but no {y} pls", "i hate {y}. {x}?", "dont want {y}, want {x}", "tired of {y} tbh, any {x}?",
    ),
    "duration": (
        "{x} under {d} seconds", "short {x} clips, {d} sec max", "{x} but under {d}s pls",
        "got any {x} shorter than {d} seconds?", "quick {x} vids, no more than {d} secs",
        "{x}, {d} seconds or less", "{x} clips less than {d} sec long", "{x} undr {d} sec",
        "{d}s max, {x}", "{x} videos less then {d} seconds",
    ),
    "look": (
        "{x} in {look}", "{x} with {look}", "{x} pls, {look}", "got {x} in {look}?", "{x}, but with {look}",
        "any {x} with {look}?", "i like {x} with {look}", "more {x} in {look} pls",
    ),
    "create": (
        "make me a video of {x} in {look}", "can u make something new with {x}? {look}", "create a clip of {x} with {look}",
        "generate a {x} video, {look} pls", "make a new vid of {x}, {look}", "i want a fresh video of {x} in {look}",
        "could you create {x} with {look} for me", "make me something original: {x}, {look}",
    ),
}  # fmt: skip


@dataclass(frozen=True)
class Phrasing:
    """One written request and the words chosen for it."""

    text: str
    template: str
    include: str  # the words used for the asked concept
    exclude: str | None = None
    look: str | None = None


def user_rng(seed: int, user_id: str) -> np.random.Generator:
    """The generator of one simulated user's wording: fixed by (seed, user id) alone."""
    return np.random.default_rng([int(seed), zlib.crc32(user_id.encode())])


def _pick(rng: np.random.Generator, options: tuple[str, ...]) -> str:
    return options[int(rng.integers(len(options)))]


def _phrases(table: dict[str, tuple[str, ...]], key: str, what: str) -> tuple[str, ...]:
    if key not in table:
        raise InputError(f"no phrasings for {what} {key!r}; known: {', '.join(table)}")
    return table[key]


def write_instruction(
    kind: str,
    concept: str,
    rng: np.random.Generator,
    exclude: str | None = None,
    look: str | None = None,
    seconds: int | None = None,
) -> Phrasing:
    """A request of `kind` for `concept` (and the refused concept, look or length it needs)."""
    if kind not in TEMPLATES:
        raise InputError(f"instruction kind {kind!r}: expected one of {', '.join(TEMPLATES)}")
    need = {"exclude": exclude, "look": look, "create": look, "duration": seconds}.get(kind, "-")
    if need is None:
        raise InputError(f"an instruction of kind {kind!r} needs its {'seconds' if kind == 'duration' else kind}")
    template = _pick(rng, TEMPLATES[kind])
    x = _pick(rng, _phrases(CONCEPT_PHRASES, concept, "concept"))
    y = _pick(rng, _phrases(CONCEPT_PHRASES, exclude, "concept")) if kind == "exclude" else None
    lk = _pick(rng, _phrases(LOOK_PHRASES, look, "look")) if kind in ("look", "create") else None
    text = template.format(x=x, y=y, look=lk, d=seconds)
    return Phrasing(text, template, x, y, lk)
