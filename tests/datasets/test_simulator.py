import numpy as np

from generec.datasets.simulator import (
    Segment,
    SimulatorConfig,
    UserTaste,
    VideoTruth,
    cover_click_prob,
    expected_watch,
    sample_tastes,
    sample_watch,
    seconds_grid,
)

CFG = SimulatorConfig()


def _user(concept, style):
    return UserTaste(np.array(concept, float), np.array(style, float))


def _video():
    # 0-3 s: concept 0 in style 0; 3-6 s: concept 1 in style 1; crossfade at 3.0-3.3
    return VideoTruth(6.0, 10.0, 0.0, [Segment(0, 3, 0, 0), Segment(3, 6, 1, 1)], [(3.0, 3.3)])


def test_click_prob_follows_concept_taste():
    video = _video()
    likes_0 = _user([1.5, -1.0], [0.0, 0.0])
    likes_1 = _user([-1.0, 1.5], [0.0, 0.0])
    assert cover_click_prob(CFG, likes_0, video, 1.0) > cover_click_prob(CFG, likes_0, video, 5.0)
    assert cover_click_prob(CFG, likes_1, video, 5.0) > cover_click_prob(CFG, likes_1, video, 1.0)
    # monotone in the taste for the shown concept
    probs = [cover_click_prob(CFG, _user([a, 0.0], [0.0, 0.0]), video, 1.0) for a in (-1, 0, 1, 2)]
    assert probs == sorted(probs) and probs[0] < probs[-1]


def test_click_prob_follows_style_taste_and_restyle():
    video = _video()
    likes_style_1 = _user([0.0, 0.0], [-0.5, 1.0])
    as_uploaded = cover_click_prob(CFG, likes_style_1, video, 1.0)
    restyled = cover_click_prob(CFG, likes_style_1, video, 1.0, style=1)
    assert restyled > as_uploaded


def test_transition_frames_are_less_appealing():
    video = _video()
    user = _user([0.0, 0.0], [0.0, 0.0])
    assert cover_click_prob(CFG, user, video, 3.1) < cover_click_prob(CFG, user, video, 4.0)


def test_watch_value_prefers_clips_of_liked_segments():
    video = _video()
    user = _user([-1.0, 1.5], [0.0, 0.0])
    first = expected_watch(CFG, user, *seconds_grid(video, 0.0, 3.0))
    second = expected_watch(CFG, user, *seconds_grid(video, 3.0, 6.0))
    assert second > first


def test_expected_watch_matches_monte_carlo():
    video = _video()
    user = _user([-1.0, 0.5], [0.3, -0.2])
    rng = np.random.default_rng(0)
    sampled = np.mean([sample_watch(CFG, user, video, rng) for _ in range(4000)])
    assert abs(sampled - expected_watch(CFG, user, *seconds_grid(video, 0.0, 6.0))) < 0.02


def test_tastes_are_deterministic_by_seed():
    a = sample_tastes(5, 8, 10, np.random.default_rng(3))
    b = sample_tastes(5, 8, 10, np.random.default_rng(3))
    assert all(np.array_equal(x.concept, y.concept) and np.array_equal(x.style, y.style) for x, y in zip(a, b))
