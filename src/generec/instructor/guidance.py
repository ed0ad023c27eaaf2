"""Generation guidance: what the instructor tells the retriever, the editor and the creator.

A `Guidance` is a versioned, JSON-serialisable pydantic model. Every component obeys the same
object: the retriever filters and re-ranks by `include` / `exclude` / durations, the editor
picks frames and windows and styles by it, the creator conditions on it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

GUIDANCE_VERSION = 1

Mode = Literal["retrieve", "repurpose", "create"]
EditOp = Literal["cover", "clip", "style"]
VectorSource = Literal["history", "history+instruction", "instruction", "none"]

# The documented style vocabulary. The first ten are looks (a restyle op renders them, the
# benchmark's users have tastes over them); `calm` and `fast` are pacing: they steer clip
# choice and retrieval (slow, steady footage vs. many cuts), not pixels.
LOOK_STYLES = (
    "natural", "warm", "cool", "bright", "dark", "vivid", "muted",
    "black_and_white", "cartoon", "sketch",
)  # fmt: skip
PACING_STYLES = ("calm", "fast")
STYLE_VOCABULARY = LOOK_STYLES + PACING_STYLES


class Guidance(BaseModel):
    """What a user wants now, grounded in the catalogue's vocabulary."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = GUIDANCE_VERSION
    mode: Mode = "retrieve"
    mode_explicit: bool = False  # the user asked for this mode in so many words
    edit_op: EditOp | None = None  # which repurpose op, when the text names one
    include: tuple[str, ...] = ()  # concepts to show more of
    exclude: tuple[str, ...] = ()  # concepts to avoid
    style: str | None = None  # one of STYLE_VOCABULARY
    style_strength: float | None = Field(default=None, ge=0.0, le=1.0)
    max_duration_s: float | None = Field(default=None, gt=0.0)
    min_duration_s: float | None = Field(default=None, ge=0.0)
    target_item: str | None = None  # an item id, or None
    user_vector: VectorSource = "history"
    clarify: str | None = None  # a question to ask the user, or None
    confidence: float = Field(default=1.0, ge=0.0, le=1.0)
    text: str | None = None  # the instruction, PII-redacted
    source: str = "feedback"  # who made it: "embedded", "llm:<model>", "feedback", "cli"
    notes: tuple[str, ...] = ()  # e.g. why an LLM reply was rejected
    vector: tuple[float, ...] | None = None  # the fused user vector (instructor/fusion.py), unit length
    vector_space: str | None = None  # the space `vector` lives in, e.g. "minilm-l6-v2"

    @field_validator("style")
    @classmethod
    def _known_style(cls, style: str | None) -> str | None:
        if style is not None and style not in STYLE_VOCABULARY:
            raise ValueError(f"unknown style {style!r}; valid styles: {', '.join(STYLE_VOCABULARY)}")
        return style

    @field_validator("include", "exclude")
    @classmethod
    def _clean_concepts(cls, concepts: tuple[str, ...]) -> tuple[str, ...]:
        out: list[str] = []
        for concept in concepts:
            concept = " ".join(str(concept).lower().split())
            if concept and concept not in out:
                out.append(concept)
        return tuple(out)

    @model_validator(mode="after")
    def _consistent(self) -> Guidance:
        if self.version != GUIDANCE_VERSION:
            raise ValueError(f"guidance version {self.version} is not supported (expected {GUIDANCE_VERSION})")
        if self.max_duration_s is not None and self.min_duration_s is not None and self.min_duration_s > self.max_duration_s:
            raise ValueError(f"min_duration_s {self.min_duration_s} > max_duration_s {self.max_duration_s}")
        overlap = set(self.include) & set(self.exclude)
        if overlap:
            raise ValueError(f"concepts both included and excluded: {', '.join(sorted(overlap))}")
        return self

    @property
    def look(self) -> str | None:
        """The style if it is a look a restyle can render, else None."""
        return self.style if self.style in LOOK_STYLES else None

    def to_json(self) -> str:
        return self.model_dump_json()

    @classmethod
    def from_json(cls, text: str) -> Guidance:
        return cls.model_validate_json(text)
