"""Trained retrievers in a workspace: `models/<name>/` checkpoints and the current one."""

from __future__ import annotations

import json
from pathlib import Path

from generec.errors import InputError
from generec.retrieval.base import Retriever, load_retriever
from generec.retrieval.data import full_data
from generec.workspace import Workspace

CURRENT = "current.json"


def save_current(ws: Workspace, model: Retriever) -> Path:
    path = model.save(ws.path("models") / model.name)
    (ws.path("models") / CURRENT).write_text(json.dumps({"model": model.name}))
    return path


def load_current(ws: Workspace, name: str | None = None) -> Retriever:
    """The named (or last trained) retriever; refused if the workspace's data changed since."""
    models = ws.path("models")
    if name is None:
        if not (models / CURRENT).is_file():
            raise InputError(f"no trained retriever in {ws.root}; run `generec train --model ease` first")
        name = json.loads((models / CURRENT).read_text())["model"]
    if not (models / name).is_dir():
        trained = sorted(p.name for p in models.iterdir() if p.is_dir())
        raise InputError(f"no trained model {name!r} in {ws.root}; trained: {', '.join(trained) or '(none)'}")
    return load_retriever(models / name, expect_data_hash=full_data(ws).data_hash)
