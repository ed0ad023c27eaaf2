"""A toy creator trained for a few steps on a copy of the tiny benchmark (once per test session)."""

from __future__ import annotations

import shutil

import pytest

from generec.creator.training import train_creator
from generec.workspace import Workspace
from helpers import TOY_BUDGET, TOY_CREATOR

@pytest.fixture(scope="session")
def toy_creator_root(tiny_bench, tmp_path_factory):
    """A tiny benchmark with a toy creator trained on it: the workspace root (read-only: copy to write)."""
    root = tmp_path_factory.mktemp("creator") / "ws"
    shutil.copytree(tiny_bench[0], root)
    with Workspace.open(root) as ws:
        train_creator(ws, TOY_CREATOR, TOY_BUDGET)
    return root


@pytest.fixture
def creator_ws(toy_creator_root, tmp_path):
    """A writable copy of the toy-creator workspace."""
    root = tmp_path / "ws"
    shutil.copytree(toy_creator_root, root)
    ws = Workspace.open(root)
    yield ws
    ws.close()
