"""What every edit op shares: its context, its result, and how a result becomes a new item.

An op is bound to one workspace and one user (`EditContext`) and is called as
`op(item, guidance) -> EditResult`. The new item has `origin="ai_edited"`, `parent_id` set and
a provenance record with the op, its parameters, the user, the guidance and the seed. Its media
and the item row are written together: a failure leaves the workspace as it was.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

import generec
from generec.encoders.cache import FeatureCache
from generec.encoders.image import ImageEncoder
from generec.errors import InputError
from generec.media.video import NO_LIMITS, VideoInfo, probe
from generec.types import Item, Kind, Media, Origin
from generec.workspace import Workspace

if TYPE_CHECKING:
    from generec.editor.look_judge import LookJudge
    from generec.editor.preference import Preference
    from generec.encoders.bridge import TextImageBridge
    from generec.instructor.guidance import Guidance


class CannotSatisfy(InputError):
    """The guidance asks for something this op cannot do with this item (nothing was written)."""


@dataclass
class EditContext:
    workspace: Workspace
    user_id: str
    preference: Preference | None
    encoder: ImageEncoder
    cache: FeatureCache
    bridge: TextImageBridge | None = None
    seed: int = 0
    look_preference: Preference | None = None  # judges looks when there is no look judge; None: use `preference`
    look_judge: LookJudge | None = None  # the user's look taste from impressions (`look_judge.py`)
    history: np.ndarray | None = None  # (1280,) User_Hist, the paper's reference vector: a second opinion on covers
    fidelity: Any = None  # the fidelity gate (`fidelity/gate.py`); None: the workspace's, loaded once per process


@dataclass
class EditResult:
    item: Item  # the new item, stored
    parent: Item
    op: str  # "cover" | "clip" | "style"
    params: dict[str, Any]  # what the op chose (timestamp, span, style and strength)
    score: float  # the chosen option's score under the user's (steered) preference
    baseline_score: float  # the same score for the unedited item (original cover, first window, natural look)
    media_path: Path
    cover_path: Path | None
    notes: list[str] = field(default_factory=list)
    preference: str | None = None  # the preference the edit was scored by: "concepts", "history (fallback: ...)"

    @classmethod
    def stored(cls, ws: Workspace, new: Item, parent: Item, op: str, params: dict[str, Any], score: float,
               baseline_score: float, notes: list[str] | None = None) -> EditResult:  # fmt: skip
        """The result for a stored item: its media and cover paths come from the workspace."""
        cover = ws.media_path(new.cover.hash, new.cover.mime) if new.cover else None
        from generec.editor.preference import describe

        prov = new.provenance or {}
        used = describe(prov.get("preference"), prov.get("preference_fallback"))
        return cls(new, parent, op, params, score, baseline_score, ws.media_path(new.media.hash, new.media.mime), cover, notes or [], used)

    def to_dict(self) -> dict[str, Any]:
        return {
            "item_id": self.item.id, "parent_id": self.parent.id, "op": self.op, "params": self.params,
            "score": self.score, "baseline_score": self.baseline_score, "media_path": str(self.media_path),
            "cover_path": str(self.cover_path) if self.cover_path else None, "notes": self.notes,
            "preference": self.preference, "fidelity": fidelity_summary(self.item),
        }  # fmt: skip


def fidelity_summary(item: Item) -> dict[str, Any] | None:
    """The decision, each check's verdict and the marks of an AI item's fidelity report."""
    report = item.fidelity
    if not report:
        return None
    verdicts = {c["check"]: c["verdict"] + (f"->{c['action']}" if c["verdict"] == "fail" or c.get("fixed") else "") for c in report.get("checks", [])}
    return {"decision": report.get("decision"), "review": report.get("review"), "verdicts": verdicts,
            "watermark_id": item.watermark_id, "c2pa": bool((report.get("marks") or {}).get("c2pa"))}  # fmt: skip


def video_item(ws: Workspace, item_id: str | Item, op: str) -> Item:
    """The catalogue item `item_id` (or an item's id), checked, as stored, to be a video with its media file present."""
    item_id = item_id if isinstance(item_id, str) else item_id.id
    item = ws.items.get(item_id)
    if item is None:
        raise InputError(f"unknown item {item_id!r}: not in workspace {ws.root}")
    if item.kind != Kind.VIDEO or item.media is None:
        raise InputError(f"item {item_id!r}: the {op} op needs a video item with media, found a {item.kind} item" + ("" if item.media else " without media"))
    if not ws.media_path(item.media.hash, item.media.mime).is_file():
        raise InputError(f"item {item_id!r}: its media file {item.media.hash} is missing from {ws.root / 'media'}")
    return item


def check_user(ws: Workspace, user_id: str) -> None:
    if ws.users.get(user_id) is None:
        raise InputError(f"unknown user {user_id!r}: not in workspace {ws.root}")


def edit_id(parent_id: str, op: str, user_id: str, params: dict[str, Any]) -> str:
    """Deterministic: the same edit of the same item for the same user gets the same id."""
    key = json.dumps({"op": op, "user": user_id, "params": params}, sort_keys=True)
    return f"{parent_id}~{op}-{hashlib.sha256(key.encode()).hexdigest()[:10]}"


def _video_media(info: VideoInfo, digest: str) -> Media:
    # sizes as shown, like the importer's: a rotated video's upright width and height
    return Media(digest, "video/mp4", info.duration, info.fps, info.display_width, info.display_height, info.has_audio)


def _image_media(image: np.ndarray, digest: str, mime: str) -> Media:
    return Media(digest, mime, None, None, int(image.shape[1]), int(image.shape[0]), False)


def store_edit(
    ctx: EditContext,
    parent: Item,
    op: str,
    params: dict[str, Any],
    guidance: Guidance | None,
    *,
    video_file: Path | None = None,
    cover: np.ndarray | None = None,
    title_suffix: str = "",
) -> Item:
    """Write the edit's media and its item row in one go; returns the stored item.

    `video_file` is a new video (a clip or a restyle) to move into the media store; without it the
    new item shares the parent's video. `cover` is the new item's cover image (RGB).
    """
    ws = ctx.workspace
    item_id = edit_id(parent.id, op, ctx.user_id, params)
    existing = ws.items.get(item_id)
    if existing is not None:  # the same edit again: nothing new to write
        return existing
    provenance = {
        "generator": f"generec.editor.{op}", "version": generec.__version__, "op": op, "params": params,
        "user_id": ctx.user_id, "parent_id": parent.id, "seed": ctx.seed,
        "guidance": json.loads(guidance.to_json()) if guidance is not None else None,
        "preference": ctx.preference.source if ctx.preference is not None else None,
        "preference_fallback": ctx.preference.fallback if ctx.preference is not None else None,
    }  # fmt: skip
    # 1. the fidelity gate: checks (and fixes), then the watermark and the signed manifest
    from generec.fidelity.gate import gate_for, watermark_hex
    from generec.fidelity.types import Candidate

    gate = ctx.fidelity or gate_for(ws)
    candidate = Candidate(
        "edit", op, parent.title + title_suffix, list(parent.tags), video=video_file, cover=cover, parent=parent,
        parent_video=ws.media_path(parent.media.hash, parent.media.mime) if parent.media else None, params=params,
        instruction=guidance.text if guidance is not None else None,
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp, ws.media.staging():
        checked, marked = gate.admit(candidate, item_id, provenance, Path(tmp))  # FidelityBlocked: nothing stored
        # 2. media: the new video file, marked, or the parent's
        if marked.video is not None:
            info = probe(marked.video, NO_LIMITS)  # our own output, as long as its admitted source
            digest, _ = ws.media.put_file(marked.video, "video/mp4")
            media = _video_media(info, digest)
        else:
            media = parent.media
        # 3. the cover image, marked
        cover_media = parent.cover
        if marked.cover is not None:
            digest = ws.media.put_bytes(marked.cover, "image/png")
            shown = checked.candidate.cover
            cover_media = _image_media(shown, digest, "image/png")
        # 4. the item row, with provenance and the fidelity report
        item = Item(
            id=item_id, kind=Kind.VIDEO, title=parent.title + title_suffix, text=parent.text, tags=list(parent.tags),
            media=media, cover=cover_media, origin=Origin.AI_EDITED, parent_id=parent.id, uploader=parent.uploader,
            created_at=time.time(), provenance=provenance, fidelity=checked.report, watermark_id=watermark_hex(marked.watermark_id),
        )  # fmt: skip
        ws.items.add(item)
    return item
