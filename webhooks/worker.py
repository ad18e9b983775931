"""Apply inbox events: re-fetch the item (truth is the tracker) or mark it deleted, then re-resolve.

Scope is the settings, never the event: the connector's ``get_item`` answers only for items inside
the configured JQL / teams / projects and raises OutOfScopeError (a NotFoundError) otherwise. So an
event about an item outside the scope stores nothing, and an item that left the scope is applied
like its deletion: it and its resolution leave the report, and its descendants re-resolve.

A re-fetched item is stored in one transaction with the status and assignee changes its event
reported (:class:`~v2mom.connectors.base.WebhookHistory`: a Jira ``changelog``, a Linear
``updatedFrom``), so the store's people's time follows a change as soon as its webhook is applied.
They are recorded provisionally (:meth:`~v2mom.store.history.HistoryRepository.record_provisional`):
the item's history is not marked read, so the next sync still reads it whole and replaces them.
Only an item the connector answers for is stored, so no change of an item outside the scope is.
Asana's compact events carry no values: its tasks' histories come from the next sync alone.

Each event is completed only after its effect is committed, so a crash between the inbox commit and
the apply leaves the event to be claimed again. Every worker claims under a lease of its own process
(``store.workers``), renewed by heartbeat: a killed worker's claims are taken again within seconds,
a live one keeps them however slow its applies are, and one whose lease was not renewed in time
(frozen, or cut off from the database) claims nothing until it is.

Because nobody else may take a live worker's claims, the worker itself never leaves one behind: a
batch that fails on the database hands back what it has not completed, and when the database is
away even for that (or a claim's or a completion's answer was lost), the worker's next pass hands
it back once the database answers (:class:`Batches`), without a restart. A clean stop hands back
what is still claimed. So every stored event is applied at least once and completed once; the
store never lets an older copy of an item overwrite a newer one, so a second apply, duplicates and
reordering are harmless. Failures are retried with backoff and then parked, never dropped.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from v2mom.background import BackgroundLoop
from v2mom.connectors.base import Connector, WebhookHistory
from v2mom.connectors.errors import OutOfScopeError
from v2mom.connectors.registry import build_connector
from v2mom.errors import FatalError, NotFoundError, V2momError
from v2mom.events import MalformedEvent
from v2mom.metrics import RERESOLVE_SECONDS, WEBHOOK_APPLY_SECONDS
from v2mom.models import ItemTransition
from v2mom.redaction import redact
from v2mom.settings import Settings
from v2mom.store.database import Database
from v2mom.store.inbox import Inbox, InboxEntry
from v2mom.store.resolution.run import remap_changed
from v2mom.store.workers import WorkerLease

log = logging.getLogger(__name__)
ConnectorFor = Callable[[str], Connector]


@dataclass
class BatchResult:
    """What one pass over the inbox did."""

    applied: int = 0
    failed: int = 0
    parked: int = 0


def _resolve_id(store: Database, tracker: str, ref: str) -> str | None:
    """A stable id from an event's reference (an id, or a key the store knows)."""
    known = store.items.find(tracker, ref)
    return known.item.id if known is not None else (ref if ref.isdigit() else None)


def _remove(store: Database, connector: Connector, tracker: str, ref: str, gone: NotFoundError) -> set[str]:
    """Mark the item ``ref`` deleted (gone, or out of scope); returns the ids to re-resolve.

    When the connector says its descendants were in scope only through it (``cascade``), each stored
    descendant is fetched again: removed in turn when it is out of scope too, refreshed when it is
    in scope on its own.
    """
    item_id = _resolve_id(store, tracker, ref)
    if item_id is None:
        return set()
    store.items.mark_deleted(tracker, [item_id])
    touched = {item_id}
    pending = [item_id] if isinstance(gone, OutOfScopeError) and gone.cascade else []
    while pending:
        for child in store.items.children(tracker, [pending.pop()]):
            touched.add(child.item.id)
            try:
                store.items.upsert([connector.get_item(child.item.id)])
            except NotFoundError as child_gone:
                store.items.mark_deleted(tracker, [child.item.id])
                if isinstance(child_gone, OutOfScopeError) and child_gone.cascade:
                    pending.append(child.item.id)
    return touched


def _restore(store: Database, connector: Connector, tracker: str, item_id: str) -> set[str]:
    """An item back in scope brings back the stored descendants it took with it; their ids.

    A cascade (:func:`_remove`) marks descendants deleted with their parent, and the tracker sends no
    event for them when the parent returns. Each deleted descendant is fetched again: restored when
    the connector has it in scope, left deleted when it is still gone.
    """
    touched: set[str] = set()
    pending = [item_id]
    while pending:
        for child in store.items.children(tracker, [pending.pop()], deleted=True):
            try:
                fetched = connector.get_item(child.item.id)
            except NotFoundError:
                continue
            store.items.upsert([fetched])
            touched.add(fetched.id)
            pending.append(fetched.id)
    return touched


def _reported_changes(connector: Connector, item_id: str, entry: InboxEntry) -> list[ItemTransition]:
    """The status and assignee changes the event reports of the (in scope, re-fetched) item.

    Read before the item's transaction opens (Jira may look a status's category up). A payload the
    receiver would now refuse (stored before it checked) is a FatalError: retried, then parked.
    """
    if not isinstance(connector, WebhookHistory):
        return []
    try:
        return connector.webhook_history(item_id, entry.event)
    except MalformedEvent as exc:
        raise FatalError(f"webhook {entry.event.delivery_id}: {exc}", tracker=entry.event.tracker) from None


def apply_entry(store: Database, entry: InboxEntry, connector_for: ConnectorFor) -> set[str]:
    """Apply one event; returns the ids whose trees need re-resolution."""
    event = entry.event
    if event.kind == "heartbeat" or event.item_ref is None:
        return set()
    if event.kind == "delete":
        item_id = _resolve_id(store, event.tracker, event.item_ref)
        if item_id is None:
            return set()
        store.items.mark_deleted(event.tracker, [item_id])
        return {item_id}
    connector = connector_for(event.tracker)
    try:
        item = connector.get_item(event.item_ref)
    except NotFoundError as gone:  # deleted, or (OutOfScopeError) outside the configured scope
        log.debug("webhook %s/%s: %s", event.tracker, event.delivery_id, gone)
        return _remove(store, connector, event.tracker, event.item_ref, gone)
    transitions = _reported_changes(connector, item.id, entry)
    with store.unit_of_work() as unit:  # the item and the changes its event reported, or neither
        stored = unit.items.by_id(event.tracker, item.id)
        unit.items.upsert([item])
        unit.history.record_provisional(event.tracker, item.id, transitions)
    if stored is not None and stored.deleted:  # back in scope (or undeleted): so are its descendants
        return {item.id} | _restore(store, connector, event.tracker, item.id)
    return {item.id}


def process_batch(
    store: Database, inbox: Inbox, connector_for: ConnectorFor, *, worker: str, limit: int = 50
) -> BatchResult:
    """Claim, apply and complete up to ``limit`` events; re-resolve the touched trees once.

    An event whose apply fails (a tracker error) is retried with backoff. When anything else fails
    (the database, in an apply, the re-resolution or a completion) the claims not yet completed are
    handed back (:func:`_hand_back`) and the error is raised.
    """
    result = BatchResult()
    changed: dict[str, set[str]] = defaultdict(set)
    claimed = inbox.claim(worker, limit)
    unsettled = list(claimed)  # claimed, neither failed nor (below) completed yet
    try:
        for entry in claimed:
            try:
                with WEBHOOK_APPLY_SECONDS.labels(tracker=entry.event.tracker).time():
                    changed[entry.event.tracker] |= apply_entry(store, entry, connector_for)
            except V2momError as exc:
                status = inbox.fail(entry, str(exc))
                unsettled.remove(entry)
                result.failed += 1
                result.parked += status == "parked"
                log.warning(
                    "webhook %s/%s failed (%s): %s", entry.event.tracker, entry.event.delivery_id, status, exc
                )
        if any(changed.values()):
            with RERESOLVE_SECONDS.labels(trigger="webhook").time():
                remap_changed(store, dict(changed))
        while unsettled:  # completed only once their effect (and the re-resolution) is committed
            inbox.complete(unsettled[0].id)
            unsettled.pop(0)
            result.applied += 1
    except Exception as exc:  # unexpected (a database error...): retry them later, never strand them
        _hand_back(inbox, worker, unsettled, exc)
        raise
    return result


def failure_reason(exc: BaseException) -> str:
    """``exc`` in one line, as recorded for a failed attempt: its class and its message's first line."""
    return f"{type(exc).__name__}: {(str(exc).strip().splitlines() or [''])[0]}"


def _hand_back(inbox: Inbox, worker: str, entries: list[InboxEntry], exc: Exception) -> None:
    """Record ``exc`` as a failed attempt of each of ``entries`` (retried with backoff, parked in the end).

    Without this a live worker would hold their claims until it stops. When the database does not
    answer, they stay claimed and the worker's next pass hands them back (:class:`Batches`).
    """
    if not entries:
        return
    try:
        inbox.hand_back(worker, failure_reason(exc), ids=[entry.id for entry in entries])
    except Exception as lost:
        log.warning(
            "could not hand back %d webhook events yet (%s); the next pass will",
            len(entries),
            failure_reason(lost),
        )


class Batches:
    """Batches run one after the other under this process's lease; a failed one strands no claim.

    Nothing else claims under the lease's id, so once a batch has raised, whatever it still has
    claimed is stranded: the database went away before the batch could hand it back, or before the
    answer to its claim or to a completion arrived. The next pass hands those claims back (a failed
    attempt each, as :func:`_hand_back` records it) before it claims anything, and keeps trying
    until the database answers. A lease that is not held (not renewed for too long: the process
    froze or lost the database) claims nothing until it is renewed.
    """

    def __init__(
        self, store: Database, inbox: Inbox, connector_for: ConnectorFor, lease: WorkerLease
    ) -> None:
        """Run on ``store`` and ``inbox`` under ``lease`` (started by the caller)."""
        self.store, self.inbox, self.connector_for, self.lease = store, inbox, connector_for, lease
        self._stranded: tuple[str, str] | None = None  # (worker id, reason) of the batch that raised

    def run(self) -> BatchResult | None:
        """One batch: what it did, or None when the lease is not held (nothing was claimed)."""
        if not self.lease.held():
            return None
        self._hand_back_stranded()
        worker = self.lease.id
        try:
            return process_batch(self.store, self.inbox, self.connector_for, worker=worker)
        except Exception as exc:
            self._stranded = (worker, failure_reason(exc))
            raise

    def _hand_back_stranded(self) -> None:
        """Hand back what the last batch left claimed, if it raised (raises while the database is away)."""
        if self._stranded is None:
            return
        worker, reason = self._stranded
        if count := self.inbox.hand_back(worker, reason):
            log.warning("handed back %d webhook events a failed batch had left claimed", count)
        self._stranded = None


def connector_cache(settings: Settings) -> ConnectorFor:
    """A ``connector_for`` that builds each tracker's connector once and then reuses it."""
    connectors: dict[str, Connector] = {}

    def connector_for(tracker: str) -> Connector:
        if tracker not in connectors:
            connectors[tracker] = build_connector(tracker, settings)
        return connectors[tracker]

    return connector_for


class WorkerThread:
    """Runs :func:`process_batch` in the background (``v2mom serve`` on SQLite); ``wake()`` to hurry.

    A :class:`~v2mom.background.BackgroundLoop`: a batch that applied something is followed by the
    next at once, an empty one waits for a wake or ``interval``; a failing pass is logged and the
    loop goes on (the event stays in the inbox and is claimed again).
    """

    def __init__(
        self,
        store: Database,
        inbox: Inbox,
        connector_for: ConnectorFor,
        *,
        interval: float = 1.0,
        secrets: Iterable[str] = (),
    ) -> None:
        """Prepare; nothing runs until :meth:`start`. ``secrets`` are masked in error logs."""
        self.store, self.inbox, self.connector_for, self.interval = store, inbox, connector_for, interval
        self.lease = WorkerLease(store.workers, "serve")
        self._batches = Batches(store, inbox, connector_for, self.lease)
        self._loop = BackgroundLoop(
            "webhook-worker", self._pass, interval=interval, secrets=secrets, logger=log
        )

    def wake(self) -> None:
        """Process soon, not at the next interval."""
        self._loop.wake()

    def start(self) -> None:
        """Register this process's lease, then start the background loop."""
        self.lease.start()
        self._loop.start()

    def stop(self) -> None:
        """Stop after the current batch; hand back the claims unless a batch is still running."""
        stopped = self._loop.stop()
        self.lease.stop(release=stopped)

    def _pass(self) -> bool:
        """One batch; True when it applied something (more may be waiting)."""
        batch = self._batches.run()
        return batch is not None and batch.applied > 0


def start_worker(settings: Settings, store: Database) -> WorkerThread:
    """Start a worker on ``store``'s inbox with connectors built once per tracker; call its ``wake``
    when a delivery is stored."""
    worker = WorkerThread(store, store.inbox, connector_cache(settings), secrets=settings.secrets())
    worker.start()
    return worker


def run_worker(
    settings: Settings,
    store: Database,
    *,
    once: bool = False,
    interval: float = 1.0,
    on_batch: Callable[[BatchResult], None] | None = None,
    stop: threading.Event | None = None,
) -> int:
    """``v2mom worker``: apply inbox events in the foreground; returns how many were applied.

    Batches follow each other while they find work (each non-empty one is passed to
    ``on_batch``); an empty inbox returns with ``once``, else is polled every ``interval`` seconds
    until ``stop`` is set (the current batch finishes first). A batch that fails (the database went
    away) is logged and retried after ``interval``, its claims handed back (:class:`Batches`); with
    ``once`` it is raised.
    """
    inbox = store.inbox
    connector_for = connector_cache(settings)
    secrets = settings.secrets()
    stop = stop or threading.Event()
    applied = 0
    with WorkerLease(store.workers, "worker") as lease:  # claims under this process start's own id
        batches = Batches(store, inbox, connector_for, lease)
        while not stop.is_set():
            try:
                batch = batches.run()
            except Exception as exc:
                if once:
                    raise
                log.warning(
                    "webhook batch failed, retrying in %g s: %s",
                    interval,
                    redact(failure_reason(exc), secrets),
                )
                stop.wait(interval)
                continue
            if batch is None:  # the lease is not held: claim nothing until it is renewed
                stop.wait(interval)
                continue
            applied += batch.applied
            if batch.applied or batch.failed:
                if on_batch is not None:
                    on_batch(batch)
                continue
            if once:
                break
            stop.wait(interval)
    return applied
