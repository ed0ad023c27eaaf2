"""The creator's checkpoint: what sampling needs, with the hashes that say where it came from.

`models/creator/creator.pt` holds the autoencoder, the EMA denoiser, the latent scale, the config
and the hash of the training frames; `creator.json` beside it holds the file's SHA-256, the frames
hash, the training item ids and the run's step counts. Loading checks all three: a missing
checkpoint names `generec train --model creator`, a file whose bytes no longer match its recorded
hash is refused, and a checkpoint trained on another workspace's catalogue (most of its training
videos absent here) is refused.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from generec.creator.config import CreatorConfig
from generec.errors import InputError
from generec.store.media import sha256_file

if TYPE_CHECKING:
    from generec.workspace import Workspace

CREATOR_DIR = "creator"
CHECKPOINT = "creator.pt"
FORMAT = 1
MIN_SHARED = 0.9  # share of the training videos a workspace must hold for the checkpoint to be its own


class NoCreator(InputError):
    """The workspace has no trained creator."""


def creator_dir(ws: Workspace) -> Path:
    return ws.root / "models" / CREATOR_DIR


def state_path(ws: Workspace) -> Path:
    return creator_dir(ws) / "state.pt"


def save_checkpoint(ws: Workspace | None, ae, denoiser, scaling: float, cfg: CreatorConfig, frames_hash: str, meta: dict,
                    path: Path | None = None, item_ids: list[str] | None = None) -> tuple[Path, str]:  # fmt: skip
    """Write the sampling checkpoint (atomically) and its record; returns (path, sha256[:16])."""
    path = path or creator_dir(ws) / CHECKPOINT
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save({"format": FORMAT, "config": cfg.to_dict(), "frames_hash": frames_hash, "scaling": scaling,
                "autoencoder": ae.state_dict(), "denoiser": denoiser.state_dict(), "meta": meta}, tmp)  # fmt: skip
    tmp.replace(path)
    digest = sha256_file(path)[:16]
    record = {"checkpoint": path.name, "sha256": digest, "frames_hash": frames_hash, "meta": meta, "item_ids": item_ids}
    tmp_record = path.with_suffix(".json.tmp")
    tmp_record.write_text(json.dumps(record))
    tmp_record.replace(path.with_suffix(".json"))
    return path, digest


def catalogue_ids_hash(item_ids: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(item_ids)).encode()).hexdigest()[:16]


def load_checkpoint(path: Path, workspace_ids: set[str] | None = None) -> tuple[dict, str]:
    """(the checkpoint's contents, its hash), checked (module doc)."""
    if not path.is_file():
        raise NoCreator(f"no trained creator at {path}: run `generec train --model creator` first")
    record_path = path.with_suffix(".json")
    try:
        record = json.loads(record_path.read_text())
    except (OSError, ValueError):
        raise InputError(f"{record_path}: the creator checkpoint's record is missing or unreadable; retrain with `generec train --model creator`") from None
    digest = sha256_file(path)[:16]
    if record.get("sha256") != digest:
        raise InputError(f"{path}: checkpoint hash {digest} does not match its record {record.get('sha256')!r} (the file was changed or copied in); retrain with `generec train --model creator`")
    ids = record.get("item_ids")
    if workspace_ids is not None and ids:
        shared = len(set(ids) & workspace_ids) / len(ids)
        if shared < MIN_SHARED:
            raise InputError(f"{path}: this creator was trained on another catalogue ({shared:.0%} of its {len(ids)} training videos are in this workspace); train one here with `generec train --model creator`")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise InputError(f"{path}: not a readable creator checkpoint ({type(exc).__name__})") from None
    if data.get("format") != FORMAT:
        raise InputError(f"{path}: creator checkpoint format {data.get('format')!r}, expected {FORMAT}; retrain")
    data["config"] = CreatorConfig.from_dict(data["config"])
    return data, digest
