"""Read the histories of a sync's items on a thread of its own, while pages are fetched.

The runner hands this reader the ids whose history must be read (:meth:`HistoryReads.submit`) as
its pages arrive, a group of about a thousand items at a time, and with the last group of each
transaction the cursor that transaction would commit. The groups are read one after the other on a
named daemon thread (in a copy of the caller's context, as :mod:`sync.prefetch` does), through the
connector's own history client, while the next pages are fetched and committed.
:meth:`HistoryReads.take` hands back what has been read, oldest group first, for the runner to
store in its next transaction: an item's changes together with the updated time they were read for
(``history_reads``), and the cursor of the last group taken that carried one. A cursor never
overtakes a history still being read, so a pass cut short leaves the cursor where the next pass
finds those items again, and their ``history_reads`` say they are still unread.

At most ``depth`` groups' reads wait or run at once: :meth:`take` waits for the oldest when more are
pending. A read that fails stops the taking there: what was read before it is handed back with its
error (the runner stores that, then fails the pass as it would have); nothing read after it is.
:meth:`drop_newest` cancels the newest groups (a pass that fails before committing their items
stores none of their histories); :meth:`close` cancels what is queued and joins the thread.
"""

from __future__ import annotations

import contextvars
import logging
import queue
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime

from v2mom.background import join_or_warn
from v2mom.models import ItemTransition

log = logging.getLogger(__name__)
ReadFn = Callable[[Sequence[str]], list[ItemTransition]]


@dataclass
class Taken:
    """What :meth:`HistoryReads.take` hands back to store in one transaction.

    ``read`` names each item whose history was read with the updated time it was read for, and
    ``transitions`` are those items' changes (a read is an item's whole history); ``cursor`` is the
    cursor of the last transaction taken (None: none of them moves it); ``error`` is the failure of
    the read that stopped the taking, to raise once the rest is stored.
    """

    transitions: list[ItemTransition] = field(default_factory=list)
    read: dict[str, datetime] = field(default_factory=dict)
    cursor: datetime | None = None
    error: BaseException | None = None


@dataclass
class _Pending:
    updated: dict[str, datetime]
    cursor: datetime | None
    future: Future[list[ItemTransition]]


def _settled(value: list[ItemTransition]) -> Future[list[ItemTransition]]:
    done: Future[list[ItemTransition]] = Future()
    done.set_result(value)
    return done


class HistoryReads:
    """Reads histories with ``read`` (a :class:`~v2mom.connectors.base.HistoryReader`'s
    ``read_history``) on one thread, ``depth`` groups at most ahead of the runner."""

    def __init__(self, read: ReadFn, *, depth: int = 2, join_timeout: float = 30.0) -> None:
        """Nothing runs until the first :meth:`submit` with ids to read."""
        self._read = read
        self._depth = depth
        self._join_timeout = join_timeout
        self._pending: deque[_Pending] = deque()
        self._jobs: queue.SimpleQueue[tuple[Future[list[ItemTransition]], list[str]] | None] = (
            queue.SimpleQueue()
        )
        self._thread: threading.Thread | None = None

    def submit(self, updated: dict[str, datetime], cursor: datetime | None) -> None:
        """Read the histories of ``updated``'s items (id -> the updated time to read them for) after
        those submitted before; ``cursor`` commits with them (or with the later ones)."""
        if not updated:
            self._pending.append(_Pending(updated, cursor, _settled([])))
            return
        future: Future[list[ItemTransition]] = Future()
        self._pending.append(_Pending(updated, cursor, future))
        self._start()
        self._jobs.put((future, sorted(updated)))

    def take(self, *, wait: bool = False) -> Taken:
        """What has been read, oldest first, up to the first read still running (all of it when
        ``wait``; the oldest ones while more than ``depth`` are pending) or failed."""
        taken = Taken()
        while self._pending:
            head = self._pending[0]
            if not head.future.done() and not wait and len(self._pending) <= self._depth:
                break
            error = head.future.exception()
            if error is not None:
                taken.error = error
                break
            self._pending.popleft()
            changes = head.future.result()
            if set(head.updated) & set(taken.read):  # read again since: the newer read replaces it
                taken.transitions = [c for c in taken.transitions if c.item_id not in head.updated]
            taken.transitions.extend(changes)
            taken.read.update(head.updated)
            if head.cursor is not None:
                taken.cursor = head.cursor
        return taken

    def drop_newest(self, count: int) -> None:
        """Forget the ``count`` groups submitted last: those not started are cancelled, and what
        those already running read is never handed back."""
        for _ in range(min(count, len(self._pending))):
            self._pending.pop().future.cancel()

    def close(self) -> None:
        """Cancel the reads not started and join the thread (for at most ``join_timeout`` seconds)."""
        for pending in self._pending:
            pending.future.cancel()
        self._pending.clear()
        if self._thread is not None:
            self._jobs.put(None)
            join_or_warn(self._thread, self._join_timeout, log)
            self._thread = None

    def _start(self) -> None:
        if self._thread is not None:
            return
        context = contextvars.copy_context()  # the caller's retry listener holds for these requests
        self._thread = threading.Thread(target=context.run, args=(self._work,), name="history", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            future, ids = job
            if not future.set_running_or_notify_cancel():  # cancelled by close()
                continue
            try:
                future.set_result(self._read(ids))
            except BaseException as exc:  # handed to the runner, which stores what came before and raises it
                future.set_exception(exc)
