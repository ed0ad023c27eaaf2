"""The latency benchmark's synthetic catalogue and its target check, at toy size."""

import numpy as np
import pytest

from generec.errors import InputError
from generec.evaluation.ann_latency import AnnLatencyBench, LatencyRow, check_inputs, clustered_factors, first_meeting


def test_clustered_factors_are_seeded_and_seen_items_score_high():
    a, b, c = clustered_factors(4000, 8, 30, seed=3), clustered_factors(4000, 8, 30, seed=3), clustered_factors(4000, 8, 30, seed=4)
    np.testing.assert_array_equal(a.items, b.items)
    assert all(np.array_equal(x, y) for x, y in zip(a.seen, b.seen))
    assert not np.array_equal(a.items, c.items)
    assert a.items.shape == (4000, 8) and a.users.shape == (30, 8) and a.clusters == 63  # round(√4000)
    top100 = np.argsort(-(a.users @ a.items.T), axis=1)[:, :100]
    for u, seen in enumerate(a.seen):
        assert 15 <= len(seen) <= 20 and seen.min() >= 0 and seen.max() < 4000
        assert len(set(seen.tolist()) & set(top100[u].tolist())) >= 10  # half of the history among the user's own best


def test_first_meeting_takes_the_cheapest_setting_that_meets_both():
    def row(method, exact, p50, recall):
        return LatencyRow(method, exact, {}, p50, p50, p50, recall, 0.0, 1.0)

    bench = AnnLatencyBench(1000, 8, 10, 10, 0, 1, 1, "", "", 1, 1)
    bench.rows = [row("flat", True, 5.0, 1.0), row("a", False, 0.5, 0.90), row("b", False, 2.0, 0.96), row("c", False, 1.0, 0.99), row("d", False, 12.0, 1.0)]
    assert first_meeting(bench).method == "b"
    assert first_meeting(bench, p50_ms=1.5, recall=0.999) is None


def test_check_inputs_names_the_option():
    check_inputs(20000, 64, 50, 10, [16], [32], ["ivf-flat", "hnsw"])
    for args, message in [((999, 64, 1, 10, [1], [1], ["ivf-flat"]), "--latency-items must be between 1,000"),
                          ((2000, 1, 1, 10, [1], [1], ["ivf-flat"]), "--dim must be between 2 and 1024"),
                          ((2000, 64, 0, 10, [1], [1], ["ivf-flat"]), "--queries must be at least 1"),
                          ((2000, 64, 1, 201, [1], [1], ["ivf-flat"]), "-k must be between 1 and a tenth"),
                          ((2000, 64, 1, 10, [0], [1], ["ivf-flat"]), "--nprobe must be one or more positive"),
                          ((2000, 64, 1, 10, [1], [1], ["annoy"]), "unknown index kind 'annoy'")]:  # fmt: skip
        with pytest.raises(InputError, match=message):
            check_inputs(*args)
