"""The look classifier's teaching set: the catalogue's own covers, rendered by the editor's looks.

A catalogue rarely says which look its covers have: tags that name a look are few, and uploaders
spell looks in words no list foresees ("noir", "golden hour", "lo-fi", in any language). What the
editor can always do is render. So the classifier is taught what each look it can apply looks
like on *this* catalogue's pictures: a seeded sample of covers, each rendered in every look
(class = the look), at a random strength and with a small random colour and exposure change
(`vary`), as the same look comes out of other editors and cameras. The covers as uploaded are
not taught as "natural": an uploaded cover may already be graded in any look, and teaching it as natural would teach the classifier to call
every catalogue cover natural. Covers whose tags name a look (`tag_look`, "natural" included)
are added with that label, the catalogue's own weak evidence.

Every picture is first brought to at most `side` pixels on its short side: the classifier's
statistics and EfficientNet see small copies anyway, and the renders stay cheap on 4K footage.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from generec.editor.looks import LOOKS, render_look, small_copy


RENDERS_VERSION = "renders-1"  # bump when the teaching renders change (strength, jitter, side, the looks' code)
TEACHING_SIDE = 224


@dataclass
class LookExamples:
    stats: np.ndarray  # (N, 20) look statistics of every teaching image
    features: np.ndarray  # (N, F) their image features
    looks: list[str]  # the class each is taught as
    rendered: int  # how many of them are the editor's renders


def vary(image: np.ndarray, rng: np.random.Generator, jitter: float) -> np.ndarray:
    """A render as another editor might have made it: per-channel gains N(1, jitter) and a gamma
    exp(N(0, 2 jitter)), so that the classifier learns a look as a family, not as one filter."""
    if jitter <= 0:
        return image
    gains = rng.normal(1.0, jitter, 3).clip(0.7, 1.3)
    gamma = float(np.exp(rng.normal(0.0, 2 * jitter)))
    out = np.power(image.astype(np.float32) / 255.0, gamma) * gains
    return np.clip(out * 255.0 + 0.5, 0, 255).astype(np.uint8)


def sample_covers(n_covers: int, max_covers: int, seed: int) -> np.ndarray:
    """Indices of the covers to render: all of them up to `max_covers`, else a seeded sample."""
    if n_covers <= max_covers:
        return np.arange(n_covers)
    return np.sort(np.random.default_rng(seed).choice(n_covers, size=max_covers, replace=False))


def look_examples(
    load: Callable[[int], np.ndarray],
    tagged: Sequence[str | None],
    embed: Callable[[list[np.ndarray]], tuple[np.ndarray, np.ndarray]],
    max_covers: int = 300,
    side: int = TEACHING_SIDE,
    seed: int = 0,
    strength: tuple[float, float] = (0.5, 1.0),
    jitter: float = 0.06,
    min_per_look: int = 5,
    progress: Callable[[str, int, int], None] | None = None,
) -> LookExamples:
    """`load(k)` the catalogue's cover k (RGB uint8), `tagged[k]` the look its tags name (or None),
    `embed(images)` -> their (n, 20) look statistics and (n, F) features -> the teaching set: the
    sampled covers in every look the editor renders, and every tagged cover with its tagged look.
    One cover's images at a time are held in memory."""
    picked = set(sample_covers(len(tagged), max_covers, seed).tolist())
    rng = np.random.default_rng(seed + 1)
    repeats = max(1, -(-min_per_look // max(1, len(picked))))  # ceil: at least `min_per_look` renders of each look
    todo = [k for k in range(len(tagged)) if k in picked or tagged[k] is not None]
    stats, feats, looks = [], [], []
    rendered = 0
    for n, k in enumerate(todo):
        image = small_copy(load(k), side)
        images, names = ([image], [tagged[k]]) if tagged[k] is not None else ([], [])
        if k in picked:  # a small catalogue renders each cover several times, each with its own variation
            for _ in range(repeats):
                images += [vary(render_look(image, look, float(rng.uniform(*strength))), rng, jitter) for look in LOOKS]
                names += list(LOOKS)
                rendered += len(LOOKS)
        s, f = embed(images)
        stats.append(s)
        feats.append(f)
        looks += names
        if progress:
            progress("look examples", n + 1, len(todo))
    if not todo:
        raise ValueError("look examples: expected at least one cover")
    return LookExamples(np.vstack(stats), np.vstack(feats), looks, rendered)
