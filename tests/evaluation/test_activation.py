"""The activation study on the tiny benchmark: a few users, short feeds."""

from __future__ import annotations

import shutil

import pytest

from generec.errors import InputError
from generec.evaluation.activation import METRICS, ActivationStudyConfig, activation_study
from generec.workspace import Workspace


@pytest.fixture(scope="module")
def bench(tiny_bench, tmp_path_factory):
    root = tmp_path_factory.mktemp("activation") / "ws"
    shutil.copytree(tiny_bench[0], root)
    ws = Workspace.open(root)
    yield ws
    ws.close()


def counts(ws: Workspace) -> tuple[int, int, int]:
    return ws.items.count(), ws.interactions.count(), ws.instructions.count()


def test_study_compares_retrieval_with_activation(bench):
    before = counts(bench)
    cfg = ActivationStudyConfig(n_users=3, k=3, seed=0)
    report = activation_study(bench, config=cfg)
    assert counts(bench) == before  # edits are chosen, never stored
    assert report.info["users"] == 3 and report.info["instructions"] == 9
    assert report.info["retriever"] == "ease (fitted in memory)"
    assert sum(report.modes.values()) == 9 and report.modes_by_template["concept"]["repurpose"] == 0
    for policy in ("retrieval", "instructor"):
        assert set(report.overall[policy]) == {f"{m}@{k}" for m in METRICS for k in ("1", "k")}
        assert 0.0 <= report.overall[policy]["satisfied@k"] <= 1.0
    # the control: where retrieval is enough both ways are the same feed
    concept = report.templates["concept"]
    if report.modes_by_template["concept"]["create"] == 0:
        assert concept["instructor"] == concept["retrieval"]
    # edits serve what was asked for: clips are short enough, restyles have the look
    if report.modes["repurpose"]:
        assert report.overall["instructor"]["satisfied@k"] >= report.overall["retrieval"]["satisfied@k"]
    assert report.gains["utility@k"] == pytest.approx(
        report.overall["instructor"]["utility@k"] / report.overall["retrieval"]["utility@k"] - 1.0
    )
    # deterministic for a seed
    again = activation_study(bench, config=cfg)
    assert again.overall == report.overall and again.modes == report.modes


def test_study_inputs(bench, tmp_path):
    with pytest.raises(InputError, match="templates"):
        ActivationStudyConfig(templates=("vibes",))
    with pytest.raises(InputError, match="n_users"):
        ActivationStudyConfig(n_users=0)
    with Workspace.open(tmp_path / "empty", create=True) as empty, pytest.raises(Exception, match="oracle"):
        activation_study(empty, n_users=1)
