"""Loading a creator once per process: the embedded model with the frames it learned from, or a
diffusers pipeline from a local directory (with the catalogue frames it is anchored on)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from generec.creator.checkpoint import CHECKPOINT, creator_dir
from generec.creator.frames import TrainingFrames
from generec.errors import InputError
from generec.workspace import Workspace

BACKENDS = ("embedded", "diffusers")
_LOADED: dict[tuple, tuple] = {}


def load_frames(ws: Workspace, digest: str) -> TrainingFrames:
    path = creator_dir(ws) / f"frames-{digest}.npz"
    if not path.is_file():
        raise InputError(f"{path}: the frames this creator learned from are missing; retrain with `generec train --model creator`")
    with np.load(path, allow_pickle=False) as z:
        return TrainingFrames(z["images"], z["features"], z["video"], [str(s) for s in z["item_ids"]], digest)


def load_creator(ws: Workspace, backend: str = "embedded", diffusers_path: str | Path | None = None, device: str | None = None,
                 checkpoint: str | Path | None = None):  # fmt: skip
    """(generator, frames, model name) for `backend`, cached per process by file and modification time;
    `checkpoint` is an embedded checkpoint to use instead of `models/creator/creator.pt` (a snapshot)."""
    if backend not in BACKENDS:
        raise InputError(f"unknown creator backend {backend!r}; valid: {', '.join(BACKENDS)}")
    if backend == "diffusers":
        from generec.creator.diffusers_backend import DiffusersBackend
        from generec.creator.frames import training_frames
        from generec.encoders.image import get_image_encoder

        if diffusers_path is None:
            raise InputError("the diffusers creator backend needs a pipeline directory (--diffusers-path)")
        p = Path(diffusers_path)
        key = ("diffusers", str(p.resolve()), _mtime(p / "model_index.json"), str(ws.root), device)
        if key not in _LOADED:
            gen = DiffusersBackend.load(p, device=device)
            frames = training_frames(ws, gen.config.image_size, gen.config.frames_per_video, get_image_encoder())
            gen.frames_hash = frames.hash
            _LOADED[key] = (gen, frames, f"diffusers:{p.name}")
        return _LOADED[key]
    from generec.creator.pipeline import CreatorPipeline

    path = Path(checkpoint) if checkpoint is not None else creator_dir(ws) / CHECKPOINT
    key = ("embedded", str(path.resolve()), _mtime(path), str(ws.root))
    if key not in _LOADED:
        for old in [k for k in _LOADED if k[:2] == key[:2]]:  # a retrained checkpoint replaces the old one
            del _LOADED[old]
        pipe = CreatorPipeline.load(ws, path)
        _LOADED[key] = (pipe, load_frames(ws, pipe.frames_hash), "embedded")
    return _LOADED[key]


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None
