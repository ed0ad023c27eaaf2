"""Mode probabilities."""

from __future__ import annotations

import numpy as np

from generec.instructor.modes import mode_probabilities


def test_mode_probabilities_is_a_softmax_over_modes():
    exemplars = np.eye(3, dtype=np.float32)
    probs = mode_probabilities(np.array([1.0, 0.0, 0.0], np.float32), exemplars, ["a", "b", "c"], 0.05, 1)
    assert set(probs) == {"a", "b", "c"} and abs(sum(probs.values()) - 1) < 1e-6 and probs["a"] > 0.99
