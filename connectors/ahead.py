"""Fetching the page a listing asks for next while the current one is being handled.

A listing whose next request is known as soon as a page arrives (an offset) need not wait for the
page to be parsed and stored before asking for the next: the tracker serves it meanwhile. A
:class:`FetchAhead` wraps the listing's ``fetch(start)``; the paginator announces the next start
(:meth:`FetchAhead.upcoming`) before handing a page on, and its next ``fetch`` takes that answer.
Every request runs on the one thread of the wrapper, one at a time and in the listing's order, so
the client under ``fetch`` is never used by two threads at once (give it a client of its own when
the caller's thread uses another meanwhile); the caller's context variables (its retry listener)
hold there. An error is raised where the page is asked for, as without the wrapper.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

__all__ = ["FetchAhead"]

P = TypeVar("P")


class FetchAhead(Generic[P]):
    """``fetch(start)`` with the next page asked for ahead of time (see the module's text)."""

    def __init__(self, fetch: Callable[[int], P]) -> None:
        """Wrap ``fetch``; :meth:`close` when the listing is done."""
        self._fetch = fetch
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="page-ahead")
        self._pending: tuple[int, Future[P]] | None = None

    def upcoming(self, start: int) -> None:
        """Ask now for the page at ``start``, which the listing will want next."""
        self._drop()
        self._pending = (start, self._submit(start))

    def __call__(self, start: int) -> P:
        """The page at ``start``: the answer asked for ahead when it was this one, else asked now."""
        if self._pending is not None and self._pending[0] == start:
            _, future = self._pending
            self._pending = None
            return future.result()
        self._drop()
        return self._submit(start).result()

    def close(self) -> None:
        """Drop a page asked for and not taken (a listing stopped early) and end the thread."""
        if self._pending is not None:
            self._pending[1].cancel()
            self._pending = None
        self._thread.shutdown(wait=False, cancel_futures=True)

    def _submit(self, start: int) -> Future[P]:
        context = contextvars.copy_context()
        return self._thread.submit(context.run, self._fetch, start)

    def _drop(self) -> None:
        """Let a page asked for and not wanted finish (its error, if any, is not the listing's)."""
        if self._pending is None:
            return
        _, future = self._pending
        self._pending = None
        if not future.cancel():
            future.exception()  # waits; the answer is dropped
