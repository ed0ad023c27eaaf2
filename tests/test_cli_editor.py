"""`generec edit ...`, `evaluate editor`, `bench editor` as a user runs them: real subprocesses."""

import json
import shutil
import subprocess
import sys

import pytest

from helpers import snapshot

pytest_plugins = ["editor.conftest"]


def generec(*args):
    return subprocess.run([sys.executable, "-m", "generec", *map(str, args)], capture_output=True, text=True, timeout=600)


@pytest.fixture
def ws_root(catalogue_root, tmp_path):
    root = tmp_path / "ws"
    shutil.copytree(catalogue_root, root)
    return root


def test_edit_commands_print_and_store(ws_root):
    run = generec("edit", "cover", "--user", "animal_lover0", "--item", "m_food_cat", "-w", ws_root)
    assert run.returncode == 0, run.stderr
    assert "m_food_cat~cover-" in run.stdout and "cover:" in run.stdout
    run = generec("edit", "clip", "-u", "food_lover0", "-i", "m_food_cat", "--length", "1.5", "--json", "-w", ws_root)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["satisfied"] and out["op"] == "clip" and out["item"]["origin"] == "ai_edited" and out["item"]["parent_id"] == "m_food_cat"
    assert out["params"]["end"] - out["params"]["start"] == pytest.approx(1.5)
    run = generec("edit", "style", "-u", "food_lover0", "-i", "m_food_cat", "--instruction", "make it a sketch", "--json", "-w", ws_root)
    assert run.returncode == 0, run.stderr and json.loads(run.stdout)["params"]["style"] == "sketch"
    stats = json.loads(generec("data", "stats", "-w", ws_root, "--json").stdout)
    assert stats["items_by_origin"]["ai_edited"] == 3


def test_edit_bad_inputs_exit_non_zero_and_change_nothing(ws_root):
    before = snapshot(ws_root)
    run = generec("edit", "cover", "-u", "ghost", "-i", "m_food_cat", "-w", ws_root)
    assert run.returncode == 1 and "unknown user 'ghost'" in run.stderr
    run = generec("edit", "cover", "-u", "food_lover0", "-i", "v999", "-w", ws_root)
    assert run.returncode == 1 and "unknown item 'v999'" in run.stderr
    run = generec("edit", "clip", "-u", "food_lover0", "-i", "m_food_cat", "--instruction", "under 1 second", "--length", "0.5", "--json", "-w", ws_root)
    assert run.returncode == 2 and json.loads(run.stdout)["satisfied"] is False
    run = generec("edit", "clip", "-u", "food_lover0", "-i", "m_food_cat", "--instruction", "at least 40 seconds", "-w", ws_root)
    assert run.returncode == 2 and "cannot satisfy" in run.stderr
    assert snapshot(ws_root) == before


def test_evaluate_and_bench_editor(tiny_bench, tmp_path):
    root = tmp_path / "bench"
    shutil.copytree(tiny_bench[0], root)
    run = generec("evaluate", "editor", "--users", "2", "-w", root)
    assert run.returncode == 0, run.stderr
    assert "original cover" in run.stdout and "0.4796" in run.stdout and "generec cover vs original" in run.stdout
    assert json.loads((root / "reports" / "evaluate-editor.json").read_text())["info"]["users"] == 2
    run = generec("bench", "editor", "--videos", "3", "--users", "2", "--repeats", "1", "--json", "-w", root)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["videos"] == 3
