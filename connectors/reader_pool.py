"""Reading a tracker's batches on a few threads at once, each thread through a client of its own.

A history read of a thousand items is tens of requests (Linear: 50 issues a request; Asana: ten
tasks' stories a batch). One after the other, each waits out the tracker's answer before the next
is sent, and that chain can outlast the listing it runs beside. A :class:`ReaderPool` runs the
batches ``size`` at a time: the waits overlap, and the requests are the same ones.

Clients are not shared between threads (ours keep per-request state, and an SDK session is not
promised to be thread-safe): each reader thread makes its own on first use (:meth:`ReaderPool.client`)
and :meth:`ReaderPool.close` closes them all. Each batch runs in a copy of the caller's context, so
what the caller set (the retry listener of :mod:`connectors.retry`) holds for its requests too.
:func:`in_turn` runs the same work on the caller's thread, one batch after the other.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Generic, Protocol, TypeVar

__all__ = ["Closable", "ReaderPool", "Spread", "in_turn"]

B = TypeVar("B")
T = TypeVar("T")


class Closable(Protocol):
    """A client whose connections are released by ``close()``."""

    def close(self) -> None:
        """Release its connections."""
        ...


C = TypeVar("C", bound=Closable)


class Spread(Protocol):
    """Runs ``work`` over ``batches`` and concatenates what each returned, in the batches' order."""

    def __call__(self, work: Callable[[B], list[T]], batches: Iterable[B]) -> list[T]:
        """What ``work`` returned for each batch, in order; the first failure is raised."""
        ...


def in_turn(work: Callable[[B], list[T]], batches: Iterable[B]) -> list[T]:
    """``work`` over ``batches`` one after the other on this thread, concatenated."""
    return [found for batch in batches for found in work(batch)]


class ReaderPool(Generic[C]):
    """``size`` reader threads (named ``name``), each with a client made by ``new_client``."""

    def __init__(self, new_client: Callable[[], C], size: int, name: str) -> None:
        """No thread or client is made before the first :meth:`run`."""
        if size < 1:
            raise ValueError("a reader pool needs at least one reader")
        self._new_client = new_client
        self._size = size
        self._name = name
        self._pool: ThreadPoolExecutor | None = None
        self._local = threading.local()
        self._clients: list[C] = []
        self._lock = threading.Lock()

    def client(self) -> C:
        """The calling reader thread's own client (made on its first call)."""
        client: C | None = getattr(self._local, "client", None)
        if client is None:
            client = self._new_client()
            with self._lock:
                self._clients.append(client)
            self._local.client = client
        return client

    def run(self, work: Callable[[B], list[T]], batches: Iterable[B]) -> list[T]:
        """``work`` over ``batches``, ``size`` at a time, concatenated in the batches' order.

        The first failure in that order is raised once its batch ends; the batches not started by
        then are not run (those already running end on their own).
        """
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._size, thread_name_prefix=self._name)
        pool = self._pool
        futures = [pool.submit(contextvars.copy_context().run, work, batch) for batch in batches]
        found: list[T] = []
        try:
            for future in futures:
                found.extend(future.result())
        finally:
            for future in futures:
                future.cancel()
        return found

    def close(self) -> None:
        """Stop the reader threads (once their requests end) and close their clients."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        with self._lock:
            clients, self._clients = self._clients, []
        for client in clients:
            client.close()
