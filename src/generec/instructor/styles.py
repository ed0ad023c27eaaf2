"""Style phrases ("b&w", "anime", "chill", "more colourful") -> the style vocabulary, and their opposites."""

from __future__ import annotations

from dataclasses import dataclass

from generec.instructor.tokens import Tokens, tokenize

STYLE_PHRASES: dict[str, tuple[str, ...]] = {
    "natural": (
        "natural", "natural colours", "natural colors", "natural look", "realistic", "no filter", "no filters",
        "without filters", "without a filter", "unfiltered", "original colours", "original colors", "true to life",
    ),
    "warm": (
        "warm", "warmer", "warmth", "warm tones", "sunny", "golden", "golden hour", "cozy", "cosy", "amber", "sepia",
        "orange tones",
    ),
    "cool": (
        "cool tones", "cool toned", "cool colours", "cool colors", "cool look", "cool blue", "cooler", "cold tones",
        "cold colours", "cold colors", "icy", "bluish", "blue tones", "blue tint", "teal",
    ),
    "bright": ("bright", "brighter", "brightest", "well lit", "lighter", "airy", "luminous", "brightly lit", "sunlit"),
    "dark": (
        "dark", "darker", "darkest", "moody", "moodier", "dim", "dimmer", "low light", "low key", "shadowy", "gloomy",
    ),
    "vivid": (
        "vivid", "more vivid", "colourful", "colorful", "colourfull", "colorfull", "vibrant", "saturated", "punchy",
        "bold colours", "bold colors", "rich colours", "rich colors", "pop", "more colour", "more color",
    ),
    "muted": (
        "muted", "faded", "pastel", "pastels", "washed out", "desaturated", "subdued", "soft colours", "soft colors",
        "vintage", "retro", "matte", "toned down", "tone down", "turn down the colours", "turn down the colors",
        "softer colours", "softer colors",
    ),
    "black_and_white": (
        "black and white", "black & white", "b & w", "bw", "monochrome", "monochromatic", "grayscale", "greyscale",
        "gray scale", "grey scale", "noir", "colourless", "colorless",
    ),
    "cartoon": (
        "cartoon", "cartoons", "cartoonish", "cartoony", "animated", "animation", "anime", "toon", "toons", "comic",
        "comic book", "comics", "manga",
    ),
    "sketch": (
        "sketch", "sketches", "sketchy", "sketched", "pencil", "pencil drawing", "pencil drawings", "drawn",
        "hand drawn", "line art", "line drawing", "charcoal", "doodle", "doodles", "ink drawing",
    ),
    "calm": (
        "slow down", "slowed down", "calm", "calmer", "calming", "chill", "chilled", "chill out", "relaxing",
        "relaxed", "relax", "slow", "slower", "slow paced", "slow motion", "peaceful", "soothing", "mellow", "gentle",
        "zen", "tranquil", "serene", "quiet", "laid back", "meditative", "less hectic", "more relaxing",
    ),
    "fast": (
        "speed up", "sped up", "speed it up", "fast", "faster", "fast paced", "faster paced", "quick cuts",
        "quick cut", "energetic", "energy", "action", "action packed", "dynamic", "hype", "hyped", "upbeat",
        "intense", "exciting", "thrilling", "high energy", "snappy", "frantic", "adrenaline",
    ),
}  # fmt: skip
# What a negated style asks for: "less dark" is bright, "no cartoons" is the natural look.
STYLE_OPPOSITE = {
    "bright": "dark", "dark": "bright", "warm": "cool", "cool": "warm", "vivid": "muted", "muted": "vivid",
    "calm": "fast", "fast": "calm", "cartoon": "natural", "sketch": "natural", "black_and_white": "natural",
    "natural": None,
}  # fmt: skip

_STYLE_PHRASES = sorted(
    ((tuple(tokenize(p)), s) for s, ps in STYLE_PHRASES.items() for p in ps), key=lambda x: -len(x[0])
)


@dataclass(frozen=True)
class StyleMention:
    style: str
    start: int
    end: int
    strength: float | None


_STRONG = frozenset("much way very super really extremely lot lots far".split())
_WEAK = frozenset("bit little slightly somewhat touch tad".split())


def find_styles(t: Tokens) -> list[StyleMention]:
    """Style phrases in reading order; tags their tokens "style"."""
    found: list[StyleMention] = []
    i = 0
    while i < len(t):
        if t.tags[i] is not None:
            i += 1
            continue
        hit = next(((len(p), s) for p, s in _STYLE_PHRASES if t.match(i, p)), None)
        if hit is None:
            i += 1
            continue
        length, style = hit
        window = set(t.words[max(0, i - 3) : i])
        strength = 0.9 if window & _STRONG else 0.3 if window & _WEAK else None
        found.append(StyleMention(style, i, i + length, strength))
        t.tag(i, i + length, "style")
        i += length
    return found
