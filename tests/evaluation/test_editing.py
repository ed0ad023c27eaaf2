import dataclasses
import json
import shutil

import numpy as np
import pytest

from generec.editor.look_judge import LookJudgeConfig
from generec.encoders.image import get_image_encoder
from generec.errors import WorkspaceError
from generec.evaluation.editing import CLIP_ROWS, COVER_ROWS, EditorEvalConfig, bench_editor, evaluate_editor
from generec.workspace import Workspace

pytestmark = pytest.mark.slow


@pytest.fixture
def bench_copy(tiny_bench, tmp_path):
    root = tmp_path / "ws"
    shutil.copytree(tiny_bench[0], root)
    ws = Workspace.open(root)
    yield ws
    ws.close()


def test_editor_protocol_on_the_tiny_benchmark(bench_copy):
    cfg = EditorEvalConfig(n_users=3, ks=(1, 2), seed=0)
    report = evaluate_editor(bench_copy, get_image_encoder(), cfg)
    assert set(report.covers) == set(COVER_ROWS) and set(report.clips) == set(CLIP_ROWS)
    for rows, metrics in ((report.covers, ("cos", "ps", "ctr", "ctr_label")), (report.clips, ("cos", "ps", "watch", "seconds", "watch_label"))):
        for vals in rows.values():
            assert set(vals) == {f"{m}@{k}" for m in metrics for k in (1, 2)}
            assert all(np.isfinite(v) for v in vals.values())
    # probabilities and shares are probabilities and shares
    assert all(0 < r["ctr@2"] < 1 for r in report.covers.values())
    assert all(0 < r["watch@2"] <= 1 for r in report.clips.values())
    # every row is scored from the pixels shown, through the judge; the label score is only a column beside it
    assert report.info["scored_by"].startswith("pixels") and report.info["look_tags"] is True
    assert all(r["ctr@2"] != r["ctr_label@2"] for r in report.covers.values())
    assert report.info["frames_judged"] > 0
    # the look classifier is taught on the catalogue's covers in every look the editor renders, so
    # it knows every look; most of the tiny benchmark's users have enough impressions for a taste
    assert set(report.info["look_classes"]) >= {"warm", "cool", "black_and_white", "cartoon", "sketch"}
    assert report.info["users_with_look_judge"] >= 2  # a user with fewer than 10 impressions has no taste
    # the paper's rule holds by construction: the User_Hist frame is the argmax of Cos over keyframes,
    # the original cover is not a keyframe candidate, so only ≥ random is guaranteed
    assert report.covers["frame: User_Hist"]["cos@2"] >= report.covers["random frame"]["cos@2"] - 0.05
    # unclipped = the whole video: its watched seconds are at least the first clip's
    assert report.clips["unclipped"]["seconds@2"] >= report.clips["first clip"]["seconds@2"] - 1e-9
    # the same seed gives the same numbers
    again = evaluate_editor(bench_copy, get_image_encoder(), cfg)
    assert again.covers == report.covers and again.clips == report.clips


def test_the_protocol_sharded_by_user_on_local_ray_equals_the_sequential_run(bench_copy):
    from generec.batch.shards import ShardConfig

    cfg = EditorEvalConfig(n_users=3, ks=(1, 2), seed=0)
    seq = evaluate_editor(bench_copy, get_image_encoder(), cfg)
    par = evaluate_editor(bench_copy, get_image_encoder(), cfg, shards=ShardConfig(workers=2))
    assert par.info["workers"] == 2 and seq.info["workers"] == 0
    assert par.covers == seq.covers and par.clips == seq.clips  # exactly: each user's draws and batches are their own
    assert par.info["frames_judged"] == seq.info["frames_judged"] > 0


def test_bad_shard_settings_are_refused_before_anything_runs(bench_copy):
    from generec.batch.shards import ShardConfig
    from generec.errors import InputError

    with pytest.raises(InputError, match="--workers"):
        ShardConfig(workers=-1)
    with pytest.raises(InputError, match="--workers N"):
        ShardConfig(address="127.0.0.1:6379")
    before = sorted(p.name for p in (bench_copy.root / "reports").glob("*")) if (bench_copy.root / "reports").exists() else []
    with pytest.raises(InputError, match="not reachable"):
        evaluate_editor(bench_copy, get_image_encoder(), EditorEvalConfig(n_users=1, ks=(1,)), shards=ShardConfig(workers=1, address="127.0.0.1:9"))
    after = sorted(p.name for p in (bench_copy.root / "reports").glob("*")) if (bench_copy.root / "reports").exists() else []
    assert before == after


def test_protocol_judges_looks_from_impressions_when_covers_carry_look_tags(bench_copy):
    # tag every cover with the look it shows (a platform with complete look tags), then two tagged
    # covers per look are enough for a class, one impression for a taste
    from generec.datasets.oracle import Oracle

    oracle = Oracle.load(bench_copy.oracle_dir)
    for item_id, video in oracle.videos.items():
        tags = json.loads(bench_copy.db.scalar("SELECT tags FROM items WHERE id = ?", (item_id,)))
        look = oracle.styles[video.segments[0].style]
        bench_copy.db.query("UPDATE items SET tags = ? WHERE id = ?", (json.dumps([t for t in tags if t not in oracle.styles] + [look]), item_id))
    cfg = EditorEvalConfig(n_users=3, ks=(1, 2), seed=0, looks=LookJudgeConfig(min_items=2, min_impressions=1))
    report = evaluate_editor(bench_copy, get_image_encoder(), cfg)
    assert len(report.info["look_classes"]) >= 2 and report.info["users_with_look_judge"] == 3
    assert all(0 < r["ctr@2"] < 1 for r in report.covers.values())
    assert (bench_copy.root / "models" / "look_classifier" / "classifier.json").is_file()
    # with the look words removed from the tags the product reads, the looks are still learnt from
    # the renders (no "natural" class: no cover says it is unedited); the stored tags stay
    stripped = evaluate_editor(bench_copy, get_image_encoder(), dataclasses.replace(cfg, strip_look_tags=True))
    assert set(stripped.info["look_classes"]) == set(oracle.styles) - {"natural"} and stripped.info["look_tags"] is False
    assert "natural" in report.info["look_classes"]  # the tagged run knows it from the covers tagged natural
    assert any(t in oracle.styles for i in bench_copy.items.all() for t in i.tags)


def test_look_tags_are_removed_in_a_view_only(bench_copy):
    from generec.datasets.tags import ALL_LOOK_WORDS
    from generec.evaluation.protocols import catalogue_without_look_tags

    before = {i.id: i.tags for i in bench_copy.items.all()}
    bench_copy.db.query("UPDATE items SET tags = ? WHERE id = ?", (json.dumps(["cat", "noir", "Sunny", "vlog"]), next(iter(before))))
    with catalogue_without_look_tags(bench_copy) as view:
        tags = {i.id: i.tags for i in view.items.all()}
        assert tags[next(iter(before))] == ["cat", "vlog"]
        assert not {t.lower() for ts in tags.values() for t in ts} & ALL_LOOK_WORDS
        assert view.oracle_dir.is_dir() and view.root != bench_copy.root
    assert bench_copy.items.get(next(iter(before))).tags == ["cat", "noir", "Sunny", "vlog"]


def test_protocol_needs_a_benchmark_workspace(workspace):
    for strip in (False, True):
        with pytest.raises(WorkspaceError, match=f"no oracle at {workspace.root}"):
            evaluate_editor(workspace, get_image_encoder(), EditorEvalConfig(n_users=2, strip_look_tags=strip))


def test_bench_editor_reports_ratios(bench_copy):
    b = bench_editor(bench_copy, get_image_encoder(), n_videos=3, n_users=2, repeats=1)
    assert b.videos == 3 and b.frames > 0 and b.decode_s > 0 and b.select_cold_s > 0
    assert b.ratio_cold == pytest.approx(b.decode_s / b.select_cold_s)
    assert b.covers_per_s_warm > b.covers_per_s_cold  # cached keyframes: scoring only
