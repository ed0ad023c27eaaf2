"""The store's tests run on both engines: `workspace` here is a new workspace on SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from generec.workspace import Workspace


@pytest.fixture
def workspace(tmp_path: Path, db_url: str):
    ws = Workspace.open(tmp_path / "ws", create=True, db=db_url)
    yield ws
    ws.close()
