"""Keyframes: a video cut into time intervals, each represented by one good frame and its features.

Both edit ops that choose from a video's footage start here. One decode pass looks at frames at
`analysis_fps` and measures, on small copies, what a human editor checks by eye:

- change d_i = ½ ‖h_i − h_{i−1}‖₁ between colour histograms of consecutive looked-at frames
  (a pan or zoom keeps the histogram, a cut or crossfade replaces it); a frame next to a change
  above `change_threshold` is part of a transition;
- brightness (mean luma, 0-255): frames darker than `dark_luma` are not covers;
- sharpness (variance of the Laplacian of the luma, at most `sharpness_side` on the short side):
  frames below `blur_ratio` × the video's median are blurred.

Stable runs of frames are shots. Each shot gives one keyframe per `spacing_s` seconds (the
sharpest frame near the middle of its part); the keyframes' intervals tile the whole video, so
transitions belong to the nearest keyframe. Only the keyframes go through EfficientNet-Lite0,
so the network sees a few frames of a video rather than all of them. Results are cached per media hash,
encoder version and keyframe settings.

The pass costs about 1.4 × a bare decode of every frame to RGB on the benchmark's 224 × 128
videos (small videos decode on one thread, where decoder threads cost more than they save). No frame is converted to full-size RGB while
scanning: the histogram comes from a `thumb_side` RGB thumbnail that swscale makes straight from
the decoded frame, and brightness and sharpness from the luma plane itself (yuv420p/yuvj420p;
other formats: a gray copy from swscale). Small frames are kept as decoded and only the chosen
keyframes become RGB; larger ones shrink (swscale, area) to the encoder's square at once. The pass also checks
the file's packets and measures its duration and rotation (`DecodePass`), so there is no separate probe.

Many videos (`keyframes_many`): the decode passes run on a producer thread a few videos ahead
(`prefetch.py`) while the keyframes found so far are encoded in batches across videos, so the
decoder and the network share two cores instead of taking turns.
"""

from __future__ import annotations

import hashlib
import json
import math
from contextlib import closing
from dataclasses import asdict, dataclass
from collections.abc import Callable
from pathlib import Path

import av
import cv2
import numpy as np

from generec.editor.prefetch import prefetch
from generec.encoders.cache import FeatureCache
from generec.encoders.image import IMAGE_SIZE, ImageEncoder, centre_square
from generec.errors import InputError, MediaError
from generec.media.video import NO_LIMITS, DecodePass, FrameConverter, apply_rotation, luma_plane, probe

KEYFRAMES_VERSION = 2  # 2: luma-plane brightness and sharpness, swscale thumbnails
PREFETCH_VIDEOS = 16  # decode passes done ahead of the encoder: more than one batch of keyframes
_KEEP_PIXELS = 640 * 640  # frames up to this size are kept whole until the keyframes are known


@dataclass(frozen=True)
class KeyframeConfig:
    analysis_fps: float = 5.0  # frames looked at per second
    max_analysed: int = 600  # longer videos are looked at more sparsely
    thumb_side: int = 64  # long side of the thumbnail whose colour histogram measures change
    sharpness_side: int = 160  # larger frames are shrunk to this short side to measure sharpness
    change_threshold: float = 0.2  # histogram change that marks a cut or crossfade
    spacing_s: float = 3.0  # one keyframe per this many seconds of a shot
    max_keyframes: int = 8
    dark_luma: float = 28.0
    blur_ratio: float = 0.25

    def __post_init__(self) -> None:
        if self.analysis_fps <= 0 or self.spacing_s <= 0:
            raise InputError(f"KeyframeConfig: analysis_fps and spacing_s must be positive, found {self.analysis_fps}, {self.spacing_s}")
        if self.max_keyframes < 1 or self.max_analysed < 2:
            raise InputError(f"KeyframeConfig: expected max_keyframes >= 1 and max_analysed >= 2, found {self.max_keyframes}, {self.max_analysed}")

    def digest(self) -> str:
        text = json.dumps(asdict(self), sort_keys=True) + f"v{KEYFRAMES_VERSION}"
        return hashlib.sha256(text.encode()).hexdigest()[:10]


@dataclass
class Keyframes:
    """K keyframes of one video, in time order; intervals [starts, ends) tile [0, duration)."""

    timestamps: np.ndarray  # (K,) s, the representative frames
    starts: np.ndarray  # (K,) s
    ends: np.ndarray  # (K,) s
    usable: np.ndarray  # (K,) bool: passes the quality guard (not dark, blurred or mid-transition)
    features: np.ndarray  # (K, 1280) EfficientNet-Lite0 features of the upright frames
    duration: float

    def __len__(self) -> int:
        return len(self.timestamps)

    def pack(self) -> np.ndarray:
        head = np.stack([self.timestamps, self.starts, self.ends, self.usable.astype(np.float64)], 1)
        tail = np.full((len(self), 1), self.duration)
        return np.hstack([head, tail, self.features.astype(np.float64)])  # float64: times stay exact

    @classmethod
    def unpack(cls, array: np.ndarray) -> Keyframes:
        a = np.asarray(array, np.float64)
        return cls(a[:, 0], a[:, 1], a[:, 2], a[:, 3] > 0.5, a[:, 5:].astype(np.float32), float(a[0, 4]))

    def weights_in(self, start: float, end: float) -> np.ndarray:
        """(K,) seconds of [start, end) that each keyframe's interval covers."""
        return np.clip(np.minimum(self.ends, end) - np.maximum(self.starts, start), 0.0, None)


@dataclass
class _Scan:
    times: list[float]
    kept: list[av.VideoFrame | np.ndarray]  # looked-at frames: small ones as decoded, else encoder-ready squares
    change: np.ndarray  # (n,)
    luma: np.ndarray  # (n,)
    sharpness: np.ndarray  # (n,)
    duration: float
    rotation: int  # clockwise degrees that turn a stored frame upright
    to_rgb: FrameConverter

    def square(self, i: int) -> np.ndarray:
        """The encoder-ready square of looked-at frame i, as stored (not yet upright)."""
        kept = self.kept[i]
        return kept if isinstance(kept, np.ndarray) else centre_square(self.to_rgb(kept))


def _hist(thumb: np.ndarray) -> np.ndarray:
    hsv = cv2.cvtColor(thumb, cv2.COLOR_RGB2HSV)
    h = cv2.calcHist([hsv], [0, 1, 2], None, [8, 4, 4], [0, 180, 0, 256, 0, 256]).ravel()
    return h / max(h.sum(), 1.0)


def _fit(width: int, height: int, scale: float) -> tuple[int, int]:
    return max(1, round(width * scale)), max(1, round(height * scale))


def _light(frame: av.VideoFrame, side: int, to_gray: FrameConverter) -> tuple[float, float]:
    """Mean luma on the 0-255 scale and variance of its Laplacian, at most `side` on the short side."""
    w, h = frame.width, frame.height
    plane = luma_plane(frame) if min(w, h) <= side else None
    if plane is None:  # a large frame or another pixel format: a (full-range) gray copy
        gray, black, gain = to_gray(frame, *_fit(w, h, min(1.0, side / min(w, h)))), 0.0, 1.0
    else:  # the Y plane as decoded; limited range (16-235) is stretched to 0-255
        gray, full = plane
        black, gain = (0.0, 1.0) if full else (16.0, 255 / 219)
    _, sd = cv2.meanStdDev(cv2.Laplacian(gray, cv2.CV_16S))
    return max(0.0, (cv2.mean(gray)[0] - black) * gain), (float(sd[0, 0]) * gain) ** 2


def _scan(path: Path, cfg: KeyframeConfig) -> _Scan:
    with DecodePass(path) as video:  # rejects missing and unreadable files; the pass checks the rest
        return _look_at(video, path, cfg)


def _look_at(video: DecodePass, path: Path, cfg: KeyframeConfig) -> _Scan:
    estimate = video.header_duration
    if estimate is None:  # rare: a container that declares no duration
        estimate = probe(path, NO_LIMITS).duration
    rate = min(cfg.analysis_fps, cfg.max_analysed / max(estimate, 1e-6))
    # one reused swscale context each (a fresh one per frame costs more than the conversion)
    to_rgb, to_thumb, to_gray = FrameConverter("rgb24"), FrameConverter("rgb24", "AREA"), FrameConverter("gray", "AREA")
    times, kept, changes, lumas, sharps = [], [], [], [], []
    prev_hist, next_t = None, 0.0
    for t, frame in video:
        if t + 1e-6 < next_t:
            continue
        next_t = t + 1.0 / rate
        w, h = frame.width, frame.height
        hist = _hist(to_thumb(frame, *_fit(w, h, cfg.thumb_side / max(w, h))))
        luma, sharpness = _light(frame, cfg.sharpness_side, to_gray)
        times.append(t)
        # only the keyframes need RGB: keep small frames as decoded, shrink large ones now
        kept.append(frame if w * h <= _KEEP_PIXELS else centre_square(to_thumb(frame, *_fit(w, h, IMAGE_SIZE / min(w, h)))))
        changes.append(0.0 if prev_hist is None else 0.5 * float(np.abs(hist - prev_hist).sum()))
        lumas.append(luma)
        sharps.append(sharpness)
        prev_hist = hist
    if not times:  # the pass refuses a file without frames; here every frame lies before t = 0
        raise MediaError(f"{path}: expected decodable video frames from t = 0 s, found none")
    measured = np.array(changes), np.array(lumas), np.array(sharps)
    return _Scan(times, kept, *measured, video.duration, video.rotation, to_rgb)  # both known after the pass


def _shots(change: np.ndarray, threshold: float) -> list[tuple[int, int]]:
    """Runs [a, b) of stable frames: no change above threshold on either side of a frame."""
    n, unstable = len(change), _unstable(change, threshold)
    runs, a = [], None
    for i in range(n + 1):
        if i < n and not unstable[i]:
            a = i if a is None else a
        elif a is not None:
            runs.append((a, i))
            a = None
    return runs


def _pick(scan: _Scan, cfg: KeyframeConfig) -> tuple[list[int], np.ndarray]:
    """Indices of the keyframes and the quality flag of every looked-at frame."""
    n, times = len(scan.times), np.array(scan.times)
    median_sharp = float(np.median(scan.sharpness)) if n else 0.0
    good = (scan.luma >= cfg.dark_luma) & (scan.sharpness >= cfg.blur_ratio * median_sharp)
    runs = _shots(scan.change, cfg.change_threshold) or [(0, n)]  # all motion: treat as one shot
    # each looked-at frame stands for the time until the next one
    span = np.diff(np.append(times, max(scan.duration, times[-1] + 1e-3)))  # (n,) s
    picks: list[tuple[float, int]] = []  # (seconds represented, index)
    for a, b in runs:
        length = float(span[a:b].sum())
        parts = max(1, math.ceil(length / cfg.spacing_s - 1e-9))
        bounds = np.linspace(a, b, parts + 1)
        for k in range(parts):
            lo, hi = int(round(bounds[k])), max(int(round(bounds[k])) + 1, int(round(bounds[k + 1])))
            idx = np.arange(lo, hi)
            mid = (lo + hi - 1) / 2
            # sharpest good frame, ties broken toward the middle of the part
            sharp = scan.sharpness[idx] / (median_sharp + 1e-6)
            score = np.where(good[idx], 1.0, -1.0) + 0.2 * np.minimum(sharp, 2.0) - 0.5 * np.abs(idx - mid) / max(1, hi - lo)
            picks.append((float(span[lo:hi].sum()), int(idx[np.argmax(score)])))
    if len(picks) > cfg.max_keyframes:
        picks = sorted(picks, reverse=True)[: cfg.max_keyframes]  # the longest parts
    return sorted(i for _, i in picks), good & ~_unstable(scan.change, cfg.change_threshold)


def _unstable(change: np.ndarray, threshold: float) -> np.ndarray:
    """Frames next to a change above threshold (change[i]: frames i-1 and i differ)."""
    cut = change > threshold
    out = cut.copy()
    out[:-1] |= cut[1:]
    return out


@dataclass
class _Pending:
    """A scanned video whose keyframes still need encoding."""

    times: np.ndarray  # (K,)
    edges: np.ndarray  # (K + 1,)
    usable: np.ndarray  # (K,)
    upright: list[np.ndarray]  # K encoder-ready squares


def _prepare(path: Path, cfg: KeyframeConfig) -> _Pending:
    # 1. one decode pass (it also rejects missing, corrupt and frame-less files with a clear error):
    #    change, brightness, sharpness; the looked-at frames
    scan = _scan(path, cfg)
    # 2. shots -> keyframes, with the quality guard
    chosen, good = _pick(scan, cfg)
    times = np.array([scan.times[i] for i in chosen])
    edges = np.concatenate([[0.0], (times[1:] + times[:-1]) / 2, [max(scan.duration, times[-1] + 1e-3)]])
    # 3. encoder input of the keyframes only, upright
    upright = [apply_rotation(scan.square(i), scan.rotation) for i in chosen]
    return _Pending(times, edges, good[chosen], upright)


def _finish(p: _Pending, features: np.ndarray) -> Keyframes:
    return Keyframes(p.times, p.edges[:-1], p.edges[1:], p.usable, features, float(p.edges[-1]))


def analyse(path: str | Path, encoder: ImageEncoder, config: KeyframeConfig | None = None) -> Keyframes:
    """Keyframes of the video at `path`: one decode pass, then only the keyframes are encoded."""
    pending = _prepare(Path(path), config or KeyframeConfig())
    # 4. encode the keyframes, upright
    return _finish(pending, encoder.encode(pending.upright).features)  # (K, 1280)


def keyframes(
    path: str | Path, digest: str, encoder: ImageEncoder, cache: FeatureCache | None, config: KeyframeConfig | None = None
) -> Keyframes:
    """`analyse` through the feature cache (key: media hash, encoder version, keyframe settings)."""
    return keyframes_many([Path(path)], [digest], encoder, cache, config)[0]


def keyframes_many(
    paths: list[Path],
    digests: list[str],
    encoder: ImageEncoder,
    cache: FeatureCache | None,
    config: KeyframeConfig | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    overlap: bool = True,
) -> list[Keyframes]:
    """Keyframes of many videos through the cache; the uncached ones are scanned one by one and
    their keyframes encoded in batches of the encoder's batch size (batching halves torch's cost
    of encoding on a CPU against a few frames per call; ONNX Runtime's batches are small). With
    `overlap`, the scans run on a producer thread while the encoder works (same results, same
    order)."""
    cfg = config or KeyframeConfig()
    what = f"keyframes-{cfg.digest()}"
    out: list[Keyframes | None] = [None] * len(paths)
    pending: list[tuple[int, _Pending]] = []

    def flush() -> None:
        frames = [im for _, p in pending for im in p.upright]
        feats = encoder.encode(frames).features
        start = 0
        for k, p in pending:
            kf = Keyframes.unpack(_finish(p, feats[start : start + len(p.times)]).pack())  # as the cache returns it
            start += len(p.times)
            if cache is not None:
                cache.put(digests[k], encoder.version, what, kf.pack())
            out[k] = kf
        pending.clear()

    # 1. cached videos
    todo = []
    for k, digest in enumerate(digests):
        cached = cache.get(digest, encoder.version, what) if cache is not None else None
        if cached is not None:
            out[k] = Keyframes.unpack(cached)
        else:
            todo.append(k)
    done = len(paths) - len(todo)
    if progress and done:
        progress("keyframes", done, len(paths))
    # 2. decode passes (on the producer thread with `overlap`) -> keyframes encoded in batches
    prepare = lambda k: _prepare(Path(paths[k]), cfg)  # noqa: E731
    scans = prefetch(prepare, todo, PREFETCH_VIDEOS) if overlap and len(todo) > 1 else (prepare(k) for k in todo)
    with closing(scans):  # an error here stops the producer at once
        for k, p in zip(todo, scans):
            pending.append((k, p))
            if sum(len(q.times) for _, q in pending) >= encoder.batch_size:
                flush()
            done += 1
            if progress:
                progress("keyframes", done, len(paths))
    if pending:
        flush()
    return out  # type: ignore[return-value]
