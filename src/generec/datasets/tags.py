"""What the system may read about a benchmark video: a title and noisy tags, as uploaders write them.

Concept tags: the main concept (85 %), a segment's concept (30 % each), a random concept (15 %).
Look tags (35 % of videos): one or two synonyms of the cover's look (70 %), of another shot's look
(10 %) or of a wrong look (20 %), never the look's name as the editor spells it. Free words
("fyp", "vlog", ...) on half the videos. `strip_look_words` removes every look word of the
benchmark's own list, for the protocol's look-tags-off run.
"""

from __future__ import annotations

import numpy as np

from generec.datasets.simulator import VideoTruth
from generec.datasets.styles import STYLES

CONCEPT_WORDS = {
    "animal": ("animals", "pets", "wildlife"),
    "person": ("people", "portraits", "faces"),
    "food": ("food", "snacks", "cooking"),
    "plant": ("plants", "flowers", "garden"),
    "architecture": ("architecture", "buildings", "city"),
    "space": ("space", "astronomy", "cosmos"),
    "texture": ("textures", "patterns", "surfaces"),
    "text": ("text", "documents", "typography"),
    "science": ("science", "lab", "microscopy"),
    "art": ("art", "painting", "design"),
}
# look tags as uploaders write them: synonyms only, never the look's name as the editor spells it
LOOK_TAG_WORDS = {
    "natural": ("nofilter", "unedited", "sooc", "raw"),
    "warm": ("sunny", "golden", "goldenhour", "cozy", "warmtones"),
    "cool": ("icy", "chilly", "wintry", "bluetones", "frosty"),
    "bright": ("sunlit", "airy", "highkey", "glowy", "overexposed"),
    "dark": ("moody", "lowkey", "gloomy", "nightvibes", "shadows"),
    "vivid": ("colorful", "saturated", "vibrant", "poppin", "neon"),
    "muted": ("pastel", "faded", "washedout", "desaturated", "matte"),
    "black_and_white": ("b&w", "monochrome", "noir", "bnw", "grayscale"),
    "cartoon": ("toon", "animated", "comic", "anime", "cartoonified"),
    "sketch": ("pencil", "drawing", "doodle", "charcoal", "lineart"),
}
# every look word `strip_look_words` removes: the synonyms above, the looks' names and common spellings
ALL_LOOK_WORDS = frozenset(
    [w for words in LOOK_TAG_WORDS.values() for w in words] + list(STYLES) + [s.replace("_", " ") for s in STYLES]
    + ["bw", "blackandwhite", "black-and-white", "greyscale", "colourful", "cartoonish", "sketchy", "warm tones", "cool tones"]
)  # fmt: skip
FREE_WORDS = ("fyp", "foryou", "vlog", "lol", "viral", "trending", "weekend", "mood", "aesthetic", "daily", "omg", "relatable")
TITLE_FORMS = ("{adj} {word}", "{word} {noun}", "my {word} {noun}", "{adj} {word} {noun}", "{word} you need to see")
ADJECTIVES = ("amazing", "daily", "quick", "relaxing", "best", "weird", "tiny", "epic", "calm", "new")
NOUNS = ("moments", "clip", "compilation", "vlog", "short", "tour", "highlights", "story")


def title_and_tags(truth: VideoTruth, main_concept: int, concepts: list[str], rng: np.random.Generator) -> tuple[str, list[str]]:
    shown = concepts[main_concept] if rng.random() > 0.15 else concepts[int(rng.integers(len(concepts)))]
    word = str(rng.choice(CONCEPT_WORDS.get(shown, (shown,))))
    form = str(rng.choice(TITLE_FORMS))
    title = form.format(adj=rng.choice(ADJECTIVES), word=word, noun=rng.choice(NOUNS)).capitalize()
    tags = []
    if rng.random() < 0.85:
        tags.append(concepts[main_concept])
    for seg in truth.segments:
        if rng.random() < 0.3:
            tags.append(concepts[seg.concept])
    if rng.random() < 0.35:  # a look, as uploaders write it: the cover's, another shot's, or a wrong one
        r = rng.random()
        look = truth.segments[0].style if r < 0.7 else truth.segments[int(rng.integers(len(truth.segments)))].style if r < 0.8 else int(rng.integers(len(STYLES)))
        words = LOOK_TAG_WORDS[STYLES[look]]
        tags.extend(str(w) for w in rng.choice(words, size=int(rng.integers(1, 3)), replace=False))
    if rng.random() < 0.15:
        tags.append(concepts[int(rng.integers(len(concepts)))])
    if rng.random() < 0.5:
        tags.extend(str(w) for w in rng.choice(FREE_WORDS, size=int(rng.integers(1, 3)), replace=False))
    return title, list(dict.fromkeys(tags))


def strip_look_words(tags: list[str]) -> list[str]:
    """Tags without any word of a look (the benchmark's own list, names and synonyms)."""
    return [t for t in tags if t.strip().lower() not in ALL_LOOK_WORDS]
