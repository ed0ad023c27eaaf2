"""`evaluate_creator` end to end on the toy creator: every table is filled from pixels, at toy sizes."""

from __future__ import annotations

import math
import shutil

import numpy as np
import pytest

from generec.creator.training import train_creator
from generec.evaluation.creation import CreatorEvalConfig, evaluate_creator
from generec.evaluation.generation_metrics import diversity, fd_effnet, near_duplicate_threshold, phash_bits
from generec.workspace import Workspace
from helpers import TOY_BUDGET, TOY_CREATOR


def test_fd_is_near_zero_for_the_same_distribution_and_grows_with_a_shift():
    rng = np.random.default_rng(0)
    real = rng.standard_normal((600, 32))
    same = fd_effnet(rng.standard_normal((100, 32)), real, rng, dims=8)
    shifted = fd_effnet(rng.standard_normal((100, 32)) + 1.0, real, rng, dims=8)
    assert same["ratio"] < 2.0 and shifted["fd_generated"] > 5 * same["fd_generated"]
    with pytest.raises(ValueError, match="at least"):
        fd_effnet(real[:100], real[:200], rng)


def test_phash_finds_copies_and_the_catalogue_threshold():
    rng = np.random.default_rng(1)
    images = [(rng.random((40, 40, 3)) * 255).astype(np.uint8) for _ in range(4)]
    bits = phash_bits(images + [images[0]])
    threshold, nn = near_duplicate_threshold(bits, np.array([0, 1, 2, 3, 4]), percentile=0)
    assert threshold == 0 and nn[0] == 0 and nn[1] > 10
    assert diversity(np.eye(3)) == pytest.approx(1.0) and diversity(np.ones((2, 4))) == pytest.approx(0.0)


def test_the_whole_evaluation_runs_on_the_toy_creator(tiny_bench, tmp_path):
    root = tmp_path / "ws"
    shutil.copytree(tiny_bench[0], root)
    with Workspace.open(root) as ws:
        train_creator(ws, TOY_CREATOR, TOY_BUDGET)
        report = evaluate_creator(ws, CreatorEvalConfig(n_users=3, combos=2, regenerate_users=2, diversity_users=1))
    assert report.asked["n"] == 2 and 0.0 <= report.asked["concept_accuracy"] <= 1.0
    assert 0.0 < report.for_user["ctr_created"] < 1.0 and 0.0 < report.for_user["ctr_random"] < 1.0
    assert report.realism["fd_generated"] > 0 and report.realism["n_covers"] == 2 and not math.isnan(report.realism["within_user_diversity"])
    assert set(report.covers) == {"original", "regenerated"} and 0.0 < report.covers["regenerated"]["CTR@5"] < 1.0
    assert len(report.info["rows"]) == 2
    if report.revision["n"]:  # the skipped first covers were revised, and both were judged
        assert 0.0 < report.revision["rejected_ctr"] < 1.0 and 0.0 < report.revision["revision_ctr"] < 1.0


def test_the_activation_study_serves_create_requests_with_the_creator(tiny_bench, tmp_path):
    from generec.evaluation.activation import ActivationStudyConfig, activation_study
    from generec.evaluation.activation_create import catalogue_seconds
    from generec.datasets.oracle import Oracle

    root = tmp_path / "ws"
    shutil.copytree(tiny_bench[0], root)
    with Workspace.open(root) as ws:
        train_creator(ws, TOY_CREATOR, TOY_BUDGET)
        cfg = ActivationStudyConfig(n_users=2, k=3, templates=("concept",), create=True, create_per_user=1)
        report = activation_study(ws, config=cfg)
        oracle = Oracle.load(ws.oracle_dir)
    create = [r for r in report.requests if r.template == "create"]
    assert len(create) == 2 and len(report.requests) == 4
    seconds = catalogue_seconds(oracle)
    for r in create:  # the rarest of the user's three favourite looks for their favourite concept
        taste = oracle.users[r.user_id].style
        top3 = np.argsort(-taste)[:3]
        assert seconds[r.concept, oracle.styles.index(r.look)] == min(seconds[r.concept, s] for s in top3)
    assert report.modes_by_template["create"]["create"] == 2 and report.info["items_created"] == 2
    t = report.templates["create"]["instructor"]
    assert 0.0 <= t["ctr@k"] <= 1.0 and np.isfinite(t["utility@k"])
    assert np.isfinite(report.overall["instructor"]["utility_label@k"])  # created items leave the label columns out


def test_the_evaluation_sharded_on_local_ray_equals_the_sequential_run(tiny_bench, tmp_path):
    from generec.batch.shards import ShardConfig
    from generec.fidelity.keys import ensure_keys

    root = tmp_path / "trained"
    shutil.copytree(tiny_bench[0], root)
    with Workspace.open(root) as ws:
        train_creator(ws, TOY_CREATOR, TOY_BUDGET)
    ensure_keys(root)  # one watermark key for both copies (a workspace's own key is random)
    cfg = CreatorEvalConfig(n_users=3, combos=3, regenerate_users=2, diversity_users=2)
    reports = {}
    for workers in (0, 2):  # each on a copy of its own: nothing made by one run is found by the other
        shutil.copytree(root, tmp_path / f"w{workers}")
        with Workspace.open(tmp_path / f"w{workers}") as ws:
            reports[workers] = evaluate_creator(ws, cfg, shards=ShardConfig(workers=workers))
            made = sorted(i.id for i in ws.items.all() if i.origin.value != "human")
            reports[workers].info["made"] = made
            assert len(made) == len(set(made)) >= 3  # every created and regenerated item stored once
    seq, par = reports[0], reports[2]
    assert par.info["workers"] == 2 and seq.info["workers"] == 0
    drop = lambda rows: [{k: v for k, v in r.items() if k != "seconds"} for r in rows]  # noqa: E731
    assert drop(par.info["rows"]) == drop(seq.info["rows"]) and par.info["made"] == seq.info["made"]
    for part in ("for_user", "covers", "realism"):  # as text: nan (no satisfying item served) equals nan
        assert str(getattr(par, part)) == str(getattr(seq, part)), part
    assert str(par.revision) == str(seq.revision)  # nan where no first cover was skipped, in both
    assert {k: v for k, v in par.asked.items() if k != "median_seconds"} == {k: v for k, v in seq.asked.items() if k != "median_seconds"}
