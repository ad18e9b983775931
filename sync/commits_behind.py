"""Commit a sync's transactions on a thread of their own while the runner reads the next pages.

Storing a transaction of 5,000 items takes a good part of a second, and while the runner's own
thread stored it, nothing asked the tracker for more: the pages fetched ahead filled their queue and
waited, and no history was asked for. :class:`CommitsBehind` stores each transaction on a named
thread (in a copy of the caller's context, as :mod:`sync.prefetch` does) while the runner goes on
reading. Transactions still commit one at a time and in the order they were handed over, so a
cursor never commits before the items it covers: :meth:`CommitsBehind.submit` first waits for the
one before.

A commit that fails is raised in the runner's thread by the next :meth:`submit` (before the next
transaction starts) or by :meth:`wait`, and the runner stops the pass there.
:attr:`CommitsBehind.unsettled_reads` says how many history reads were asked for items whose
transaction did not commit (the one that failed), so the runner can drop them with its own batch's.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

__all__ = ["CommitsBehind"]


@dataclass
class _InFlight:
    future: Future[None]
    items: int  # for the progress callback, once committed
    reads: int  # history reads asked for this transaction's items


class CommitsBehind:
    """Runs ``commit`` calls one at a time, in order, on one thread, at most one in flight."""

    def __init__(self, *, on_committed: Callable[[int], None] | None = None) -> None:
        """``on_committed(items)`` is called in the caller's thread for every transaction committed,
        when its commit is waited for (by the next :meth:`submit`, or :meth:`wait`)."""
        self._on_committed = on_committed
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="commit")
        self._in_flight: _InFlight | None = None
        self.unsettled_reads = 0  # reads of a transaction that failed to commit

    def submit(self, commit: Callable[[], None], *, items: int, reads: int) -> None:
        """Wait for the transaction before (raising its failure), then start ``commit`` of
        ``items`` items whose histories took ``reads`` reads."""
        self.wait()
        context = contextvars.copy_context()
        self._in_flight = _InFlight(self._thread.submit(context.run, commit), items, reads)

    def wait(self) -> None:
        """Wait for the transaction in flight, if any; raise its failure."""
        in_flight, self._in_flight = self._in_flight, None
        if in_flight is None:
            return
        try:
            in_flight.future.result()
        except BaseException:
            self.unsettled_reads += in_flight.reads
            raise
        if self._on_committed is not None:
            self._on_committed(in_flight.items)

    def close(self) -> None:
        """Wait for the thread to finish what it runs (a commit is never cut short) and end it."""
        self._thread.shutdown(wait=True)
