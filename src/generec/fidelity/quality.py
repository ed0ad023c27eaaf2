"""quality: the technical quality of what an AI-made item shows, against the catalogue's own.

Measures of one picture (`measure_image`; Y is the BT.601 luma 0.299 R + 0.587 G + 0.114 B):
- sharpness S = log10(var(∇²Y) / (mean |∇Y|² + 1)) with Y resized to a 128-px short side: the
  Laplacian's energy as a share of the (Sobel) gradient energy, so neither size nor contrast moves
  it (a dark picture is exposure's business). On the benchmark's covers: median -1.19, 5th
  percentile -1.82; a Gaussian blur of sigma 1 px lowers it by 0.7 (median), the editor's looks
  by less than 0.4 (1st percentile).
- exposure: mean luma Ȳ (0-255) and the clipped share P(Y <= 2 or Y >= 253);
- blockiness B = mean |ΔY| across 8-pixel block edges / mean |ΔY| elsewhere (rows and columns):
  about 1 for a natural picture, 2.2 for JPEG quality 10;
- banding: the share of the luma levels between the 1st and 99th percentile that are used (by at
  least 0.02 % of the pixels): 1 for a natural picture, about 0.4 posterised to 16 levels;
- resolution: the short side in pixels.
A new video is measured on up to `video_frames` of its looked-at frames (`Candidate.frames`;
the median of each measure), and over all of them for stretches: black (at least `black_share` of
the pixels darker than `black_luma`, as ffmpeg's blackdetect: 0.98 of them under 10 %) and
frozen (mean |ΔY| between consecutive looked-at frames < `frozen_delta` on a 32-px copy), each
as long as the run of looked-at frames times their spacing. Audio: the RMS level in dBFS.

Rules:
1. catalogue bounds: each measure's `min_percentile`-th percentile, in its bad direction, over up to
   `max_covers` human covers (computed once per process and kept under
   `models/fidelity/quality-<catalogue digest>.json`); the absolute bounds of the config when the
   catalogue has fewer than `min_catalogue` covers. Exposure, clipping, blockiness and banding
   bounds are never stricter than `LENIENT` (a catalogue without any clipping must not fail 1 % of
   it). A measure past its bound fails, except for an edit whose parent is as bad (the edit
   inherited it): the bound moves to the parent's own value, less `SLACK`, when that is worse.
   The parent's own (`references`): its frame at the op's `t` for a cover that names one, else its
   looked-at frame most like the cover (gray correlation); for a video, the median over its
   looked-at frames in the clip's span (the whole video for a restyle).
2. an edit must not degrade its parent: S drop <= `max_sharpness_drop`, Ȳ ratio >=
   `min_luma_ratio`, clipped share rise <= `max_clipped_rise`, short side ratio >= `min_side_ratio`.
3. a new video fails on a black stretch >= `max_black_s` or a frozen one >= `max_frozen_s` longer
   than the parent's own; and on silence (RMS <= `silence_dbfs`) where the parent (over the
   clip's span) had sound.
Score: the share of the measures applied that pass (1 = all).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from generec.errors import InputError, MediaError
from generec.fidelity import catalogue
from generec.fidelity.types import FAIL, PASS, SKIP, Candidate, CheckResult, FidelityContext, sample_video

MEASURES_VERSION = 1
REF_SIDE = 128  # px: sharpness is measured at this short side
# rule name -> (measure, sense: +1 the value must be >= its bound, -1 <=, the config's absolute bound)
RULES: dict[str, tuple[str, int, str]] = {
    "sharpness": ("sharpness", +1, "min_sharpness"),
    "underexposed": ("luma", +1, "min_luma"),
    "overexposed": ("luma", -1, "max_luma"),
    "clipped": ("clipped", -1, "max_clipped"),
    "blockiness": ("blockiness", -1, "max_blockiness"),
    "banding": ("levels", +1, "min_levels"),
    "resolution": ("side", +1, "min_side"),
}
# catalogue bounds are never stricter than these: a catalogue of bright covers must not fail a normally
# exposed one, a sketch's white paper is not over-exposure, nor 1 % of clipping where the catalogue has none
LENIENT = {"underexposed": 60.0, "overexposed": 225.0, "clipped": 0.05, "blockiness": 1.5, "banding": 0.6}
SLACK = {"sharpness": 0.1, "luma": 10.0, "clipped": 0.02, "blockiness": 0.05, "levels": 0.05, "side": 0.0}


@dataclass(frozen=True)
class QualityConfig:
    min_percentile: float = 5.0  # a measure worse than this percentile of the catalogue's covers fails
    max_covers: int = 300  # catalogue covers measured (evenly spaced by id beyond that)
    min_catalogue: int = 20  # fewer covers: the absolute bounds below
    min_sharpness: float = -2.0  # absolute bounds (tiny catalogues)
    min_luma: float = 40.0
    max_luma: float = 225.0
    max_clipped: float = 0.2
    max_blockiness: float = 1.5
    min_levels: float = 0.5
    min_side: float = 64.0  # px
    max_sharpness_drop: float = 0.5  # edits against their parent
    min_luma_ratio: float = 0.4
    max_clipped_rise: float = 0.25
    min_side_ratio: float = 0.75
    video_frames: int = 8  # looked-at frames measured per new video
    black_luma: float = 25.0  # a black frame: black_share of its pixels darker than this
    black_share: float = 0.98
    max_black_s: float = 1.0
    frozen_delta: float = 0.5  # mean |ΔY| (0-255) under which two looked-at frames are the same picture
    max_frozen_s: float = 2.0
    silence_dbfs: float = -50.0
    posterised_looks: tuple[str, ...] = ("cartoon",)  # looks that flatten tones on purpose: no banding test

    def __post_init__(self) -> None:
        if not 0.0 < self.min_percentile < 50.0:
            raise InputError(f"QualityConfig.min_percentile must be in (0, 50), found {self.min_percentile}")
        if self.max_covers < 1 or self.video_frames < 1 or self.min_catalogue < 1:
            raise InputError("QualityConfig: max_covers, video_frames and min_catalogue must be at least 1, "
                             f"found {self.max_covers}, {self.video_frames}, {self.min_catalogue}")  # fmt: skip


def luma(image: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 RGB -> (H, W) float32 BT.601 luma."""
    return cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY).astype(np.float32)


def _block_ratio(d: np.ndarray) -> float:
    """d: |ΔY| along axis 1; mean across 8-px block edges (x ≡ 7 mod 8) over the mean elsewhere."""
    edge = (np.arange(d.shape[1]) % 8) == 7
    if not edge.any() or edge.all():
        return 1.0
    return float((d[:, edge].mean() + 1e-3) / (d[:, ~edge].mean() + 1e-3))


def measure_image(image: np.ndarray) -> dict[str, float]:
    """The measures of one RGB picture (module docstring)."""
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3 or min(image.shape[:2]) < 2:
        found = getattr(image, "shape", type(image).__name__)
        raise InputError(f"quality: expected an RGB image of shape (H, W, 3), found {found}")
    image = image if image.dtype == np.uint8 else np.clip(image, 0, 255).astype(np.uint8)
    y = luma(image)
    h, w = y.shape
    # sharpness at a 128-px short side: log10(var(∇²Y) / (E|∇Y|² + 1))
    s = REF_SIDE / min(h, w)
    size = (max(3, round(w * s)), max(3, round(h * s)))
    yr = cv2.resize(y, size, interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    lap = cv2.Laplacian(yr, cv2.CV_32F).var()
    gx, gy = cv2.Sobel(yr, cv2.CV_32F, 1, 0), cv2.Sobel(yr, cv2.CV_32F, 0, 1)
    sharpness = float(np.log10(1e-3 + lap / (float((gx * gx + gy * gy).mean()) + 1.0)))
    # exposure
    yq = np.rint(y).astype(np.int32)
    clipped = float(((yq <= 2) | (yq >= 253)).mean())
    # blockiness: columns, then rows
    blockiness = 0.5 * (_block_ratio(np.abs(np.diff(y, axis=1))) + _block_ratio(np.abs(np.diff(y, axis=0)).T))
    # banding: share of the levels in [p1, p99] in use
    lo, hi = (int(v) for v in np.percentile(yq, [1, 99]))
    counts = np.bincount(yq.ravel(), minlength=256)[lo : hi + 1]
    levels = float((counts >= max(1.0, 2e-4 * yq.size)).sum() / (hi - lo + 1))
    return {"sharpness": sharpness, "luma": float(y.mean()), "clipped": clipped, "blockiness": float(blockiness),
            "levels": levels, "side": float(min(h, w))}  # fmt: skip


def _longest(flags: np.ndarray, step: float) -> float:
    """Seconds of the longest run of True in `flags`, each looked-at frame standing for `step` s."""
    best = run = 0
    for f in flags:
        run = run + 1 if f else 0
        best = max(best, run)
    return best * step


def frame_table(times: np.ndarray, frames: np.ndarray, cfg: QualityConfig, most: int | None = None) -> dict[str, np.ndarray]:
    """Per looked-at frame: the picture measures of up to `most` of them (evenly spread; all when
    None) and, for every one, whether it is black and whether it repeats the previous one."""
    n = len(frames)
    pick = np.unique(np.linspace(0, n - 1, min(n, most or n)).round().astype(int))
    per = [measure_image(frames[i]) for i in pick]
    table = {k: np.array([m[k] for m in per]) for k in per[0]} | {"times": np.asarray(times, float), "pick": pick}
    ys = [luma(f) for f in frames]
    small = [cv2.resize(y, (32, max(1, round(32 * y.shape[0] / y.shape[1]))), interpolation=cv2.INTER_AREA) for y in ys]
    table["black"] = np.array([(y < cfg.black_luma).mean() >= cfg.black_share for y in ys])
    table["look"] = np.stack([_signature(y) for y in ys])  # (n, 256): what each frame shows, for matching a cover
    # still[i]: frame i shows the picture of frame i - 1 (mean |ΔY| under frozen_delta)
    table["still"] = np.array([False] + [float(np.abs(a - b).mean()) < cfg.frozen_delta for a, b in zip(small, small[1:])])
    return table


def _signature(y: np.ndarray) -> np.ndarray:
    """(H, W) luma -> (256,) the 16x16 thumbnail, zero-mean and unit-norm (g · g' is their correlation)."""
    g = cv2.resize(y, (16, 16), interpolation=cv2.INTER_AREA).ravel()
    g = g - g.mean()
    return (g / max(float(np.linalg.norm(g)), 1e-6)).astype(np.float32)


def summarise(table: dict[str, np.ndarray], span: tuple[float, float] | None = None) -> dict[str, float]:
    """Median picture measures and the longest black and frozen stretches (s) of the frames in `span`."""
    t = table["times"]
    inside = np.ones(len(t), bool) if span is None else (t >= span[0] - 1e-6) & (t <= span[1] + 1e-6)
    if not inside.any():
        inside[:] = True  # a span between looked-at frames: the whole video stands in
    picked = inside[table["pick"]] if inside[table["pick"]].any() else np.ones(len(table["pick"]), bool)
    out = {k: float(np.median(table[k][picked])) for k in ("sharpness", "luma", "clipped", "blockiness", "levels", "side")}
    step = float(np.median(np.diff(t))) if len(t) > 1 else 0.0
    out["black_s"] = _longest(table["black"][inside], step)
    # a frozen stretch of k looked-at frames is k - 1 repeats in a row, shown for k steps
    still = table["still"][inside].copy()
    still[0] = False
    out["frozen_s"] = _longest(still, step) + (step if still.any() else 0.0)
    return out


def _dbfs(samples: np.ndarray) -> float:
    """20 log10 RMS of float samples in [-1, 1]; -200 for no samples (digital silence gives -200 too)."""
    if not samples.size:
        return -200.0
    return float(20 * np.log10(np.sqrt(np.mean(np.square(samples, dtype=np.float64))) + 1e-10))


def _audio_level(path, span: tuple[float, float] | None = None) -> float | None:
    """dBFS of a file's first audio track (over `span` s when given); None without a track."""
    from generec.media.audio import read_audio

    track = read_audio(path)
    if track is None:
        return None
    x = track.samples  # (channels, n)
    if span is not None:
        a = int(span[0] * track.sample_rate)
        x = x[:, a : max(a + 1, int(span[1] * track.sample_rate))]
    return _dbfs(x)


class QualityCheck:
    name = "quality"

    def __init__(self, config: QualityConfig | None = None) -> None:
        self.config = config or QualityConfig()

    # -- the catalogue's distribution ------------------------------------------------------------

    def catalogue_measures(self, context: FidelityContext) -> dict[str, np.ndarray]:
        """Each measure over up to `max_covers` human covers: once per process, on disk once per catalogue."""
        key = f"quality.catalogue.{self.config.max_covers}"
        return catalogue.memoised(context, key, lambda: self._catalogue(context))

    def _catalogue(self, context: FidelityContext) -> dict[str, np.ndarray]:
        from generec.encoders.video import cover_image

        items, n = catalogue.human_items(context), self.config.max_covers
        if len(items) > n:
            items = [items[i] for i in np.linspace(0, len(items) - 1, n).round().astype(int)]
        path = catalogue.stats_path(context, "quality", catalogue.digest(items, f"quality-v{MEASURES_VERSION}"), "json")
        if path.is_file():
            try:
                return {k: np.asarray(v, float) for k, v in json.loads(path.read_text())["measures"].items()}
            except (OSError, ValueError, KeyError):
                pass  # unreadable: measured again and replaced
        rows = []
        for item in items:
            try:
                rows.append(measure_image(cover_image(context.workspace, item)))
            except (InputError, MediaError, OSError):
                continue  # a missing or unreadable cover is not part of the distribution
        measures = {k: [r[k] for r in rows] for k in (rows[0] if rows else {})}
        data = {"version": MEASURES_VERSION, "covers": len(rows), "measures": measures}
        catalogue.write_atomic(path, json.dumps(data).encode())
        return {k: np.asarray(v, float) for k, v in measures.items()}

    def bounds(self, context: FidelityContext) -> tuple[dict[str, float], str, int]:
        """(rule -> bound, "percentile" | "absolute", number of catalogue covers)."""
        cfg, cat = self.config, self.catalogue_measures(context)
        n = len(next(iter(cat.values()))) if cat else 0
        if n < cfg.min_catalogue:
            return {rule: float(getattr(cfg, field)) for rule, (_, _, field) in RULES.items()}, "absolute", n
        out = {}
        for rule, (measure, sense, _) in RULES.items():
            b = float(np.percentile(cat[measure], cfg.min_percentile if sense > 0 else 100 - cfg.min_percentile))
            if rule in LENIENT:
                b = min(b, LENIENT[rule]) if sense > 0 else max(b, LENIENT[rule])
            out[rule] = b
        return out, "percentile", n

    # -- the parent's own measures ----------------------------------------------------------------

    def parent_table(self, context: FidelityContext, candidate: Candidate) -> dict[str, np.ndarray] | None:
        """`frame_table` of all the parent's looked-at frames (once per process per parent video)."""
        path, fps, most = candidate.parent_video, candidate.sample_fps, candidate.max_frames
        if path is None:
            return None
        return catalogue.memoised(context, f"quality.parent.{path}.{fps}.{most}",
                                  lambda: frame_table(*sample_video(path, fps, most), self.config))  # fmt: skip

    def references(self, context: FidelityContext, candidate: Candidate) -> tuple[dict | None, dict | None]:
        """What the parent shows where the edit shows its cover and its video: (cover's, video's).

        The cover's: the uploader's cover when the op kept it; the parent's frame at the op's `t`
        (cover, regenerate); else the parent's looked-at frame most like the cover. The video's: the
        parent's looked-at frames over the clip's span (the whole video for a restyle)."""
        params, parent, path = candidate.params, candidate.parent, candidate.parent_video
        named = params.get("t") is not None and path is not None and candidate.cover is not None
        cover = video = None
        if params.get("original") and candidate.cover is not None:  # the uploader's own cover, kept
            from generec.encoders.video import cover_image

            image = cover_image(context.workspace, parent)
            cover = measure_image(image) if image is not None else None
            named = True
        elif named:  # the frame the op names (decoded once for all checks of the candidate)
            t = min(max(0.0, float(params["t"])), max(0.0, float((parent.media and parent.media.duration) or 0.0) - 1e-3))
            cover = measure_image(catalogue.named_frame(context, path, t))
        if len(candidate.frames[1]) or (candidate.cover is not None and not named):
            table = self.parent_table(context, candidate)
            span = (float(params["start"]), float(params["end"])) if "start" in params and "end" in params else None
            video = summarise(table, span) if table is not None else None
            if not named and table is not None and candidate.cover is not None:  # the parent's frame most like it
                best = int(np.argmax(table["look"][table["pick"]] @ _signature(luma(candidate.cover))))
                cover = {k: float(table[k][best]) for k in ("sharpness", "luma", "clipped", "blockiness", "levels", "side")}
        return cover, video

    # -- rules --------------------------------------------------------------------------------------

    def judge(self, on: str, m: dict[str, float], parent: dict[str, float] | None, bounds: dict[str, float],
              source: str, look: str | None) -> list[dict[str, Any]]:  # fmt: skip
        """Rules 1 and 2 on one picture's (or one video's median) measures."""
        cfg, rows = self.config, []
        for rule, (measure, sense, _) in RULES.items():
            if rule == "banding" and look in cfg.posterised_looks:
                continue
            pct = cfg.min_percentile if sense > 0 else 100 - cfg.min_percentile
            bound = bounds[rule]
            why = f"the catalogue's {pct:g}th percentile" if source == "percentile" else "the absolute bound"
            relaxed = parent[measure] - sense * SLACK[measure] if parent is not None else bound
            if sense * (relaxed - bound) < 0:  # the parent is as bad: the edit inherited it
                bound, why = relaxed, "the parent's own"
            rows.append(_row(rule, on, m[measure], bound, sense, why))
        if parent is not None:  # rule 2: no worse than the parent
            p = parent
            rows += [
                _row("sharpness_drop", on, m["sharpness"], p["sharpness"] - cfg.max_sharpness_drop, +1, "the parent's less max_sharpness_drop"),
                _row("darkened", on, m["luma"], p["luma"] * cfg.min_luma_ratio, +1, "min_luma_ratio x the parent's"),
                _row("clipped_rise", on, m["clipped"], p["clipped"] + cfg.max_clipped_rise, -1, "the parent's plus max_clipped_rise"),
                _row("downscaled", on, m["side"], p["side"] * cfg.min_side_ratio, +1, "min_side_ratio x the parent's"),
            ]  # fmt: skip
        return rows

    def stretches(self, v: dict[str, float], pv: dict[str, float] | None) -> list[dict[str, Any]]:
        """Rule 3: black and frozen stretches, no longer than the bound or the parent's own."""
        cfg, pv = self.config, pv or {}
        black = max(cfg.max_black_s, pv.get("black_s", 0.0) + 1e-6)
        frozen = max(cfg.max_frozen_s, pv.get("frozen_s", 0.0) + 1e-6)
        return [_row("black", "video", v["black_s"], black, -1, "max_black_s or the parent's own", strict=True),
                _row("frozen", "video", v["frozen_s"], frozen, -1, "max_frozen_s or the parent's own", strict=True)]  # fmt: skip

    def sound(self, candidate: Candidate, context: FidelityContext) -> tuple[dict[str, Any] | None, dict[str, Any]]:
        """Rule 3: the new video must not be silent where its source (over a clip's span) has sound."""
        parent, params = candidate.parent, candidate.params
        if candidate.parent_video is None or parent.media is None or not parent.media.has_audio:
            return None, {}
        span = (float(params["start"]), float(params["end"])) if "start" in params and "end" in params else None
        key = f"quality.audio.{candidate.parent_video}.{span}"
        source = catalogue.memoised(context, key, lambda: _audio_level(candidate.parent_video, span))
        if source is None or source <= self.config.silence_dbfs:
            return None, {}
        own = _audio_level(candidate.video)
        level = -200.0 if own is None else own
        why = "silence_dbfs (the source has sound)"
        row = _row("silence", "video", level, self.config.silence_dbfs, +1, why, strict=True)
        return row, {"candidate": own, "source": source}

    def __call__(self, candidate: Candidate, context: FidelityContext) -> CheckResult:
        cfg = self.config
        # 1. check inputs
        if candidate.kind not in ("edit", "create"):
            raise InputError(f"quality: candidate kind must be 'edit' or 'create', found {candidate.kind!r}")
        times, frames = candidate.frames
        if candidate.cover is None and len(frames) == 0:
            why = "nothing new to look at: the parent's cover and video are kept"
            return CheckResult(self.name, SKIP, 1.0, {"reason": why})
        parent = candidate.parent if candidate.kind == "edit" else None
        look = candidate.params.get("style") or candidate.params.get("look")
        # 2. the catalogue's bounds (cached)
        bounds, source, n_covers = self.bounds(context)
        rows: list[dict[str, Any]] = []
        measures: dict[str, Any] = {}
        ref_cover, ref_video = self.references(context, candidate) if parent is not None else (None, None)
        # 3. the cover, against the catalogue and what the parent shows there
        if candidate.cover is not None:
            m = measures["cover"] = measure_image(candidate.cover)
            rows += self.judge("cover", m, ref_cover, bounds, source, look)
        # 4. the new video: its frames' medians, black and frozen stretches, against the parent's
        if len(frames):
            v = measures["video"] = summarise(frame_table(times, frames, cfg, cfg.video_frames))
            pv = ref_video
            rows += self.judge("video", v, pv, bounds, source, look) + self.stretches(v, pv)
            # 5. sound, where the source had it
            row, levels = self.sound(candidate, context) if parent else (None, {})
            if row is not None:
                rows.append(row)
                measures["audio_dbfs"] = levels
        # 6. verdict: the share of rules passed
        failed = [r for r in rows if not r["passed"]]
        evidence = {
            "failed": [f"{r['on']} {r['measure']}" for r in failed], "measures": measures,
            "rules": rows, "catalogue": {"covers": n_covers, "bounds": source},
        }  # fmt: skip
        if failed:
            evidence["reason"] = "; ".join(r["why"] for r in failed)
        score = sum(r["passed"] for r in rows) / max(1, len(rows))
        return CheckResult(self.name, FAIL if failed else PASS, float(score), evidence)


def _row(measure: str, on: str, value: float, bound: float, sense: int, against: str,
         strict: bool = False) -> dict[str, Any]:  # fmt: skip
    """One rule's outcome; sense +1: value must be >= bound (> for `strict`), -1: <= (< for `strict`)."""
    gap = sense * (value - bound)
    passed = gap > 0 if strict else gap >= 0
    word = ("below" if sense > 0 else "above") if not passed else ("above" if sense > 0 else "below")
    why = f"{on} {measure} {value:.3g} {word} {against} {bound:.3g}" + ("" if passed else f" (by {abs(gap):.3g})")
    return {"measure": measure, "on": on, "value": float(value), "bound": float(bound), "passed": bool(passed),
            "why": why}  # fmt: skip
