"""`verify_file(ws, path)`: whose AI-made file is this? Reads both marks and names the item.

1. the C2PA manifest (`c2pa_manifest.read_manifest`, the workspace's root as the trust anchor):
   trusted / valid (another signer) / tampered / absent;
2. the invisible watermark (`watermark.py`, the workspace's key), voted over the file's frames:
   it survives what strips a manifest (a re-encode, a screenshot);
3. the item: the manifest's item id when trusted, else the watermark id looked up in the store;
   its parent and provenance.

`status` sums it up: "identified" (a trusted manifest, or no manifest and a watermark of one of
this workspace's items), "tampered", "foreign" (signed by someone else), "unknown-watermark" (a
watermark that names no item here), "conflict" (manifest and watermark name different items),
"unmarked" (neither mark).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generec.errors import InputError
from generec.fidelity.gate import watermark_hex
from generec.types import Item

IMAGE_SUFFIXES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
OK_STATUSES = ("identified",)


@dataclass
class Verification:
    path: str
    status: str
    message: str
    manifest: dict[str, Any]
    watermark: dict[str, Any]
    item: Item | None
    parent: Item | None

    @property
    def ok(self) -> bool:
        return self.status in OK_STATUSES

    def to_dict(self) -> dict[str, Any]:
        def brief(it: Item | None) -> dict[str, Any] | None:
            if it is None:
                return None
            return {"id": it.id, "title": it.title, "origin": str(it.origin), "parent_id": it.parent_id,
                    "uploader": it.uploader, "watermark_id": it.watermark_id, "provenance": it.provenance,
                    "fidelity": (it.fidelity or {}).get("decision")}  # fmt: skip

        return {"path": self.path, "status": self.status, "message": self.message, "manifest": self.manifest,
                "watermark": self.watermark, "item": brief(self.item), "parent": brief(self.parent)}  # fmt: skip


def verify_file(ws, path: str | Path) -> Verification:
    from generec.fidelity.c2pa_manifest import read_manifest
    from generec.fidelity.keys import load_keys
    from generec.fidelity.watermark import Watermarker, WatermarkReading

    # 1. check inputs: a readable image or video, and this workspace's keys
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: no such file to verify")
    keys = load_keys(ws.root)
    # 2. the manifest
    reading = read_manifest(p, keys.root_pem)
    manifest = reading.to_dict()
    # 3. the watermark
    try:
        wm = Watermarker(keys.watermark_key).detect_file(p)
    except InputError as exc:  # a tampered file may not decode, a tiny one holds no mark: no watermark to read
        wm = WatermarkReading(False, None, 0.0, None, 0)
        watermark = {**wm.to_dict(), "error": str(exc)}
    else:
        watermark = wm.to_dict()
    by_mark = ws.items.by_watermark(watermark_hex(wm.watermark_id)) if wm.detected and wm.watermark_id else None
    # 4. the item, and what to say
    claimed = _claimed_item(manifest)
    by_manifest = ws.items.get(claimed) if claimed and reading.state == "trusted" else None
    item = by_manifest or by_mark
    if reading.state == "tampered":
        status, message = "tampered", f"the C2PA manifest does not match the file ({reading.message})"
    elif reading.state == "valid":
        status, message = "foreign", f"signed by another signer, not this workspace ({reading.message})"
    elif by_manifest is not None and by_mark is not None and by_manifest.id != by_mark.id:
        status, message = "conflict", f"the manifest names {by_manifest.id} but the watermark names {by_mark.id}"
    elif reading.state == "trusted" and by_manifest is None:
        status, message = "unknown-item", f"a trusted manifest names item {claimed!r}, which is not in this workspace"
    elif item is not None:
        how = "a trusted C2PA manifest" + (" and the watermark" if by_mark is not None else "") if by_manifest else "the watermark (no manifest: stripped or re-encoded)"
        status, message = "identified", f"{item.id} ({item.origin}), identified by {how}"
    elif wm.detected:
        status, message = "unknown-watermark", f"watermark {watermark_hex(wm.watermark_id)} names no item in this workspace"
    else:
        status, message = "unmarked", "no C2PA manifest and no watermark of this workspace"
    parent = ws.items.get(item.parent_id) if item is not None and item.parent_id else None
    return Verification(str(p), status, message, manifest, watermark, item, parent)


def _claimed_item(manifest: dict[str, Any]) -> str | None:
    for key in ("item_id",):
        if manifest.get(key):
            return str(manifest[key])
    generec = manifest.get("generec") or manifest.get("assertion") or {}
    return generec.get("item_id") if isinstance(generec, dict) else None
