import numpy as np
import pytest

from generec.datasets.judge import Judge, JudgeConfig, judge_features
from generec.datasets.oracle import ClipRef, FrameRef, Oracle
from generec.datasets.simulator import Segment, SimulatorConfig, UserTaste, VideoTruth
from generec.errors import InputError

CONCEPTS, STYLES = ["a", "b"], ["natural", "black_and_white"]


def _oracle(judge=None) -> Oracle:
    users = {"u": UserTaste(np.array([1.5, -1.0]), np.array([-0.5, 1.0]))}
    # 0–3 s: concept a, natural; 3–6 s: concept b, black and white; crossfade at 3.0–3.3
    videos = {"v": VideoTruth(6.0, 10.0, 0.3, [Segment(0, 3, 0, 0), Segment(3, 6, 1, 1)], [(3.0, 3.3)])}
    return Oracle(CONCEPTS, STYLES, SimulatorConfig(), users, videos, judge)


def _one_hot(index: int, n: int, rows: int = 1) -> np.ndarray:
    return np.tile(np.eye(n)[index], (rows, 1))


def test_pixel_expectation_with_a_certain_judge_is_the_label_score():
    oracle = _oracle()
    for t, (c, s) in ((1.0, (0, 0)), (5.0, (1, 1))):
        judged = oracle.click_probs_judged("u", _one_hot(c, 2), _one_hot(s, 2), quality=0.3)[0]
        assert judged == pytest.approx(oracle.click_prob("u", FrameRef("v", t)))
    # restyled by label = judged in that style
    assert oracle.click_probs_judged("u", _one_hot(0, 2), _one_hot(1, 2), 0.3)[0] == pytest.approx(oracle.click_prob("u", FrameRef("v", 1.0, "black_and_white")))
    # an uncertain judge gives the mixture of the two
    mix = oracle.click_probs_judged("u", np.array([[0.5, 0.5]]), _one_hot(0, 2), 0.3)[0]
    ends = [oracle.click_probs_judged("u", _one_hot(c, 2), _one_hot(0, 2), 0.3)[0] for c in (0, 1)]
    assert mix == pytest.approx(np.mean(ends))


def test_judged_watch_with_a_certain_judge_is_the_label_watch():
    oracle = _oracle()
    label = oracle.watch_value("u", ClipRef("v", 1.5, 5.5))
    # steps at 2.0, 3.0, 4.0, 5.0 (mid times): concept/style a, b, b, b
    cp, sp = _one_hot(1, 2, 4), _one_hot(1, 2, 4)
    cp[0], sp[0] = [1, 0], [1, 0]
    judged = oracle.watch_value_judged("u", cp, sp, np.ones(4))
    assert judged.ratio == pytest.approx(label.ratio) and judged.seconds == pytest.approx(label.seconds)
    with pytest.raises(InputError, match="positive length"):
        oracle.watch_value_judged("u", cp[:0], sp[:0], np.ones(0))


def test_batched_pixel_scores_match_one_at_a_time():
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 255, (24, 32, 3), dtype=np.uint8) for _ in range(8)]
    images += [np.repeat(im.mean(2, keepdims=True), 3, 2).astype(np.uint8) for im in images]
    x = np.stack([judge_features(im) for im in images])
    labels = np.repeat([0, 1], 8)
    judge = Judge(2, 2, config=JudgeConfig(hidden=16, min_steps=40)).fit(x, labels, labels)
    oracle = _oracle(judge)
    batch = oracle.click_probs("u", images[:3] + images[-3:])
    single = [oracle.click_prob("u", im) for im in images[:3] + images[-3:]]
    assert np.allclose(batch, single)
    # the judge learnt gray = (b, black and white), which this user likes less by concept, more by style
    assert batch[:3].mean() != pytest.approx(batch[3:].mean())
    watch = oracle.watch_value("u", images, fps=8.0)  # 16 frames, 2 s: two steps
    assert 0.5 < watch.ratio <= 1.0 and watch.seconds == pytest.approx(2.0 * watch.ratio)
