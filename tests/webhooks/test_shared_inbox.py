"""Two workers (each with its own Database pool and lease, as two processes have) drain one inbox
together, apply every event exactly once, and leave resolutions and the rollup consistent."""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from typing import cast

from sqlalchemy import select

from tests.factories import VALID, make_item
from tests.support import wait_for
from v2mom.clock import utcnow
from v2mom.connectors.base import Connector
from v2mom.events import WebhookEvent
from v2mom.mapping.plan import load_plan
from v2mom.models import Level, WorkItem
from v2mom.store import schema as t
from v2mom.store.database import Database
from v2mom.store.resolution.run import remap
from v2mom.webhooks.worker import WorkerThread

EVENTS = 240
R = t.resolutions.c
RESOLVED = select(R.item_pk, R.untagged, R.orphaned, R.conflict, R.points, R.alloc_key).order_by(R.item_pk)
EPICS = 12  # events about epics and their stories land in both workers' batches: their trees overlap


class RecordingTracker:
    """Answers every ``get_item`` and records which worker asked for what.

    Each worker's first fetch waits for the other's, so both are applying claims at the same time.
    """

    tracker = "jira"

    def __init__(self, name: str, fetched: list[tuple[str, str]], both_busy: threading.Barrier) -> None:
        self.name, self.fetched, self.both_busy = name, fetched, both_busy
        self.first = True

    def get_item(self, item_id: str) -> WorkItem:
        self.fetched.append((self.name, item_id))
        if self.first:
            self.first = False
            with contextlib.suppress(threading.BrokenBarrierError):  # asserted: it must not be broken
                self.both_busy.wait(timeout=15)
        return item(item_id)


def item(item_id: str) -> WorkItem:
    """Epics ``0``..``11`` (tagged with a method) and stories below them, each with points."""
    if int(item_id) < EPICS:
        return make_item(item_id, minutes=1, level=Level.EPIC, labels=("method:slo-program",), points=5.0)
    return make_item(item_id, minutes=1, parent_id=str(int(item_id) % EPICS), points=float(int(item_id) % 7))


def test_two_workers_apply_every_event_of_one_inbox_exactly_once(database_url: str) -> None:
    stores = [Database.open(database_url), Database.open(database_url)]
    stores[0].plans.save(load_plan(VALID), actor="test")
    fetched: list[tuple[str, str]] = []
    both_busy = threading.Barrier(2)
    refs = [str((n // 10) % EPICS if n % 10 == 0 else 100 + n) for n in range(EVENTS)]  # epics: twice
    events = [
        WebhookEvent("jira", f"delivery-{n}", "refetch", ref, utcnow(), {}) for n, ref in enumerate(refs)
    ]
    assert stores[0].inbox.enqueue_many(events) == [True] * EVENTS
    workers = []
    for name, store in zip("ab", stores, strict=True):
        tracker = cast(Connector, RecordingTracker(name, fetched, both_busy))
        workers.append(WorkerThread(store, store.inbox, lambda _tracker, c=tracker: c, interval=0.05))
    try:
        for worker in workers:
            worker.start()
        assert wait_for(lambda: stores[0].inbox.counts().get("jira") == {"done": EVENTS}, timeout=120), (
            stores[0].inbox.counts()
        )
    finally:
        for worker in workers:
            worker.stop()
    try:
        store = stores[0]
        with store.engine.connect() as conn:
            i = t.webhook_inbox.c
            assert conn.execute(select(i.delivery_id).where(i.attempts > 0)).all() == []  # no retries
            resolutions = conn.execute(RESOLVED).all()
        rollup = store.resolutions.rollup_rows()
        assert len(resolutions) == len(set(refs))
        remap(store)  # what a single process resolving everything at the end would store
        with store.engine.connect() as conn:
            again = conn.execute(RESOLVED).all()
        assert resolutions == again
        assert rollup == store.resolutions.rollup_rows()
    finally:
        for store in stores:
            store.close()
    per_delivery = Counter(item for _, item in fetched)
    assert per_delivery == Counter(refs)  # each delivery fetched once: none applied twice, none skipped
    per_worker = Counter(name for name, _ in fetched)
    assert per_worker["a"] > 0
    assert per_worker["b"] > 0
    assert not both_busy.broken  # they were applying at the same time, not one after the other
