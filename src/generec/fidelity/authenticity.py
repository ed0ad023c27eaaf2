"""authenticity: an edit must not misrepresent its source; AI-made items never pass for human-made.

The tests that apply to a candidate (none: skip):

1. cover (op cover or regenerate, a new cover): the cover must show a shot that is a substantial
   part of the parent video, not a 0.2 s flash (the clickbait check). The parent is looked at
   `dense_fps` times a second in one decode pass (cached per video): per frame, a colour histogram
   h (HSV 8x4x4 of a 32x32 thumbnail) and a signature: the 16x16 gray thumbnail g and its Sobel
   edge magnitude e, each zero-mean and unit-norm.
   - match: sim(cover, frame) = max(g_c · g_f, e_c · e_f), normalised cross-correlations; two
     unrelated covers of the benchmark reach 0.38 at the 95th percentile, 0.57 at the 99th;
   - anchor: the frame at the op's `t` when the cover matches it, plain or rendered in the op's
     look (sim >= `match_min`; `regenerate_match_min` for a regenerated cover, SDEdit of a real
     frame: the small benchmark's regenerated covers reach 0.25-0.89 of their source frame, median
     0.39, against 0.29 for unrelated covers at the 90th percentile; their EfficientNet cosine to
     the source, 0.07-0.34, is no higher than unrelated pairs', so it is not used). Its shot is
     that of the looked-at frame before or after it that has its colours; when neither has them,
     it is a flash shorter than the scan's step. A cover that does not match its `t` (or has none)
     is looked for among the looked-at frames; no match at all: it is not in the video;
   - shot: the run of frames around the anchor whose histogram change ½‖h_i − h_{i−1}‖₁ stays
     <= `max_change` (a cut or a crossfade replaces the histogram: frames of two different photos
     differ by more than 0.3 in 99 % of the benchmark's pairs); span = t_last − t_first + 1 / dense_fps;
   - fail when span < max(`min_shot_s`, `min_share` x duration). The benchmark's shots last 1.1-2 s
     with 0.27 s crossfades; their measured span is >= 0.74 s for 99 % of them, hence 0.6 s.
   The uploader's own cover, when the op kept it, is theirs: not tested.
2. clip: its title and tags must still describe what it shows. For each text k (title + tags,
   the title, each tag), s_k = bridge.score over up to `clip_frames` clip frames, the parent's
   `parent_frames` frames (both evenly spread; the parent's through the feature cache) and
   `reference_covers` catalogue covers; z_k = (mean s_clip,k − μ_k) / σ_k with μ_k, σ_k the mean
   and standard deviation over the parent's frames, σ_k >= `min_sd_share` x std s_covers,k.
   Fail when max_k z_k < −`max_drop_sd`: no text describes the clip nearly as well as it
   describes its parent on average (a clip of one tagged topic of three keeps its tag).
3. restyle (op style, or a clip with a look): the structure of the source stays. Per looked-at
   frame and the parent's frame at the same moment, the structure term of SSIM (Wang et al. 2004,
   eq. 9 with C3 -> 0: s = σ_xy / (σ_x σ_y)) of their Sobel edge maps (luma at a 48-px short side,
   Gaussian σ = 2 px), over the whole coarse map rather than local windows, so that a cartoon's
   shifted ink lines do not read as lost structure; the mean over `structure_frames` frames must
   be >= `min_structure`. On 60 benchmark videos (4 frames each): every look >= 0.27 (sketch, the
   lowest; cartoon >= 0.37), unrelated videos <= 0.15.
4. claims: a created item must be kind "create" with no parent, its title and tags free of
   `human_claims`; an edit must not add such a phrase that its parent's title and tags lack.

Score: the worst test's measured / required, capped at 1 (the span, the structure; for the clip
1 + z / max_drop_sd); 0 for a false claim.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from generec.errors import InputError
from generec.fidelity import catalogue
from generec.fidelity.types import FAIL, PASS, SKIP, Candidate, CheckResult, FidelityContext

SCAN_VERSION = "fidelity-scan2"  # feature-cache namespace of the dense scans
THUMB, SIG, HIST = 32, 16, 128  # thumbnail side, signature side, histogram bins (HSV 8x4x4)


@dataclass(frozen=True)
class AuthenticityConfig:
    dense_fps: float = 6.0  # parent frames looked at per second for the cover test
    match_min: float = 0.5  # sim of a cover (looks included) to the frame it shows
    regenerate_match_min: float = 0.3  # ... of a regenerated cover to its source frame
    max_change: float = 0.3  # histogram change between looked-at frames of one shot
    min_shot_s: float = 0.6
    min_share: float = 0.05  # of the video's duration
    clip_frames: int = 3
    parent_frames: int = 8
    reference_covers: int = 64
    min_sd_share: float = 0.5
    max_drop_sd: float = 1.0
    structure_frames: int = 4
    min_structure: float = 0.25
    human_claims: tuple[str, ...] = ("real footage", "shot by", "filmed by", "original upload", "no ai", "not ai", "ai-free",
                                     "human-made", "human made", "100% real", "unedited", "authentic footage")  # fmt: skip

    def __post_init__(self) -> None:
        if self.dense_fps <= 0 or self.min_shot_s < 0 or not 0 <= self.min_share < 1:
            raise InputError(f"AuthenticityConfig: expected dense_fps > 0, min_shot_s >= 0, min_share in [0, 1), "
                             f"found {self.dense_fps}, {self.min_shot_s}, {self.min_share}")  # fmt: skip
        if min(self.clip_frames, self.parent_frames, self.structure_frames, self.reference_covers) < 1:
            raise InputError("AuthenticityConfig: clip_frames, parent_frames, structure_frames and reference_covers "
                             "must be >= 1")  # fmt: skip


def _z(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.float32).ravel()
    x = x - x.mean()
    return x / max(float(np.linalg.norm(x)), 1e-6)


def signature(thumb: np.ndarray) -> np.ndarray:
    """(THUMB, THUMB, 3) uint8 -> (2, SIG²): the unit gray thumbnail and its unit Sobel edge magnitude."""
    y = cv2.cvtColor(thumb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    edges = np.hypot(cv2.Sobel(y, cv2.CV_32F, 1, 0), cv2.Sobel(y, cv2.CV_32F, 0, 1))
    small = lambda a: cv2.resize(a, (SIG, SIG), interpolation=cv2.INTER_AREA)  # noqa: E731
    return np.stack([_z(small(y)), _z(small(edges))])


def _hist(thumb: np.ndarray) -> np.ndarray:
    hsv = cv2.cvtColor(thumb, cv2.COLOR_RGB2HSV)
    h = cv2.calcHist([hsv], [0, 1, 2], None, [8, 4, 4], [0, 180, 0, 256, 0, 256]).ravel()
    return h / max(float(h.sum()), 1.0)


def dense_scan(path, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """(times (n,) s, per looked-at frame [histogram (128,), signature (2·SIG²,)] (n, 128 + 2·SIG²))."""
    from generec.media.video import FrameConverter, apply_rotation, iter_raw_frames, read_rotation

    rotation, to_rgb = read_rotation(path), FrameConverter("rgb24")
    times, rows, next_t = [], [], 0.0
    for t, frame in iter_raw_frames(path):
        if t + 1e-6 < next_t:
            continue
        next_t = t + 1.0 / fps
        # the RGB frame `frames_at` would give, upright, then the cover's thumbnail: a histogram's bins
        # are sharp-edged, so a frame named later must be described through the very same pixels
        times.append(t)
        rows.append(describe(_thumb(apply_rotation(to_rgb(frame), rotation))))
    return np.asarray(times, np.float64), np.asarray(rows, np.float32).reshape(-1, HIST + 2 * SIG * SIG)


def describe(thumb: np.ndarray) -> np.ndarray:
    """(THUMB, THUMB, 3) uint8 -> [histogram, signature] (HIST + 2·SIG²,)."""
    return np.concatenate([_hist(thumb), signature(thumb).ravel()])


def _thumb(image: np.ndarray) -> np.ndarray:
    return cv2.resize(np.ascontiguousarray(image), (THUMB, THUMB), interpolation=cv2.INTER_AREA)


def _change(h0: np.ndarray, h1: np.ndarray) -> np.ndarray:
    """½‖h0 − h1‖₁ along the last axis: 0 same colours, 1 disjoint."""
    return 0.5 * np.abs(h0 - h1).sum(-1)


def _similarity(rows: np.ndarray, d: np.ndarray) -> np.ndarray:
    """max(g · g', e · e') of each row's signature with the signature of `d`."""
    a, b = rows[..., HIST:].reshape(*rows.shape[:-1], 2, SIG * SIG), d[HIST:].reshape(2, SIG * SIG)
    return (a * b).sum(-1).max(-1)


def edge_structure(a: np.ndarray, b: np.ndarray, side: int = 48, sigma: float = 2.0) -> float:
    """SSIM's structure term σ_ab / (σ_a σ_b) of two pictures' coarse Sobel edge maps (module docstring)."""
    maps = []
    for im in (a, b):
        y = cv2.cvtColor(np.ascontiguousarray(im), cv2.COLOR_RGB2GRAY).astype(np.float32)
        h, w = y.shape
        s = side / min(h, w)
        y = cv2.resize(y, (max(3, round(w * s)), max(3, round(h * s))), interpolation=cv2.INTER_AREA)
        y = cv2.GaussianBlur(y, (0, 0), sigma)
        maps.append(np.hypot(cv2.Sobel(y, cv2.CV_32F, 1, 0), cv2.Sobel(y, cv2.CV_32F, 0, 1)))
    if maps[0].shape != maps[1].shape:
        maps[1] = cv2.resize(maps[1], maps[0].shape[::-1], interpolation=cv2.INTER_AREA)
    return float(_z(maps[0]) @ _z(maps[1]))


def _upright(path, frames: np.ndarray) -> list[np.ndarray]:
    from generec.media.video import apply_rotation, read_rotation

    rotation = read_rotation(path)
    return [apply_rotation(f, rotation) for f in frames]


def _evenly(n: int, k: int) -> np.ndarray:
    return np.unique(np.linspace(0, n - 1, min(n, k)).round().astype(int)) if n else np.zeros(0, int)


class AuthenticityCheck:
    name = "authenticity"

    def __init__(self, config: AuthenticityConfig | None = None) -> None:
        self.config = config or AuthenticityConfig()

    def __call__(self, candidate: Candidate, context: FidelityContext) -> CheckResult:
        # 1. check inputs: which tests apply
        if candidate.kind not in ("edit", "create"):
            raise InputError(f"authenticity: candidate kind must be 'edit' or 'create', found {candidate.kind!r}")
        tests: list[dict[str, Any]] = [self.claims(candidate)]
        edit = candidate.kind == "edit" and candidate.parent is not None and candidate.parent_video is not None
        look = candidate.params.get("style")
        # 2. cover, 3. clip, 4. restyle
        new_cover = candidate.cover is not None and not candidate.params.get("original")  # not the uploader's own
        if edit and candidate.op in ("cover", "regenerate") and new_cover:
            tests.append(self.cover_span(candidate, context))
        if edit and candidate.op == "clip" and candidate.video is not None:
            tests.append(self.clip_text(candidate, context))
        if edit and candidate.video is not None and (candidate.op == "style" or (candidate.op == "clip" and look)):
            tests.append(self.structure(candidate))
        tests = [t for t in tests if t is not None]
        if not tests:
            why = f"no authenticity test applies to a {candidate.kind} by op {candidate.op!r}"
            return CheckResult(self.name, SKIP, 1.0, {"reason": why})
        # 5. verdict: the worst test's score
        failed = [t for t in tests if not t["passed"]]
        evidence: dict[str, Any] = {"tests": tests, "failed": [t["test"] for t in failed]}
        if failed:
            evidence["reason"] = "; ".join(t["why"] for t in failed)
        return CheckResult(self.name, FAIL if failed else PASS, float(min(t["score"] for t in tests)), evidence)

    # -- 4. claims ---------------------------------------------------------------------------------

    def claims(self, candidate: Candidate) -> dict[str, Any] | None:
        def said(title: str, tags: list[str]) -> set[str]:
            text = " ".join([title, *tags]).lower()
            # whole words only: "no ai" is a claim, "no aisle" is not
            return {p for p in self.config.human_claims if re.search(rf"(?<!\w){re.escape(p.lower())}(?!\w)", text)}

        found = said(candidate.title, candidate.tags)
        if candidate.kind == "edit":
            found -= said(candidate.parent.title, candidate.parent.tags) if candidate.parent is not None else set()
            if not found:
                return None
        problems = [f"claims to be human-made ({', '.join(sorted(found))})"] if found else []
        if candidate.kind == "create" and (candidate.op != "create" or candidate.parent is not None):
            problems.append(f"a created item must be op 'create' without a parent, found op {candidate.op!r}"
                            + (f" with parent {candidate.parent.id}" if candidate.parent is not None else ""))  # fmt: skip
        ok = not problems
        return {"test": "claims", "passed": ok, "score": 1.0 if ok else 0.0, "phrases": sorted(found),
                "why": "; ".join(problems) or "no claim of being human-made"}  # fmt: skip

    # -- 1. cover --------------------------------------------------------------------------------

    def parent_scan(self, candidate: Candidate, context: FidelityContext) -> tuple[np.ndarray, np.ndarray]:
        """(times, rows) of `dense_scan` of the parent video: once per process, and in the feature cache."""
        fps, media = self.config.dense_fps, candidate.parent.media
        digest, what = (media.hash if media is not None else None), f"dense{fps:g}"

        def compute() -> tuple[np.ndarray, np.ndarray]:
            if digest is not None:
                times = context.cache.get(digest, SCAN_VERSION, f"{what}-t")
                rows = context.cache.get(digest, SCAN_VERSION, what)
                if times is not None and rows is not None:
                    return times, rows.astype(np.float32)
            times, rows = dense_scan(candidate.parent_video, fps)
            if digest is not None:  # rows first: the times' presence marks a whole entry
                context.cache.put(digest, SCAN_VERSION, what, rows.astype(np.float16))
                context.cache.put(digest, SCAN_VERSION, f"{what}-t", times)
            return times, rows

        return catalogue.memoised(context, f"authenticity.scan.{digest or candidate.parent_video}.{what}", compute)

    def cover_span(self, candidate: Candidate, context: FidelityContext) -> dict[str, Any]:
        cfg = self.config
        times, rows = self.parent_scan(candidate, context)
        if not len(times):
            why = "the parent video has no frames to compare the cover with"
            return {"test": "cover", "passed": False, "score": 0.0, "why": why}
        step = 1.0 / cfg.dense_fps
        declared = float(candidate.parent.media.duration or 0.0) if candidate.parent.media else 0.0
        duration = max(declared, float(times[-1]) + step)
        required = max(cfg.min_shot_s, cfg.min_share * duration)
        need = cfg.regenerate_match_min if candidate.op == "regenerate" else cfg.match_min
        cover = describe(_thumb(candidate.cover))
        sim = _similarity(rows, cover)  # (n,)
        change = np.r_[0.0, _change(rows[1:, :HIST], rows[:-1, :HIST])]  # change[i]: looked-at frames i-1 and i
        # 1. the anchor: the frame the op names, when the cover shows it ...
        anchor, t, match = None, candidate.params.get("t"), 0.0
        if t is not None:
            t = min(max(0.0, float(t)), duration - 1e-3)
            frame = catalogue.named_frame(context, candidate.parent_video, t)
            named = describe(_thumb(frame))
            match = float(_similarity(np.stack([named, *self.in_look(frame, candidate)]), cover).max())
            if match >= need:
                # its shot is that of the looked-at frame before or after it, if either has its colours;
                # else it lasts less than the scan's step (a flash)
                after = int(np.searchsorted(times, t, "right"))
                near = [i for i in (after - 1, after) if 0 <= i < len(times)]
                gaps = [float(_change(rows[i, :HIST], named[:HIST])) for i in near]
                anchor = near[int(np.argmin(gaps))] if gaps and min(gaps) <= cfg.max_change else -1
        # ... else the looked-at frame that matches it best
        if anchor is None:
            best = int(np.argmax(sim))
            if sim[best] < need:
                top = float(max(sim[best], match))
                why = f"the cover matches no frame of the parent video (best similarity {top:.2f} < {need:g})"
                return {"test": "cover", "passed": False, "score": 0.0, "match": top, "required_match": need, "why": why}
            anchor, match = best, float(sim[best])
        # 2. its shot: extend while the histogram change stays small
        if anchor < 0:
            lo_t, hi_t = t, t + step
        else:
            lo = hi = anchor
            while lo > 0 and change[lo] <= cfg.max_change:
                lo -= 1
            while hi + 1 < len(times) and change[hi + 1] <= cfg.max_change:
                hi += 1
            lo_t, hi_t = float(times[lo]), float(times[hi]) + step
        span = min(hi_t - lo_t, duration)
        ok = span >= required
        why = (f"the cover's shot lasts {span:.2f} s of the {duration:.1f} s video ({lo_t:.2f}-{hi_t:.2f} s), "
               + ("at least" if ok else "less than") + f" the {required:.2f} s required")  # fmt: skip
        score = min(1.0, span / required) if required > 0 else 1.0
        return {"test": "cover", "passed": ok, "score": score, "span_s": span, "required_s": required, "shot": [lo_t, hi_t],
                "match": match, "why": why}  # fmt: skip

    @staticmethod
    def in_look(frame: np.ndarray, candidate: Candidate) -> list[np.ndarray]:
        """The named frame rendered in the cover's look (the op's own recipe), when it names one."""
        from generec.editor.style import restyle_image

        look, strength = candidate.params.get("style"), candidate.params.get("strength", 1.0)
        if not look or look == "natural":
            return []
        try:
            return [describe(_thumb(restyle_image(frame, str(look), float(strength))))]
        except (InputError, TypeError, ValueError):
            return []  # a look this build does not know: the plain frame only

    # -- 2. clip ---------------------------------------------------------------------------------

    def reference_covers(self, context: FidelityContext) -> np.ndarray:
        from generec.encoders.video import cover_features

        def compute() -> np.ndarray:
            items = catalogue.human_items(context)
            items = [items[i] for i in _evenly(len(items), self.config.reference_covers)]
            if not items:
                return np.zeros((0, context.encoder.feature_dim), np.float32)
            return cover_features(context.workspace, items, context.encoder, context.cache).features

        return catalogue.memoised(context, f"authenticity.reference.{self.config.reference_covers}", compute)

    def clip_text(self, candidate: Candidate, context: FidelityContext) -> dict[str, Any] | None:
        from generec.encoders.bridge import item_text
        from generec.encoders.video import frame_features
        from generec.types import Item, Kind

        cfg = self.config
        times, frames = candidate.frames
        joint = item_text(Item("candidate", Kind.VIDEO, title=candidate.title, tags=list(candidate.tags)))
        parts = [joint, candidate.title.strip(), *(t.strip() for t in candidate.tags)]
        texts = list(dict.fromkeys(t for t in parts if t))  # unique, in order
        if not len(frames) or not texts or candidate.parent.media is None:
            return None
        # features: a few clip frames, evenly spread (encoded now); as many of the parent's, evenly spread
        # over it (the feature cache: once per parent); reference covers (once per process)
        shown = _upright(candidate.video, frames[_evenly(len(frames), cfg.clip_frames)])
        clip_f = context.encoder.encode(shown).features
        parent_f = frame_features(context.workspace, candidate.parent, cfg.parent_frames, context.encoder,
                                  context.cache).features  # fmt: skip
        ref_f = self.reference_covers(context)
        s = context.get_bridge().score(texts, np.concatenate([clip_f, parent_f, ref_f]))  # (T, n_clip + n_parent + n_ref)
        a, b = len(clip_f), len(clip_f) + len(parent_f)
        s_clip, s_parent, s_ref = s[:, :a], s[:, a:b], s[:, b:]
        # per text k: z_k = (mean s_clip,k − μ_k) / σ_k, μ_k and σ_k the parent's mean and standard
        # deviation, σ_k at least min_sd_share x the spread over the reference covers
        mu, sd_parent = s_parent.mean(1), s_parent.std(1)  # (T,)
        ref_sd = s_ref.std(1) if s_ref.shape[1] > 1 else np.zeros(len(texts))
        sd = np.maximum(np.maximum(sd_parent, cfg.min_sd_share * ref_sd), 1e-6)
        zs = (s_clip.mean(1) - mu) / sd  # (T,)
        k = int(np.argmax(zs))  # the clip needs one text that still describes it
        z = float(zs[k])
        ok = z >= -cfg.max_drop_sd
        why = (f"the clip matches {texts[k]!r} {z:+.2f} sd against its parent, its best-matching text ("
               + ("within" if ok else "beyond") + f" the -{cfg.max_drop_sd:g} sd allowed)")  # fmt: skip
        score = float(np.clip(1.0 + z / cfg.max_drop_sd, 0.0, 1.0))
        return {"test": "clip", "passed": ok, "score": score, "z": z, "text": texts[k],
                "z_per_text": {t: round(float(v), 3) for t, v in zip(texts, zs)}, "why": why}  # fmt: skip

    # -- 3. restyle ------------------------------------------------------------------------------

    def structure(self, candidate: Candidate) -> dict[str, Any] | None:
        from generec.media.video import frames_at

        cfg = self.config
        times, frames = candidate.frames
        if not len(frames):
            return None
        pick = _evenly(len(frames), cfg.structure_frames)
        start = float(candidate.params.get("start", 0.0))
        media = candidate.parent.media
        end = float(media.duration) - 1e-3 if media is not None and media.duration else np.inf
        moments = [min(max(0.0, start + float(times[i])), end) for i in pick]  # a clip's t shows its parent at start + t
        theirs = _upright(candidate.parent_video, frames_at(candidate.parent_video, moments).images)
        ours = _upright(candidate.video, frames[pick])
        per = [edge_structure(a, b) for a, b in zip(ours, theirs)]
        s = float(np.mean(per))
        ok = s >= cfg.min_structure
        why = (f"the restyle keeps {s:.2f} of the source's edge structure ("
               + ("at least" if ok else "below") + f" {cfg.min_structure:g})")  # fmt: skip
        return {"test": "structure", "passed": ok, "score": min(1.0, max(0.0, s) / cfg.min_structure), "structure": s,
                "per_frame": [round(p, 4) for p in per], "times": [round(float(times[i]), 3) for i in pick], "why": why}  # fmt: skip
