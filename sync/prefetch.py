"""Overlap fetching with storing: pull pages from a connector in a thread, a bounded queue ahead.

The consumer still commits pages one by one, in order, so cursor semantics do not change; the
producer only gets at most ``depth`` pages ahead. An exception in the producer is re-raised in the
consumer after the pages fetched before it; closing the consumer stops the producer.

This is not a :class:`~v2mom.background.BackgroundLoop`: that loop repeats a step, logs a failing
step and carries on, and ends only when stopped. The producer here is one pass over a finite
iterator, ends by itself when the pages run out, and must hand its error to the consumer (who
re-raises it) rather than log it and fetch on. It keeps the same discipline, though: a named
daemon thread, a stop event checked while it waits on the full queue, and a join with a timeout
(:func:`~v2mom.background.join_or_warn`) when the consumer finishes or is closed.
"""

from __future__ import annotations

import contextvars
import logging
import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

from v2mom.background import join_or_warn

log = logging.getLogger(__name__)
T = TypeVar("T")
_DONE = object()


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def prefetch(source: Iterator[T], depth: int = 2, *, join_timeout: float = 30.0) -> Iterator[T]:
    """Yield ``source``'s items, produced by a background thread at most ``depth`` ahead.

    When the consumer stops (exhausted, failed or closed) the producer is told to stop and joined
    for at most ``join_timeout`` seconds; one still blocked inside ``source`` is left to finish its
    page (it is a daemon thread) and logged.
    """
    buffer: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                buffer.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in source:
                if not put(item):
                    return
            put(_DONE)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            put(_Failure(exc))

    # The producer runs in a copy of the consumer's context, as asyncio.to_thread does: what the
    # caller set for the pass (the retry listener of connectors.retry) holds for its requests too.
    context = contextvars.copy_context()
    worker = threading.Thread(target=context.run, args=(produce,), name="prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = buffer.get()
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        join_or_warn(worker, join_timeout, log)
