"""`generec check / review / verify / keys init` as a user runs them: real subprocesses."""

import json
import shutil

import pytest

from helpers import generec, snapshot

pytest_plugins = ["editor.conftest"]


@pytest.fixture(scope="module")
def edited(catalogue_root, tmp_path_factory):
    """A copy of the editor's catalogue with one flagged cover edit (a strict quality policy)."""
    root = tmp_path_factory.mktemp("cli-fidelity") / "ws"
    shutil.copytree(catalogue_root, root)
    assert generec("keys", "init", "-w", root).returncode == 0
    (root / "policy.toml").write_text('[checks.quality]\naction = "flag"\nmax_sharpness_drop = -5.0\n')
    run = generec("edit", "cover", "-u", "animal_lover0", "-i", "m_food_cat", "--json", "-w", root)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["fidelity"]["decision"] == "flag"
    return root, out


def test_edit_prints_the_verdicts(catalogue_root, tmp_path):
    root = tmp_path / "ws"
    shutil.copytree(catalogue_root, root)
    run = generec("edit", "cover", "-u", "animal_lover0", "-i", "m_food_cat", "-w", root)
    assert run.returncode == 0, run.stderr
    assert "fidelity:" in run.stdout and "privacy" in run.stdout and "safety" in run.stdout


def test_check_prints_the_report_and_changes_nothing(edited):
    root, out = edited
    item = out["item"]["id"]
    before = snapshot(root)
    run = generec("check", item, "--json", "-w", root)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["item_id"] == item and report["decision"] == "flag"
    assert {c["check"] for c in report["checks"]} == {"safety", "privacy", "originality", "authenticity", "quality"}
    run = generec("check", item, "-w", root)
    assert run.returncode == 0 and "quality" in run.stdout
    assert snapshot(root) == before


def test_review_lists_and_decides(edited, tmp_path):
    root, out = edited
    copy = tmp_path / "ws"
    shutil.copytree(root, copy)
    item = out["item"]["id"]
    run = generec("review", "--json", "-w", copy)
    assert run.returncode == 0 and [r["item_id"] for r in json.loads(run.stdout)] == [item]
    run = generec("review", "--approve", item, "--block", item, "-w", copy)
    assert run.returncode == 1 and "not both" in run.stderr
    run = generec("review", "--block", item, "--note", "misleading", "--json", "-w", copy)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["review"] == "blocked"
    assert json.loads(generec("review", "--json", "-w", copy).stdout) == []
    run = generec("review", "--approve", "m_food_cat", "-w", copy)  # a human item is not reviewed
    assert run.returncode == 1 and "m_food_cat" in run.stderr and "Traceback" not in run.stderr


def test_verify_names_the_item_and_refuses_what_it_cannot(edited, tmp_path):
    root, out = edited
    item = out["item"]["id"]
    cover = next((root / "media").rglob("*.png"), None)
    stored = [p for p in (root / "media").rglob("*.png")]
    assert cover is not None
    runs = [generec("verify", str(p), "--json", "-w", root) for p in stored]
    identified = [json.loads(r.stdout) for r in runs if r.returncode == 0]
    assert [v["item"]["id"] for v in identified] == [item] and identified[0]["parent"]["id"] == "m_food_cat"
    assert all(r.returncode == 2 for r in runs if r.returncode != 0)  # the human covers: unmarked
    run = generec("verify", str(tmp_path / "missing.png"), "-w", root)
    assert run.returncode == 1 and "missing.png" in run.stderr and "Traceback" not in run.stderr


def test_keys_init_refuses_to_overwrite_without_force(edited, tmp_path):
    root, _ = edited
    copy = tmp_path / "ws"
    shutil.copytree(root, copy)
    before = snapshot(copy)
    run = generec("keys", "init", "-w", copy)
    assert run.returncode == 1 and "--force" in run.stderr
    assert snapshot(copy) == before
    assert generec("keys", "init", "--force", "--json", "-w", copy).returncode == 0


def test_a_bad_policy_is_one_clear_line(edited, tmp_path):
    root, out = edited
    bad = tmp_path / "bad.toml"
    bad.write_text('[checks.charisma]\naction = "block"\n')
    run = generec("check", out["item"]["id"], "--policy", str(bad), "-w", root)
    assert run.returncode == 1 and "unknown check(s) charisma" in run.stderr and "Traceback" not in run.stderr
    bad.write_text('[checks.quality]\naction = "shrug"\n')
    run = generec("check", out["item"]["id"], "--policy", str(bad), "-w", root)
    assert run.returncode == 1 and "shrug" in run.stderr
