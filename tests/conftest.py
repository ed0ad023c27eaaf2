"""Tiny real fixtures: real H.264 files, a real SQLite workspace, a real tiny benchmark, a real
throwaway PostgreSQL cluster."""

from __future__ import annotations

from pathlib import Path

import pytest

from generec.datasets.microvideo import SIZES, build_microvideo
from generec.workspace import Workspace, fresh_workspace

try:  # the tests' models are tiny: one thread avoids oversubscribing a small, shared machine
    import torch

    torch.set_num_threads(1)
except ImportError:
    pass


@pytest.fixture(scope="session")
def tiny_bench(tmp_path_factory: pytest.TempPathFactory):
    """The `tiny` micro-video benchmark, built once per test session: (root, report)."""
    root = tmp_path_factory.mktemp("bench") / "ws"
    with fresh_workspace(root) as ws:
        report = build_microvideo(ws, SIZES["tiny"], size="tiny")
    return root, report


@pytest.fixture
def workspace(tmp_path: Path):
    ws = Workspace.open(tmp_path / "ws", create=True)
    yield ws
    ws.close()


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL cluster of the session (Debian's binaries, a unix socket only), started on first use."""
    from pgcluster import Cluster

    cluster = Cluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request) -> str:
    return request.param


@pytest.fixture
def db_url(engine, request) -> str:
    """`Workspace.open(..., db=db_url)`: "sqlite", or the URL of a new, empty PostgreSQL database."""
    return "sqlite" if engine == "sqlite" else request.getfixturevalue("postgres").new_database()
