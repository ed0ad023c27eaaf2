"""`generec train --model creator`, `generec create`, `generec edit regenerate`, `evaluate creator` as a user runs them."""

import json
import shutil

import av
import pytest
from helpers import generec

TOY_TOML = """
[creator]
image_size = 32
sample_steps = 4
[creator.autoencoder]
block_out_channels = [8, 16, 32]
norm_num_groups = 8
batch_size = 8
[creator.denoiser]
block_out_channels = [32, 64]
attention = [false, true]
norm_num_groups = 8
batch_size = 8
"""


@pytest.fixture(scope="module")
def trained(tiny_bench, tmp_path_factory):
    root = tmp_path_factory.mktemp("cli-creator") / "ws"
    shutil.copytree(tiny_bench[0], root)
    (root.parent / "toy.toml").write_text(TOY_TOML)
    run = generec("train", "--model", "creator", "--steps", "8", "--config", root.parent / "toy.toml", "-w", root)
    assert run.returncode == 0, run.stderr
    assert "trained creator" in run.stdout and "8 denoiser steps" in run.stdout
    return root


@pytest.fixture
def ws_root(trained, tmp_path):
    root = tmp_path / "ws"
    shutil.copytree(trained, root)
    return root


def test_create_makes_a_playable_mp4(ws_root):
    run = generec("create", "--user", "u00001", "--instruction", "make me a cartoon video of food", "--n", "1", "--json", "-w", ws_root)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    [made] = out["created"]
    assert made["origin"] == "ai_created" and made["params"]["look"] == "cartoon" and "food" in made["tags"]
    with av.open(made["media_path"]) as c:
        assert c.streams.video[0].codec_context.name == "h264" and sum(1 for _ in c.decode(video=0)) >= 60
    stats = json.loads(generec("data", "stats", "-w", ws_root, "--json").stdout)
    assert stats["items_by_origin"]["ai_created"] == 1
    text = generec("create", "--user", "u00002", "--n", "1", "-w", ws_root)
    assert text.returncode == 0 and "created for u00002" in text.stdout, text.stderr


def test_impossible_requests_exit_2_and_store_nothing(ws_root):
    run = generec("create", "-u", "u00001", "--instruction", "make me a 0.1 second video of cats", "--json", "-w", ws_root)
    assert run.returncode == 2 and "at least 1 s" in json.loads(run.stdout)["reason"]
    run = generec("create", "-u", "u00001", "--instruction", "make me a video full of gore", "-w", ws_root)
    assert run.returncode == 1 and "blocked content" in run.stderr and "Traceback" not in run.stderr
    stats = json.loads(generec("data", "stats", "-w", ws_root, "--json").stdout)
    assert "ai_created" not in stats["items_by_origin"]


def test_bad_inputs_get_one_line(ws_root, tiny_bench, tmp_path):
    run = generec("create", "-u", "nobody", "-w", ws_root)
    assert run.returncode == 1 and "unknown user" in run.stderr
    run = generec("create", "-u", "u00001", "--backend", "diffusers", "--diffusers-path", tmp_path, "-w", ws_root)
    assert run.returncode == 1 and "not a diffusers pipeline directory" in run.stderr
    untrained = tmp_path / "untrained"
    shutil.copytree(tiny_bench[0], untrained)
    run = generec("create", "-u", "u00001", "-w", untrained)
    assert run.returncode == 1 and "generec train --model creator" in run.stderr and len(run.stderr.strip().splitlines()) == 1
    run = generec("train", "--model", "creator", "--minutes", "0", "-w", untrained)
    assert run.returncode == 1 and "minutes" in run.stderr
    run = generec("train", "--model", "ease", "--minutes", "3", "-w", untrained)
    assert run.returncode == 1 and "--model creator only" in run.stderr


def test_edit_regenerate_and_the_quick_evaluation(ws_root):
    run = generec("edit", "regenerate", "-u", "u00001", "-i", "v00003", "--strength", "0.5", "--json", "-w", ws_root)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["op"] == "regenerate" and out["params"]["strength"] == 0.5 and out["item"]["parent_id"] == "v00003"
    assert set(out["oracle"]) == {"P(click) original", "P(click) regenerated"}
    run = generec("edit", "regenerate", "-u", "u00001", "-i", "v00003", "--strength", "2", "-w", ws_root)
    assert run.returncode == 1 and "[0, 1]" in run.stderr
    run = generec("evaluate", "creator", "--quick", "--combos", "3", "--users", "3", "--json", "-w", ws_root)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["asked"]["n"] == 3 and 0.0 <= report["asked"]["concept_accuracy"] <= 1.0
