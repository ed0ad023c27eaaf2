"""What the parser may know about the user's screen, and its settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from generec.instructor.vocabulary import DEFAULT_VOCABULARY

@dataclass(frozen=True)
class ParseContext:
    """What the parser may know about the user's screen; every field is optional."""

    vocabulary: tuple[str, ...] = DEFAULT_VOCABULARY  # the catalogue's concept tags
    last_feed: tuple[str, ...] = ()  # item ids last shown, in order ("the second one")
    current_item: str | None = None  # the item on screen ("this video")
    item_exists: Callable[[str], bool] | None = None  # checks explicit ids ("item v00123")
    reference_duration_s: float | None = None  # length of the video in question, for "shorter" / "longer"
    usual_duration_s: float | None = None  # typical length of what the user watches (their history)
    terms: tuple[tuple[str, str], ...] = ()  # (title word, tag): the catalogue's own words for its tags


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
