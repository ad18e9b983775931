"""Group commit for webhook ingest: concurrent deliveries share one durable transaction.

Each request awaits a future that resolves only after the transaction holding its event has
committed, so "acknowledged only after the event is stored" still holds per delivery; under load
many deliveries share one commit instead of paying one each. When a shared commit fails, each of
its events is committed again alone, so one bad delivery can never fail its neighbours: only the
ones whose own commit fails answer 5xx.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import sys

from v2mom.background import BackgroundLoop
from v2mom.events import WebhookEvent
from v2mom.store.inbox import Inbox

log = logging.getLogger(__name__)
# CPython hands the GIL between threads every 5 ms by default; the writer thread and the event loop
# trade it per batch, so at low load that interval became the p99 (86 ms at 300 events/s). 2 ms
# measured best: p99 24.7 ms with the ingest rate at 0.58x a bare endpoint (0.5 ms: p99 19.6 ms
# but 0.44x).
SERVE_SWITCH_INTERVAL = 0.002


def tune_interpreter_for_serving() -> None:
    """Shorten the GIL switch interval (process-wide: only ``v2mom serve`` and its bench call this)."""
    sys.setswitchinterval(SERVE_SWITCH_INTERVAL)


Pending = tuple[WebhookEvent, "asyncio.Future[bool]", asyncio.AbstractEventLoop]


class GroupCommitter:
    """A writer thread that commits queued events in batches of up to ``max_batch``.

    The thread is a :class:`~v2mom.background.BackgroundLoop` woken by each submit; a stop commits
    what is already queued first.
    """

    def __init__(self, inbox: Inbox, *, max_batch: int = 200) -> None:
        """Prepare; call :meth:`start` before submitting."""
        self.inbox = inbox
        self.max_batch = max_batch
        self._queue: queue.Queue[Pending] = queue.Queue()
        self._loop = BackgroundLoop("inbox-writer", self._commit_batch, drain_on_stop=True, logger=log)

    def start(self) -> None:
        """Start the writer thread."""
        self._loop.start()

    def stop(self) -> None:
        """Commit what is queued, then stop."""
        self._loop.stop()

    async def submit(self, event: WebhookEvent) -> bool:
        """Store ``event`` durably; True when stored, False for a duplicate delivery."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        self._queue.put((event, future, loop))
        self._loop.wake()
        return await future

    def _commit_batch(self) -> bool:
        """Commit up to ``max_batch`` queued events in one transaction; True if more are queued."""
        batch: list[Pending] = []
        while len(batch) < self.max_batch:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        if not batch:
            return False
        try:
            stored = self.inbox.enqueue_many([event for event, _, _ in batch])
        except Exception as exc:  # each waiter learns its own fate below
            if len(batch) == 1:
                self._fail_one(batch[0], exc)
            else:
                log.warning("inbox commit of %d deliveries failed: retrying each alone", len(batch))
                for pending in batch:
                    self._commit_alone(pending)
            return not self._queue.empty()
        for (_, future, loop), was_stored in zip(batch, stored, strict=True):
            loop.call_soon_threadsafe(_resolve, future, was_stored)
        return not self._queue.empty()

    def _commit_alone(self, pending: Pending) -> None:
        """Commit one event in its own transaction: a poisoned member fails only its own request."""
        event, future, loop = pending
        try:
            (was_stored,) = self.inbox.enqueue_many([event])
        except Exception as exc:  # handed to its waiter: its request answers 5xx
            self._fail_one(pending, exc)
            return
        loop.call_soon_threadsafe(_resolve, future, was_stored)

    @staticmethod
    def _fail_one(pending: Pending, exc: Exception) -> None:
        """Hand ``exc`` to the event's waiter (5xx, never 2xx); logged without the event's content."""
        event, future, loop = pending
        # The error's text can quote the SQL parameters (the body): log its class only.
        log.error("inbox commit of a %s delivery failed: %s", event.tracker, exc.__class__.__name__)
        loop.call_soon_threadsafe(_fail, future, exc)


def _resolve(future: asyncio.Future[bool], value: bool) -> None:
    if not future.done():
        future.set_result(value)


def _fail(future: asyncio.Future[bool], exc: Exception) -> None:
    if not future.done():
        future.set_exception(exc)
