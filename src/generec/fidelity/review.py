"""Stored AI items after the gate: checking one again, and the review queue of flagged ones.

- `check_item(ws, item_id, policy)`: the policy's checks on a stored AI item, as the gate ran
  them (its video and cover as stored, its parent), without changing anything;
- `queue(ws)`: flagged items waiting for a reviewer; `decide(ws, item_id, "approve" | "block",
  reviewer, note)`: the reviewer's decision goes into the item's fidelity report (an approved
  item is served without the "flagged" label; a blocked one is kept out of every feed).
"""

from __future__ import annotations

import time
from typing import Any

from generec.errors import InputError
from generec.fidelity.gate import Gate, GateResult
from generec.fidelity.policy import Policy
from generec.fidelity.types import Candidate
from generec.types import Item, Origin

DECISIONS = ("approve", "block")


def ai_item(ws, item_id: str) -> Item:
    item = ws.items.get(item_id)
    if item is None:
        raise InputError(f"unknown item {item_id!r}: not in workspace {ws.root}")
    if item.origin == Origin.HUMAN:
        raise InputError(f"item {item_id!r} is human-made: fidelity checks run on AI-edited and AI-created items")
    return item


def candidate_for(ws, item: Item) -> Candidate:
    """The stored item as the gate saw it: its own video when it differs from its parent's, its cover."""
    from generec.media.image import load_image

    parent = ws.items.get(item.parent_id) if item.parent_id else None
    own_video = item.media is not None and (parent is None or parent.media is None or parent.media.hash != item.media.hash)
    own_cover = item.cover is not None and (parent is None or parent.cover is None or parent.cover.hash != item.cover.hash)
    prov = item.provenance or {}
    guidance = prov.get("guidance") or {}
    return Candidate(
        "create" if item.origin == Origin.AI_CREATED else "edit", str(prov.get("op") or "create"), item.title, list(item.tags),
        video=ws.media_path(item.media.hash, item.media.mime) if own_video else None,
        cover=load_image(ws.media_path(item.cover.hash, item.cover.mime)) if own_cover else None,
        parent=parent, parent_video=ws.media_path(parent.media.hash, parent.media.mime) if parent is not None and parent.media else None,
        params=dict(prov.get("params") or {}), instruction=guidance.get("text"),
    )  # fmt: skip


def check_item(ws, item_id: str, policy: Policy | None = None) -> GateResult:
    item = ai_item(ws, item_id)
    return Gate(ws, policy).check(candidate_for(ws, item), apply_fixes=False)  # a fix would write files: only say so


def queue(ws) -> list[Item]:
    return ws.items.review_queue()


def decide(ws, item_id: str, decision: str, reviewer: str = "admin", note: str | None = None) -> Item:
    # 1. check inputs: a known AI item; approve only what is flagged and pending
    if decision not in DECISIONS:
        raise InputError(f"review decision: expected one of {', '.join(DECISIONS)}, found {decision!r}")
    item = ai_item(ws, item_id)
    report: dict[str, Any] = dict(item.fidelity or {})
    if decision == "approve" and not (report.get("decision") == "flag" and report.get("review") == "pending"):
        raise InputError(f"item {item_id!r} is not waiting for review (decision {report.get('decision')!r}, review {report.get('review')!r})")
    # 2. record it in the item's report, in one transaction
    report["review"] = "approved" if decision == "approve" else "blocked"
    report["reviewed"] = {"by": reviewer, "at": time.time(), "note": note}
    ws.items.set_fidelity(item_id, report)
    return ws.items.get(item_id)
