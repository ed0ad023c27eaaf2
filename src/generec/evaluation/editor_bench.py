"""Throughput of cover selection against decoding the same videos (`generec bench editor`).

One run measures, for each image-encoder backend given (torch, onnx, onnx-int8), side by side
and interleaved repeat by repeat so that load on a shared machine hits them alike:

1. decode only: every frame of every video to RGB (`media.video.decode_frames`), the baseline;
2. cold, serial: one user per video, empty feature cache, decode passes and keyframe encoding
   taking turns on one thread;
3. cold: the same with the decode passes on a producer thread (`keyframes_many(overlap=True)`),
   the product's path;
4. warm: `n_users` users per video once the keyframes are cached (scoring only).

Ratios are covers per second ÷ videos decoded per second (the target is ≥ 0.5 cold); every
number is the median of `repeats` runs.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from generec.editor.base import EditContext
from generec.editor.cover import CoverConfig, choose_cover
from generec.editor.keyframes import keyframes, keyframes_many
from generec.editor.preference import Preference
from generec.encoders.cache import FeatureCache
from generec.encoders.image import IMAGE_SIZE, ImageEncoder
from generec.errors import InputError
from generec.types import Origin
from generec.workspace import Workspace


@dataclass
class BackendBench:
    backend: str  # ImageEncoderConfig.backend
    version: str  # the encoder version (feature-cache key)
    threads: int  # intra-op threads of the encoder (0: torch's count)
    keyframes: int  # keyframes encoded per cold pass
    select_cold_s: float  # median seconds, empty cache, decoding overlapped with encoding
    select_cold_serial_s: float  # ... decoding and encoding taking turns
    select_warm_s: float  # median seconds for `users` covers per video from the cache
    covers_per_s_cold: float
    covers_per_s_cold_serial: float
    covers_per_s_warm: float
    ratio_cold: float  # covers/s (cold) ÷ videos decoded/s
    ratio_cold_serial: float
    ratio_warm: float


@dataclass
class EditorBench:
    videos: int
    frames: int  # decoded per pass
    repeats: int
    users: int
    decode_s: float  # median seconds to decode every frame of every video (RGB)
    videos_decoded_per_s: float
    machine: str
    threads: int  # torch's thread count in this process
    backends: list[BackendBench] = field(default_factory=list)
    # the first backend's numbers, as before there were several
    select_cold_s: float = 0.0
    select_warm_s: float = 0.0
    covers_per_s_cold: float = 0.0
    covers_per_s_warm: float = 0.0
    ratio_cold: float = 0.0
    ratio_warm: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _cold(ws, videos, paths, encoder, prefs, cfg, overlap: bool) -> tuple[float, int, FeatureCache, tempfile.TemporaryDirectory]:
    tmp = tempfile.TemporaryDirectory()
    cache = FeatureCache(tmp.name)
    pref = prefs[0]
    t0 = time.perf_counter()
    kfs = keyframes_many(paths, [v.media.hash for v in videos], encoder, cache, cfg.keyframes, overlap=overlap)
    for kf in kfs:
        choose_cover(kf, EditContext(ws, pref.user_id, pref, encoder, cache, history=pref.vector), None, cfg)
    return time.perf_counter() - t0, sum(len(kf) for kf in kfs), cache, tmp


def _warm(ws, videos, paths, encoder, prefs, cfg, cache: FeatureCache) -> float:
    t0 = time.perf_counter()
    for v, p in zip(videos, paths):
        kf = keyframes(p, v.media.hash, encoder, cache, cfg.keyframes)
        for pref in prefs:
            choose_cover(kf, EditContext(ws, pref.user_id, pref, encoder, cache, history=pref.vector), None, cfg)
    return time.perf_counter() - t0


def bench_editor(
    ws: Workspace,
    encoders: ImageEncoder | Sequence[ImageEncoder],
    n_videos: int = 100,
    n_users: int = 20,
    repeats: int = 3,
    seed: int = 0,
    config: CoverConfig | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> EditorBench:
    """Covers selected per second by each encoder against decoding the same videos, medians of
    `repeats` runs (see the module docstring for the passes)."""
    import torch

    from generec.evaluation.protocols import machine
    from generec.media.video import decode_frames

    cfg = config or CoverConfig()
    encoders = [encoders] if isinstance(encoders, ImageEncoder) else list(encoders)
    # 1. check inputs; pick videos and users (seeded)
    if n_videos < 1 or n_users < 1 or repeats < 1:
        raise InputError(f"expected positive n_videos, n_users and repeats, found {n_videos}, {n_users}, {repeats}")
    if not encoders:
        raise InputError("bench editor: expected at least one image encoder (backend), found none")
    videos = [i for i in ws.items.all(origin=Origin.HUMAN) if i.media is not None and i.media.mime.startswith("video/")]
    if not videos:
        raise InputError(f"workspace {ws.root} has no video items to benchmark")
    rng = np.random.default_rng(seed)
    videos = [videos[k] for k in np.sort(rng.choice(len(videos), size=min(n_videos, len(videos)), replace=False))]
    paths = [ws.media_path(v.media.hash, v.media.mime) for v in videos]
    prefs = [Preference(f"bench{k}", "history", rng.normal(size=encoders[0].feature_dim).astype(np.float32), 1) for k in range(n_users)]
    for encoder in encoders:  # an ONNX backend exports (once per user) and every backend warms up before any clock starts
        encoder.encode([np.zeros((IMAGE_SIZE, IMAGE_SIZE, 3), np.uint8)] * encoder.batch_size)
    decode_s, frames = [], 0
    times: list[dict[str, list[float]]] = [{"cold": [], "serial": [], "warm": []} for _ in encoders]
    counts = [0] * len(encoders)
    for r in range(repeats):
        # 2. decode only
        t0 = time.perf_counter()
        frames = sum(len(decode_frames(p).images) for p in paths)
        decode_s.append(time.perf_counter() - t0)
        for e, encoder in enumerate(encoders):
            # 3. cold cover selection, serial then overlapped; 4. warm, from the overlapped pass's cache
            s, _, _, tmp = _cold(ws, videos, paths, encoder, prefs, cfg, overlap=False)
            tmp.cleanup()
            c, counts[e], cache, tmp = _cold(ws, videos, paths, encoder, prefs, cfg, overlap=True)
            try:
                w = _warm(ws, videos, paths, encoder, prefs, cfg, cache)
            finally:
                tmp.cleanup()
            times[e]["serial"].append(s)
            times[e]["cold"].append(c)
            times[e]["warm"].append(w)
        if progress:
            progress("bench editor", r + 1, repeats)
    # 5. medians and ratios
    n, d = len(videos), float(np.median(decode_s))
    rows = []
    for encoder, t, k in zip(encoders, times, counts):
        c, s, w = (float(np.median(t[key])) for key in ("cold", "serial", "warm"))
        rows.append(BackendBench(
            backend=encoder.config.backend, version=encoder.version, threads=encoder.config.num_threads, keyframes=k,
            select_cold_s=c, select_cold_serial_s=s, select_warm_s=w,
            covers_per_s_cold=n / c, covers_per_s_cold_serial=n / s, covers_per_s_warm=n * n_users / w,
            ratio_cold=d / c, ratio_cold_serial=d / s, ratio_warm=d * n_users / w,
        ))  # fmt: skip
    first = rows[0]
    return EditorBench(
        videos=n, frames=frames, repeats=repeats, users=n_users, decode_s=d, videos_decoded_per_s=n / d,
        machine=machine(), threads=torch.get_num_threads(), backends=rows,
        select_cold_s=first.select_cold_s, select_warm_s=first.select_warm_s, covers_per_s_cold=first.covers_per_s_cold,
        covers_per_s_warm=first.covers_per_s_warm, ratio_cold=first.ratio_cold, ratio_warm=first.ratio_warm,
    )  # fmt: skip
