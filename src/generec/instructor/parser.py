"""The embedded instruction parser: a user's sentence -> `Guidance`, with no LLM and no network.

Rules and MiniLM sentence embeddings, applied in numbered steps (`EmbeddedParser.parse`):

1. clean, redact personal data, drop injection-like text (`sanitize.py`);
2. tokenise, expand casual spellings ("moar", "pls", "w/"), fix typos by fuzzy matching against
   the parser's own lexicon (difflib; see `Speller`: real words such as "boats" are never
   "corrected" into "bats");
3. durations (`extract_durations`): numbers and number words with units, "m:ss", comparators
   before ("under", "at least", "no more than") or after ("or less", "max", "+") and ranges
   ("between 5 and 10 seconds", "5-10 s"). A negated comparator flips ("nothing over 1:00" is a
   maximum). A bare or approximate length ("two minutes", "a minute or so", "about 20 s") is a
   range of +-`approx_tolerance` (25 %) around it: [0.75 x, 1.25 x];
4. references (`find_references`): "this video" / "this one" / "that one" -> `current_item`;
   "it" only when the sentence edits something; "the second one", "the last one", "#3" ->
   `last_feed`; "item v123" / "v00123" -> an item id, zero-padded to the catalogue's width and
   checked with `item_exists`. A reference that does not resolve never raises: it becomes a
   `clarify` question;
5. styles (`find_styles`): phrases and synonyms of `STYLE_VOCABULARY` ("b&w" -> black_and_white,
   "anime" -> cartoon, "chill" -> calm, "brighter" -> bright, "more colourful" -> vivid);
   a negated style ("no cartoons", "less dark", "too dark") becomes its opposite (`STYLE_OPPOSITE`);
6. mode rules (`rule_mode`): create verbs ("make me a video about", "generate a new clip of");
   edit verbs with a reference ("shorten this", "make it black and white"), or a reference with a
   style / cover / clip cue ("the last one, but in b&w"); retrieval cues ("show me", "more like
   this"). A rule sets `mode_explicit`;
7. polarity (`polarity_scan`): negation triggers ("no", "less", "without", "anything but", "tired
   of", "stop showing me", "except", ...) open an exclude scope that runs over "and" / "or" and
   ends at a contrast ("but", "instead", "."), at an include cue once the negated object was
   said ("less people more animals"), or at a comma whose clause carries its own cue ("no cats,
   show me dogs"); postfix "X: no" / "X no" excludes the clause before it;
8. grounding (`Grounder`): each content phrase goes to the catalogue vocabulary through a
   synonym table, then by cosine similarity of its MiniLM embedding to concept prototypes, with
   a reject class of off-catalogue topics (news, sports, music, ...). A phrase that grounds to
   no concept is kept as typed, lower case ("news", "hip hop"), so a retriever that matches
   titles or tags can still use it, with a lower confidence; a phrase close to no topic at all
   ("honestly", "already") is dropped;
9. mode by embedding when no rule fired: the sentence's frame (its topics and styles masked,
   "make me a clip of something") against exemplar sentences per mode, masked the same way, so
   that the topic does not decide the intent; retrieve unless another mode is clearly closer;
10. edit op, confidence, and a clarify question when nothing actionable was found, a
    reference did not resolve, or the confidence is below `clarify_threshold`.

Representation choices worth knowing downstream:
- out-of-vocabulary concepts are kept verbatim in `include` / `exclude` (and noted);
- when a concept is both wanted and unwanted ("no cats but more dogs": both are "animal"), the
  include side keeps the concept and the exclude side keeps the narrower words the user typed
  (exclude=("cats",)), which only a text- or tag-matching retriever can act on;
- relative lengths ("shorter", "longer", "too long") are a note `relative_duration:shorter`;
  they become `max_duration_s` = `shorter_factor` x (or `min_duration_s` = `longer_factor` x)
  `ParseContext.reference_duration_s` when the caller knows the length of the video in question;
- pacing styles (calm, fast) on a repurpose are a clip edit (`edit_op="clip"`); looks are "style".

Each instruction needs at most one `TextEncoder.encode` call (the sentence plus any phrase not
yet cached, batched); exemplar and prototype embeddings are computed once per parser and
vocabulary. Injection text can only ever add content words (see `sanitize.py`).
"""

from __future__ import annotations

import difflib
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from generec.errors import InputError
from generec.instructor.guidance import LOOK_STYLES, PACING_STYLES, Guidance
from generec.instructor.sanitize import CONTROL_WORDS, clean_text, neutralise_injection, redact_pii

DEFAULT_VOCABULARY = (
    "animal", "architecture", "art", "food", "person", "plant", "science", "space", "text", "texture",
)  # fmt: skip

# -- lexicons ------------------------------------------------------------------------------------

# concept -> words and phrases that mean it (plurals of plain nouns are derived, see `_word_forms`)
CONCEPT_SYNONYMS: dict[str, tuple[str, ...]] = {
    "animal": tuple(
        """animal animals pet pets wildlife cat kitten kitty kitties kitteh kitteh doggo doggos doggy doggie
        dog puppy puppies pup pupper puppers bird horse pony fish fishes bug insect zoo lion tiger bear
        elephant monkey rabbit bunny bunnies fox foxes wolf wolves deer cow sheep goat pig duck owl parrot
        snake reptile mammal creature critter beast fauna safari whale dolphin shark butterfly butterflies
        bee hamster squirrel penguin giraffe zebra panda koala frog turtle chicken hen lizard""".split()
    ),
    "person": tuple(
        """person people persons human face portrait selfie man men woman women kid child children baby babies
        toddler family families friend crowd guy girl boy teen teenager adult actor actress dancer athlete
        celebrity celebrities influencer folks individual headshot humans""".split()
    ),
    "food": tuple(
        """food foods cooking cook recipe pizza snack meal dish dishes baking bake cake dessert coffee tea
        breakfast lunch dinner brunch burger sushi pasta noodle ramen bread cheese fruit vegetable veggies
        salad soup chocolate cookie cuisine chef kitchen eating foodie restaurant drink cocktail barbecue bbq
        grilling steak taco tacos candy donut pastry pastries cupcake sandwich sandwiches curry""".split()
    )
    + ("street food", "ice cream"),
    "plant": tuple(
        """plant flower tree garden gardening leaf leaves forest botany botanical rose tulip succulent cactus
        cacti grass moss fern bloom blossom petal houseplant greenery foliage vine orchid sunflower daisy
        daisies lily lilies bush bushes shrub mushroom woods jungle meadow flora vegetation bouquet""".split()
    ),
    "architecture": tuple(
        """architecture architectural building city cities skyline skyscraper house houses bridge church churches
        cathedral tower castle palace temple mosque interior street urban downtown town monument landmark
        facade ruins cityscape apartment construction brutalism brutalist structures""".split()
    ),
    "space": tuple(
        """space galaxy galaxies star planet astronomy cosmos cosmic universe moon nebula nebulae rocket telescope
        nasa comet asteroid astronaut spaceship spacecraft satellite mars jupiter saturn orbit eclipse meteor
        constellation supernova stargazing astrophotography cosmonaut""".split()
    )
    + ("outer space", "solar system", "night sky", "milky way", "black hole", "black holes"),
    "texture": tuple(
        """texture textures textured pattern surface fabric material grain marble textile knit weave rust
        tile leather wool""".split()
    )
    + ("wood grain",),
    "text": tuple(
        """text texts txt document typography writing handwriting handwritten letter lettering font calligraphy
        book sign word page manuscript poem poetry quote typeface newspaper""".split()
    ),
    "science": tuple(
        """science sciences scientific scientist lab labs laboratory laboratories microscope microscopy microscopic
        cell chemistry chemical biology physics experiment specimen bacteria dna molecule atom research maths
        math fossil geology anatomy""".split()
    ),
    "art": tuple(
        """art arts artwork artist artistic painting painter drawing design sculpture statue museum gallery
        galleries mural graffiti illustration pottery ceramic mosaic exhibition masterpiece canvas craft""".split()
    )
    + ("street art", "fine art"),
}
# "nature" is wide: plants and animals both
CONCEPT_MULTI: dict[str, tuple[str, ...]] = {"nature": ("plant", "animal"), "natural world": ("plant", "animal")}

# Topics a catalogue of these concepts does not have: the reject class of embedding grounding.
OTHER_TOPICS = tuple(
    """news sports football soccer basketball baseball tennis golf music songs concerts guitar cars vehicles
    trucks trains planes motorcycles boats politics elections games gaming weather travel vacation fashion
    clothes makeup movies comedy memes jokes pranks dance finance money stocks crypto technology gadgets phones
    computers programming fitness workout gym yoga health medicine beach ocean sea lakes rivers mountains
    hiking camping snow rain storms fire explosions weddings parties holidays christmas shopping education
    history war military religion podcasts interviews unboxing tutorials cleaning business toys magic
    skateboarding surfing skiing racing boxing chess""".split()
)

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

CASUAL = {
    "moar": "more", "mor": "more", "pls": "please", "plz": "please", "plzz": "please", "plox": "please",
    "pleaseee": "please", "u": "you", "ur": "your", "r": "are", "gimme": "give me", "lemme": "let me",
    "wanna": "want to", "gonna": "going to", "sum": "some", "vids": "videos", "vid": "video", "vidz": "videos",
    "vidoes": "videos", "dat": "that", "dis": "this", "da": "the", "teh": "the", "ppl": "people", "peeps": "people",
    "thx": "thanks", "smth": "something", "sth": "something", "dont": "don't", "doesnt": "doesn't", "cant": "can't",
    "im": "i'm", "ive": "i've", "pix": "pictures", "pics": "pictures", "pic": "picture", "n": "and", "bc": "because",
    "cuz": "because", "tho": "though", "thru": "through", "luv": "love", "wat": "what", "abt": "about", "ya": "you",
    "yall": "you", "kinda": "kind of",
}  # fmt: skip

# Words that carry no topic: never kept as a concept.
STOP_WORDS = frozenset(
    """a an the of in on at for with about to from by as into onto over under up down out off than then so too
    very really super quite pretty rather just also again even still now today tonight lately recently anymore
    and or nor & plus i i'm i've i'd i'll me my mine myself you you're your yours we us our they them their he she
    his her it it's its this that these those there here what what's which who whom whose how why when where
    is are was were be been being am do does did doing have has had having can could would should will shall may
    might must let let's get got getting give gives gave giving show shows showing shown see seeing seen watch
    watching want wanna wants wanted like likes liked love loves need needs prefer find recommend recommendations
    search look looking looks looked play playing make makes made making put keep take bring feel feeling think
    know try tell help please thanks thank ok okay yes yeah yep sure hi hello hey hmm hm um uh ugh meh oh wow lol
    lmao haha omg idk tbh btw nah well honestly actually maybe perhaps probably basically literally kind sort type
    types kinds sorts some any all every each lot lots bunch few many much more most less least other others
    another same different new fresh original brand custom unique whole whatever whichever anything something
    everything nothing stuff things thing content videos video clips clip shorts short ones one footage shots shot
    photos photo pictures picture pics images image reels reel posts post items item media feed film films movie
    movies vibe vibes feel style styles styled look theme themed mood tone tones colours colors colour color
    version edition nice good great cool fun interesting awesome amazing beautiful pretty lovely cute random
    better best favourite favorite fav top bored boring bit bits part parts moment moments piece pieces seconds
    long length time times way ways instead please thanks related based featuring feature features mostly only
    again around through because since while though also alone together somewhere anywhere someone anyone else
    here's there's that's close closeup closeups macro email mail e phone number numbers call card credit debit
    address login log account contact reach cell mobile telephone tel ip username user url link send sent
    already done today tomorrow yesterday week weekend night day days morning evening afternoon often sometimes
    usually always forever basically totally literally seriously definitely absolutely kinda sorta gonna weird
    crazy insane wild epic daily random hello hi hey guys dude bro please right back next previous roughly
    approximately approx circa nearly almost exactly isn't aren't wasn't weren't ain't is's whats tho anyway
    anyways though stuffs vid's something's lots tons ton loads load plenty bunch couple few several enough
    cute funny silly good bad okay fine cool neat sick dope lit fix fixed improve improved update updated enjoy
    check checking hear listen read go going come coming start begin continue explore discover learn wish hope
    miss mean guess suppose wonder care mind quick quickly big small tiny huge little old older young large
    frame frames still stills creator creators channel channels uploader popular trending viral famous latest
    work works surprise surprising recent usual normal typical regular same similar kind nicer prettier""".split()
)
COMMUNICATION = (("text", "me"), ("email", "me"), ("call", "me"), ("message", "me"), ("dm", "me"), ("ping", "me"),
                 ("contact", "me"), ("text", "him"), ("text", "her"))  # fmt: skip

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
)  # fmt: skip
INCLUDES = (
    "more", "more of", "only", "just", "show", "show me", "give me", "give", "want", "i want", "like", "love",
    "prefer", "need", "include", "including", "featuring", "add", "plus", "some", "lots of", "bring", "find",
    "recommend", "see", "yes", "also", "instead", "rather", "with", "don't mind", "do not mind", "wouldn't mind",
    "i don't mind", "fine with", "okay with", "ok with",
)  # fmt: skip
CONTRASTS = ("but", "however", "though", "although", "yet", "whereas", "while", "then", "and then", "but rather")
INCLUDE_CUES = frozenset("please more only just show want give like love yes instead rather see prefer need".split())
CONJUNCTIONS = frozenset("and & plus then , also".split())
POSTFIX_NO = frozenset(("no", "nope", "nah"))

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
ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
    "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "last": -1, "penultimate": -2, "top": 1,
}  # fmt: skip
REF_NOUNS = frozenset("one video vid clip item post reel short thing".split())

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

CLARIFY_WHAT = "What would you like more of — a topic, a style, or a length?"
CLARIFY_WHICH = "Which video do you mean? Open it, or name it (for example 'the second one' or 'item v00123')."

INCLUDE, EXCLUDE, NEUTRAL = "include", "exclude", "neutral"


# -- configuration and context -------------------------------------------------------------------


@dataclass(frozen=True)
class ParseContext:
    """What the parser may know about the user's screen; every field is optional."""

    vocabulary: tuple[str, ...] = DEFAULT_VOCABULARY  # the catalogue's concept tags
    last_feed: tuple[str, ...] = ()  # item ids last shown, in order ("the second one")
    current_item: str | None = None  # the item on screen ("this video")
    item_exists: Callable[[str], bool] | None = None  # checks explicit ids ("item v00123")
    reference_duration_s: float | None = None  # length of the video in question, for "shorter" / "longer"


@dataclass(frozen=True)
class ParserConfig:
    max_chars: int = 500
    mode_temperature: float = 0.05  # softmax temperature over per-mode exemplar similarity
    mode_min_prob: float = 0.6  # an embedding-only mode other than retrieve needs this probability
    mode_top_k: int = 2  # a mode's score: mean of its k best exemplar similarities
    concept_threshold: float = 0.45  # cosine a phrase needs to a concept prototype to ground to it
    concept_margin: float = 0.0  # ... and by how much it must beat the off-catalogue topics
    novel_claim_similarity: float = 0.5  # an off-catalogue topic this close to an unknown vocabulary term joins it
    oov_min_similarity: float = 0.42  # an ungrounded phrase is kept only if this close to some topic prototype
    fuzzy_cutoff: float = 0.8  # difflib ratio for typo correction
    clarify_threshold: float = 0.35  # below this confidence the guidance carries a question
    approx_tolerance: float = 0.25  # "about x seconds" -> [x (1 - t), x (1 + t)]
    shorter_factor: float = 0.6  # "shorter" -> max = factor x reference duration, when known
    longer_factor: float = 1.5
    item_id_prefix: str = "v"  # the catalogue's id format: "v" + zero-padded digits
    item_id_width: int = 5
    cache_size: int = 4096  # embeddings of sentences and phrases kept


# -- 1. tokens -------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"\[(?:email|phone|ip|card|url)\]|\d{1,2}:[0-5]\d|\d+(?:st|nd|rd|th)\b|\d+(?:\.\d+)?|[a-z]+\d[a-z\d]*"
    r"|[a-z]+(?:'[a-z]+)?|[^\sa-z0-9]"
)


def tokenize(text: str) -> list[str]:
    """Lower-case word, number and punctuation tokens; hyphens inside words split them ("hand-drawn")."""
    text = text.lower().replace("’", "'").replace("‘", "'").replace("–", "-").replace("—", " - ")
    text = re.sub(r"\bw/o\b", " without ", text)
    text = re.sub(r"\bw/", " with ", text)
    text = re.sub(r"\bb\s*/\s*w\b|\bb\s*&\s*w\b", " b & w ", text)
    raw = _TOKEN.findall(text)
    words: list[str] = []
    for i, tok in enumerate(raw):
        between_words = 0 < i < len(raw) - 1 and raw[i - 1][-1:].isalpha() and raw[i + 1][:1].isalpha()
        if tok in ("-", "_", "'", "/") and between_words:
            continue
        if tok in ("'", '"', "`", "*", "_"):
            continue
        words.append(tok)
    return words


def _word_forms(word: str) -> list[str]:
    """A word and its likely singulars: "puppies" -> puppies, puppy; "boxes" -> boxes, boxe, box."""
    forms = [word]
    if len(word) > 3 and word.endswith("ies"):
        forms.append(word[:-3] + "y")
    if len(word) > 3 and word.endswith("es"):
        forms.append(word[:-2])
    if len(word) > 2 and word.endswith("s") and not word.endswith("ss"):
        forms.append(word[:-1])
    return forms


@dataclass
class Tokens:
    """Tokens of one instruction and what each was recognised as (None: a content word so far)."""

    words: list[str]
    tags: list[str | None] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.tags:
            self.tags = [None] * len(self.words)

    def __len__(self) -> int:
        return len(self.words)

    def match(self, i: int, phrase: Sequence[str]) -> bool:
        """Whether the untagged tokens from i on spell `phrase`."""
        if i + len(phrase) > len(self.words):
            return False
        return all(self.words[i + k] == w and self.tags[i + k] is None for k, w in enumerate(phrase))

    def longest(self, i: int, phrases: Sequence[Sequence[str]]) -> int:
        """Length of the longest phrase matching at i (0: none)."""
        best = 0
        for phrase in phrases:
            if len(phrase) > best and self.match(i, phrase):
                best = len(phrase)
        return best

    def tag(self, start: int, end: int, tag: str) -> None:
        for k in range(start, end):
            self.tags[k] = tag


def _phrases(items: Sequence[str]) -> list[tuple[str, ...]]:
    return [tuple(tokenize(p)) for p in items]


# -- 2. typos and casual words -----------------------------------------------------------------------


def _drops_one_letter(longer: str, word: str) -> bool:
    return any(longer[:k] + longer[k + 1 :] == word for k in range(len(longer)))


class Speller:
    """Maps casual and misspelt tokens onto the parser's lexicon.

    A word is corrected only if the lexicon lacks it and either MiniLM's word-piece vocabulary
    lacks it too (so real words such as "boats" are never "corrected" into "bats"), or it is long
    and nearly identical to a lexicon word ("somethin" -> "something"). Short words get one
    missing letter back ("sho" -> "show") when the fix is unambiguous among the parser's cue words.
    """

    def __init__(
        self, lexicon: set[str], known_words: frozenset[str], cutoff: float, cue_words: frozenset[str] = frozenset()
    ):
        self.lexicon = lexicon
        self.known_words = known_words
        self.cutoff = cutoff
        self.cue_words = cue_words
        self._choices = sorted(w for w in lexicon if len(w) >= 3 and w.isalpha())
        self._cache: dict[str, tuple[str, float]] = {}

    def is_real_word(self, word: str) -> bool:
        if not self.known_words:
            return len(word) < 4
        return any(form in self.known_words for form in _word_forms(word))

    def _closest(self, word: str) -> tuple[str, float]:
        close = difflib.get_close_matches(word, self._choices, n=1, cutoff=self.cutoff)
        if not close:  # "plantz" -> "plants", "flowerss" -> "flowers"
            close = difflib.get_close_matches(re.sub(r"(.)\1+$", r"\1", word), self._choices, n=1, cutoff=self.cutoff)
        if not close:
            return word, 0.0
        return close[0], difflib.SequenceMatcher(None, word, close[0]).ratio()

    def _one_letter_missing(self, word: str) -> str | None:
        """The unique cue word that is `word` with one letter added ("sho" -> "show")."""
        found = {c for c in self.cue_words if len(c) == len(word) + 1 and _drops_one_letter(c, word)}
        return found.pop() if len(found) == 1 else None

    def correct(self, word: str) -> tuple[str, float]:
        """(corrected word, similarity); similarity 1.0 when unchanged or an exact casual form."""
        if word in CASUAL:
            return CASUAL[word], 1.0
        if word in self.lexicon or not word.isalpha() or len(word) < 3:
            return word, 1.0
        if any(f in self.lexicon for f in _word_forms(word)):
            return word, 1.0
        if word not in self._cache:
            fixed, ratio = word, 1.0
            if len(word) <= 4:
                short = self._one_letter_missing(word)
                if short is not None:
                    fixed, ratio = short, 0.85
            if fixed == word:
                candidate, similarity = self._closest(word)
                real = self.is_real_word(word)
                if candidate != word and (not real or (len(word) >= 7 and similarity >= 0.9)):
                    fixed, ratio = candidate, similarity
            self._cache[word] = (fixed, ratio)
        fixed, ratio = self._cache[word]
        if fixed == word:
            return word, 1.0
        return CASUAL.get(fixed, fixed), ratio


# -- 3. durations -------------------------------------------------------------------------------------


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


_MAX_BEFORE, _MIN_BEFORE, _APPROX_BEFORE = _phrases(MAX_BEFORE), _phrases(MIN_BEFORE), _phrases(APPROX_BEFORE)
_MAX_AFTER, _MIN_AFTER, _APPROX_AFTER = _phrases(MAX_AFTER), _phrases(MIN_AFTER), _phrases(APPROX_AFTER)
_DURATION_NEGATORS = _phrases(DURATION_NEGATORS)


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


# -- 4. references --------------------------------------------------------------------------------------


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
        if word in ("this", "that") and not ordinal_next:
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


# -- 5. styles ------------------------------------------------------------------------------------------

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


# -- 6. mode rules --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModeRule:
    mode: str | None  # None: no rule fired
    edit_cue: str | None  # cover | clip | style: what the wording asks of an edit
    retrieve_cue: bool


_CLIP_PHRASES = _phrases(("best part", "best parts", "best bits", "best moments", "the highlights", "only the part"))
_RETRIEVE_PHRASES = _phrases(
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


def t_has(words: Sequence[str], phrase: Sequence[str]) -> bool:
    n = len(phrase)
    return any(tuple(words[i : i + n]) == tuple(phrase) for i in range(len(words) - n + 1))


_MODE_WORDS = (
    EDIT_STRONG | EDIT_WEAK | CREATE_STRONG | CREATE_WEAK | COVER_WORDS | CLIP_WORDS | STYLE_VERBS | RETRIEVE_CUES
) | CREATE_NOUNS
_EDIT_WORDS = EDIT_STRONG | EDIT_WEAK | COVER_WORDS | CLIP_WORDS | STYLE_VERBS


def _edit_verb_near(words: Sequence[str], i: int) -> bool:
    """Whether "it" at i is the object of an edit: "make it", "turn it", "a cover for it", "out of it"."""
    if any(b in _EDIT_WORDS for b in words[max(0, i - 3) : i]):
        return True
    return i > 0 and words[i - 1] in ("for", "of") and any(b in _EDIT_WORDS for b in words[:i])


# -- 7. polarity ------------------------------------------------------------------------------------------

_NEGATIONS = sorted(_phrases(NEGATIONS), key=len, reverse=True)
_INCLUDES = sorted(_phrases(INCLUDES), key=len, reverse=True)
_CONTRASTS = sorted(_phrases(CONTRASTS), key=len, reverse=True)
_COMMUNICATION = [tuple(p) for p in COMMUNICATION]
_BOUNDARY_PUNCT = frozenset(".!?;()-[]")


def tag_cues(t: Tokens) -> None:
    """Tag negation ("neg"), include ("inc"), contrast ("bound"), comma, "too", relative lengths, stop words."""
    i = 0
    while i < len(t):
        if t.tags[i] is not None:
            i += 1
            continue
        word = t.words[i]
        if any(t.match(i, p) for p in _COMMUNICATION):
            t.tag(i, i + 2, "stop")
            i += 2
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
    negation's own comma-free span, or right after "too" ("too dark").
    """
    chunks: list[Chunk] = []
    styled: list[tuple[StyleMention, str]] = []
    by_start = {s.start: s for s in styles}
    w, tags = t.words, t.tags
    polarity = NEUTRAL
    comma_in_scope = False  # a comma has passed since the negation
    scope_start = -1  # token index of the negation that opened the exclude scope
    clause_start = 0  # token index where the current clause began
    current: list[int] = []

    def flush() -> None:
        if current:
            chunks.append(Chunk([w[k] for k in current], polarity, current[0]))
            current.clear()

    def clause_has_cue(i: int) -> bool:
        for k in range(i + 1, len(w)):
            if tags[k] in ("comma", "bound"):
                return False
            if tags[k] in ("neg", "inc") or w[k] in INCLUDE_CUES:
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
        if tag == "neg":
            end = i
            while end < len(w) and tags[end] == "neg":
                end += 1
            if w[i] in POSTFIX_NO and clause_ends_after(end):  # "buildings no", "cats: no."
                for chunk in chunks:
                    if chunk.start >= clause_start:
                        chunk.polarity = EXCLUDE
                styled = [(m, EXCLUDE if m.start >= clause_start else p) for m, p in styled]
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
        elif tag == "comma":
            if polarity == EXCLUDE and not clause_has_cue(i):
                comma_in_scope = True
            else:
                polarity, comma_in_scope = NEUTRAL, False
            clause_start = i + 1
        elif tag == "style" and i in by_start:
            mention = by_start[i]
            negated = (polarity == EXCLUDE and not comma_in_scope) or (i > 0 and tags[i - 1] == "too")
            styled.append((mention, EXCLUDE if negated else INCLUDE))
            i = mention.end
            continue
        i += 1
    flush()
    return chunks, styled


# -- 8. grounding -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Grounded:
    concept: str  # a vocabulary term, or the phrase itself when out of vocabulary
    surface: str  # the words the user typed
    score: float  # 1.0 synonym table, cosine for embedding matches, lower for out-of-vocabulary
    in_vocabulary: bool


class Grounder:
    """Maps content phrases onto one catalogue vocabulary: synonyms, then MiniLM prototypes."""

    def __init__(self, vocabulary: tuple[str, ...], embed: Callable[[list[str]], np.ndarray], config: ParserConfig):
        self.vocabulary = vocabulary
        self.config = config
        vocab = set(vocabulary)
        table: dict[tuple[str, ...], tuple[str, ...]] = {}
        for concept in vocabulary:
            for phrase in (concept, *CONCEPT_SYNONYMS.get(concept, ())):
                key = tuple(tokenize(phrase))
                table[key] = tuple(dict.fromkeys(table.get(key, ()) + (concept,)))
        for phrase, concepts in CONCEPT_MULTI.items():
            kept = tuple(c for c in concepts if c in vocab)
            if kept:
                table[tuple(tokenize(phrase))] = kept
        self.table = table
        self.max_phrase = max(len(k) for k in table)
        self.phrases = [k for k in table if len(k) > 1]
        # 8a. prototypes: every vocabulary term and its single-word synonyms; reject class: other topics
        labels: list[str] = []
        texts: list[str] = []
        for concept in vocabulary:
            for phrase in dict.fromkeys((concept, *CONCEPT_SYNONYMS.get(concept, ()))):
                labels.append(concept)
                texts.append(phrase)
        known = {p for p in texts}
        # concepts this catalogue lacks ("plant" in a catalogue without it) are off-catalogue
        # topics too: their phrases must not drift to the nearest concept it has ("food")
        absent = [phrase for concept, syns in CONCEPT_SYNONYMS.items() if concept not in vocab for phrase in (concept, *syns)]
        for topic in (*OTHER_TOPICS, *absent):
            if topic not in known and not any(f in known for f in _word_forms(topic)):
                labels.append("")
                texts.append(topic)
        self.prototypes = embed(texts)  # (P, 384)
        # a vocabulary term the synonym table does not know ("sports") claims the off-catalogue
        # topics close to it ("football", "soccer"), which would otherwise reject its phrases
        novel = [
            k for k, (label, text) in enumerate(zip(labels, texts))
            if label and label not in CONCEPT_SYNONYMS and text == label
        ]  # fmt: skip
        if novel:
            other = [k for k, label in enumerate(labels) if not label]
            sims = self.prototypes[other] @ self.prototypes[novel].T  # (O, N)
            for row, k in enumerate(other):
                best = int(np.argmax(sims[row]))
                if sims[row, best] >= config.novel_claim_similarity:
                    labels[k] = labels[novel[best]]
        self.labels = np.array(labels)
        self.is_concept = self.labels != ""

    def lookup(self, words: Sequence[str]) -> list[tuple[str, str]]:
        """(concept, surface) for every synonym-table phrase in `words`, longest first."""
        hits: list[tuple[str, str]] = []
        i = 0
        while i < len(words):
            for n in range(min(self.max_phrase, len(words) - i), 0, -1):
                gram = tuple(words[i : i + n])
                concepts = self.table.get(gram)
                if concepts is None and n == 1:
                    concepts = next((self.table[(f,)] for f in _word_forms(gram[0]) if (f,) in self.table), None)
                if concepts:
                    hits.extend((c, " ".join(gram)) for c in concepts)
                    i += n
                    break
            else:
                i += 1
        return hits

    def nearest(self, vector: np.ndarray) -> tuple[str | None, float, float]:
        """(concept or None, its cosine, best cosine to any prototype); None: no concept is near enough."""
        sims = self.prototypes @ vector  # (P,)
        concept_sims = np.where(self.is_concept, sims, -1.0)
        other_sims = np.where(self.is_concept, -1.0, sims)
        best = int(np.argmax(concept_sims))
        best_sim = float(concept_sims[best])
        other = float(other_sims.max()) if (~self.is_concept).any() else -1.0
        if best_sim >= self.config.concept_threshold and best_sim >= other + self.config.concept_margin:
            return str(self.labels[best]), best_sim, max(best_sim, other)
        return None, best_sim, max(best_sim, other)


def content_words(words: Sequence[str]) -> list[str]:
    """The words of a chunk that may name a topic: no fillers, no control words, no numbers."""
    return [
        w for w in words
        if (w.isalpha() or "'" in w) and w not in STOP_WORDS and w not in CONTROL_WORDS and len(w) > 1
    ]  # fmt: skip


# -- 9. intent by embedding ------------------------------------------------------------------------------------


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


# -- the parser ------------------------------------------------------------------------------------------------


@dataclass
class _Analysis:
    """Everything found without embeddings; `EmbeddedParser._finish` completes it."""

    text: str  # cleaned and redacted
    context: ParseContext
    tokens: Tokens
    notes: list[str]
    durations: list[DurationBound]
    refs: list[Reference]
    rule: ModeRule
    chunks: list[Chunk]
    styles: list[tuple[StyleMention, str]]
    relative: str | None
    fuzzy: dict[str, float]  # corrected word -> similarity of the correction
    frame: str  # the sentence with its topics masked: what the mode exemplars are compared with
    need_sentence: bool
    phrases: list[str]  # content phrases that need an embedding


class EmbeddedParser:
    """Instruction -> Guidance with rules and MiniLM embeddings; no LLM, no network."""

    def __init__(self, config: ParserConfig | None = None, text_encoder=None):
        self.config = config or ParserConfig()
        self.text_encoder = text_encoder
        self._lock = threading.RLock()
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._grounders: dict[tuple[str, ...], Grounder] = {}
        self._exemplars: np.ndarray | None = None
        self._exemplar_labels: list[str] = []
        self._speller: Speller | None = None

    # -- set-up (once per parser; once per vocabulary) --

    def warm_up(self) -> EmbeddedParser:
        """Load the encoder and embed the exemplars and the default vocabulary's prototypes."""
        with self._lock:
            if self.text_encoder is None:
                from generec.encoders.text import get_text_encoder

                self.text_encoder = get_text_encoder()
            if self._speller is None:
                self._speller = Speller(
                    _lexicon(), _wordpiece_vocabulary(self.text_encoder), self.config.fuzzy_cutoff, _CUE_WORDS
                )
            grounder = self._grounder(DEFAULT_VOCABULARY)
            if self._exemplars is None:  # exemplars are compared as frames, topics masked like the input's
                labels = [m for m, ex in MODE_EXEMPLARS.items() for _ in ex]
                texts = [s for ex in MODE_EXEMPLARS.values() for s in ex]
                frames = [self._analyse(s, ParseContext(), grounder).frame for s in texts]
                self._exemplars = self._encode_raw(frames)
                self._exemplar_labels = labels
        return self

    def _encode_raw(self, texts: list[str]) -> np.ndarray:
        vectors = np.asarray(self.text_encoder.encode(list(texts)), dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(texts):
            raise InputError(f"text encoder: expected ({len(texts)}, D) vectors, found shape {vectors.shape}")
        return vectors

    def _grounder(self, vocabulary: tuple[str, ...]) -> Grounder:
        with self._lock:
            grounder = self._grounders.get(vocabulary)
            if grounder is None:
                grounder = Grounder(vocabulary, self._encode_raw, self.config)
                self._grounders[vocabulary] = grounder
            return grounder

    def _embed(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Embeddings of `texts`, from the cache or one batched encode call for the missing ones."""
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
            if missing:
                for text, vector in zip(missing, self._encode_raw(missing)):
                    self._cache[text] = vector
                    if len(self._cache) > self.config.cache_size:
                        self._cache.popitem(last=False)
            out = {}
            for text in texts:
                self._cache.move_to_end(text)
                out[text] = self._cache[text]
            return out

    # -- public API --

    def parse(self, text: str, context: ParseContext | None = None) -> Guidance:
        """One instruction -> Guidance(source="embedded").

        Raises InputError only for text that is not an instruction (see `clean_text`) or a bad
        context; anything it cannot act on becomes a `clarify` question instead.
        """
        return self.parse_many([text], context)[0]

    def parse_many(self, texts: Sequence[str], context: ParseContext | None = None) -> list[Guidance]:
        """Several instructions with one encoder call for all of them."""
        if isinstance(texts, str):
            raise InputError("parse_many: expected a list of instructions, found a single string")
        context = context or ParseContext()
        _check_context(context)
        self.warm_up()
        grounder = self._grounder(tuple(context.vocabulary))
        analyses = [self._analyse(text, context, grounder) for text in texts]
        needed = [a.frame for a in analyses if a.need_sentence] + [p for a in analyses for p in a.phrases]
        vectors = self._embed(needed) if needed else {}
        return [self._finish(a, grounder, vectors) for a in analyses]

    # -- steps --

    def _analyse(self, text: str, context: ParseContext, grounder: Grounder) -> _Analysis:
        """Steps 1-9a, everything that needs no embedding."""
        cfg = self.config
        # 1. clean, redact, drop injection-like text
        cleaned = redact_pii(clean_text(text, cfg.max_chars))
        body, injection_notes = neutralise_injection(cleaned)
        notes = list(injection_notes)
        # 2. tokens, casual words, typos
        words: list[str] = []
        fuzzy: dict[str, float] = {}
        for word in tokenize(body):
            fixed, similarity = self._speller.correct(word)
            if similarity < 1.0:
                fuzzy[fixed] = similarity
                notes.append(f"read {word!r} as {fixed!r}")
            words.extend(fixed.split())
        t = Tokens(words)
        for k, word in enumerate(words):
            if word.startswith("[") and word.endswith("]"):
                t.tags[k] = "stop"
        # 3. durations
        trim_verb = any(w in ("trim", "shorten", "cut", "condense", "crop") for w in words)
        durations = extract_durations(t, trim_verb)
        # 4. references
        refs = find_references(t, _is_content, cfg.item_id_prefix)
        # 5. styles
        style_mentions = find_styles(t)
        for k in range(len(t)):  # multi-word concepts ("night sky", "street food") stay one phrase
            n = t.longest(k, grounder.phrases)
            if n:
                t.tag(k, k + n, "concept")
        # 6. mode rules
        rule = rule_mode(t, refs, style_mentions, bool(durations))
        for k, word in enumerate(words):  # verbs and cue nouns are not topics ("cut out" stays a negation)
            if t.tags[k] is None and word in _MODE_WORDS and (word != "cut" or rule.mode == "repurpose"):
                t.tags[k] = "verb"
        # 7. polarity
        tag_cues(t)
        relative = None
        for k, tag in enumerate(t.tags):
            if tag == "rel" and relative is None:
                word = t.words[k]
                relative = RELATIVE.get(word) or ("shorter" if t.words[k + 1 : k + 2] == ["long"] else "longer")
        chunks, styles = polarity_scan(t, style_mentions)
        # 8a. which phrases the synonym table cannot ground (they need an embedding)
        phrases: list[str] = []
        for chunk in chunks:
            words_c = content_words(chunk.words)
            if words_c and not grounder.lookup(words_c):
                phrases.append(" ".join(words_c))
        # 9a. the intent frame: "make me a video about cats" -> "make me a video about something"
        frame_words: list[str] = []
        for k, word in enumerate(t.words):
            if t.tags[k] in (None, "style", "concept"):
                if not frame_words or frame_words[-1] != "something":
                    frame_words.append("something")
            else:
                frame_words.append(word)
        frame = " ".join(frame_words)
        need_sentence = rule.mode is None and not set(frame_words) <= _TRIVIAL_FRAME
        return _Analysis(cleaned, context, t, notes, durations, refs, rule, chunks, styles, relative, fuzzy,
                         frame, need_sentence, phrases)  # fmt: skip

    def _finish(self, a: _Analysis, grounder: Grounder, vectors: dict[str, np.ndarray]) -> Guidance:
        """The rest, with the embeddings of the frame and of the phrases the table did not know."""
        cfg, ctx = self.config, a.context
        notes = list(a.notes)
        # 8b. ground every phrase: synonym table, else the nearest prototype, else kept as typed
        include: list[Grounded] = []
        exclude: list[Grounded] = []
        for chunk in a.chunks:
            words = content_words(chunk.words)
            if not words:
                continue
            hits = grounder.lookup(words)
            grounded: list[Grounded] = []
            if hits:
                for concept, surface in hits:
                    score = min((a.fuzzy.get(w, 1.0) for w in surface.split()), default=1.0)
                    grounded.append(Grounded(concept, " ".join(words), score, True))
            else:
                phrase = " ".join(words)
                concept, sim, topicality = grounder.nearest(vectors[phrase])
                if concept is not None:
                    grounded.append(Grounded(concept, phrase, sim, True))
                elif topicality < cfg.oov_min_similarity:  # "already", "honestly": not a topic at all
                    notes.append(f"ignored {phrase!r}: not a topic")
                else:
                    grounded.append(Grounded(phrase, phrase, 0.6, False))
                    notes.append(f"kept {phrase!r} as is: no catalogue concept is close (best cosine {sim:.2f})")
            (exclude if chunk.polarity == EXCLUDE else include).extend(grounded)
        include_terms = list(dict.fromkeys(g.concept for g in include))
        exclude_terms: list[str] = []
        for g in exclude:
            if g.concept in include_terms:  # "no cats but more dogs": the include keeps "animal"
                if g.surface != g.concept and g.surface not in include_terms:
                    exclude_terms.append(g.surface)
                    notes.append(f"{g.concept!r} is both wanted and not: excluding only {g.surface!r}")
            elif g.concept not in exclude_terms:
                exclude_terms.append(g.concept)
        exclude_terms = [e for e in dict.fromkeys(exclude_terms) if e not in include_terms]

        # 5b. style: the first wanted one; a negated style asks for its opposite
        style = strength = None
        for mention, polarity in a.styles:
            wanted = mention.style if polarity != EXCLUDE else STYLE_OPPOSITE.get(mention.style)
            if wanted is None:
                continue
            if style is None:
                style, strength = wanted, mention.strength
            elif wanted != style:
                notes.append(f"also asked for style {wanted!r}; kept {style!r}")

        # 3b. durations; relative lengths resolve against the reference length when there is one
        low, high, duration_notes = combine_durations(a.durations, cfg.approx_tolerance)
        notes.extend(duration_notes)
        if a.relative:
            notes.append(f"relative_duration:{a.relative}")
            ref_len = ctx.reference_duration_s
            if ref_len and a.relative == "shorter" and high is None:
                high = round(cfg.shorter_factor * ref_len, 6)
            elif ref_len and a.relative == "longer" and low is None:
                low = round(cfg.longer_factor * ref_len, 6)
        if low is not None and high is not None and low > high:
            low = None

        # 9b. mode: rules, else exemplar similarity (retrieve unless another mode is clearly closer)
        mode = a.rule.mode
        mode_explicit = mode is not None
        mode_confidence = 0.95 if mode_explicit else 0.0
        if mode is None and not a.need_sentence:
            mode, mode_confidence = "retrieve", 0.8
        if mode is None:
            probs = mode_probabilities(
                vectors[a.frame], self._exemplars, self._exemplar_labels, cfg.mode_temperature, cfg.mode_top_k
            )
            best = max(probs, key=probs.get)
            has_target = any(r.kind != "pronoun" for r in a.refs)  # an edit needs something named to edit
            if best != "retrieve" and probs[best] >= cfg.mode_min_prob and (best == "create" or has_target):
                mode, mode_confidence = best, probs[best]
            else:
                mode, mode_confidence = "retrieve", max(probs["retrieve"], 0.7)

        # 4b. the target item
        target = None
        clarify = None
        refs = [r for r in a.refs if r.kind != "pronoun" or mode == "repurpose"]
        if refs:
            target, clarify = resolve_reference(refs[0], ctx, cfg)
        elif mode == "repurpose":
            target = ctx.current_item
            if target is None:
                clarify = CLARIFY_WHICH

        # 10. edit op
        edit_op = None
        if mode == "repurpose":
            if a.rule.edit_cue in ("cover", "clip"):
                edit_op = a.rule.edit_cue
            elif a.relative == "shorter" or high is not None:
                edit_op = "clip"
            elif a.rule.edit_cue == "style" or (style in LOOK_STYLES):
                edit_op = "style"
            elif style in PACING_STYLES:
                edit_op = "clip"

        # 10b. confidence and clarify
        scores = [g.score for g in include + exclude]
        grounding = float(np.mean(scores)) if scores else 1.0
        confidence = mode_confidence * grounding
        actionable = bool(include_terms or exclude_terms or style or low is not None or high is not None
                          or a.relative or target or mode == "create")  # fmt: skip
        if not actionable and clarify is None:
            clarify = CLARIFY_WHAT
            confidence = min(confidence, 0.2)
        elif clarify is not None:
            confidence = min(confidence, 0.4)
        elif confidence < cfg.clarify_threshold:
            clarify = "I'm not sure I understood — " + CLARIFY_WHAT[0].lower() + CLARIFY_WHAT[1:]
        has_content = bool(include_terms or exclude_terms or style)
        return Guidance(
            mode=mode, mode_explicit=mode_explicit, edit_op=edit_op,
            include=tuple(include_terms), exclude=tuple(exclude_terms),
            style=style, style_strength=strength if style else None,
            max_duration_s=high, min_duration_s=low, target_item=target,
            user_vector="history+instruction" if has_content else "history",
            clarify=clarify, confidence=float(np.clip(confidence, 0.0, 1.0)),
            text=a.text, source="embedded", notes=tuple(dict.fromkeys(notes)),
        )  # fmt: skip


def _is_content(word: str) -> bool:
    """Whether a word could name a topic (so "that" before it is a determiner, not a reference)."""
    return word.isalpha() and len(word) > 2 and word not in STOP_WORDS and word not in _LEXICON_FUNCTION


def _check_context(context: ParseContext) -> None:
    if not isinstance(context, ParseContext):
        raise InputError(f"context: expected a ParseContext, found {type(context).__name__}")
    if isinstance(context.vocabulary, str) or not context.vocabulary:
        raise InputError("context.vocabulary: expected a non-empty tuple of concept tags")
    if isinstance(context.last_feed, str):
        raise InputError("context.last_feed: expected a tuple of item ids, found a single string")


def _lexicon() -> set[str]:
    words: set[str] = set(STOP_WORDS) | set(CASUAL) | set(NUMBER_WORDS) | set(UNITS) | set(ORDINALS)
    for phrases in (*CONCEPT_SYNONYMS.values(), *STYLE_PHRASES.values(), NEGATIONS, INCLUDES, CONTRASTS,
                    tuple(CONCEPT_MULTI), DEFAULT_VOCABULARY):  # fmt: skip
        for phrase in phrases:
            words.update(tokenize(phrase))
    words |= CREATE_STRONG | CREATE_WEAK | CREATE_NOUNS | EDIT_STRONG | EDIT_WEAK | RETRIEVE_CUES | COVER_WORDS
    words |= CLIP_WORDS | STYLE_VERBS | set(RELATIVE) | set(OTHER_TOPICS)
    words |= {p for w in list(words) for p in _plurals(w)}
    return {w for w in words if w.isalpha() or "'" in w}


def _plurals(word: str) -> list[str]:
    if not word.isalpha() or len(word) < 3 or word.endswith("s"):
        return []
    if word.endswith("y") and word[-2] not in "aeiou":
        return [word[:-1] + "ies"]
    if word.endswith(("ch", "sh", "x", "o")):
        return [word + "es", word + "s"]
    return [word + "s"]


# words a short typo is most likely to be ("sho" -> "show"): intent and cue words, not topics
_CUE_WORDS = frozenset(
    """show more less want see give make edit trim this that with without not none only just some like love find
    please food space text cats dogs people plants flowers videos clips shorter longer brighter darker""".split()
)
# a frame made only of these words has no intent in it: retrieve, without asking the exemplars
_TRIVIAL_FRAME = frozenset(
    """something and or & , . ! ? please more only just some any no not less the a an of with videos clips look
    stuff vibes tones colours colors""".split()
)
_LEXICON_FUNCTION = frozenset(
    w for ps in (NEGATIONS, INCLUDES, CONTRASTS) for p in ps for w in tokenize(p)
) | set(UNITS) | set(RELATIVE) | EDIT_STRONG | EDIT_WEAK | CREATE_NOUNS | frozenset(("but", "in", "into", "as", "to"))


def _wordpiece_vocabulary(encoder) -> frozenset[str]:
    """Whole words of the encoder's tokenizer vocabulary (real words are never spell-corrected)."""
    path = getattr(encoder, "path", None)
    try:
        vocab_file = Path(path) / "vocab.txt" if path is not None else None
    except TypeError:
        vocab_file = None
    if vocab_file is None or not vocab_file.is_file():
        return frozenset()
    words = vocab_file.read_text(encoding="utf-8").split("\n")
    return frozenset(w for w in words if w.isalpha() and not w.startswith("##"))


def time_parse(parser: EmbeddedParser, texts: Sequence[str], context: ParseContext | None = None) -> list[float]:
    """Milliseconds per `parser.parse` call, one call per text (after one warm-up parse)."""
    parser.parse(texts[0], context)
    out = []
    for text in texts:
        start = time.perf_counter()
        parser.parse(text, context)
        out.append(1000.0 * (time.perf_counter() - start))
    return out
