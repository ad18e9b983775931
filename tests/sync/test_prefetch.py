"""The prefetcher keeps order, re-raises the producer's error after earlier items, and stops early."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from v2mom.sync.prefetch import prefetch


def test_order_is_kept() -> None:
    assert list(prefetch(iter(range(100)), depth=3)) == list(range(100))


def test_error_arrives_after_the_items_before_it() -> None:
    def source() -> Iterator[int]:
        yield 1
        yield 2
        raise RuntimeError("page 3 failed")

    seen: list[int] = []

    def consume() -> None:
        seen.extend(prefetch(source()))

    with pytest.raises(RuntimeError, match="page 3 failed"):
        consume()
    assert seen == [1, 2]


def test_producer_stays_at_most_depth_ahead_and_stops_when_consumer_stops() -> None:
    produced: list[int] = []

    def source() -> Iterator[int]:
        for n in range(1000):
            produced.append(n)
            yield n

    iterator = prefetch(source(), depth=2)
    assert next(iterator) == 0
    deadline = time.monotonic() + 5
    while len(produced) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)  # a window in which a producer that ignored the bound would run ahead
    assert len(produced) == 4  # one consumed, two queued, one waiting to be queued
    iterator.close()  # type: ignore[attr-defined]
    # close() joins the producer: no waiting needed before looking
    assert not any(t.name == "prefetch" and t.is_alive() for t in threading.enumerate())
    assert len(produced) <= 5
