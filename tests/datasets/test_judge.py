import numpy as np
import pytest

from generec.datasets.judge import Judge, JudgeConfig, judge_features
from generec.datasets.styles import apply_style, sample_style_params

LOOKS = ("natural", "warm", "black_and_white", "sketch")


def _scene(kind: int, rng: np.random.Generator) -> np.ndarray:
    """A 48 × 64 'photo' of one of three kinds (concepts): stripes, blobs or a ramp, with noise."""
    yy, xx = np.mgrid[0:48, 0:64].astype(np.float32)
    if kind == 0:
        base = 127 + 100 * np.sin(xx / rng.uniform(2, 4))
        image = np.stack([base, base * 0.8, 255 - base], -1)
    elif kind == 1:
        image = np.full((48, 64, 3), rng.uniform(60, 200, 3), np.float32)
        for _ in range(5):
            x, y, r = rng.integers(0, 64), rng.integers(0, 48), rng.integers(4, 10)
            image[(xx - x) ** 2 + (yy - y) ** 2 < r * r] = rng.uniform(0, 255, 3)
    else:
        image = np.stack([xx * 4, yy * 5, 255 - xx * 2], -1)
    return np.clip(image + rng.normal(0, 6, image.shape), 0, 255).astype(np.uint8)


def _frames(n_videos: int, per_video: int, seed: int):
    rng = np.random.default_rng(seed)
    feats, concepts, styles, videos = [], [], [], []
    for v in range(n_videos):
        kind, look = int(rng.integers(3)), int(rng.integers(len(LOOKS)))
        params = sample_style_params(LOOKS[look], rng)
        for _ in range(per_video):
            feats.append(judge_features(apply_style(_scene(kind, rng), LOOKS[look], 1.0, params)))
            concepts.append(kind)
            styles.append(look)
            videos.append(v)
    return np.stack(feats), np.array(concepts), np.array(styles), np.array(videos)


@pytest.fixture(scope="module")
def data():
    return _frames(60, 3, seed=0)


def test_features_are_fixed_length_and_finite():
    rng = np.random.default_rng(0)
    a, b = judge_features(_scene(0, rng)), judge_features(np.zeros((224, 128, 3), np.uint8))
    assert a.shape == b.shape and a.dtype == np.float32 and np.isfinite(a).all() and np.isfinite(b).all()


def test_held_out_accuracy_is_measured_on_unseen_videos(data):
    x, c, s, v = data
    # extra stills (video −1) only ever train
    stills = _frames(20, 1, seed=1)
    x2, c2, s2, v2 = (np.concatenate([a, b]) for a, b in zip(data, (*stills[:3], np.full(20, -1))))
    judge = Judge(3, len(LOOKS), seed=0)
    report = judge.fit_report(x2, c2, s2, v2)
    assert report.test_videos == 12 and report.n_test == 36 and report.n_train == len(x2) - 36
    assert report.concept_accuracy >= 0.9 and report.style_accuracy >= 0.9
    # the judge it keeps is the one fitted without the held-out videos: refitting on all would score higher on them
    held = np.random.default_rng(0).choice(np.unique(v), size=12, replace=False)
    cp, sp = judge.probs_of_features(x[np.isin(v, held)])
    assert (sp.argmax(1) == s[np.isin(v, held)]).mean() == pytest.approx(report.style_accuracy)


def test_probabilities_round_trip_through_save(tmp_path, data):
    x, c, s, _ = data
    judge = Judge(3, len(LOOKS), seed=0, config=JudgeConfig(hidden=32, min_steps=50)).fit(x, c, s)
    rng = np.random.default_rng(5)
    images = [_scene(k, rng) for k in range(3)]
    cp, sp = judge.predict_probs(images)
    assert cp.shape == (3, 3) and sp.shape == (3, len(LOOKS))
    assert np.allclose(cp.sum(1), 1) and np.allclose(sp.sum(1), 1)
    judge.save(tmp_path / "judge.pkl")
    again = Judge.load(tmp_path / "judge.pkl").predict(images)
    assert np.allclose(again[1].concept_probs, cp[1]) and np.allclose(again[2].style_probs, sp[2])
    empty = judge.predict_probs([])
    assert empty[0].shape == (0, 3) and empty[1].shape == (0, len(LOOKS))
