"""The CLI as a user runs it: a real subprocess, real files, exit codes and JSON on stdout."""

import json
import subprocess
import sys

import pandas as pd

from helpers import make_video, snapshot


def generec(*args, env=None):
    return subprocess.run([sys.executable, "-m", "generec", *map(str, args)], capture_output=True, text=True, env=env, timeout=300)


def test_build_stats_json(tmp_path):
    ws = tmp_path / "ws"
    run = generec("data", "build", "microvideo", "--size", "tiny", "--workspace", ws, "--json")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["n_videos"] == 30 and report["workspace"] == str(ws)
    stats = json.loads(generec("data", "stats", "-w", ws, "--json").stdout)
    assert stats["items"] == 30 and stats["events"]["impression"] == report["n_impressions"]
    # building again into the same workspace needs --overwrite, and changes nothing without it
    before = snapshot(ws)
    again = generec("data", "build", "microvideo", "--size", "tiny", "-w", ws)
    assert again.returncode == 1 and "--overwrite" in again.stderr
    assert snapshot(ws) == before


def test_workspace_from_environment(tmp_path):
    import os

    env = {**os.environ, "GENEREC_HOME": str(tmp_path / "home")}
    run = generec("data", "stats", env=env)
    assert run.returncode == 1 and "no workspace at" in run.stderr and str(tmp_path / "home") in run.stderr


def test_unknown_names_list_valid_ones(tmp_path):
    run = generec("data", "build", "imagenet", "-w", tmp_path / "ws")
    assert run.returncode == 1 and "valid names: microvideo" in run.stderr
    run = generec("data", "load", "movielens-1m", "-w", tmp_path / "ws")
    assert run.returncode == 1 and "valid names: movielens-100k" in run.stderr
    assert not (tmp_path / "ws").exists()


def test_import_errors_exit_non_zero(tmp_path):
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "x.mp4").write_bytes(b"")
    make_video(tmp_path / "media" / "ok.mp4", n=6)
    pd.DataFrame({"item_id": ["ok", "x"], "media": ["ok.mp4", "x.mp4"]}).to_csv(tmp_path / "items.csv", index=False)
    pd.DataFrame({"user_id": ["u"], "item_id": ["ok"], "timestamp": [1]}).to_csv(tmp_path / "inter.csv", index=False)
    ws = tmp_path / "ws"
    run = generec("data", "import", "--items", tmp_path / "items.csv", "--interactions", tmp_path / "inter.csv", "--media-dir", tmp_path / "media", "-w", ws)
    assert run.returncode == 1
    assert "items.csv line 3" in run.stderr and "x.mp4" in run.stderr and "empty (0-byte) file" in run.stderr
    stats = json.loads(generec("data", "stats", "-w", ws, "--json").stdout)
    assert stats["items"] == 0 and stats["media_files"] == 0
    pd.DataFrame({"item_id": ["ok"], "media": ["ok.mp4"]}).to_csv(tmp_path / "items.csv", index=False)
    run = generec("data", "import", "--items", tmp_path / "items.csv", "--interactions", tmp_path / "inter.csv", "--media-dir", tmp_path / "media", "-w", ws, "--json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["n_media"] == 1


def test_help_lists_commands():
    run = generec("data", "--help")
    assert run.returncode == 0
    for command in ("build", "load", "import", "stats"):
        assert command in run.stdout


def test_train_recommend_and_bad_inputs(tmp_path, tiny_bench):
    import shutil

    from generec.types import Event, Interaction
    from generec.workspace import Workspace

    ws = tmp_path / "ws"
    shutil.copytree(tiny_bench[0], ws)
    with Workspace.open(ws) as w:
        clicks = w.interactions.frame(["click"])
    active = clicks.user_id.value_counts().index[0]  # a user with training positives
    # unknown model: lists valid names, writes nothing
    run = generec("train", "--model", "svd++", "-w", ws)
    assert run.returncode == 1 and "valid names:" in run.stderr and "ease" in run.stderr
    assert list((ws / "models").iterdir()) == []
    run = generec("recommend", "--user", active, "-w", ws)
    assert run.returncode == 1 and "generec train" in run.stderr
    # train, then recommend as JSON
    run = generec("train", "--model", "ease", "-w", ws, "--json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["model"] == "ease"
    rec = json.loads(generec("recommend", "--user", active, "-k", "5", "-w", ws, "--json").stdout)
    assert len(rec["items"]) == 5 and rec["fallback"] is None
    stranger = json.loads(generec("recommend", "--user", "nobody", "-k", "3", "-w", ws, "--json").stdout)
    assert stranger["fallback"] == "popularity: unknown user"
    for k in ("0", "-2", "100000"):
        run = generec("recommend", "--user", active, "-k", k, "-w", ws)
        assert run.returncode != 0 and ("k must be" in run.stderr or "larger than the catalogue" in run.stderr or "Invalid value" in run.stderr)
    # new feedback changes the data: the old checkpoint is refused until retrained
    with Workspace.open(ws) as w:
        liked = set(w.interactions.frame(["click", "like"]).query("user_id == @active").item_id)
        fresh = next(i for i in w.items.ids() if i not in liked)
        w.interactions.add(Interaction(active, fresh, 2e9, Event.LIKE))
    run = generec("recommend", "--user", active, "-w", ws)
    assert run.returncode == 1 and "trained on other data" in run.stderr
