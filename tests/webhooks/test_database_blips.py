"""A database blip in the middle of a batch strands no claim under a live worker.

The database goes away while a batch is applying (so its claims cannot be handed back), just after
a claim committed (its answer lost), or between two completions. Once it answers again, the same
worker, never restarted, hands back what it was left holding and applies every event: each one
completed exactly once, none left ``processing``. Both the ``serve`` worker thread and the
``v2mom worker`` loop.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, cast

import pytest
from sqlalchemy.exc import OperationalError

from tests.factories import VALID, make_item
from tests.outages import EngineOutage
from tests.support import wait_for
from v2mom.clock import utcnow
from v2mom.connectors.base import Connector
from v2mom.events import WebhookEvent
from v2mom.mapping.plan import load_plan
from v2mom.models import WorkItem
from v2mom.settings import Settings
from v2mom.store.database import Database
from v2mom.store.inbox import InboxEntry
from v2mom.webhooks.worker import ConnectorFor, WorkerThread, run_worker

EVENTS = 6
OUTAGE = 0.3  # seconds
WITHIN = 10.0  # generous, and shorter than the 15 s lease: a stranded claim would still be held


class Tracker:
    """Answers every ``get_item``; ``on_fetch(n)`` runs before the ``n``-th answer."""

    def __init__(self, on_fetch: Callable[[int], None]) -> None:
        self.on_fetch = on_fetch
        self.fetched: list[str] = []

    def get_item(self, item_id: str) -> WorkItem:
        self.fetched.append(item_id)
        self.on_fetch(len(self.fetched))
        return make_item(item_id, minutes=1)


class Blip:
    """One outage of ``store``'s database at a chosen point of a batch; records completions."""

    def __init__(self, store: Database, at: str) -> None:
        self.store, self.at = store, at
        self.outage = EngineOutage(store.engine)
        self.completed: list[int] = []
        self._claim, self._complete = store.inbox.claim, store.inbox.complete

    def install(self, monkeypatch: pytest.MonkeyPatch) -> ConnectorFor:
        """Hook the store's inbox; returns the ``connector_for`` the worker should use."""
        monkeypatch.setattr(self.store.inbox, "claim", self.claim)
        monkeypatch.setattr(self.store.inbox, "complete", self.complete)
        tracker = cast(Connector, Tracker(self.on_fetch))
        return lambda _tracker: tracker

    def on_fetch(self, count: int) -> None:
        """``apply``: the database goes away while the third event is being applied."""
        if self.at == "apply" and count == 3 and not self.outage.began:
            self.outage.begin(OUTAGE)

    def claim(self, worker: str, limit: int = 50, **kwargs: Any) -> list[InboxEntry]:
        """``claim``: the claim commits, then the database goes away before its answer arrives."""
        claimed = self._claim(worker, limit, **kwargs)
        if self.at == "claim" and claimed and not self.outage.began:
            self.outage.begin(OUTAGE)
            raise OperationalError("COMMIT", None, self.outage.error())
        return claimed

    def complete(self, entry_id: int) -> None:
        """``complete``: the database goes away after the first completion of a batch."""
        if self.at == "complete" and self.completed and not self.outage.began:
            self.outage.begin(OUTAGE)
        self._complete(entry_id)
        self.completed.append(entry_id)


@contextmanager
def serve_worker(store: Database, connector_for: ConnectorFor) -> Iterator[Callable[[], bool]]:
    """``v2mom serve``'s worker thread; yields whether it still runs under its first lease."""
    worker = WorkerThread(store, store.inbox, connector_for, interval=0.05)
    worker.start()
    first = worker.lease.id
    try:
        yield (
            lambda: (
                worker.lease.id == first
                and any(t.name == "webhook-worker" and t.is_alive() for t in threading.enumerate())
            )
        )
    finally:
        worker.stop()


@contextmanager
def standalone_worker(
    store: Database, connector_for: ConnectorFor, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[], bool]]:
    """``v2mom worker``'s loop in a thread; yields whether it still runs."""
    monkeypatch.setattr("v2mom.webhooks.worker.connector_cache", lambda _settings: connector_for)
    stop = threading.Event()
    thread = threading.Thread(
        target=run_worker, args=(Settings(), store), kwargs={"interval": 0.05, "stop": stop}, daemon=True
    )
    thread.start()
    try:
        yield thread.is_alive
    finally:
        stop.set()
        thread.join(timeout=30)


@pytest.fixture(autouse=True)
def short_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retry a handed-back event after 50 ms, not 5 s (the semantics are the same)."""
    monkeypatch.setattr("v2mom.store.inbox.BASE_BACKOFF", timedelta(milliseconds=50))


@pytest.mark.parametrize("runner", ["serve", "worker"])
@pytest.mark.parametrize("at", ["apply", "claim", "complete"])
def test_a_database_blip_mid_batch_strands_no_claim_and_applies_each_event_once(
    two_stores: tuple[Database, Database], monkeypatch: pytest.MonkeyPatch, at: str, runner: str
) -> None:
    store, observer = two_stores  # the worker's, and one the outage does not reach
    store.plans.save(load_plan(VALID), actor="test")
    events = [WebhookEvent("jira", f"blip-{n}", "refetch", str(n), utcnow(), {}) for n in range(EVENTS)]
    assert store.inbox.enqueue_many(events) == [True] * EVENTS
    blip = Blip(store, at)
    connector_for = blip.install(monkeypatch)
    running = (
        serve_worker(store, connector_for)
        if runner == "serve"
        else standalone_worker(store, connector_for, monkeypatch)
    )
    try:
        with running as alive:
            assert wait_for(
                lambda: observer.inbox.counts().get("jira") == {"done": EVENTS}, timeout=WITHIN
            ), f"after a blip at {at}: {observer.inbox.counts()}"
            assert alive()  # the same worker, never restarted
    finally:
        blip.outage.close()
    assert blip.outage.began == 1
    assert sorted(Counter(blip.completed).values()) == [1] * EVENTS  # each event completed exactly once
    assert observer.items.live_ids("jira") == {str(n) for n in range(EVENTS)}
