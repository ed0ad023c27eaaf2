"""The activation study on the tiny benchmark: a few users, short feeds, scored on the pixels shown."""

from __future__ import annotations

import re
import shutil

import av
import numpy as np
import pytest
from PIL import Image

from generec.datasets.instructions import TEMPLATES
from generec.datasets.oracle import Oracle
from generec.errors import InputError
from generec.evaluation.activation import (
    METRICS,
    ActivationStudyConfig,
    Request,
    Shown,
    activation_study,
    score_feed,
)
from generec.evaluation.screen import WATCH_FPS, Screen
from generec.types import Origin
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
    assert report.info["users"] == 3 and report.info["instructions"] == 12
    assert report.info["retriever"] == "ease (fitted in memory)" and report.info["scored_on"].startswith("pixels")
    assert sum(report.modes.values()) == 12
    for policy in ("retrieval", "instructor"):
        assert set(report.overall[policy]) == {f"{m}@{k}" for m in METRICS for k in ("1", "k")}
        for m in ("satisfied@k", "satisfied_label@k", "ctr@k"):
            assert 0.0 <= report.overall[policy][m] <= 1.0
    # the users' own words: every text is one of the hand-written templates, filled in
    for r in report.requests:
        assert r.wording in TEMPLATES[r.template]
        pattern = re.escape(r.wording).replace(r"\{x\}", ".+").replace(r"\{y\}", ".+").replace(r"\{look\}", ".+")
        assert re.fullmatch(pattern.replace(r"\{d\}", str(int(r.max_duration_s or 0))), r.text), (r.wording, r.text)
    assert len({r.wording for r in report.requests}) >= 6
    # the control: where the instructor retrieved, both ways are the same feed
    concept = report.templates["concept"]
    if report.modes_by_template["concept"]["retrieve"] == report.info["users"]:
        assert concept["instructor"] == concept["retrieval"]
    # on labels, edits serve what was asked for (clips short enough, restyles labelled with the look)
    if report.modes["repurpose"]:
        assert report.overall["instructor"]["satisfied_label@k"] >= report.overall["retrieval"]["satisfied_label@k"]
    assert report.gains["utility@k"] == pytest.approx(
        report.overall["instructor"]["utility@k"] / report.overall["retrieval"]["utility@k"] - 1.0
    )
    # deterministic for a seed
    again = activation_study(bench, config=cfg)
    assert again.overall == report.overall and again.modes == report.modes
    assert [r.text for r in again.requests] == [r.text for r in report.requests]


def pyav_frames(path, times: list[float]) -> list[np.ndarray]:
    """The frame displayed at each time (the last with pts <= t), decoded with plain PyAV."""
    with av.open(str(path)) as c:
        decoded = [(float(f.pts * f.time_base), f.to_ndarray(format="rgb24")) for f in c.decode(video=0)]
    return [[im for ts, im in decoded if ts <= t + 1e-6][-1] for t in times]


def test_scores_are_read_from_the_pixels_shown(bench):
    oracle = Oracle.load(bench.oracle_dir)
    items = {i.id: i for i in bench.items.all(origin=Origin.HUMAN)}
    screen, cfg = Screen(bench, items, oracle), ActivationStudyConfig()
    uid = sorted(oracle.users)[0]
    item = items[sorted(oracle.videos)[0]]
    video = oracle.videos[item.id]
    seconds = np.zeros(len(oracle.concepts))
    for seg in video.segments:
        seconds[seg.concept] += seg.end - seg.start
    main = int(np.argmax(seconds))  # the concept the truth shows most
    end = min(video.duration, item.media.duration)
    # 1. an item as it is: the stored cover and one frame per second, as PyAV decodes them
    shown = Shown(item.id, 0.0, end, None, 0.0, "retrieve")
    got = score_feed(oracle, screen, Request(uid, "concept", "x", main), [shown], cfg)
    n_watch = round(end * WATCH_FPS)
    n = int(np.ceil(n_watch / WATCH_FPS))
    lengths = np.r_[np.ones(n - 1), n_watch / WATCH_FPS - (n - 1)]
    frames = pyav_frames(bench.media_path(item.media.hash, item.media.mime), [i + lengths[i] / 2 for i in range(n)])
    view = screen.view(shown)
    assert all(np.array_equal(a, b) for a, b in zip(view.frames, frames))
    cover = np.asarray(Image.open(bench.media_path(item.cover.hash, item.cover.mime)).convert("RGB"))
    assert got["ctr"][0] == pytest.approx(oracle.click_prob(uid, cover))
    held = [frames[min(i // 10, n - 1)] for i in range(n_watch)]
    assert got["watch_s"][0] == pytest.approx(oracle.watch_value(uid, held, WATCH_FPS).seconds)
    judged = np.array([o.concept_probs.argmax() for o in oracle.judge.predict(frames)])
    assert got["satisfied"][0] == float(lengths @ (judged == main) / lengths.sum() >= cfg.min_share)
    # 2. a restyle too faint to see: its label says the look is there, the pixels do not
    styles = np.mean([o.style_probs for o in oracle.judge.predict(frames)], axis=0)
    look = oracle.styles[int(np.argmin(styles))]  # the look the judge sees least in these frames
    faint = Shown(item.id, 0.0, end, look, 0.0, "repurpose", strength=0.02)
    asked = Request(uid, "look", "x", main, look=look)
    got = score_feed(oracle, screen, asked, [faint], cfg)
    if seconds[main] >= cfg.min_share * end:  # the truth shows the concept: the label counts it satisfied
        assert got["satisfied_label"][0] == 1.0
    assert got["satisfied"][0] == 0.0
    assert got["satisfied_utility"][0] == 0.0 and got["utility"][0] == pytest.approx(got["ctr"][0] * got["watch_s"][0])


def test_study_inputs(bench, tmp_path):
    with pytest.raises(InputError, match="templates"):
        ActivationStudyConfig(templates=("vibes",))
    with pytest.raises(InputError, match="n_users"):
        ActivationStudyConfig(n_users=0)
    with pytest.raises(InputError, match="min_share"):
        ActivationStudyConfig(min_share=0.0)
    with Workspace.open(tmp_path / "empty", create=True) as empty, pytest.raises(Exception, match="oracle"):
        activation_study(empty, n_users=1)
