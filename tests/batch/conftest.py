"""A copy of the tiny benchmark with a serving retriever and signing keys, for the batch tests."""

from __future__ import annotations

import shutil

import pytest

from generec.fidelity.keys import ensure_keys
from generec.retrieval import RETRIEVERS
from generec.retrieval.data import full_data
from generec.retrieval.serving import save_current
from generec.retrieval.trainer import default_config
from generec.workspace import Workspace


@pytest.fixture(scope="session")
def trained(tiny_bench, tmp_path_factory):
    """The tiny benchmark with a serving EASE model and signing keys, to be copied per test."""
    root = tmp_path_factory.mktemp("batch") / "ws"
    shutil.copytree(tiny_bench[0], root)
    with Workspace.open(root) as ws:
        save_current(ws, RETRIEVERS["ease"](default_config("ease")).fit(full_data(ws)), ws.interactions.last_id())
    ensure_keys(root)  # one key pair for every copy, so that signed files can be compared
    return root




@pytest.fixture(scope="session")
def trained_creator(trained, tmp_path_factory):
    """`trained` with a toy creator as well (a few training steps)."""
    from generec.creator.training import train_creator
    from helpers import TOY_BUDGET, TOY_CREATOR

    root = tmp_path_factory.mktemp("batch-creator") / "ws"
    shutil.copytree(trained, root)
    with Workspace.open(root) as ws:
        train_creator(ws, TOY_CREATOR, TOY_BUDGET)
    return root
