"""A killed worker's claims are taken again within its short lease; a live, slow one keeps them."""

from __future__ import annotations

from datetime import timedelta
from typing import cast

import pytest
from sqlalchemy import select

from tests.factories import make_item
from tests.support import wait_for
from v2mom.clock import utcnow
from v2mom.connectors.base import Connector
from v2mom.events import WebhookEvent
from v2mom.models import WorkItem
from v2mom.store import schema as t
from v2mom.store.database import Database
from v2mom.store.inbox import CLAIM_TIMEOUT
from v2mom.store.workers import WorkerLease
from v2mom.webhooks.worker import WorkerThread, process_batch

SHORT = timedelta(seconds=1)


def _events(store: Database, count: int) -> None:
    events = [WebhookEvent("jira", f"d-{n}", "heartbeat", None, utcnow(), {}) for n in range(count)]
    assert store.inbox.enqueue_many(events) == [True] * count


def _no_connector(tracker: str) -> Connector:
    raise AssertionError(f"heartbeat events fetch nothing ({tracker})")


def _statuses(store: Database) -> dict[str, int]:
    return store.inbox.counts().get("jira", {})


def test_a_killed_workers_claims_are_applied_long_before_the_claim_timeout(store: Database) -> None:
    _events(store, 3)
    dead = WorkerLease(store.workers, "worker", lease=SHORT, interval=0.1)
    dead.start()
    assert len(store.inbox.claim(dead.id)) == 3
    dead.stop(release=False)  # kill -9: no more heartbeats, the claims stay behind
    survivor = WorkerThread(store, store.inbox, _no_connector, interval=0.1)
    survivor.start()
    try:
        # The claim timeout is five minutes; the dead worker's lease is one second.
        assert wait_for(lambda: _statuses(store) == {"done": 3}, timeout=CLAIM_TIMEOUT.total_seconds() / 10)
    finally:
        survivor.stop()
    assert store.workers.live() == set()  # the survivor deregistered; the dead one was reaped


def test_a_slow_live_worker_keeps_its_claims_by_heartbeating(store: Database) -> None:
    _events(store, 2)
    slow = WorkerLease(store.workers, "worker", lease=SHORT, interval=0.1)
    slow.start()
    try:
        assert len(store.inbox.claim(slow.id)) == 2
        two_leases_later = utcnow() + 2 * SHORT
        assert wait_for(lambda: utcnow() > two_leases_later, timeout=10)
        assert slow.held()
        assert store.inbox.claim("other-worker") == []  # still applying: nobody else may take them
        assert _statuses(store) == {"processing": 2}
    finally:
        slow.stop()  # a clean stop hands the claims back
    assert len(store.inbox.claim("other-worker")) == 2


def test_a_lease_that_expired_is_not_renewed(store: Database) -> None:
    worker = store.workers.register("worker", lease=SHORT)
    assert store.workers.heartbeat(worker, lease=SHORT)
    assert worker in store.workers.live()
    later = utcnow() + 2 * SHORT
    assert not store.workers.heartbeat(worker, lease=SHORT, now=later)  # its claims may be taken
    assert worker not in store.workers.live(now=later)
    assert store.workers.reap(now=later) == 1


def test_claims_of_a_worker_without_a_lease_still_wait_for_the_claim_timeout(store: Database) -> None:
    _events(store, 1)
    assert len(store.inbox.claim("old-version-worker")) == 1
    assert store.inbox.claim("w", now=utcnow() + timedelta(minutes=1)) == []
    assert len(store.inbox.claim("w", now=utcnow() + CLAIM_TIMEOUT + timedelta(seconds=1))) == 1


def test_a_batch_that_fails_unexpectedly_hands_its_claims_back(
    store: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    _events(store, 2)

    def broken_remap(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("deadlock detected\nDETAIL: two processes")

    class Tracker:
        def get_item(self, item_id: str) -> WorkItem:
            return make_item(item_id)

    refetch = [WebhookEvent("jira", f"r-{n}", "refetch", str(n), utcnow(), {}) for n in range(2)]
    store.inbox.enqueue_many(refetch)
    monkeypatch.setattr("v2mom.webhooks.worker.remap_changed", broken_remap)
    with pytest.raises(RuntimeError, match="deadlock"):
        process_batch(store, store.inbox, lambda _t: cast(Connector, Tracker()), worker="live-worker")
    assert _statuses(store) == {"pending": 4}  # not stranded under a live worker's claim
    with store.engine.connect() as conn:
        i = t.webhook_inbox.c
        rows = conn.execute(select(i.attempts, i.last_error)).all()
    assert set(rows) == {(1, "RuntimeError: deadlock detected")}
