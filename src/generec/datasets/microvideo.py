"""The micro-video benchmark: real photos made into short videos, users simulated over them.

A video is 2–5 segments; each segment pans or zooms over a crop of one labelled photo in one
style (a colour grade, sometimes a cartoon or sketch look), with a short crossfade into the
next. The uploader's cover is the first frame. Ground truth (concept, style, time span per
segment; users' latent tastes) goes to `workspace/oracle/`, apart from what the system reads:
pixels, titles, tags and the interaction log.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np

from generec.datasets.judge import Judge, judge_features
from generec.datasets.photos import Photo, load_photos, photo_set_hash
from generec.datasets.simulator import (
    Segment,
    SimulatorConfig,
    VideoTruth,
    sample_tastes,
    simulate_log,
)
from generec.datasets.styles import COLOUR_STYLES, STYLES, apply_style, is_colourless, sample_style_params
from generec.datasets.tags import CONCEPT_WORDS, title_and_tags  # noqa: F401  (CONCEPT_WORDS: activation study)
from generec.errors import InputError
from generec.media.image import encode_image
from generec.media.video import write_mp4
from generec.types import Interaction, Item, Kind, Media, User
from generec.workspace import Workspace

TRUTH_FILE = "truth.json"
JUDGE_FILE = "judge.pkl"
JUDGE_REPORT_FILE = "judge.json"
JUDGE_SAMPLES = (0.35, 0.6, 0.85)  # where in each segment the judge's training frames are taken
TRUTH_VERSION = 2
START_TS = 1_700_000_000.0  # the log's clock starts here (seconds since the epoch)
DAY = 86_400.0


@dataclass(frozen=True)
class MicrovideoConfig:
    n_videos: int = 3000
    n_users: int = 2000
    sessions_per_user: float = 6.0
    impressions_per_session: int = 10
    days: float = 30.0
    min_duration_s: float = 4.0
    max_duration_s: float = 15.0
    fps_choices: tuple[int, ...] = (10, 12, 15)
    short_side: int = 128
    long_side: int = 224
    portrait_share: float = 0.7
    n_creators: int = 150
    seed: int = 0
    workers: int = 0  # 0: one per CPU core
    judge_stills: int = 6  # extra styled photo crops per video, for the judge's training only
    simulator: SimulatorConfig = field(default_factory=SimulatorConfig)


SIZES: dict[str, MicrovideoConfig] = {
    "tiny": MicrovideoConfig(
        n_videos=30, n_users=24, sessions_per_user=3.0, impressions_per_session=8,
        min_duration_s=4.0, max_duration_s=5.0, fps_choices=(10,), n_creators=6,
    ),
    "small": MicrovideoConfig(n_videos=500, n_users=300, n_creators=40),
    "default": MicrovideoConfig(),
}  # fmt: skip

@dataclass(frozen=True)
class SegmentPlan:
    n_frames: int
    photo: int  # index into the photo list
    concept: int
    style: int
    strength: float
    params: tuple[tuple[str, float], ...]  # the look's family member (styles.sample_style_params)
    motion: str  # pan | zoom
    window0: tuple[float, float, float, float]  # x, y, w, h in photo pixels
    window1: tuple[float, float, float, float]


@dataclass(frozen=True)
class VideoPlan:
    index: int
    fps: int
    width: int
    height: int
    segments: tuple[SegmentPlan, ...]
    crossfade: int  # frames

    @property
    def n_frames(self) -> int:
        return sum(s.n_frames for s in self.segments)


@dataclass
class BuildReport:
    size: str
    seed: int
    n_videos: int
    n_users: int
    n_impressions: int
    n_interactions: int
    events: dict[str, int]
    ctr: float
    video_seconds: float
    media_bytes: int
    concepts: list[str]
    n_photos: int
    photo_set: str
    judge_concept_accuracy: float
    judge_style_accuracy: float
    judge_test_videos: int  # the held-out videos the judge's accuracies are measured on
    split: dict[str, float]
    seconds: float
    workers: int


# 1. planning: every random choice of one video comes from rng([seed, index]) --------------


def _window(rng: np.random.Generator, photo_hw: tuple[int, int], aspect: float, scale: float) -> tuple[float, float, float, float]:
    ph, pw = photo_hw
    h = min(ph, pw / aspect) * scale
    w = h * aspect
    return (float(rng.uniform(0, pw - w)), float(rng.uniform(0, ph - h)), float(w), float(h))


_COLOURLESS: dict[str, bool] = {}


def _colourless(photo: Photo) -> bool:
    if photo.name not in _COLOURLESS:
        _COLOURLESS[photo.name] = is_colourless(photo.image)
    return _COLOURLESS[photo.name]


def plan_video(index: int, cfg: MicrovideoConfig, photos: list[Photo], concepts: list[str]) -> VideoPlan:
    rng = np.random.default_rng([cfg.seed, index])
    fps = int(rng.choice(cfg.fps_choices))
    portrait = rng.random() < cfg.portrait_share
    width, height = (cfg.short_side, cfg.long_side) if portrait else (cfg.long_side, cfg.short_side)
    duration = rng.uniform(cfg.min_duration_s, cfg.max_duration_s)
    n_seg = int(min(rng.integers(2, 6), max(2, duration // 1.2)))
    lengths = 1.0 + rng.dirichlet(np.full(n_seg, 2.0)) * (duration - n_seg * 1.0)
    bounds = np.round(np.cumsum(np.concatenate([[0.0], lengths])) * fps).astype(int)
    by_concept = {c: [i for i, p in enumerate(photos) if p.concept == concepts[c]] for c in range(len(concepts))}
    main_concept = int(rng.integers(len(concepts)))
    main_style = int(rng.integers(len(STYLES)))
    params: dict[int, tuple[tuple[str, float], ...]] = {}  # one member of each look's family per video
    segments = []
    for k in range(n_seg):
        concept = main_concept if rng.random() < 0.55 else int(rng.integers(len(concepts)))
        style = main_style if rng.random() < 0.5 else int(rng.integers(len(STYLES)))
        photo = int(rng.choice(by_concept[concept]))
        if STYLES[style] in COLOUR_STYLES and _colourless(photos[photo]):  # a filter nobody could see: redraw it
            style = int(rng.choice([s for s in range(len(STYLES)) if STYLES[s] not in COLOUR_STYLES]))
        if style not in params:
            params[style] = tuple(sorted(sample_style_params(STYLES[style], rng).items()))
        hw = photos[photo].image.shape[:2]
        aspect = width / height
        motion = "pan" if rng.random() < 0.5 else "zoom"
        if motion == "pan":
            scale = rng.uniform(0.45, 0.8)
            w0, w1 = _window(rng, hw, aspect, scale), _window(rng, hw, aspect, scale)
        else:
            s0, s1 = rng.uniform(0.7, 1.0), rng.uniform(0.35, 0.6)
            if rng.random() < 0.5:
                s0, s1 = s1, s0
            x, y, w, h = _window(rng, hw, aspect, max(s0, s1))
            cx, cy = x + w / 2, y + h / 2
            w0 = (cx - w * s0 / max(s0, s1) / 2, cy - h * s0 / max(s0, s1) / 2, w * s0 / max(s0, s1), h * s0 / max(s0, s1))
            w1 = (cx - w * s1 / max(s0, s1) / 2, cy - h * s1 / max(s0, s1) / 2, w * s1 / max(s0, s1), h * s1 / max(s0, s1))
        segments.append(SegmentPlan(
            n_frames=int(bounds[k + 1] - bounds[k]), photo=photo, concept=concept, style=style,
            strength=float(rng.uniform(0.75, 1.0)), params=params[style], motion=motion, window0=w0, window1=w1,
        ))  # fmt: skip
    return VideoPlan(index, fps, width, height, tuple(segments), crossfade=max(1, round(0.3 * fps)))


# 2. rendering --------------------------------------------------------------------------------


def render_segment(seg: SegmentPlan, photo: np.ndarray, width: int, height: int) -> list[np.ndarray]:
    """Style the photo region the camera covers once, then move a window over it per frame."""
    (x0, y0, w0, h0), (x1, y1, w1, h1) = seg.window0, seg.window1
    left, top = int(min(x0, x1)), int(min(y0, y1))
    right = int(np.ceil(max(x0 + w0, x1 + w1)))
    bottom = int(np.ceil(max(y0 + h0, y1 + h1)))
    f = min(2.0, 1.25 * width / min(w0, w1))  # region pixels per photo pixel
    region = cv2.resize(photo[top:bottom, left:right], None, fx=f, fy=f, interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR)
    region = apply_style(region, STYLES[seg.style], seg.strength, dict(seg.params))
    frames = []
    for k in range(seg.n_frames):
        a = k / max(1, seg.n_frames - 1)
        a = a * a * (3 - 2 * a)  # ease in and out
        x, y = (1 - a) * x0 + a * x1, (1 - a) * y0 + a * y1
        w = (1 - a) * w0 + a * w1
        s = w * f / width  # region pixels per output pixel
        m = np.array([[s, 0, (x - left) * f], [0, s, (y - top) * f]], np.float32)
        frames.append(cv2.warpAffine(region, m, (width, height), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REFLECT))
    return frames


def render_video(plan: VideoPlan, photos: list[Photo]) -> tuple[list[np.ndarray], VideoTruth]:
    frames: list[np.ndarray] = []
    segments, transitions = [], []
    for k, seg in enumerate(plan.segments):
        seg_frames = render_segment(seg, photos[seg.photo].image, plan.width, plan.height)
        if k > 0:  # crossfade from the previous segment's last frame
            last = frames[-1]
            n = min(plan.crossfade, len(seg_frames) - 1)
            for j in range(n):
                alpha = (j + 1) / (n + 1)
                seg_frames[j] = cv2.addWeighted(seg_frames[j], alpha, last, 1 - alpha, 0)
            transitions.append((len(frames) / plan.fps, (len(frames) + n) / plan.fps))
        start = len(frames) / plan.fps
        frames.extend(seg_frames)
        segments.append(Segment(start, len(frames) / plan.fps, seg.concept, seg.style, photos[seg.photo].name))
    truth = VideoTruth(len(frames) / plan.fps, float(plan.fps), 0.0, segments, transitions)
    return frames, truth


# 3. one worker job: plan, render, encode, sample judge training frames -----------------------

_PHOTOS: list[Photo] | None = None


def _job(args: tuple[int, MicrovideoConfig, list[str], str]) -> dict:
    index, cfg, concepts, tmp_dir = args
    global _PHOTOS
    if _PHOTOS is None:
        _PHOTOS = load_photos()
    plan = plan_video(index, cfg, _PHOTOS, concepts)
    frames, truth = render_video(plan, _PHOTOS)
    path = Path(tmp_dir) / f"{index:06d}.mp4"
    info = write_mp4(path, frames, fps=plan.fps, crf=26)
    samples = []
    for seg in truth.segments:  # the judge's frames: three inside each segment
        for share in JUDGE_SAMPLES:
            t = seg.start + share * (seg.end - seg.start)
            samples.append((judge_features(frames[min(len(frames) - 1, int(t * plan.fps))]), seg.concept, seg.style))
    stills = [(judge_features(im), c, s) for im, c, s in judge_stills(index, cfg, _PHOTOS, concepts, plan.width, plan.height)]
    cover = encode_image(frames[0], "PNG")
    return {"index": index, "path": str(path), "info": info, "truth": truth, "cover": cover, "samples": samples, "stills": stills}


def judge_stills(index: int, cfg: MicrovideoConfig, photos: list[Photo], concepts: list[str], width: int, height: int) -> list[tuple[np.ndarray, int, int]]:
    """`cfg.judge_stills` still frames (image, concept, style): random photo crops, each in a random
    member of a random look's family, rendered as a segment would be. Training data for the judge
    only; they belong to no video."""
    rng = np.random.default_rng([cfg.seed, index, 7])
    out = []
    for _ in range(cfg.judge_stills):
        concept = int(rng.integers(len(concepts)))
        photo = int(rng.choice([i for i, p in enumerate(photos) if p.concept == concepts[concept]]))
        looks = [s for s in range(len(STYLES)) if not (STYLES[s] in COLOUR_STYLES and _colourless(photos[photo]))]
        style = int(rng.choice(looks))
        window = _window(rng, photos[photo].image.shape[:2], width / height, float(rng.uniform(0.35, 1.0)))
        seg = SegmentPlan(1, photo, concept, style, float(rng.uniform(0.75, 1.0)), tuple(sorted(sample_style_params(STYLES[style], rng).items())), "pan", window, window)
        out.append((render_segment(seg, photos[photo].image, width, height)[0], concept, style))
    return out


# 5. the whole build ---------------------------------------------------------------------------


def build_microvideo(
    workspace: Workspace,
    cfg: MicrovideoConfig,
    size: str = "custom",
    progress: Callable[[str, int, int], None] | None = None,
) -> BuildReport:
    """Build the benchmark into an empty workspace; all or nothing.

    `progress(stage, done, total)` is called as videos are rendered.
    """
    t_start = time.perf_counter()
    # 1. check inputs
    if not workspace.is_empty():
        raise InputError(f"workspace {workspace.root} already holds data; use an empty workspace (or --overwrite)")
    if cfg.n_videos < 2 or cfg.n_users < 1:
        raise InputError(f"microvideo needs at least 2 videos and 1 user, got {cfg.n_videos} and {cfg.n_users}")
    photos = load_photos()
    concepts = sorted({p.concept for p in photos})
    if len(concepts) < 8:
        raise InputError(f"only {len(concepts)} photo concepts are installed ({', '.join(concepts)}); need 8")
    global _PHOTOS
    _PHOTOS = photos  # inherited by forked workers
    workers = cfg.workers or os.cpu_count() or 1
    rng = np.random.default_rng([cfg.seed, 1_000_003])

    # 2. render and encode every video in parallel, into a temp dir inside the workspace
    tmp_dir = tempfile.mkdtemp(prefix=".build-", dir=workspace.root)
    try:
        jobs = [(i, cfg, concepts, tmp_dir) for i in range(cfg.n_videos)]
        results: list[dict] = []
        if workers == 1:
            iterator = map(_job, jobs)
            pool = None
        else:
            pool = mp.get_context("fork").Pool(workers)
            iterator = pool.imap(_job, jobs, chunksize=4)
        try:
            for done, result in enumerate(iterator, 1):
                results.append(result)
                if progress:
                    progress("render", done, cfg.n_videos)
        finally:
            if pool is not None:
                pool.close()
                pool.join()

        # 3. simulate users and their log
        truths = [r["truth"] for r in results]
        for truth in truths:
            truth.quality = float(rng.normal(0.0, 0.35))
        main_concepts = np.array([max(range(len(concepts)), key=lambda c: sum(s.end - s.start for s in t.segments if s.concept == c)) for t in truths])
        end_ts = START_TS + cfg.days * DAY
        # uploads: a fifth of the catalogue exists before the log starts, the rest arrives over it
        upload_ts = np.where(rng.random(cfg.n_videos) < 0.2, START_TS - rng.uniform(0, 30 * DAY, cfg.n_videos), rng.uniform(START_TS, end_ts, cfg.n_videos))
        tastes = sample_tastes(cfg.n_users, len(concepts), len(STYLES), rng)
        if progress:
            progress("simulate", 0, 1)
        log = simulate_log(cfg.simulator, tastes, truths, main_concepts, upload_ts, cfg.sessions_per_user, cfg.impressions_per_session, START_TS, end_ts, rng)
        if progress:
            progress("simulate", 1, 1)

        # 4. the judge, trained on ground truth frames
        if progress:
            progress("judge", 0, 1)
        rows = [(s, r["index"]) for r in results for s in r["samples"]] + [(s, -1) for r in results for s in r["stills"]]
        judge = Judge(len(concepts), len(STYLES), seed=cfg.seed)
        judge_report = judge.fit_report(
            np.stack([s[0] for s, _ in rows]), np.array([s[1] for s, _ in rows]), np.array([s[2] for s, _ in rows]), np.array([v for _, v in rows])
        )  # held out: whole videos; the stills only ever train
        if progress:
            progress("judge", 1, 1)

        # 5. write media, rows and the oracle: all or nothing
        item_ids = [f"v{i:05d}" for i in range(cfg.n_videos)]
        user_ids = [f"u{u:05d}" for u in range(cfg.n_users)]
        items = []
        with workspace.media.staging():
            for r, item_id in zip(results, item_ids):
                info = r["info"]
                digest, mime = workspace.media.put_file(r["path"], "video/mp4")
                cover_hash = workspace.media.put_bytes(r["cover"], "image/png")
                title, tags = title_and_tags(r["truth"], int(main_concepts[r["index"]]), concepts, rng)
                items.append(Item(
                    id=item_id, kind=Kind.VIDEO, title=title, text=title, tags=tags,
                    media=Media(digest, mime, info.duration, info.fps, info.width, info.height, info.has_audio),
                    cover=Media(cover_hash, "image/png", width=info.width, height=info.height),
                    uploader=f"c{int(rng.integers(cfg.n_creators)):04d}",
                    created_at=float(upload_ts[r["index"]]),
                ))  # fmt: skip
            interactions = [Interaction(user_ids[e.user], item_ids[e.item], e.ts, e.event, e.value, "log") for e in log]
            times = np.array([e.ts for e in log]) if log else np.array([START_TS])
            split = {"kind": "temporal", "valid_start": float(np.quantile(times, 0.8)), "test_start": float(np.quantile(times, 0.9))}
            oracle_tmp = Path(tmp_dir) / "oracle"
            oracle_tmp.mkdir()
            _write_truth(oracle_tmp / TRUTH_FILE, concepts, cfg, dict(zip(user_ids, tastes)), dict(zip(item_ids, truths)))
            judge.save(oracle_tmp / JUDGE_FILE)
            (oracle_tmp / JUDGE_REPORT_FILE).write_text(json.dumps(asdict(judge_report), indent=2))
            params = {"size": size, "config": asdict(cfg), "photo_set": photo_set_hash(photos), "concepts": concepts}
            with workspace.db.transaction():
                workspace.users.add_many(User(uid, START_TS) for uid in user_ids)
                workspace.items.add_many(items)
                workspace.interactions.add_many(interactions)
                workspace.datasets.add("microvideo", "generec.datasets.microvideo", params, split)
                if workspace.oracle_dir.exists():  # left by an earlier build that was wiped
                    shutil.rmtree(workspace.oracle_dir)
                os.replace(oracle_tmp, workspace.oracle_dir)  # the last step inside the transaction
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)

    counts: dict[str, int] = {}
    for e in log:
        counts[e.event] = counts.get(e.event, 0) + 1
    return BuildReport(
        size=size, seed=cfg.seed, n_videos=cfg.n_videos, n_users=cfg.n_users,
        n_impressions=counts.get("impression", 0), n_interactions=len(log), events=counts,
        ctr=counts.get("click", 0) / max(1, counts.get("impression", 0)),
        video_seconds=float(sum(t.duration for t in truths)), media_bytes=workspace.media.size_bytes(),
        concepts=concepts, n_photos=len(photos), photo_set=photo_set_hash(photos),
        judge_concept_accuracy=judge_report.concept_accuracy, judge_style_accuracy=judge_report.style_accuracy,
        judge_test_videos=judge_report.test_videos,
        split=split, seconds=time.perf_counter() - t_start, workers=workers,
    )  # fmt: skip


def _write_truth(path: Path, concepts: list[str], cfg: MicrovideoConfig, users: dict, videos: dict[str, VideoTruth]) -> None:
    data = {
        "version": TRUTH_VERSION,
        "concepts": concepts,
        "styles": list(STYLES),
        "simulator": asdict(cfg.simulator),
        "users": {uid: {"concept": t.concept.round(5).tolist(), "style": t.style.round(5).tolist(), "activity": round(t.activity, 5)} for uid, t in users.items()},
        "videos": {vid: asdict(v) for vid, v in videos.items()},
    }
    path.write_text(json.dumps(data))
