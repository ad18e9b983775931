"""Fetching the pages a listing asks for next while the current one is being handled.

A listing whose next request is known as soon as a page arrives (an offset) need not wait for the
page to be parsed and stored before asking for the next: the tracker serves it meanwhile. A
:class:`FetchAhead` wraps the listing's ``fetch(start)``; the paginator announces the next start
(:meth:`FetchAhead.upcoming`) before handing a page on, and its next ``fetch`` takes that answer.

Given more than one fetch (each with a client of its own), it also asks for the pages after that
one, as many at once as it has fetches: it guesses their starts from the step between the last two
announced (a listing of full pages moves by the same step each time), and no further than the
listing's size. Each request is sent once the one before it has been answered, so the pages a
listing reads are snapshots in its own order, as one after the other would be (the paginator's
checks rely on it: a later page read from an earlier snapshot could miss an issue that moved
meanwhile); what overlaps is the tracker rendering the next page while this process decodes the
one before, and both running ahead of the caller. A guess the paginator does not ask for (a back-off)
is dropped, and the page it does want is asked for afresh: a wrong guess costs a request, never a
page. Each fetch runs on a thread of its own, one request at a time, so a client is never used by
two threads at once (give each a client that the caller's thread does not use meanwhile); the
caller's context variables (its retry listener) hold there. An error is raised where the page is
asked for, as without the wrapper.
"""

from __future__ import annotations

import contextvars
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from types import TracebackType
from typing import Any, Generic, TypeVar

__all__ = ["FetchAhead", "answered"]

P = TypeVar("P")

# The request a FetchAhead is running in this context: done once its answer is in (see answered).
_REQUEST: contextvars.ContextVar[Future[None] | None] = contextvars.ContextVar(
    "fetch_ahead_request", default=None
)


def answered() -> None:
    """Say that the request running in this context has its answer (its body read, not decoded
    yet): a :class:`FetchAhead` may send the next page's request while this one is decoded. A
    client calls it between reading a page and decoding it; outside a FetchAhead it does nothing."""
    request = _REQUEST.get()
    if request is not None and not request.done():
        request.set_result(None)


class FetchAhead(Generic[P]):
    """``fetch(start)`` with the next pages asked for ahead of time (see the module's text); a
    context manager that :meth:`close` s on exit."""

    def __init__(self, fetches: Sequence[Callable[[int], P]]) -> None:
        """Ask through ``fetches`` (at least one), each on a thread of its own; at most that many
        pages are asked for at once."""
        if not fetches:
            raise ValueError("FetchAhead needs at least one fetch")
        self._fetches = list(fetches)
        self._threads = [
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="page-ahead") for _ in self._fetches
        ]
        self._turn = 0
        self._pending: deque[tuple[int, Future[P], Future[None]]] = deque()
        self._announced: int | None = None
        self._step = 0

    def __enter__(self) -> FetchAhead[P]:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def upcoming(self, start: int, end: int) -> None:
        """Ask now for the page at ``start``, which the listing will want next, and for the pages
        its step suggests after it that start before ``end`` (the listing's size, as its last page
        said)."""
        if self._announced is not None and start > self._announced:
            self._step = start - self._announced
        self._announced = start
        if self._pending and self._pending[0][0] != start:
            self._drop()
        if not self._pending:
            self._submit(start)
        while self._step and len(self._pending) < len(self._fetches):
            guess = self._pending[-1][0] + self._step
            if guess >= end:
                break
            self._submit(guess)

    def __call__(self, start: int) -> P:
        """The page at ``start``: the answer asked for ahead when it was this one, else asked now."""
        if self._pending and self._pending[0][0] == start:
            return self._pending.popleft()[1].result()
        self._drop()
        self._submit(start)
        return self._pending.popleft()[1].result()

    def close(self) -> None:
        """Drop the pages asked for and not taken (a listing stopped early) and end the threads."""
        for _, future, _answered in self._pending:
            future.cancel()
        self._pending.clear()
        for thread in self._threads:
            thread.shutdown(wait=False, cancel_futures=True)

    def _submit(self, start: int) -> None:
        turn = self._turn
        self._turn = (turn + 1) % len(self._fetches)
        previous = self._pending[-1][1:] if self._pending else ()
        request: Future[None] = Future()
        context = contextvars.copy_context()
        context.run(_REQUEST.set, request)
        future = self._threads[turn].submit(context.run, self._after, previous, self._fetches[turn], start)
        self._pending.append((start, future, request))

    @staticmethod
    def _after(
        previous: tuple[Future[P], Future[None]] | tuple[()], fetch: Callable[[int], P], start: int
    ) -> P:
        """``fetch(start)`` once the request before it has its answer (or has ended); this one's
        answer is the context's request (:func:`answered`), said at the latest when it ends."""
        if previous:
            ended_or_answered: list[Future[Any]] = list(previous)
            wait(ended_or_answered, return_when=FIRST_COMPLETED)
        try:
            return fetch(start)
        finally:
            answered()

    def _drop(self) -> None:
        """Let the pages asked for and not wanted finish (their errors are not the listing's)."""
        while self._pending:
            _, future, _answered = self._pending.popleft()
            if not future.cancel():
                future.exception()  # waits; the answer is dropped
