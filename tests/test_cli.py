"""The CLI as a user runs it: a real subprocess, real files, exit codes and JSON on stdout."""

import json
import os

import pandas as pd

from helpers import generec, make_video, snapshot


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
    assert len(rec["items"]) == 5 and rec["fallback"] is None and rec["note"] is None
    stranger = json.loads(generec("recommend", "--user", "nobody", "-k", "3", "-w", ws, "--json").stdout)
    assert stranger["fallback"] == "popularity: unknown user"
    for k in ("0", "-2"):
        run = generec("recommend", "--user", active, "-k", k, "-w", ws)
        assert run.returncode != 0 and ("k must be" in run.stderr or "Invalid value" in run.stderr)
    # -k above the catalogue: every item the user has not seen, with a note
    n_items, n_seen = 30, len(set(clicks.query("user_id == @active").item_id))
    rec = json.loads(generec("recommend", "--user", active, "-k", "100000", "-w", ws, "--json").stdout)
    assert len(rec["items"]) == n_items - n_seen and len({r["item_id"] for r in rec["items"]}) == len(rec["items"])
    assert rec["note"] == f"{n_items - n_seen} items, not 100000: the catalogue of ease has {n_items} items; the other {n_seen} are seen or excluded"
    run = generec("recommend", "--user", "nobody", "-k", "31", "-w", ws)
    assert run.returncode == 0 and "note: 30 items, not 31: the catalogue of ease has 30 items" in run.stderr
    # new feedback changes the data: the old checkpoint is refused until retrained
    with Workspace.open(ws) as w:
        liked = set(w.interactions.frame(["click", "like"]).query("user_id == @active").item_id)
        fresh = next(i for i in w.items.ids() if i not in liked)
        w.interactions.add(Interaction(active, fresh, 2e9, Event.LIKE))
    run = generec("recommend", "--user", active, "-w", ws)
    assert run.returncode == 1 and "trained on other data" in run.stderr


def _tiny_import(tmp_path):
    """A text-only catalogue imported into tmp_path/ws: items.csv, inter.csv and the workspace."""
    pd.DataFrame({"item_id": ["a", "b"], "title": ["x", "y"]}).to_csv(tmp_path / "items.csv", index=False)
    pd.DataFrame({"user_id": ["u", "u"], "item_id": ["a", "b"], "timestamp": [1, 2]}).to_csv(tmp_path / "inter.csv", index=False)
    ws = tmp_path / "ws"
    run = generec("data", "import", "--items", tmp_path / "items.csv", "--interactions", tmp_path / "inter.csv", "-w", ws)
    assert run.returncode == 0, run.stderr
    return ws


def _one_error_line(run):
    assert run.returncode == 1
    assert "Traceback" not in run.stderr and "[Errno" not in run.stderr, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), run.stderr
    return lines[0]


def test_errors_are_one_clear_line(tmp_path):
    ws = _tiny_import(tmp_path)
    inter = tmp_path / "inter.csv"
    # a directory where a file is expected
    (tmp_path / "folder").mkdir()
    line = _one_error_line(generec("data", "import", "--items", tmp_path / "folder", "--interactions", inter, "-w", ws))
    assert line == f"error: items table {tmp_path / 'folder'} is a directory, expected a csv file"
    # an OS error no check foresaw: plain words, the file named, the type
    long_name = tmp_path / ("x" * 300 + ".csv")
    line = _one_error_line(generec("data", "import", "--items", long_name, "--interactions", inter, "-w", ws))
    assert line == f"error: cannot open {long_name}: file name too long (OSError); rerun with --debug for the traceback"
    # a file that is not a database where the workspace's database should be
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "generec.db").write_text("not sqlite\n" * 100)
    line = _one_error_line(generec("data", "stats", "-w", tmp_path / "bad"))
    assert "generec.db is not a readable generec database: expected an SQLite file" in line
    # an unexpected exception: its message and type; --debug (or GENEREC_DEBUG=1) adds the traceback
    (ws / "models" / "current.json").write_text("{half a json")
    line = _one_error_line(generec("recommend", "--user", "u", "-w", ws))
    assert line.startswith("error: Expecting property name enclosed in double quotes") and "(JSONDecodeError); rerun with --debug" in line
    for run in (generec("--debug", "recommend", "--user", "u", "-w", ws), generec("recommend", "--user", "u", "-w", ws, env={**os.environ, "GENEREC_DEBUG": "1"})):
        assert run.returncode == 1 and "Traceback (most recent call last)" in run.stderr
        assert run.stderr.strip().splitlines()[-1].startswith("error: Expecting property name") and "--debug" not in run.stderr.strip().splitlines()[-1]


def test_brackets_are_shown_as_written(tmp_path):
    # in help texts
    run = generec("data", "import", "--help")
    assert run.returncode == 0
    text = " ".join(run.stdout.split())  # help is wrapped to the terminal
    assert "Workspace directory [default: $GENEREC_HOME, else ./workspace]." in text
    assert "item_id[, title, text, tags, kind, media, uploader, created_at]" in text
    assert "symbolic links [default: refused]" in text
    # in errors that quote user input: Rich must neither drop "[b]" nor choke on "[/b]"
    for name in ("my[b]items.csv", "my[/b]items.csv"):
        line = _one_error_line(generec("data", "import", "--items", tmp_path / name, "--interactions", tmp_path / "inter.csv", "-w", tmp_path / "ws"))
        assert line == f"error: items table {tmp_path / name} does not exist"


def test_import_media_outside_media_dir_needs_the_flag(tmp_path):
    (tmp_path / "media").mkdir()
    make_video(tmp_path / "elsewhere.mp4", n=6)
    pd.DataFrame({"item_id": ["v"], "media": ["../elsewhere.mp4"]}).to_csv(tmp_path / "items.csv", index=False)
    pd.DataFrame({"user_id": ["u"], "item_id": ["v"], "timestamp": [1]}).to_csv(tmp_path / "inter.csv", index=False)
    args = ("data", "import", "--items", tmp_path / "items.csv", "--interactions", tmp_path / "inter.csv", "--media-dir", tmp_path / "media", "-w", tmp_path / "ws")
    run = generec(*args)
    assert run.returncode == 1 and "items.csv line 2: media '../elsewhere.mp4' goes up with '..'" in run.stderr
    run = generec(*args, "--allow-outside-media-dir", "--json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["n_media"] == 1


def test_import_into_a_busy_workspace_waits_then_says_so(tmp_path):
    from generec.workspace import Workspace

    ws = _tiny_import(tmp_path)
    pd.DataFrame({"item_id": ["c"]}).to_csv(tmp_path / "more.csv", index=False)
    (tmp_path / "cfg.toml").write_text("[import]\nlock_timeout_s = 1.0\n")
    before = snapshot(ws)
    with Workspace.open(ws) as other, other.lock("a test holding the workspace"):
        run = generec("data", "import", "--items", tmp_path / "more.csv", "--interactions", tmp_path / "inter.csv", "-w", ws, "--config", tmp_path / "cfg.toml")
    assert run.returncode == 1
    assert f"workspace {ws} is busy (another generec process is writing); waiting up to 1 s to import more.csv" in run.stderr
    assert f"error: workspace {ws} is busy: another generec process holds generec.lock" in run.stderr
    assert snapshot(ws) == before


def test_brackets_in_data_are_printed_as_written(tmp_path):
    # a workspace path, an item id and a title holding "[...]": printed as is, not taken for Rich markup
    pd.DataFrame({"item_id": ["a[x]", "b"], "title": ["show me [cats] [b]now", "y"]}).to_csv(tmp_path / "items.csv", index=False)
    pd.DataFrame({"user_id": ["u", "u", "v"], "item_id": ["a[x]", "b", "b"], "timestamp": [1, 2, 3]}).to_csv(tmp_path / "inter.csv", index=False)
    ws = tmp_path / "my[x]ws"
    run = generec("data", "import", "--items", tmp_path / "items.csv", "--interactions", tmp_path / "inter.csv", "-w", ws)
    assert run.returncode == 0, run.stderr
    assert f"into {ws}" in run.stdout
    run = generec("data", "stats", "-w", ws)
    assert run.returncode == 0 and f"workspace{ws}" in "".join(run.stdout.split()), run.stdout  # the title wraps
    run = generec("train", "--model", "mostpop", "-w", ws)
    assert run.returncode == 0, run.stderr
    assert f"saved to {ws / 'models'}" in run.stdout
    run = generec("recommend", "--user", "v", "-k", "1", "-w", ws)
    assert run.returncode == 0, run.stderr
    assert "a[x]" in run.stdout and "show me [cats] [b]now" in run.stdout
