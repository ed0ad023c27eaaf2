"""An invisible watermark carrying a 32-bit item id, for 128-px micro-video frames and up.

Why our own: the `invisible-watermark` package's DCT methods embed in 8x8 blocks at the frame's
own size; on 128-px frames after H.264 at CRF 23 their bit accuracy was 0.5-0.8 (measured by the
issue that asked for this). This is spread spectrum on the luma DCT with host-interference
rejection (improved spread spectrum, Malvar & Florencio 2003), in a canonical grid:

1. canonical grid: the luma Y = 0.299 R + 0.587 G + 0.114 B is resized (area) to a short side of
   `short_side` px, the long side kept in proportion and rounded to a multiple of 8; everything
   happens there, so a uniformly resized copy decodes like the original, and on 720p footage
   the mark lives at low spatial frequencies, which H.264 keeps. A frame whose short side is
   below `short_side` (a 128x96 landscape clip) is never upsampled: it is marked on its own
   pixel grid, and the detector tries that grid after the canonical one.
2. message: id (32 bits) + CRC-16/CCITT of it (16 bits) -> a rate-1/3, constraint-length-7
   convolutional code -> 162 coded bits b in {-1, +1} (`channel_code.py`).
3. carriers: 20 zig-zag positions from the 10th (`first_coefficient`) of every 8x8 block of the
   canonical Y. (Chosen on 60 catalogue clips that are not the benchmark's: after CRF 28 the
   median codeword correlation rose from 44 with positions 3-22 to 54 with 10-29 at the same
   PSNR, 1-20 fell to 29; files marked with positions 3-22 are still read,
   `legacy_first_coefficients`.) A keyed permutation assigns each coefficient j to one coded bit i(j) and a keyed
   chip u_j in {-1, +1}. Key: the workspace's watermark key (`keys.py`), so another workspace's
   detector sees noise.
4. embedding, per frame: the host projection of bit i, p_i = mean_j c_j u_j over its
   coefficients, is moved to a b_i + (1 - lambda) p_i: lambda cancels as much of the host as half
   of the `target_psnr` distortion budget allows (all of it on most frames; on a sketch look's
   strong lines, cancelling all of it cost PSNR 30 dB), and a spends the rest (clipped to
   [`strength`, `max_strength`]): each coefficient gets
   g_i w_j u_j with g_i = (strength b_i - p_i) n_i / sum_j w_j, where w_j is the block's
   perceptual weight (its AC energy against the frame's median, clipped to [0.35, 2]: flat sky
   takes less, texture more). The change is computed on the canonical grid, inverse DCT'd,
   resized (linear) to the frame and added to R, G and B alike (so chroma is untouched).
5. detection: every looked-at frame gives per-bit z-scores z_i = p_i / sqrt(mean_j c_j^2 / n_i)
   (about N(0, 1) on unmarked media); frames are combined by a soft vote, sum_f z_f / sqrt(F),
   and when that does not decode, by a vote weighting each frame by the mark it kept (`_votes`);
   soft-decision Viterbi decodes; the id is accepted only if its CRC-16 matches and the
   correlation of the z's with the re-encoded codeword, sum z_i c_i / sqrt(162), is at least
   `min_confidence` (the Viterbi decoder's best codeword on an unmarked single frame correlates
   at about 7, at most 8.3 of 340; marked clips after CRF 28 at 15-55). On unmarked clips it is
   no guard: the frames of a slow pan add their host up coherently, and the equal vote reached 32
   on 4-s benchmark clips, the weighted vote (which leans toward the codeword the equal vote
   decoded) as much, the crop search's best hypotheses 19-28; there the CRC is what keeps false
   positives out. When the frame as it is does not decode, a crop search tries the frame as a
   part of a larger original (`crop_scales` x every 1-px offset on the canonical grid), ranks the
   hypotheses by the z's energy and decodes the best `crop_candidates` (current layout only: a
   cropped copy of a file marked with a legacy layout is not read). False positives: a CRC-16
   match by chance is 2^-16 per decoded hypothesis, at most 2 votes x 2 grids x (1 + legacy
   layouts) + `crop_candidates` of them per file (12: < 2 10^-4); the measured rate on unmarked
   media is in docs/BENCHMARKS.md.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from generec.errors import InputError
from generec.fidelity.channel_code import CRC_BITS, ID_BITS, K, RATE, conv_encode, crc, decode_id, message_bits, viterbi

__all__ = ["CRC_BITS", "ID_BITS", "K", "RATE", "Watermarker", "WatermarkConfig", "WatermarkReading", "conv_encode",
           "crc", "decode_id", "message_bits", "psnr", "viterbi"]  # fmt: skip

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp")


def _zigzag(n: int = 8) -> list[tuple[int, int]]:
    return sorted(((i, j) for i in range(n) for j in range(n)), key=lambda p: (p[0] + p[1], p[0] if (p[0] + p[1]) % 2 else -p[0]))


ZIGZAG = _zigzag()


@dataclass(frozen=True)
class WatermarkConfig:
    short_side: int = 128  # px of the canonical grid's short side
    first_coefficient: int = 10  # zig-zag index of the first carrier (0 is DC); see the module doc
    legacy_first_coefficients: tuple[int, ...] = (3,)  # earlier layouts the detector also reads (files marked before)
    n_coefficients: int = 20  # carriers per 8x8 block
    strength: float = 1.5  # the least projection per coded bit, in DCT units of 0-255 luma
    max_strength: float = 12.0  # the most
    target_psnr: float = 36.0  # dB: between the two, the strength that spends this much distortion
    min_confidence: float = 10.0  # codeword correlation an accepted id needs (unmarked single frames: median 7.0, max 8.3; clips run higher, the CRC guards them)
    max_frames: int = 48  # frames of a video the detector looks at (evenly spread)
    crop_scales: tuple[float, ...] = (0.95, 0.9, 0.85, 0.8)  # share of the original a cropped copy may show
    crop_candidates: int = 4  # crop hypotheses decoded (the highest z energy)
    crop_frames: int = 6  # frames the crop search looks at

    def __post_init__(self) -> None:
        if not 32 <= self.short_side <= 1024 or self.short_side % 8:
            raise InputError(f"watermark short_side: expected a multiple of 8 in [32, 1024], found {self.short_side}")
        if not all(1 <= f and f + self.n_coefficients <= 64 for f in (self.first_coefficient, *self.legacy_first_coefficients)) or self.n_coefficients < 1:
            raise InputError(f"watermark coefficients: expected zig-zag positions within 1..63, found {self.first_coefficient}+{self.n_coefficients}")
        if not self.strength > 0 or not self.min_confidence > 0:
            raise InputError(f"watermark strength and min_confidence must be > 0, found {self.strength}, {self.min_confidence}")
        if any(not 0.5 <= s < 1 for s in self.crop_scales) or self.crop_candidates < 1 or self.max_frames < 1:
            raise InputError("watermark crop_scales must be in [0.5, 1), crop_candidates and max_frames >= 1")


@dataclass
class WatermarkReading:
    detected: bool
    watermark_id: int | None
    confidence: float  # the codeword correlation (see the module docstring); ~N(0,1)-scale on unmarked media
    bit_errors: int | None  # coded bits the Viterbi decoder corrected
    frames: int  # frames looked at
    alignment: dict[str, float] = field(default_factory=dict)  # scale / offset of the copy found (crop search)

    def to_dict(self) -> dict[str, Any]:
        return {"detected": self.detected, "watermark_id": f"{self.watermark_id:08x}" if self.watermark_id is not None else None,
                "confidence": round(float(self.confidence), 3), "bit_errors": self.bit_errors, "frames": self.frames,
                "alignment": self.alignment}  # fmt: skip


# -- the carrier layout ------------------------------------------------------------------------------

_K, _N = np.meshgrid(np.arange(8), np.arange(8), indexing="ij")
_D = np.sqrt(np.where(_K == 0, 1 / 8, 2 / 8)) * np.cos(np.pi * (2 * _N + 1) * _K / 16)  # orthonormal DCT-II: coef = D X D^T


def canonical_size(height: int, width: int, short_side: int) -> tuple[int, int]:
    """(H, W) of the canonical grid of a (height, width) frame."""
    if min(height, width) < 16:
        raise InputError(f"watermark: frames of at least 16 px a side expected, found {width}x{height}")
    long = max(8, round(max(height, width) * short_side / min(height, width) / 8) * 8)
    return (short_side, long) if height <= width else (long, short_side)


def native_size(height: int, width: int) -> tuple[int, int]:
    """The grid of a frame smaller than the canonical one: its own pixels, cut to whole blocks."""
    if min(height, width) < 16:
        raise InputError(f"watermark: frames of at least 16 px a side expected, found {width}x{height}")
    return height // 8 * 8, width // 8 * 8


def luma(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return image.astype(np.float64)
    if image.ndim != 3 or image.shape[2] < 3:
        raise InputError(f"watermark: expected an RGB (H, W, 3) image, found shape {image.shape}")
    rgb = image[..., :3].astype(np.float64)
    return rgb @ np.array([0.299, 0.587, 0.114])


def blocks_dct(y: np.ndarray) -> np.ndarray:
    """(H, W) with H, W multiples of 8 -> (H/8, W/8, 8, 8) block DCT coefficients."""
    h, w = y.shape
    b = y.reshape(h // 8, 8, w // 8, 8).transpose(0, 2, 1, 3)
    return _D @ b @ _D.T


def blocks_idct(c: np.ndarray) -> np.ndarray:
    b = _D.T @ c @ _D
    nh, nw = b.shape[:2]
    return b.transpose(0, 2, 1, 3).reshape(nh * 8, nw * 8)


class Layout:
    """Which coefficient carries which coded bit with which chip, for one canonical size and key."""

    def __init__(self, key: bytes, shape: tuple[int, int], config: WatermarkConfig, n_coded: int) -> None:
        nh, nw = shape[0] // 8, shape[1] // 8
        self.positions = ZIGZAG[config.first_coefficient : config.first_coefficient + config.n_coefficients]
        n = nh * nw * len(self.positions)
        if n < 8 * n_coded:
            raise InputError(f"watermark: a {shape[1]}x{shape[0]} canonical grid has too few carriers ({n}) for {n_coded} coded bits")
        seed = int.from_bytes(hashlib.sha256(key + f":{shape[0]}x{shape[1]}".encode()).digest()[:8], "big")
        rng = np.random.default_rng(seed)
        self.bit = rng.permutation(np.arange(n) % n_coded)  # coded bit of each carrier
        self.chip = rng.choice(np.array([-1.0, 1.0]), n)
        self.count = np.bincount(self.bit, minlength=n_coded).astype(np.float64)
        self.rows = np.array([p[0] for p in self.positions])
        self.cols = np.array([p[1] for p in self.positions])
        self.n_coded = n_coded
        self.order = np.argsort(self.bit, kind="stable")  # carriers grouped by coded bit
        self.starts = np.concatenate([[0], np.cumsum(self.count)[:-1]]).astype(np.int64)

    def carriers(self, coefs: np.ndarray) -> np.ndarray:
        """(nh, nw, 8, 8) -> (n,) carrier coefficients in layout order."""
        return coefs[:, :, self.rows, self.cols].reshape(-1)

    def zscores(self, carriers: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
        """Per coded bit z = p / sqrt(mean c^2 / n) (valid: carriers from real pixels)."""
        x = carriers if valid is None else carriers * valid
        count = self.count if valid is None else np.bincount(self.bit, weights=valid, minlength=self.n_coded)
        proj = np.bincount(self.bit, weights=x * self.chip, minlength=self.n_coded)
        energy = np.bincount(self.bit, weights=x * x, minlength=self.n_coded)
        return proj / np.sqrt(np.maximum(energy, 1e-9)) * (count > 0)


    def zscores_batch(self, carriers: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """`zscores` of F frames at once: carriers (F, n), valid (n,) -> (F, n_coded)."""
        x = (carriers * valid)[:, self.order]
        proj = np.add.reduceat(x * self.chip[self.order], self.starts, axis=1)
        energy = np.add.reduceat(x * x, self.starts, axis=1)
        return proj / np.sqrt(np.maximum(energy, 1e-9))


class Watermarker:
    """`embed` / `embed_video` a 32-bit id with `key`; `detect` / `detect_file` read it back."""

    def __init__(self, key: bytes, config: WatermarkConfig | None = None) -> None:
        if not isinstance(key, bytes | bytearray) or len(key) < 16:
            raise InputError("watermark key: expected at least 16 bytes (generec keys init makes one)")
        self.key = bytes(key)
        self.config = config or WatermarkConfig()
        self._layouts: dict[tuple[tuple[int, int], int], Layout] = {}

    @cached_property
    def n_coded(self) -> int:
        return RATE * (ID_BITS + CRC_BITS + K - 1)

    def layout(self, shape: tuple[int, int], first: int | None = None) -> Layout:
        """The carrier layout for a canonical `shape`; `first`: another first coefficient (a legacy layout)."""
        first = self.config.first_coefficient if first is None else first
        if (shape, first) not in self._layouts:
            config = self.config if first == self.config.first_coefficient else dataclasses.replace(self.config, first_coefficient=first)
            self._layouts[shape, first] = Layout(self.key, shape, config, self.n_coded)
        return self._layouts[shape, first]

    # -- embedding ------------------------------------------------------------------------------

    def residual(self, image: np.ndarray, watermark_id: int, target: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(the luma change (H, W) float that carries `watermark_id` in `image`, the projection
        per coded bit it aims at: a b_i + (1 - lambda) p_i within the `target_psnr` budget, or
        `target` when given)."""
        h, w = image.shape[:2]
        native = min(h, w) < self.config.short_side  # a small frame: its own grid, never upsampled
        shape = native_size(h, w) if native else canonical_size(h, w, self.config.short_side)
        y = luma(image)
        yc = y[: shape[0], : shape[1]] if native else y if (h, w) == shape else cv2.resize(y, (shape[1], shape[0]), interpolation=cv2.INTER_AREA)
        lay = self.layout(shape)
        coefs = blocks_dct(yc)
        c = lay.carriers(coefs)
        # perceptual weight per block: its AC energy against the frame's median
        ac = np.sqrt((coefs**2).sum(axis=(2, 3)) - coefs[:, :, 0, 0] ** 2)
        wb = np.clip(ac / max(float(np.median(ac)), 1e-6), 0.35, 2.0)
        # saturated pixels (white paper, black bars) cannot move: their blocks carry little
        nh, nw = coefs.shape[:2]
        inside = ((yc > 6) & (yc < 249)).reshape(nh, 8, nw, 8).mean(axis=(1, 3))
        wb = wb * np.maximum(inside, 0.05)
        wj = np.repeat(wb.reshape(-1), len(lay.positions))
        code = 2.0 * conv_encode(message_bits(watermark_id)) - 1.0
        proj = np.bincount(lay.bit, weights=c * lay.chip, minlength=lay.n_coded) / lay.count
        a = lay.count / np.bincount(lay.bit, weights=wj, minlength=lay.n_coded)  # gain per unit of projection change
        q = np.bincount(lay.bit, weights=wj * wj, minlength=lay.n_coded)  # energy per unit gain
        if target is None:
            strength, lam = self._strength(a * a * q, code, proj, yc.size)
            target = strength * code + (1 - lam) * proj
        gain = (target - proj) * a
        delta = np.zeros_like(coefs)
        delta[:, :, lay.rows, lay.cols] = (gain[lay.bit] * wj * lay.chip).reshape(coefs.shape[0], coefs.shape[1], -1)
        dy = blocks_idct(delta)
        if native:
            full = np.zeros((h, w))
            full[: shape[0], : shape[1]] = dy
            return full, target
        return (dy if (h, w) == shape else cv2.resize(dy, (w, h), interpolation=cv2.INTER_LINEAR)), target

    def _strength(self, e: np.ndarray, code: np.ndarray, proj: np.ndarray, pixels: int) -> tuple[float, float]:
        """(a, lambda): the host projection is cancelled by the share lambda, using at most half of
        the `target_psnr` budget B (the DCT is orthonormal: sum_i e_i (a b_i - lambda p_i)^2 is the
        squared change), and a spends the rest; a is clipped to [strength, max_strength]."""
        cfg = self.config
        budget = 255.0**2 / 10 ** (cfg.target_psnr / 10) * pixels
        cancel = float((e * proj * proj).sum())
        lam = 1.0 if cancel <= budget / 2 else float(np.sqrt(budget / 2 / cancel))
        alpha, beta, gamma = float(e.sum()), float((e * code * lam * proj).sum()), lam * lam * cancel
        disc = beta * beta - alpha * (gamma - budget)
        a = (beta + np.sqrt(disc)) / alpha if disc > 0 else cfg.strength
        return float(np.clip(a, cfg.strength, cfg.max_strength)), lam

    def embed(self, image: np.ndarray, watermark_id: int) -> np.ndarray:
        """RGB uint8 (H, W, 3) -> the same with the id embedded."""
        return self._embed(image, watermark_id, None)[0]

    def _embed(self, image: np.ndarray, watermark_id: int, target: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise InputError(f"watermark: expected an RGB uint8 (H, W, 3) image, found {image.dtype} {image.shape}")
        dy, target = self.residual(image, watermark_id, target)
        marked = np.clip(np.rint(image.astype(np.float64) + dy[..., None]), 0, 255).astype(np.uint8)
        # one more pass puts back what clipping and rounding took, toward the same target
        dy, _ = self.residual(marked, watermark_id, target)
        return np.clip(np.rint(marked.astype(np.float64) + dy[..., None]), 0, 255).astype(np.uint8), target

    def embed_video(self, src: str | Path, dst: str | Path, watermark_id: int, crf: int = 20) -> None:
        """Every frame of `src` with the id embedded, written to `dst` (H.264; times, audio, rotation kept).

        Two passes: the second marks the first's decoded frames again toward each frame's own
        first target, putting back what H.264 took."""
        import tempfile

        from generec.media.encode import reencode

        message_bits(watermark_id)  # a bad id fails before any decoding
        targets: list[np.ndarray] = []

        def first(frame: np.ndarray) -> np.ndarray:
            marked, target = self._embed(frame, watermark_id, None)
            targets.append(target)
            return marked

        it = iter(targets)
        with tempfile.TemporaryDirectory(prefix="generec-wm-", dir=Path(dst).parent) as tmp:
            once = Path(tmp) / "once.mp4"
            reencode(src, once, first, crf=crf)
            reencode(once, dst, lambda frame: self._embed(frame, watermark_id, next(it, None))[0], crf=crf)

    # -- detection ------------------------------------------------------------------------------

    def detect(self, images: list[np.ndarray]) -> WatermarkReading:
        """The id carried by `images` (frames of one video, or one image), voted over all of them."""
        if not images:
            return WatermarkReading(False, None, 0.0, None, 0)
        lumas = [luma(im) for im in images]
        grids = ("canonical", "native") if min(lumas[0].shape) < self.config.short_side else ("canonical",)
        legacy = [f for f in self.config.legacy_first_coefficients if f != self.config.first_coefficient]
        for first in (None, *legacy):  # this layout, then the ones files were marked with before
            for grid in grids:  # a small frame: marked small (native), or a shrunk copy of a larger one (canonical)
                zf = np.stack([self._zscores(y, grid, first) for y in lumas])
                for z in _votes(zf):
                    alignment = ({"grid": grid} if grid == "native" else {}) | ({"layout": float(first)} if first is not None else {})
                    found = self._decode(z, len(lumas), alignment)
                    if found.detected:
                        return found
                    if first is None and grid == "canonical":
                        reading = found  # what is reported when nothing decodes
        if not self.config.crop_scales:
            return reading
        found = self._crop_search(lumas)
        return found if found is not None else reading

    def message(self, images: list[np.ndarray]) -> np.ndarray:
        """The 48 message bits the votes over `images` decode on the canonical grid, CRC matching
        or not (for bit-accuracy tables): the first vote whose word passes the CRC, as `detect`
        takes them, else the last one's."""
        zf = np.stack([self._zscores(luma(im)) for im in images])
        for z in _votes(zf):
            bits = viterbi(z, ID_BITS + CRC_BITS)
            if decode_id(bits) is not None:
                break
        return bits

    def _zscores(self, y: np.ndarray, grid: str = "canonical", first: int | None = None) -> np.ndarray:
        if grid == "native":
            shape = native_size(*y.shape)
            yc = y[: shape[0], : shape[1]]
        else:
            shape = canonical_size(*y.shape, self.config.short_side)
            yc = y if y.shape == shape else cv2.resize(y, (shape[1], shape[0]), interpolation=cv2.INTER_AREA)
        lay = self.layout(shape, first)
        return lay.zscores(lay.carriers(blocks_dct(yc)))

    def _decode(self, z: np.ndarray, frames: int, alignment: dict[str, float] | None = None) -> WatermarkReading:
        bits = viterbi(z, ID_BITS + CRC_BITS)
        code = 2.0 * conv_encode(bits) - 1.0
        confidence = float(z @ code / np.sqrt(len(z)))
        errors = int(((z > 0) != (code > 0)).sum())
        wid = decode_id(bits)
        ok = wid is not None and wid != 0 and confidence >= self.config.min_confidence
        return WatermarkReading(ok, wid if ok else None, confidence, errors if ok else None, frames, alignment or {})

    def _crop_search(self, lumas: list[np.ndarray]) -> WatermarkReading | None:
        """The frames as a part of a larger original: each of `crop_scales`, at every 1-px offset.

        Per scale and sub-block phase (py, px) the frames' block DCTs are computed once; an offset
        (8 by + py, 8 bx + px) is then a shift of that block grid, scored by the z energy."""
        step = max(1, len(lumas) // self.config.crop_frames)
        sample = [y for y in lumas[::step][: self.config.crop_frames] if y.shape == lumas[0].shape]
        shape = canonical_size(*sample[0].shape, self.config.short_side)
        lay = self.layout(shape)
        nh, nw, npos = shape[0] // 8, shape[1] // 8, len(lay.positions)
        scored = []
        for s in self.config.crop_scales:
            sh, sw = round(shape[0] * s), round(shape[1] * s)
            small = np.stack([cv2.resize(y, (sw, sh), interpolation=cv2.INTER_AREA) for y in sample])
            small -= small.mean(axis=(1, 2), keepdims=True)
            for py in range(min(8, shape[0] - sh + 1)):
                for px in range(min(8, shape[1] - sw + 1)):
                    canvas = np.zeros((len(small), (nh + 1) * 8, (nw + 1) * 8))
                    canvas[:, py : py + sh, px : px + sw] = small
                    mask = np.zeros(canvas.shape[1:])
                    mask[py : py + sh, px : px + sw] = 1.0
                    coefs = np.stack([blocks_dct(c) for c in canvas])[:, :, :, lay.rows, lay.cols]  # (F, nh+1, nw+1, P)
                    full = _block_full(mask)  # (nh+1, nw+1)
                    for by in range((shape[0] - sh - py) // 8 + 1):
                        for bx in range((shape[1] - sw - px) // 8 + 1):
                            x = np.zeros((len(small), nh, nw, npos))
                            v = np.zeros((nh, nw))
                            x[:, by:, bx:] = coefs[:, : nh - by, : nw - bx]
                            v[by:, bx:] = full[: nh - by, : nw - bx]
                            z = lay.zscores_batch(x.reshape(len(small), -1), np.repeat(v.reshape(-1), npos))
                            z = z.sum(axis=0) / np.sqrt(len(small))
                            scored.append((float(z @ z), s, 8 * bx + px, 8 * by + py, z))
        scored.sort(key=lambda r: -r[0])
        for _, s, dx, dy, z in scored[: self.config.crop_candidates]:
            reading = self._decode(z, len(sample), {"scale": s, "dx": float(dx), "dy": float(dy)})
            if reading.detected:
                return reading
        return None

    def detect_file(self, path: str | Path) -> WatermarkReading:
        """Read an image file, or up to `max_frames` evenly spread frames of a video (as stored)."""
        p = Path(path)
        if not p.is_file():
            raise InputError(f"{p}: no such file to read a watermark from")
        if p.suffix.lower() in IMAGE_SUFFIXES:
            from generec.media.image import load_image

            return self.detect([load_image(p)])
        from generec.media.decode import iter_frames

        frames = [f for _, f in iter_frames(p)]
        if len(frames) > self.config.max_frames:
            idx = np.linspace(0, len(frames) - 1, self.config.max_frames).round().astype(int)
            frames = [frames[i] for i in idx]
        return self.detect(frames)


def _votes(zf: np.ndarray) -> list[np.ndarray]:
    """Per-frame z's (F, n) -> the soft votes to decode, in turn: the equal vote sum_f z_f / sqrt(F),
    then (F > 1) each frame weighted by how much of the mark it kept, a_f = max(0, z_f . c / n)
    with c the codeword the equal vote decodes to (maximal-ratio combining, decision-directed):
    after an H.264 re-encode the I-frame keeps most of the mark and the P-frames after it less
    and less, and an equal vote lets the weak frames dilute the strong ones."""
    equal = zf.sum(axis=0) / np.sqrt(len(zf))
    if len(zf) < 2:
        return [equal]
    code = 2.0 * conv_encode(viterbi(equal, ID_BITS + CRC_BITS)) - 1.0
    a = np.maximum(zf @ code / len(code), 0.0)
    if not (a > 0).any():
        return [equal]
    return [equal, (a[:, None] * zf).sum(axis=0) / np.sqrt((a**2).sum())]


def _block_full(mask: np.ndarray) -> np.ndarray:
    """(H, W) 0/1 -> (H/8, W/8): 1 where the block lies wholly inside the mask."""
    h, w = mask.shape
    return (mask.reshape(h // 8, 8, w // 8, 8).min(axis=(1, 3)) > 0).astype(np.float64)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(((a.astype(np.float64) - b.astype(np.float64)) ** 2).mean())
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)
