"""The records that flow between stages: items, users, interactions, instructions.

Results are dataclasses, never bare tuples. Enum values are the strings stored in SQLite.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    VIDEO = "video"
    IMAGE = "image"
    TEXT = "text"


class Origin(StrEnum):
    HUMAN = "human"
    AI_EDITED = "ai_edited"
    AI_CREATED = "ai_created"


class Event(StrEnum):
    IMPRESSION = "impression"
    CLICK = "click"
    LIKE = "like"
    DISLIKE = "dislike"
    SKIP = "skip"
    WATCH = "watch"  # value: watch ratio in [0, 1]
    RATE = "rate"  # value: an explicit rating (MovieLens stars)


# Events that say the user wanted the item; used as implicit positives.
POSITIVE_EVENTS = (Event.CLICK, Event.LIKE, Event.RATE)


@dataclass(frozen=True)
class Media:
    """A file in the workspace's content-addressed media store."""

    hash: str
    mime: str
    duration: float | None = None
    fps: float | None = None
    width: int | None = None
    height: int | None = None
    has_audio: bool = False


@dataclass
class Item:
    id: str
    kind: Kind
    title: str = ""
    text: str = ""
    tags: list[str] = field(default_factory=list)
    media: Media | None = None
    cover: Media | None = None  # the cover image of a video item
    origin: Origin = Origin.HUMAN
    parent_id: str | None = None
    uploader: str | None = None
    created_at: float = 0.0
    provenance: dict[str, Any] | None = None
    fidelity: dict[str, Any] | None = None
    watermark_id: str | None = None


@dataclass(frozen=True)
class User:
    id: str
    created_at: float = 0.0
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Interaction:
    user_id: str
    item_id: str
    ts: float
    event: Event
    value: float | None = None
    source: str | None = None  # which way the item reached the user: retrieve | repurpose | create | log
    event_id: str | None = None  # a client's id for the event: the same id twice is stored once


@dataclass(frozen=True)
class Instruction:
    user_id: str
    session_id: str
    ts: float
    text: str  # PII-redacted
    guidance: dict[str, Any]


@dataclass(frozen=True)
class Scored:
    """One ranked item."""

    item_id: str
    score: float
