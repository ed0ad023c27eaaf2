"""The producer thread of the cold keyframe path: order, errors, early stop, and same keyframes."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from generec.editor.keyframes import keyframes_many
from generec.editor.prefetch import prefetch
from generec.encoders.cache import FeatureCache
from generec.encoders.image import get_image_encoder
from generec.errors import MediaError
from helpers import photo, shots_video


def test_results_come_in_input_order_computed_ahead():
    started = []

    def slow_square(x: int) -> int:
        started.append(x)
        time.sleep(0.002 * (5 - x % 5))  # later items finish faster
        return x * x

    assert list(prefetch(slow_square, range(20), depth=3)) == [x * x for x in range(20)]
    assert started == list(range(20))


def test_an_error_reaches_the_consumer_at_its_item_and_the_thread_stops():
    seen = []

    def fail_at_3(x: int) -> int:
        seen.append(x)
        if x == 3:
            raise MediaError(f"video {x}: expected frames, found none")
        return x

    got = []
    with pytest.raises(MediaError, match="video 3"):
        for y in prefetch(fail_at_3, range(100), depth=2):
            got.append(y)
    assert got == [0, 1, 2] and seen == [0, 1, 2, 3]  # nothing after the failing item is computed
    assert not [t for t in threading.enumerate() if t.name == "prefetch"]


def test_a_consumer_that_stops_early_stops_the_producer():
    calls = []
    it = prefetch(lambda x: calls.append(x) or x, range(1000), depth=2)
    assert next(it) == 0
    it.close()
    assert len(calls) <= 4 and not [t for t in threading.enumerate() if t.name == "prefetch"]
    with pytest.raises(ValueError, match="depth"):
        next(prefetch(abs, [1], depth=0))


def test_overlapped_keyframes_equal_serial_ones(tmp_path):
    images = [photo("coffee"), photo("chelsea"), photo("astronaut"), photo("rocket")]
    paths = [shots_video(tmp_path / f"v{k}.mp4", [images[k], images[(k + 1) % 4]], seconds=1.5) for k in range(4)]
    digests = [f"{k:02d}abcdef" for k in range(4)]
    encoder = get_image_encoder()
    serial = keyframes_many(paths, digests, encoder, FeatureCache(tmp_path / "a"), overlap=False)
    ticks = []
    overlapped = keyframes_many(paths, digests, encoder, FeatureCache(tmp_path / "b"), overlap=True, progress=lambda *a: ticks.append(a[1]))
    assert ticks == [1, 2, 3, 4]
    for a, b in zip(serial, overlapped):
        assert np.array_equal(a.timestamps, b.timestamps) and np.array_equal(a.usable, b.usable)
        assert np.abs(a.features - b.features).max() < 1e-5  # batches may split differently across videos
    # a bad file among them is still refused with its own error, and the producer stops
    (tmp_path / "bad.mp4").write_bytes(b"not a video")
    with pytest.raises(MediaError, match="bad.mp4"):
        keyframes_many([paths[0], tmp_path / "bad.mp4", paths[1]], ["11aa", "22bb", "33cc"], encoder, None, overlap=True)
    assert not [t for t in threading.enumerate() if t.name == "prefetch"]
