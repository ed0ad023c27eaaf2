"""`generec instruct` and `generec evaluate instructor` as a user runs them."""

import json
import shutil
import subprocess
import sys

import pytest

from helpers import snapshot

pytestmark = pytest.mark.slow


def generec(*args):
    return subprocess.run([sys.executable, "-m", "generec", *map(str, args)], capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def trained(tiny_bench, tmp_path_factory):
    root = tmp_path_factory.mktemp("instruct") / "ws"
    shutil.copytree(tiny_bench[0], root)
    run = generec("train", "--model", "ease", "-w", root)
    assert run.returncode == 0, run.stderr
    return root


def test_instruct_prints_guidance_and_a_changed_feed(trained):
    plain = json.loads(generec("recommend", "--user", "u00001", "-k", "5", "--json", "-w", trained).stdout)
    run = generec("instruct", "--user", "u00001", "no more food or animals please", "--apply", "-k", "5", "--json", "-w", trained)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert set(out["guidance"]["exclude"]) >= {"food", "animal"}
    ids = [e["item_id"] for e in out["feed"]["items"]]
    assert len(ids) == 5 and ids != [s["item_id"] for s in plain["items"]]
    # the turn was stored, redacted
    run = generec("instruct", "--user", "u00001", "mail me at jo@example.com, more space", "--session", "s2", "--json", "-w", trained)
    assert run.returncode == 0 and "jo@example.com" not in run.stdout
    import sqlite3

    texts = [r[0] for r in sqlite3.connect(trained / "generec.db").execute("SELECT text FROM instructions")]
    assert texts and not any("jo@example.com" in t for t in texts)


def test_instruct_batch(trained, tmp_path):
    batch = tmp_path / "in.jsonl"
    batch.write_text('{"text": "cartoons under 10 seconds", "user": "u00002"}\n{"text": "   ", "user": "u00002"}\n{"text": "more plants"}\n')
    run = generec("instruct", "--batch", batch, "--user", "u00003", "-w", trained)
    assert run.returncode == 1  # one line refused
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    assert lines[0]["guidance"]["style"] == "cartoon" and lines[0]["guidance"]["max_duration_s"] == 10
    assert "error" in lines[1] and lines[2]["user"] == "u00003"


def test_instruct_bad_input_stores_nothing(trained):
    before = snapshot(trained)
    for args in (["--user", "ghost", "more cats"], ["--user", "u00001", ""], ["--user", "u00001", "x" * 5000]):
        run = generec("instruct", *args, "-w", trained)
        assert run.returncode == 1 and "error" in run.stderr
    assert snapshot(trained) == before


def test_evaluate_instructor(trained):
    run = generec("evaluate", "instructor", "--users", "3", "--json", "-w", trained)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    p = out["parser"]
    assert p["n"] >= 150 and p["mode_accuracy"] >= 0.9 and p["include_f1"] >= 0.85 and p["exclude_f1"] >= 0.85 and p["duration_accuracy"] >= 0.95
    assert set(out["activation"]["overall"]) >= {"retrieval", "instructor"}
