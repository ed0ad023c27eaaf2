"""A live `generec serve` on the tiny benchmark: EASE trained, keys made, and one AI-edited
personal cover for the first user (so that their feed holds a labelled AI item)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from generec.pipeline import GeneRec, edit
from generec.retrieval import RETRIEVERS
from generec.retrieval.data import full_data
from generec.retrieval.serving import save_current
from generec.retrieval.trainer import default_config
from generec.workspace import Workspace


@dataclass
class Served:
    url: str
    root: Path
    user: str
    other: str
    key: str  # the user's
    other_key: str
    admin_key: str
    variant: str  # the user's AI-edited item
    parent: str


def prepare(root: Path) -> tuple[str, str, str, str, str, str, str]:
    """Train EASE, make the keys and one personal cover; returns the ids and keys."""
    with Workspace.open(root) as ws:
        save_current(ws, RETRIEVERS["ease"](default_config("ease")).fit(full_data(ws)), ws.interactions.last_id())
        user, other = ws.users.ids()[:2]
        top = GeneRec(ws).retriever().recommend(user, 1).items[0].item_id
        variant = edit(ws, "cover", user, top).item.id
        return user, other, ws.api_keys.create(user), ws.api_keys.create(other), ws.api_keys.create(None, "admin"), variant, top


@pytest.fixture(scope="module")
def served_ws(tiny_bench, tmp_path_factory):
    root = tmp_path_factory.mktemp("served") / "ws"
    shutil.copytree(tiny_bench[0], root)
    return root, prepare(root)


@pytest.fixture(scope="module")
def served(served_ws):
    """`generec serve` in its own process on a free loopback port, stopped by process id."""
    from generec.serving.bench import free_port, start_service, stop_service

    root, (user, other, key, other_key, admin_key, variant, parent) = served_ws
    port = free_port()
    with Workspace.open(root) as ws:
        proc = start_service(ws, port, extra=("--rate-limit", "0"))
    try:
        yield Served(f"http://127.0.0.1:{port}", root, user, other, key, other_key, admin_key, variant, parent)
    finally:
        stop_service(proc)
