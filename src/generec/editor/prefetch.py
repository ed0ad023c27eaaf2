"""Run a function over items on one background thread, `depth` results ahead of the consumer.

The cold keyframe path decodes video n + 1 while video n's keyframes go through the image
encoder. Both halves spend their time in C code that releases the GIL (FFmpeg, OpenCV, ONNX
Runtime or torch), so on two cores the slower half sets the pace instead of the sum of both.
Results come back in input order; an exception raised for an item is raised to the consumer
when it reaches that item, and a consumer that stops early (or fails) stops the thread.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

_DONE = object()


def prefetch(fn: Callable[[T], R], items: Iterable[T], depth: int = 2) -> Iterator[R]:
    """fn(item) for each item, computed up to `depth` items ahead on a daemon thread."""
    if depth < 1:
        raise ValueError(f"prefetch depth: expected >= 1, found {depth}")
    results: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry) -> bool:
        while not stop.is_set():
            try:
                results.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                try:
                    entry = (True, fn(item))
                except BaseException as e:  # handed to the consumer, raised there in order
                    entry = (False, e)
                if not put(entry) or not entry[0]:
                    return
        finally:
            put((True, _DONE))

    worker = threading.Thread(target=produce, name="prefetch", daemon=True)
    worker.start()
    try:
        while True:
            ok, value = results.get()
            if value is _DONE:
                return
            if not ok:
                raise value
            yield value
    finally:
        stop.set()
        worker.join()
