"""`generec edit ...`, `evaluate editor`, `bench editor` as a user runs them: real subprocesses."""

import json
import shutil

import pytest

from helpers import generec, snapshot

pytest_plugins = ["editor.conftest"]


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


def test_a_tagless_import_edits_with_the_history_fallback(tagless_tables, tmp_path):
    # a new user's first day: 5 videos of their own, no tags, a few clicks
    root, t = tmp_path / "mine", tagless_tables
    run = generec("data", "import", "--items", t / "items.csv", "--interactions", t / "interactions.csv", "--media-dir", t / "media", "-w", root)
    assert run.returncode == 0, run.stderr
    fallback = "preference: history (fallback: the catalogue has no tag on >= 5 covers)"
    for op in ("cover", "clip", "style"):
        run = generec("edit", op, "-u", "ann", "-i", "v2", "-w", root)
        assert run.returncode == 0, run.stderr
        assert f"{op} of v2 for ann" in run.stdout and fallback in run.stdout and "no look judge" in run.stdout
    run = generec("edit", "style", "-u", "bob", "-i", "v0", "--instruction", "make it a sketch", "--json", "-w", root)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["params"]["style"] == "sketch" and out["preference"] == fallback.removeprefix("preference: ")
    assert out["item"]["provenance"]["preference_fallback"] == "the catalogue has no tag on >= 5 covers"


def test_instruct_apply_on_a_tagless_import_really_edits(tagless_tables, tmp_path):
    root, t = tmp_path / "mine", tagless_tables
    assert generec("data", "import", "--items", t / "items.csv", "--interactions", t / "interactions.csv", "--media-dir", t / "media", "-w", root).returncode == 0
    assert generec("train", "--model", "ease", "-w", root).returncode == 0
    run = generec("instruct", "make v2 black and white", "-u", "ann", "--apply", "--json", "-w", root)
    assert run.returncode == 0, run.stderr
    feed = json.loads(run.stdout)["feed"]
    # the edit leads the feed: not plain retrieval with the failure hidden in a note
    assert feed["mode"] == "repurpose" and feed["items"][0]["way"] == "repurpose" and feed["items"][0]["origin"] == "ai_edited"
    assert feed["edits"][0]["params"]["style"] == "black_and_white" and feed["edits"][0]["parent_id"] == "v2"
    assert not any("could not" in n for n in feed["notes"])
    assert any("preference: history (fallback" in n for n in feed["notes"])


def test_train_bridge_fits_and_saves_the_contrastive_bridge(tiny_bench, tmp_path):
    root = tmp_path / "bench"
    shutil.copytree(tiny_bench[0], root)
    run = generec("train", "--model", "bridge", "--epochs", "4", "--seed", "1", "-w", root)
    assert run.returncode == 0, run.stderr
    assert "trained bridge on 30 (title + tags, cover) pairs" in run.stdout and "held-out text -> cover recall@1" in run.stdout
    assert "bridge epochs" in run.stderr  # progress
    saved = json.loads((root / "models" / "bridge" / "config.json").read_text())
    assert saved["kind"] == "contrastive-bridge" and saved["config"]["epochs"] == 4 and saved["config"]["seed"] == 1
    assert saved["train_log"]["epochs"] <= 4 and saved["train_log"]["n_train"] + saved["train_log"]["n_valid"] == 30
    # the same seed gives the same weights
    first = saved["weights_sha256"]
    run = generec("train", "--model", "bridge", "--epochs", "4", "--seed", "1", "--json", "-w", root)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["model"] == "bridge" and out["held_out"] == 4 and out["chance_recall@1"] == pytest.approx(0.25)
    assert json.loads((root / "models" / "bridge" / "config.json").read_text())["weights_sha256"] == first


def test_train_bridge_refuses_bad_flags(tiny_bench, tmp_path):
    root = tmp_path / "bench"
    shutil.copytree(tiny_bench[0], root)
    run = generec("train", "--model", "bridge", "--epochs", "0", "-w", root)
    assert run.returncode == 1 and "--epochs must be at least 1, got 0" in run.stderr
    run = generec("train", "--model", "ease", "--epochs", "3", "-w", root)
    assert run.returncode == 1 and "--epochs applies to --model bridge only" in run.stderr
    assert not (root / "models" / "bridge").exists()


def test_edit_output_shows_brackets_as_written(tagless_tables, tmp_path):
    root, t = tmp_path / "my[x]ws", tagless_tables
    run = generec("data", "import", "--items", t / "items.csv", "--interactions", t / "interactions.csv", "--media-dir", t / "media", "-w", root)
    assert run.returncode == 0, run.stderr
    run = generec("edit", "cover", "-u", "ann", "-i", "v2", "--instruction", "a [b]warm[/b] cover [x]", "-w", root)
    assert run.returncode == 0, run.stderr
    assert f"  video: {root}" in run.stdout and f"  cover: {root}" in run.stdout, run.stdout


def test_bench_editor_refuses_an_unknown_backend(tmp_path):
    run = generec("bench", "editor", "--backends", "torch,tensorrt", "-w", tmp_path / "none")
    assert run.returncode == 1 and run.stdout == ""
    assert "ImageEncoderConfig.backend: expected one of torch, onnx, onnx-int8, found 'tensorrt'" in run.stderr
    assert "Traceback" not in run.stderr and not (tmp_path / "none").exists()
