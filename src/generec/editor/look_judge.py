"""Look judge: the look (colour grade or rendering) that makes a user click, learned from impressions.

A cover is all a user sees before clicking, so the impression log (covers shown, clicked or not)
is direct evidence of look taste; the covers a user clicked alone are not (they mix in what the
platform chose to show them). Two parts:

1. `LookClassifier`: P(look | image) over the looks the editor renders, a multinomial logistic
   regression on standardised look statistics (`look_stats`: channel means and spreads,
   saturation, luminance percentiles, edge density, colour count, warmth), optionally with
   EfficientNet-Lite0 features (`use_features`; off by default: they tie the classifier to the
   editor's own renders and cost accuracy on looks made elsewhere). It is taught on the
   catalogue's own covers rendered in every look the editor has (`look_examples.py`; the uploads
   themselves are not taught as "natural"), plus the covers whose tags name a look, so it needs no
   look tags and knows every look on any catalogue; saved under `models/look_classifier/` with a
   hash of that catalogue.
2. `LookTaste`: per look s, the user's click rate smoothed toward their overall rate r̄,

       r_s = (Σ_i p_is y_i + a r̄) / (Σ_i p_is + a)

   over their impressions i (y_i = 1 when clicked, p_i = P(look | cover_i)).

The decision is judged on the pixels the user would see, not on the label of the look: for the
user's `candidates` best-rated looks s (never "natural": a look cannot be undone), the images are
rendered in s and classified again, and the expected click rate of what would be shown,
p(render_s) · r, is compared with that of the images as they are, p(image) · r. The best render
is kept when it beats the images by more than `margin`; the look the images already show is not
rendered again. A look the editor renders weakly (the classifier does not see it in the render)
or one the user barely prefers is left alone, so a restyle is never a coin toss that costs clicks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np

from generec.editor.concept_head import catalogue_hash, load_fitted, save_fitted
from generec.encoders.cache import FeatureCache
from generec.encoders.image import ImageEncoder
from generec.errors import InputError
from generec.instructor.guidance import LOOK_STYLES
from generec.types import Event, Item, Kind, Origin
from generec.workspace import Workspace

CLASSIFIER_VERSION = 2  # 2: taught on the editor's renders (look_examples.RENDERS_VERSION)
STATS_VERSION = "look-stats-1"
_STATS_SIDE = 128
_SYNONYMS = {"bw": "black_and_white", "b&w": "black_and_white", "monochrome": "black_and_white", "grayscale": "black_and_white",
             "greyscale": "black_and_white", "cartoonish": "cartoon", "pencil": "sketch", "colorful": "vivid", "colourful": "vivid"}  # fmt: skip


@dataclass(frozen=True)
class LookJudgeConfig:
    # the classifier (a saved classifier is refitted only when these change)
    min_items: int = 5  # a look needs this many teaching images to get a class
    render_covers: int = 300  # covers rendered in every look to teach the classifier (a seeded sample)
    use_features: bool = False  # also EfficientNet features (on `small`, they cost accuracy on looks other editors made: 0.35 vs 0.41)
    seed: int = 0
    c: float = 0.1  # inverse L2 strength of the classifier
    max_iter: int = 2000
    # the taste and the decision
    prior: float = 10.0  # a: impressions' worth of pull toward the user's overall click rate
    min_impressions: int = 10  # fewer: no taste (the editor falls back to User_Hist)
    margin: float = 0.05  # restyle only when the render's expected click rate beats the image's by more (chosen on `small`)
    candidates: int = 3  # the user's best-rated looks rendered and judged per decision

    def __post_init__(self) -> None:
        if self.min_items < 1 or self.min_impressions < 1 or self.max_iter < 1 or self.render_covers < 1:
            raise InputError(f"LookJudgeConfig: expected positive min_items, min_impressions, max_iter and render_covers, found {self}")
        if self.c <= 0 or self.prior < 0 or self.margin < 0 or self.candidates < 1:
            raise InputError(f"LookJudgeConfig: expected c > 0, prior >= 0, margin >= 0 and candidates >= 1, found {self}")

    def classifier_settings(self) -> tuple[int, float, int, int, int, bool]:
        return self.min_items, self.c, self.max_iter, self.render_covers, self.seed, self.use_features


def look_stats(image: np.ndarray) -> np.ndarray:
    """(20,) look statistics of an RGB uint8 image, measured on a 128 × 128 copy."""
    small = cv2.resize(image, (_STATS_SIDE, _STATS_SIDE), interpolation=cv2.INTER_AREA)
    rgb = small.astype(np.float32) / 255.0
    sat = cv2.cvtColor(small, cv2.COLOR_RGB2HSV)[..., 1].astype(np.float32) / 255.0
    gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    edges = cv2.Canny(small, 80, 160) > 0
    q = (small // 32).reshape(-1, 3).astype(np.int32)
    colours = len(np.unique(q[:, 0] * 64 + q[:, 1] * 8 + q[:, 2])) / 512.0
    spread = np.abs(rgb[..., 0] - rgb[..., 1]).mean() + np.abs(rgb[..., 1] - rgb[..., 2]).mean()  # 0 for gray
    return np.array([
        *rgb.mean((0, 1)), *rgb.std((0, 1)), sat.mean(), sat.std(), np.percentile(sat, 90),
        gray.mean(), gray.std(), np.percentile(gray, 10), np.percentile(gray, 90), (gray > 0.9).mean(), (gray < 0.1).mean(),
        np.abs(cv2.Laplacian(gray, cv2.CV_32F)).mean(), edges.mean(), colours, rgb[..., 0].mean() - rgb[..., 2].mean(), spread,
    ], np.float32)  # fmt: skip


def tag_look(tags: Sequence[str]) -> str | None:
    """The look a cover's tags name (the first one), if any."""
    for tag in tags:
        t = tag.strip().lower().replace("-", "_").replace(" ", "_")
        t = _SYNONYMS.get(t, t)
        if t in LOOK_STYLES:
            return t
    return None


class LookClassifier:
    def __init__(self, config: LookJudgeConfig | None = None):
        self.config = config or LookJudgeConfig()

    def fit(self, stats: np.ndarray, features: np.ndarray, looks: Sequence[str]) -> LookClassifier:
        """`stats` (N, 20), `features` (N, F) of covers and the look `looks[k]` each shows."""
        from sklearn.linear_model import LogisticRegression

        if not len(stats) == len(features) == len(looks):
            raise InputError(f"look classifier: expected as many stats, features and looks, found {len(stats)}, {len(features)}, {len(looks)}")
        x = self._inputs(stats, features)
        looks = list(looks)
        counts = {s: looks.count(s) for s in set(looks)}
        classes = sorted(s for s, n in counts.items() if n >= self.config.min_items)
        if len(classes) < 2:
            raise InputError(
                f"look classifier: expected at least 2 looks with {self.config.min_items}+ teaching images each, "
                f"found {counts or 'none'}"
            )
        keep = np.array([s in classes for s in looks])
        self.mean_, self.std_ = x[keep].mean(0), x[keep].std(0) + 1e-6
        lr = LogisticRegression(C=self.config.c, max_iter=self.config.max_iter)
        lr.fit((x[keep] - self.mean_) / self.std_, np.array(looks)[keep])
        self.looks_ = tuple(str(c) for c in lr.classes_)
        coef, intercept = lr.coef_.astype(np.float32), lr.intercept_.astype(np.float32)
        if len(self.looks_) == 2:  # sklearn keeps one row for two classes: P(second) = σ(w·x + b) = softmax([0, w·x + b])
            coef, intercept = np.vstack([np.zeros_like(coef), coef]), np.concatenate([[0.0], intercept]).astype(np.float32)
        self.coef_, self.intercept_ = coef, intercept
        return self

    def proba(self, stats: np.ndarray, features: np.ndarray | None) -> np.ndarray:
        """(N, 20), (N, F) -> (N, L) P(look), columns in `looks_` order."""
        x = self._inputs(stats, features)
        logits = ((x - self.mean_) / self.std_) @ self.coef_.T + self.intercept_
        logits -= logits.max(1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(1, keepdims=True)

    def _inputs(self, stats: np.ndarray, features: np.ndarray | None) -> np.ndarray:
        s = np.asarray(stats, np.float32)
        return np.hstack([s, np.asarray(features, np.float32)]) if self.config.use_features else s

    def images(self, images: Sequence[np.ndarray], encoder: ImageEncoder) -> np.ndarray:
        """(N, L) P(look) of RGB images."""
        feats = encoder.encode(list(images)).features if self.config.use_features else None
        return self.proba(np.stack([look_stats(im) for im in images]), feats)

    # persistence ---------------------------------------------------------------------------

    def save(self, path: str | Path, data_hash: str) -> Path:
        arrays = {"mean": self.mean_, "std": self.std_, "coef": self.coef_, "intercept": self.intercept_}
        meta = {"version": CLASSIFIER_VERSION, "config": asdict(self.config), "looks": list(self.looks_), "data_hash": data_hash}
        return save_fitted(path, "classifier", arrays, meta)

    @classmethod
    def load(cls, path: str | Path, data_hash: str | None = None) -> LookClassifier | None:
        """The saved classifier, or None when there is none or it was fitted on another catalogue."""
        found = load_fitted(path, "classifier", CLASSIFIER_VERSION, data_hash)
        if found is None:
            return None
        meta, arrays = found
        try:
            out = cls(LookJudgeConfig(**meta["config"]))
            out.looks_ = tuple(meta["looks"])
            out.mean_, out.std_, out.coef_, out.intercept_ = arrays["mean"], arrays["std"], arrays["coef"], arrays["intercept"]
        except (KeyError, TypeError, InputError):  # saved by another version of the code
            return None
        return out


@dataclass
class LookTaste:
    user_id: str
    looks: tuple[str, ...]
    rates: np.ndarray  # (L,) r_s, the smoothed click rate per look
    impressions: int
    clicks: int

    @property
    def best(self) -> str:
        return self.looks[int(np.argmax(self.rates))]


def fit_rates(probs: np.ndarray, clicked: np.ndarray, prior: float) -> np.ndarray:
    """(n, L) look probabilities of the covers shown, (n,) clicked -> (L,) smoothed click rates."""
    p, y = np.asarray(probs, np.float64), np.asarray(clicked, np.float64)
    overall = float(y.mean()) if len(y) else 0.0
    return (p.T @ y + prior * overall) / (p.sum(0) + prior)


@dataclass
class LookDecision:
    look: str | None  # the look to render the images in; None: leave them as they are
    gain: float  # p(render) · r − p(image) · r for the best render judged (0.0 when none was)
    shown: str  # the images' most probable look
    judged: dict[str, float] = field(default_factory=dict)  # look -> expected click rate of its render


@dataclass
class LookJudge:
    """A fitted classifier and one user's taste: decides whether and how to restyle an image."""

    classifier: LookClassifier
    taste: LookTaste
    margin: float = 0.05
    candidates: int = 3

    @classmethod
    def for_taste(cls, classifier: LookClassifier, taste: LookTaste) -> LookJudge:
        """A judge with the classifier's (the caller's) margin and candidate count."""
        return cls(classifier, taste, classifier.config.margin, classifier.config.candidates)

    def choose(self, images: Sequence[np.ndarray], encoder: ImageEncoder) -> LookDecision:
        """Whether to show `images` (the frames of one cover or clip) in one of the user's best
        looks, judged on the renders (module docstring)."""
        from generec.editor.look_examples import TEACHING_SIDE
        from generec.editor.looks import render_look, small_copy

        images = [small_copy(im, TEACHING_SIDE) for im in images]  # as the classifier was taught: cheap on 4K frames
        p = self.classifier.images(images, encoder).mean(0)
        rates, looks = self.taste.rates, self.classifier.looks_
        base = float(p @ rates)
        shown = looks[int(np.argmax(p))]
        # candidates: the best-rated looks that could beat the images, not "natural", not the look they already show
        order = [k for k in np.argsort(-rates) if looks[k] not in ("natural", shown) and rates[k] > base + self.margin][: self.candidates]
        if not order:  # no look's rate could beat the images as they are
            return LookDecision(None, 0.0, shown)
        renders = [render_look(im, looks[k]) for k in order for im in images]
        probs = self.classifier.images(renders, encoder).reshape(len(order), len(images), -1).mean(1)  # (C, L)
        values = probs @ rates
        judged = {looks[k]: float(v) for k, v in zip(order, values)}
        best = int(np.argmax(values))
        gain = float(values[best] - base)
        return LookDecision(looks[order[best]] if gain > self.margin else None, gain, shown, judged)


# the workspace ---------------------------------------------------------------------------------


def cover_look_stats(ws: Workspace, items: Sequence[Item], cache: FeatureCache) -> np.ndarray:
    """(N, 20) look statistics of the items' covers (zeros where an item has none), cached by
    the cover's media hash."""
    from generec.encoders.video import cover_image

    out = np.zeros((len(items), 20), np.float32)
    for k, item in enumerate(items):
        media = item.cover or item.media if item.kind in (Kind.VIDEO, Kind.IMAGE) else None
        if media is not None:
            out[k] = cache.get_or_compute(media.hash, STATS_VERSION, "look-stats", lambda it=item: look_stats(cover_image(ws, it)))
    return out


def look_classifier(
    ws: Workspace,
    encoder: ImageEncoder,
    cache: FeatureCache,
    config: LookJudgeConfig | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> LookClassifier | None:
    """The workspace's look classifier: loaded when fitted on this catalogue, else taught on the
    catalogue's own covers rendered in every look the editor has, plus the covers whose tags name
    a look (`look_examples.py`), and saved; None for a catalogue without covers."""
    from generec.editor.look_examples import RENDERS_VERSION, look_examples
    from generec.editor.looks import LOOKS
    from generec.encoders.video import cover_hash, cover_image

    cfg = config or LookJudgeConfig()
    items = [i for i in ws.items.all(origin=Origin.HUMAN) if cover_hash(i) is not None]
    if not items:
        return None
    tagged = [tag_look(i.tags) for i in items]
    data_hash = catalogue_hash([i.id for i in items], [[s] if s else [] for s in tagged], [cover_hash(i) for i in items],
                               f"{encoder.version}/{STATS_VERSION}/{RENDERS_VERSION}/{','.join(sorted(LOOKS))}")  # fmt: skip
    path = ws.root / "models" / "look_classifier"
    found = LookClassifier.load(path, data_hash)
    if found is not None and found.config.classifier_settings() == cfg.classifier_settings():
        found.config = cfg  # the taste settings are the caller's
        return found

    def embed(images: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        feats = encoder.encode(images).features if cfg.use_features else np.zeros((len(images), 0), np.float32)
        return np.stack([look_stats(im) for im in images]), feats

    examples = look_examples(lambda k: cover_image(ws, items[k]), tagged, embed, cfg.render_covers, seed=cfg.seed,
                             min_per_look=cfg.min_items, progress=progress)  # fmt: skip
    classifier = LookClassifier(cfg).fit(examples.stats, examples.features, examples.looks)
    classifier.save(path, data_hash)
    return classifier


def user_impressions(ws: Workspace, user_id: str, before: float | None = None) -> tuple[list[str], np.ndarray]:
    """The ids of the items shown to the user (before `before`), oldest first, and whether each
    was clicked (`look_taste` keeps the catalogue's)."""
    shown: dict[str, None] = {}
    clicked: set[str] = set()
    for event in ws.interactions.for_user(user_id):
        if before is not None and event.ts >= before:
            continue
        if event.event == Event.IMPRESSION:
            shown.setdefault(event.item_id, None)
        elif event.event == Event.CLICK:
            clicked.add(event.item_id)
    ids = list(shown)
    return ids, np.array([i in clicked for i in ids], np.float64)


def look_taste(
    ws: Workspace,
    user_id: str,
    classifier: LookClassifier,
    encoder: ImageEncoder,
    cache: FeatureCache,
    before: float | None = None,
) -> LookTaste | None:
    """The user's look taste from their impressions; None with fewer than `min_impressions`."""
    from generec.encoders.video import cover_features, cover_hash

    ids, clicked = user_impressions(ws, user_id, before)
    items = [ws.items.get(i) for i in ids]
    keep = [k for k, it in enumerate(items) if it is not None and it.origin == Origin.HUMAN]
    items, clicked = [items[k] for k in keep], clicked[keep]
    if len(items) < classifier.config.min_impressions:
        return None
    if classifier.config.use_features:
        covers = cover_features(ws, items, encoder, cache)  # type: ignore[arg-type]
        ok, feats = covers.has_image, covers.features[covers.has_image]
    else:  # the look statistics alone: no feature reads
        ok, feats = np.array([cover_hash(it) is not None for it in items], bool), None  # type: ignore[arg-type]
    if ok.sum() < classifier.config.min_impressions:
        return None
    shown = [it for it, good in zip(items, ok) if good]
    probs = classifier.proba(cover_look_stats(ws, shown, cache), feats)  # type: ignore[arg-type]
    rates = fit_rates(probs, clicked[ok], classifier.config.prior)
    return LookTaste(user_id, classifier.looks_, rates, int(ok.sum()), int(clicked[ok].sum()))
