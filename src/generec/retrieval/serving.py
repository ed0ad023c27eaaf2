"""Trained retrievers in a workspace: `models/<name>/` checkpoints and the current one."""

from __future__ import annotations

import json
from pathlib import Path

from generec.errors import InputError
from generec.retrieval.base import Retriever, load_retriever
from generec.retrieval.data import full_data
from generec.workspace import Workspace

CURRENT = "current.json"


def save_current(ws: Workspace, model: Retriever, last_event_id: int | None = None) -> Path:
    """Save `model` as the current retriever. `last_event_id`: the interaction log's last row id
    when its training data was read (feedback after it is folded in while serving)."""
    path = model.save(ws.path("models") / model.name)
    meta = {"model": model.name, "last_event_id": last_event_id, "positives": int(model.data_.matrix.nnz)}
    tmp = ws.path("models") / f".{CURRENT}.tmp"
    tmp.write_text(json.dumps(meta))
    tmp.replace(ws.path("models") / CURRENT)  # atomic: a serving process never reads half a file
    return path


def current_meta(ws: Workspace) -> dict | None:
    """models/current.json: the current model's name and the log position it was trained at."""
    path = ws.path("models") / CURRENT
    return json.loads(path.read_text()) if path.is_file() else None


def load_serving(ws: Workspace):
    """The current retriever for serving: a `LiveRetriever` that folds in the feedback logged
    since training, so that a newer log is not an error (as it is for `load_current`)."""
    from generec.retrieval.live import LiveRetriever

    meta = current_meta(ws)
    if meta is None:
        raise InputError(f"no trained retriever in {ws.root}; run `generec train --model ease` first")
    name = meta["model"]
    if not (ws.path("models") / name).is_dir():
        raise InputError(f"no trained model {name!r} in {ws.root}")
    model = load_retriever(ws.path("models") / name)
    after = meta.get("last_event_id")  # a checkpoint from before it was recorded: fold in from now on
    return LiveRetriever(model, ws, int(after) if after is not None else ws.interactions.last_id())


def staleness(ws: Workspace) -> tuple[int, str]:
    """(events logged since the current retriever was trained, why); with no current one, (-1, why)."""
    meta = current_meta(ws)
    if meta is None or meta.get("last_event_id") is None:
        return -1, "no current retriever" if meta is None else "the current retriever does not record when it was trained"
    n = int(ws.db.scalar("SELECT COUNT(*) FROM interactions WHERE id > ?", (int(meta["last_event_id"]),)))
    return n, f"{n} event(s) since {meta['model']} was trained"


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
