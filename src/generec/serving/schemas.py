"""The service's request models (validated by FastAPI: a wrong field is a 422 naming it) and the
JSON the routes return, built from the library's dataclasses."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from generec.instructor.sanitize import redact_pii
from generec.pipeline import MAX_BATCH
from generec.types import Item, Origin

EventName = Literal["impression", "click", "like", "dislike", "skip", "watch"]


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    item_id: str = Field(min_length=1, max_length=200)
    event: EventName
    value: float | None = Field(default=None, ge=0.0, le=1.0, description="watch ratio in [0, 1], for watch events")
    id: str | None = Field(default=None, min_length=1, max_length=100, description="client event id: the same id is stored once")


class FeedbackBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    events: list[EventIn] = Field(min_length=1, max_length=MAX_BATCH)


class InstructIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=2000)
    session: str = Field(default="web", min_length=1, max_length=100)
    k: int = Field(default=10, ge=1, le=100)


def guidance_summary(g) -> str:
    """The guidance in words, for the person who asked."""
    parts = []
    if g.include:
        parts.append(" and ".join(g.include))
    if g.exclude:
        parts.append("no " + ", no ".join(g.exclude))
    if g.style:
        parts.append("in a " + g.style.replace("_", " ") + " look")
    if g.max_duration_s and g.min_duration_s:
        parts.append(f"{g.min_duration_s:g}-{g.max_duration_s:g} s long")
    elif g.max_duration_s:
        parts.append(f"under {g.max_duration_s:g} s")
    elif g.min_duration_s:
        parts.append(f"over {g.min_duration_s:g} s")
    what = ", ".join(parts) or "more of what you watch"
    way = {"repurpose": "editing a video for you", "create": "making a new video for you"}.get(g.mode, "finding videos")
    return f"{way}: {what}"


def guidance_json(g) -> dict[str, Any]:
    return {"mode": g.mode, "include": list(g.include), "exclude": list(g.exclude), "style": g.style,
            "max_duration_s": g.max_duration_s, "min_duration_s": g.min_duration_s, "target_item": g.target_item,
            "edit_op": g.edit_op, "clarify": g.clarify, "summary": guidance_summary(g), "source": g.source}  # fmt: skip


def label_of(item: Item) -> str | None:
    if item.origin == Origin.HUMAN:
        return None
    report = item.fidelity or {}
    flagged = report.get("decision") == "flag" and report.get("review") != "approved"
    return ("AI-created" if item.origin == Origin.AI_CREATED else "AI-edited") + (" · flagged for review" if flagged else "")


def item_urls(item: Item) -> dict[str, str | None]:
    return {"media_url": f"/v1/items/{item.id}/media" if item.media else None,
            "cover_url": f"/v1/items/{item.id}/cover" if item.cover else None}  # fmt: skip


def feed_json(ws, feed) -> dict[str, Any]:
    from generec.instructor.catalogue import catalogue_items

    catalogue, entries = catalogue_items(ws), []
    for n, e in enumerate(feed.items, 1):
        item = catalogue.get(e.item_id) or ws.items.get(e.item_id)
        parent = (catalogue.get(item.parent_id) or ws.items.get(item.parent_id)) if item.parent_id else None
        entries.append({
            "position": n, "item_id": item.id, "way": e.way, "origin": str(item.origin), "label": e.label or label_of(item),
            "reason": e.reason, "title": item.title, "tags": list(item.tags),
            "duration": item.media.duration if item.media else None, "parent_id": item.parent_id, **item_urls(item),
            "parent_cover_url": f"/v1/items/{parent.id}/cover" if parent is not None and parent.cover else None,
        })  # fmt: skip
    return {"user_id": feed.user_id, "feed_id": uuid.uuid4().hex[:16], "mode": feed.mode, "requested_mode": feed.requested_mode,
            "guidance": guidance_json(feed.guidance), "notes": list(feed.notes), "items": entries}  # fmt: skip


def item_json(item: Item, c2pa: dict | None) -> dict[str, Any]:
    prov = item.provenance
    if prov is not None:  # what the item's own user asked; the derived vector is not theirs to read
        text = (prov.get("guidance") or {}).get("text")
        prov = {k: v for k, v in prov.items() if k != "guidance"} | {"instruction": redact_pii(text) if text else None}
    return {"id": item.id, "kind": str(item.kind), "title": item.title, "text": item.text, "tags": list(item.tags),
            "origin": str(item.origin), "parent_id": item.parent_id, "uploader": item.uploader, "created_at": item.created_at,
            "duration": item.media.duration if item.media else None, "label": label_of(item), **item_urls(item),
            "provenance": prov, "fidelity": item.fidelity, "watermark_id": item.watermark_id, "c2pa": c2pa}  # fmt: skip
