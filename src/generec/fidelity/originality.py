"""originality: an AI-made item must not copy someone else's picture, nor a training image.

Pictures tested: the candidate's cover and up to `keyframes` frames of its new video, each also
mirrored (a flipped copy is a copy). Each picture's 64-bit pHash (`imagehash.phash` of the centre
square, `generation_metrics.phash_bits`) is compared, as a Hamming distance d, with:

1. the catalogue's human covers (an index built once per process, kept under
   `models/fidelity/originality-<catalogue digest>.npz`). A pair is a copy when
   d <= `close_phash` and cos >= `close_cos` (a re-encode or a resize: JPEG q50 keeps d <= 6), or
   d <= `far_phash` and cos >= `far_cos` (a small crop: 10 % keeps d <= 18 and cos >= 0.85 in 95 %
   of the benchmark's covers), where cos is the EfficientNet-Lite0 cosine of the picture and the
   cover (encoded only for pHash hits; cover features through the feature cache). pHash alone is
   not proof: two unrelated dark covers can be 6 bits apart.
   For an edit, the parent, its AI variants and the parent uploader's other items are not
   "someone else"; and a match the parent itself already shows (its cover, or its frame at the
   moment of any picture tested, is no farther from the picture than the match is) is inherited:
   tested before the cosine, so that an edit of a video whose photo others used too costs no encoding.
2. for a created item, the creator's training images (`context.training_frames`): d <=
   `memorised_phash` (the creator evaluation's threshold) is a memorised training image. A created
   cover is the centre of a square still at the feed's aspect, so each training image is hashed
   through the same central crop (once per process and aspect).
The index and the training hashes live as long as the process (`FidelityContext.memo`): items
uploaded since are compared from the next process on.

Score: d / 64 of the nearest picture found (1 = nothing alike; reported with the item matched).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import numpy as np

from generec.errors import InputError
from generec.evaluation.generation_metrics import hamming, phash_bits
from generec.fidelity import catalogue
from generec.fidelity.types import FAIL, PASS, SKIP, Candidate, CheckResult, FidelityContext

INDEX_VERSION = 1
BITS = 64


@dataclass(frozen=True)
class OriginalityConfig:
    close_phash: int = 6  # d <= this with cos >= close_cos: a copy
    close_cos: float = 0.5
    far_phash: int = 18  # d <= this with cos >= far_cos: a copy (crops move the hash)
    far_cos: float = 0.85
    memorised_phash: int = 10  # created items: a training image this close is memorised
    keyframes: int = 3  # frames of a new video tested besides the cover
    mirror: bool = True  # test each picture mirrored too
    max_reported: int = 10  # copies listed in the evidence

    def __post_init__(self) -> None:
        if not 0 <= self.close_phash <= self.far_phash <= BITS or not 0 <= self.memorised_phash <= BITS:
            raise InputError(f"OriginalityConfig: expected 0 <= close_phash <= far_phash <= 64 and memorised_phash in [0, 64], "
                             f"found {self.close_phash}, {self.far_phash}, {self.memorised_phash}")  # fmt: skip
        if self.keyframes < 0:
            raise InputError(f"OriginalityConfig.keyframes must be >= 0, found {self.keyframes}")


@dataclass
class CoverIndex:
    """pHash bits of the catalogue's human covers."""

    items: list  # (N,) Item
    bits: np.ndarray  # (N, 64) bool


def _centre(image: np.ndarray, share: float) -> np.ndarray:
    """The central `share` x `share` part of an image."""
    h, w = image.shape[:2]
    ch, cw = max(1, round(h * share)), max(1, round(w * share))
    return np.ascontiguousarray(image[(h - ch) // 2 : (h - ch) // 2 + ch, (w - cw) // 2 : (w - cw) // 2 + cw])


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-8)


class OriginalityCheck:
    name = "originality"

    def __init__(self, config: OriginalityConfig | None = None) -> None:
        self.config = config or OriginalityConfig()

    # -- indexes --------------------------------------------------------------------------------

    def cover_index(self, context: FidelityContext) -> CoverIndex:
        return catalogue.memoised(context, "originality.index", lambda: self._index(context))

    def _index(self, context: FidelityContext) -> CoverIndex:
        from generec.encoders.video import cover_hash, cover_image

        items = catalogue.human_items(context)
        key = catalogue.digest(items, f"phash-v{INDEX_VERSION}")
        path = catalogue.stats_path(context, "originality", key, "npz")
        if path.is_file():
            try:
                with np.load(path, allow_pickle=False) as z:
                    if list(z["hashes"]) == [cover_hash(i) for i in items]:
                        return CoverIndex(items, z["bits"].astype(bool))
            except (OSError, ValueError, KeyError):
                pass  # unreadable: built again and replaced
        bits = phash_bits([cover_image(context.workspace, i) for i in items]) if items else np.zeros((0, BITS), bool)
        buf = io.BytesIO()
        np.savez(buf, hashes=np.array([cover_hash(i) for i in items], dtype=str), bits=bits)
        catalogue.write_atomic(path, buf.getvalue())
        return CoverIndex(items, bits)

    def training_bits(self, context: FidelityContext, aspect: float) -> np.ndarray | None:
        """pHash bits of the training images as a picture of `aspect` (short / long side) shows them.

        A created cover is the centre of a square still at the feed's aspect (`creator._portrait`),
        so the centre square that pHash sees is the still's central `aspect` x `aspect` part: the
        training images are hashed through the same crop (once per process per aspect)."""
        frames = context.training_frames
        if frames is None or len(frames) == 0:
            return None
        c = round(float(aspect), 2)
        held = context.memo.get(f"originality.training.{c}")
        if held is None or held[0] is not frames:  # hashed once per array the context holds
            held = (frames, phash_bits([_centre(f, c) for f in frames]))
            context.memo[f"originality.training.{c}"] = held
        return held[1]

    # -- the test -------------------------------------------------------------------------------

    def pictures(self, candidate: Candidate) -> tuple[list[np.ndarray], list[str], list[float | None]]:
        """(pictures, their names, their times in the new video or None for the cover), upright."""
        from generec.media.video import apply_rotation, read_rotation

        shown: list[tuple[np.ndarray, str, float | None]] = []
        if candidate.cover is not None:
            shown.append((candidate.cover, "cover", None))
        t, frames = candidate.frames
        k = min(self.config.keyframes, len(frames))
        rotation = read_rotation(candidate.video) if k else 0
        for i in np.unique(np.linspace(0, len(frames) - 1, k).round().astype(int)) if k else []:
            shown.append((apply_rotation(frames[i], rotation), f"frame at {t[i]:.2f} s", float(t[i])))
        return [s[0] for s in shown], [s[1] for s in shown], [s[2] for s in shown]

    def __call__(self, candidate: Candidate, context: FidelityContext) -> CheckResult:
        cfg = self.config
        # 1. check inputs: the pictures to test, as they are and mirrored
        if candidate.kind not in ("edit", "create"):
            raise InputError(f"originality: candidate kind must be 'edit' or 'create', found {candidate.kind!r}")
        pics, names, times = self.pictures(candidate)
        if not pics:
            why = "nothing new to look at: the parent's cover and video are kept"
            return CheckResult(self.name, SKIP, 1.0, {"reason": why})
        for p, n in zip(pics, names):
            if not isinstance(p, np.ndarray) or p.ndim != 3 or p.shape[2] != 3:
                found = getattr(p, "shape", type(p).__name__)
                raise InputError(f"originality: the {n} must be an RGB array (H, W, 3), found {found}")
        bits = np.stack([phash_bits(pics)] + ([phash_bits([p[:, ::-1] for p in pics])] if cfg.mirror else []))  # (V, P, 64)
        evidence: dict[str, Any] = {"pictures": names}
        # 2. against the catalogue's covers (an edit: not its parent's family nor its uploader's)
        index = self.cover_index(context)
        d, which = self.distances(candidate, index, bits)  # (P, N)
        evidence["catalogue"], nearest = len(index.items), float(BITS)
        if d.size:
            p, n = np.unravel_index(int(d.argmin()), d.shape)
            nearest = float(min(d[p, n], BITS))
            evidence["nearest"] = {"item": index.items[n].id, "phash": int(d[p, n]), "picture": names[p],
                                   "mirrored": bool(which[p, n])}  # fmt: skip
        copies, inherited = self.confirm(candidate, context, index, pics, names, times, bits, d, which)
        evidence["copies"], evidence["inherited"] = copies[: cfg.max_reported], inherited[: cfg.max_reported]
        # 3. a created item: against the training images
        memorised = None
        if candidate.kind == "create" and context.training_frames is not None and len(context.training_frames):
            best = evidence["nearest_training"] = self.nearest_training(context, pics, names, bits)
            nearest = min(nearest, float(best["phash"]))
            if best["phash"] <= cfg.memorised_phash:
                memorised = evidence["memorised"] = best
        # 4. verdict
        reasons = [f"the {c['picture']} copies item {c['item']} (pHash distance {c['phash']}, cosine {c['cos']:.2f})"
                   for c in copies[:3]]  # fmt: skip
        if len(copies) > 3:
            reasons[-1] += f" and {len(copies) - 3} more"
        if memorised is not None:
            reasons.append(f"the {memorised['picture']} reproduces training image {memorised['training_index']} "
                           f"(memorised; pHash distance {memorised['phash']})")  # fmt: skip
        if reasons:
            evidence["reason"] = "; ".join(reasons)
        return CheckResult(self.name, FAIL if reasons else PASS, nearest / BITS, evidence)

    def distances(self, candidate: Candidate, index: CoverIndex, bits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(d (P, N): Hamming distance of each picture to each cover, BITS + 1 where exempt; which
        variant gave it: 0 as is, 1 mirrored)."""
        d_all = np.stack([hamming(v, index.bits) for v in bits])  # (V, P, N)
        which, d = d_all.argmin(0), d_all.min(0)
        parent = candidate.parent if candidate.kind == "edit" else None
        if parent is not None:
            fam, uploader = catalogue.family(parent, index.items), parent.uploader
            exempt = np.array([i.id in fam or (uploader is not None and i.uploader == uploader) for i in index.items], bool)
            d = np.where(exempt[None, :], BITS + 1, d)
        return d, which

    def nearest_training(self, context: FidelityContext, pics: list[np.ndarray], names: list[str],
                         bits: np.ndarray) -> dict[str, Any]:  # fmt: skip
        best: dict[str, Any] | None = None
        for p, pic in enumerate(pics):
            train = self.training_bits(context, min(pic.shape[:2]) / max(pic.shape[:2]))  # (T, 64)
            dt = np.stack([hamming(v[p : p + 1], train)[0] for v in bits]).min(0)  # (T,)
            j = int(dt.argmin())
            if best is None or dt[j] < best["phash"]:
                best = {"training_index": j, "phash": int(dt[j]), "picture": names[p]}
        return best

    def confirm(self, candidate, context, index, pics, names, times, bits, d, which) -> tuple[list[dict], list[dict]]:
        """pHash hits the parent does not already show, confirmed by the cosine: (copies, inherited)."""
        from generec.encoders.video import cover_features

        cfg = self.config
        hits = [(int(p), int(n)) for p, n in np.argwhere(d <= cfg.far_phash)]  # (picture, cover)
        inherited: list[dict] = []
        if hits and candidate.kind == "edit" and candidate.parent is not None:
            # the parent already shows it (its cover, or its frame at the same moment, is as close): cheap
            # pHash first, so that only what is left needs the encoder
            refs = np.concatenate(self.parent_bits(candidate, context, times))  # (R, 64): all that was looked at
            own = [int(min(hamming(v[p : p + 1], refs).min() for v in bits)) if len(refs) else BITS for p in range(len(pics))]
            inherited = [{"picture": names[p], "item": index.items[n].id, "phash": int(d[p, n]), "parent_phash": own[p]}
                         for p, n in hits if own[p] <= d[p, n]]  # fmt: skip
            hits = [(p, n) for p, n in hits if own[p] > d[p, n]]
        if not hits:
            return [], inherited
        # encode each hit picture once (as it matched: as is or mirrored), and the matched covers
        keys = sorted({(p, int(which[p, n])) for p, n in hits})
        shown = [pics[p] if m == 0 else np.ascontiguousarray(pics[p][:, ::-1]) for p, m in keys]
        pic_f = dict(zip(keys, _unit(context.encoder.encode(shown).features)))
        matched = sorted({n for _, n in hits})
        cov = cover_features(context.workspace, [index.items[n] for n in matched], context.encoder, context.cache)
        cov_f = dict(zip(matched, _unit(cov.features)))
        copies = []
        for p, n in hits:
            dist, cos = int(d[p, n]), float(pic_f[(p, int(which[p, n]))] @ cov_f[n])
            if (dist <= cfg.close_phash and cos >= cfg.close_cos) or cos >= cfg.far_cos:
                copies.append({"picture": names[p], "item": index.items[n].id, "phash": dist, "cos": cos})
        return sorted(copies, key=lambda c: c["phash"]), inherited

    def parent_bits(self, candidate: Candidate, context: FidelityContext, times: list[float | None]) -> list[np.ndarray]:
        """Per picture, (R, 64) pHash bits of what the parent shows there: its cover, and its frame
        at the op's moment (a cover: params t; a clip's frame at t: the parent at start + t)."""
        from generec.encoders.video import cover_image
        from generec.media.video import apply_rotation, frames_at, read_rotation

        parent = candidate.parent
        image = cover_image(context.workspace, parent)
        base = [phash_bits([image])[0]] if image is not None else []
        end = max(0.0, float(parent.media.duration or 0.0) - 1e-3) if parent.media is not None else 0.0
        moments = []
        for t in times:
            m = candidate.params.get("t") if t is None else float(candidate.params.get("start", 0.0)) + t
            moments.append(None if m is None or parent.media is None else min(max(0.0, float(m)), end))
        wanted = sorted({m for m in moments if m is not None})
        frames: dict[float, np.ndarray] = {}
        if wanted and candidate.parent_video is not None:
            rotation = read_rotation(candidate.parent_video)
            upright = [apply_rotation(im, rotation) for im in frames_at(candidate.parent_video, wanted).images]
            frames = dict(zip(wanted, phash_bits(upright)))
        return [np.array(base + ([frames[m]] if m in frames else []), bool).reshape(-1, BITS) for m in moments]
