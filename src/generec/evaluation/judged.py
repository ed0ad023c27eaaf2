"""The frames users are shown, decoded as they see them and judged once by the oracle's judge.

Every row of the editing protocol is scored from pixels: a cover by the frame it shows, a clip by
one frame per second of it (the frame on screen in the middle of each one-second step, the same
steps the label-based oracle uses). The judge's (concept, style) probabilities of a frame do not
depend on the user, so each (item, time) is decoded and judged once, in one batch per item, and
then scored for every user who is shown it.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np

from generec.datasets.judge import held_out_videos
from generec.datasets.oracle import Oracle
from generec.datasets.styles import apply_style, is_colourless, sample_style_params
from generec.media.video import apply_rotation, frames_at, read_rotation
from generec.workspace import Workspace


def clip_steps(start: float, end: float) -> tuple[np.ndarray, np.ndarray]:
    """[start, end) in one-second steps (the last may be shorter): (mid times, lengths), (T,) each."""
    edges = np.append(np.arange(start, end, 1.0), end)
    if len(edges) > 2 and edges[-1] - edges[-2] < 1e-6:
        edges = edges[:-1]
    return (edges[:-1] + edges[1:]) / 2, np.diff(edges)


@functools.lru_cache(maxsize=8192)
def rotation_of(path: Path) -> int:
    """A media file's rotation, probed once (media files are content-addressed: a path never changes)."""
    return read_rotation(path)


def upright_at(path: Path, times: list[float]) -> list[np.ndarray]:
    """The frames displayed at `times`, turned upright."""
    return [apply_rotation(im, rotation_of(path)) for im in frames_at(path, times).images]


class ShownFrames:
    """Judged frames of catalogue videos: `request` times, `resolve` once, then `get`."""

    def __init__(self, oracle: Oracle, paths: dict[int, Path]) -> None:
        self.oracle = oracle
        self.paths = paths
        self._wanted: dict[int, set[float]] = {}
        self._judged: dict[tuple[int, float], tuple[np.ndarray, np.ndarray]] = {}

    @staticmethod
    def _key(t: float) -> float:
        return round(float(t), 6)

    def request(self, item: int, times: np.ndarray | list[float]) -> None:
        self._wanted.setdefault(item, set()).update(self._key(t) for t in times)

    def resolve(self, progress=None) -> int:
        """Decode and judge every requested frame not judged yet; returns how many were judged."""
        n = 0
        for done, (item, times) in enumerate(sorted(self._wanted.items()), 1):
            todo = sorted(t for t in times if (item, t) not in self._judged)
            if todo:
                cp, sp = self.oracle.judge_images(upright_at(self.paths[item], todo))
                self._judged.update({(item, t): (c, s) for t, c, s in zip(todo, cp, sp)})
                n += len(todo)
            if progress:
                progress("judge shown frames", done, len(self._wanted))
        self._wanted.clear()
        return n

    def get(self, item: int, times: np.ndarray | list[float]) -> tuple[np.ndarray, np.ndarray]:
        """(T, C) concept and (T, S) style probabilities of the frames at `times`."""
        pairs = [self._judged[(item, self._key(t))] for t in times]
        return np.stack([c for c, _ in pairs]), np.stack([s for _, s in pairs])


def judge_on_looks(oracle: Oracle, paths: dict[str, Path], render, looks: list[str], n_frames: int = 300, seed: int = 0) -> dict[str, float]:
    """Accuracy of the oracle's judge on `render(image, look)` of each look, over frames from the
    middle of "natural" segments of the videos in `paths` (item id -> media path), which should
    be videos the judge never trained on: look -> share of renders judged in that look."""
    rng = np.random.default_rng(seed)
    natural = oracle.styles.index("natural")
    spots = [(iid, (s.start + s.end) / 2) for iid in sorted(paths) for s in oracle.videos[iid].segments if s.style == natural]
    picks = [spots[k] for k in np.sort(rng.choice(len(spots), size=min(n_frames, len(spots)), replace=False))] if spots else []
    frames = [f for f in (upright_at(paths[iid], [t])[0] for iid, t in picks) if not is_colourless(f)]  # a gray photo hides colour looks
    out = {}
    for look in looks:
        _, sp = oracle.judge_images([render(f, look) for f in frames])
        out[look] = float((sp.argmax(1) == oracle.styles.index(look)).mean()) if len(frames) else float("nan")
    return out


def judge_on_held_out_looks(ws: Workspace, oracle: Oracle, items: dict[str, Any], product_render, seed: int = 0) -> dict[str, dict[str, float]]:
    """The judge's accuracy per look on natural frames of the videos its fit held out, rendered by
    the product (`product_render(image, look)`, e.g. `editor.style.restyle_image`) and by the
    benchmark (a random member of each family)."""
    build = next((d for d in ws.datasets.all() if d["name"] == "microvideo"), None)
    if build is None:
        return {}
    held = held_out_videos(np.arange(len(oracle.videos)), int(build["params"]["config"]["seed"]))
    paths = {f"v{i:05d}": ws.media_path(items[f"v{i:05d}"].media.hash, items[f"v{i:05d}"].media.mime) for i in held if f"v{i:05d}" in items}
    looks = [s for s in oracle.styles if s != "natural"]
    rng = np.random.default_rng(seed)
    return {
        "judge_on_product_looks": judge_on_looks(oracle, paths, product_render, looks, seed=seed),
        "judge_on_benchmark_looks": judge_on_looks(oracle, paths, lambda f, look: apply_style(f, look, 1.0, sample_style_params(look, rng)), looks, seed=seed),
    }
