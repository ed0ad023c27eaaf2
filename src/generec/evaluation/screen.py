"""What a user sees of a served item, as pixels, and what the oracle's judge reads in them.

A shown item is a span [start, end) of a catalogue video, maybe rendered in a look, with a cover.
Its `View` holds the cover (the catalogue's stored cover for an item served as it is, else the
edit's cover frame in the edit's look) and one frame per second of the span in its look, frame i
standing for ℓ_i seconds (1, the last one the remainder), rendered by the product's own restyle
(`editor.style.restyle_image`). The judge gives each frame a concept ĉ_i and a look ŝ_i (argmax of
its probabilities, as `Oracle.watch_value` reads raw frames), and

    share(z) = Σ_i ℓ_i [ẑ_i = z] / Σ_i ℓ_i
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from generec.datasets.oracle import Oracle
from generec.editor.style import restyle_image
from generec.errors import InputError
from generec.media.image import load_image
from generec.media.video import apply_rotation, frames_at, read_rotation
from generec.workspace import Workspace

WATCH_FPS = 10.0  # frame rate of the list handed to Oracle.watch_value: each judged frame held for its second


class Span(Protocol):
    item_id: str
    start: float
    end: float
    style: str | None
    cover_t: float
    way: str  # retrieve (as it is) | repurpose (edited)
    strength: float


@dataclass
class View:
    """What a user sees of one shown item, and what the judge reads in it."""

    cover: np.ndarray  # (H, W, 3) uint8 RGB
    frames: list[np.ndarray]  # one per second of the span, (H, W, 3) uint8 RGB, in the shown look
    lengths: np.ndarray  # (n,) seconds each frame stands for; sums to the span's length
    concepts: np.ndarray  # (n,) the judge's concept per frame
    styles: np.ndarray  # (n,) the judge's look per frame

    def share(self, kind: str, index: int) -> float:
        judged = self.concepts if kind == "concept" else self.styles
        return float(self.lengths @ (judged == index)) / float(self.lengths.sum())

    def watch_frames(self) -> list[np.ndarray]:
        """The frames at WATCH_FPS, each second's frame repeated, for Oracle.watch_value."""
        n = max(1, round(float(self.lengths.sum()) * WATCH_FPS))
        return [self.frames[min(i // int(WATCH_FPS), len(self.frames) - 1)] for i in range(n)]


class Screen:
    """The pixels of shown items: decoded once per (item, time), restyled by the product's restyle."""

    def __init__(self, ws: Workspace, items: dict, oracle: Oracle) -> None:
        if oracle.judge is None:
            raise InputError(f"workspace {ws.root}: the oracle has no judge to read pixels; rebuild the benchmark")
        self.ws, self.items, self.judge = ws, items, oracle.judge
        self._frames: dict[tuple[str, float], np.ndarray] = {}
        self._views: dict[Span, View] = {}

    @property
    def frames_decoded(self) -> int:
        return len(self._frames)

    def _natural(self, item_id: str, times: list[float]) -> list[np.ndarray]:
        missing = sorted({t for t in times if (item_id, t) not in self._frames})
        if missing:
            media = self.items[item_id].media
            path = self.ws.media_path(media.hash, media.mime)
            rotation = read_rotation(path)
            for t, image in zip(missing, frames_at(path, missing).images):
                self._frames[(item_id, t)] = apply_rotation(image, rotation)
        return [self._frames[(item_id, t)] for t in times]

    def _look(self, image: np.ndarray, s: Span) -> np.ndarray:
        return restyle_image(image, s.style, s.strength) if s.style else image

    def view(self, s: Span) -> View:
        if s in self._views:
            return self._views[s]
        item = self.items[s.item_id]
        # 1. seconds of the span: n frames, the last standing for the remainder (n_watch / fps − (n − 1))
        n_watch = max(1, round((s.end - s.start) * WATCH_FPS))
        n = math.ceil(n_watch / WATCH_FPS)
        lengths = np.ones(n)
        lengths[-1] = n_watch / WATCH_FPS - (n - 1)
        limit = item.media.duration or s.end
        times = [round(min(s.start + i + lengths[i] / 2, limit), 3) for i in range(n)]
        frames = [self._look(f, s) for f in self._natural(s.item_id, times)]
        # 2. the cover: the catalogue's own for an item as it is, else the edit's keyframe in its look
        if s.way == "retrieve" and item.cover is not None:
            cover = load_image(self.ws.media_path(item.cover.hash, item.cover.mime))
        else:
            cover = self._look(self._natural(s.item_id, [round(min(s.cover_t, limit), 3)])[0], s)
        outs = self.judge.predict(frames)
        concepts = np.array([int(o.concept_probs.argmax()) for o in outs])
        styles = np.array([int(o.style_probs.argmax()) for o in outs])
        self._views[s] = View(cover, frames, lengths, concepts, styles)
        return self._views[s]
