"""Apply inbox events: re-fetch the item (truth is the tracker) or mark it deleted, then re-resolve.

Each event is completed only after its effect is committed, so a crash between the inbox commit and
the apply leaves the event to be claimed again (claims expire). The store never lets an older copy
of an item overwrite a newer one, so duplicates and reordering are harmless. Failures are retried
with backoff and then parked, never dropped.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from v2mom.connectors.base import Connector
from v2mom.connectors.registry import build_connector
from v2mom.errors import NotFoundError, V2momError
from v2mom.settings import Settings
from v2mom.store.database import Database
from v2mom.store.inbox import Inbox, InboxEntry
from v2mom.store.remap import remap_changed

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
    except NotFoundError:
        item_id = _resolve_id(store, event.tracker, event.item_ref)
        if item_id is None:
            return set()
        store.items.mark_deleted(event.tracker, [item_id])
        return {item_id}
    store.items.upsert([item])
    return {item.id}


def process_batch(
    store: Database, inbox: Inbox, connector_for: ConnectorFor, *, worker: str, limit: int = 50
) -> BatchResult:
    """Claim, apply and complete up to ``limit`` events; re-resolve the touched trees once."""
    result = BatchResult()
    changed: dict[str, set[str]] = defaultdict(set)
    done: list[int] = []
    for entry in inbox.claim(worker, limit):
        try:
            changed[entry.event.tracker] |= apply_entry(store, entry, connector_for)
            done.append(entry.id)
        except V2momError as exc:
            status = inbox.fail(entry, str(exc))
            result.failed += 1
            result.parked += status == "parked"
            log.warning(
                "webhook %s/%s failed (%s): %s", entry.event.tracker, entry.event.delivery_id, status, exc
            )
    if any(changed.values()):
        remap_changed(store, dict(changed))
    for entry_id in done:  # completed only once their effect (and the re-resolution) is committed
        inbox.complete(entry_id)
    result.applied = len(done)
    return result


class WorkerThread:
    """Runs :func:`process_batch` in the background (``v2mom serve`` on SQLite); ``wake()`` to hurry."""

    def __init__(
        self, store: Database, inbox: Inbox, connector_for: ConnectorFor, *, interval: float = 1.0
    ) -> None:
        """Prepare; nothing runs until :meth:`start`."""
        self.store, self.inbox, self.connector_for, self.interval = store, inbox, connector_for, interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def wake(self) -> None:
        """Process soon, not at the next interval."""
        self._wake.set()

    def start(self) -> None:
        """Start the background loop."""
        self._thread = threading.Thread(target=self._run, name="webhook-worker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop after the current batch."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                while process_batch(self.store, self.inbox, self.connector_for, worker="serve").applied:
                    pass
            except Exception:  # keep serving; the event stays in the inbox and is claimed again
                log.exception("webhook worker pass failed")
            self._wake.wait(self.interval)
            self._wake.clear()


def start_worker(app: Any, settings: Settings, store: Database) -> WorkerThread:
    """Run the worker beside the app: connectors built once per tracker, woken by each delivery."""
    connectors: dict[str, Connector] = {}

    def connector_for(tracker: str) -> Connector:
        if tracker not in connectors:
            connectors[tracker] = build_connector(tracker, settings)
        return connectors[tracker]

    worker = WorkerThread(store, app.state.inbox, connector_for)
    app.state.wake_worker = worker.wake
    worker.start()
    return worker
