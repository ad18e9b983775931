"""A sync run left ``running`` by a killed process is marked interrupted at the next start and shown
in the report's freshness until a run succeeds; a run whose process is alive is left alone."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.factories import T0, make_item
from tests.support import auth, wait_for
from tests.sync.fake_connector import FakeConnector
from v2mom.app.factory import create_app
from v2mom.settings import Settings
from v2mom.store import schema as t
from v2mom.store.database import Database
from v2mom.store.workers import WorkerLease
from v2mom.sync.runner import sync_tracker

SHORT = timedelta(seconds=1)


def _statuses(store: Database) -> dict[int, str]:
    with store.engine.connect() as conn:
        return dict(conn.execute(select(t.sync_runs.c.id, t.sync_runs.c.status)).all())


def _freshness(client: TestClient, token: str) -> dict[str, object]:
    body = client.get("/api/reports/effort-by-value", headers=auth(token)).json()
    jira: dict[str, object] = body["freshness"].get("jira", {})  # listed once it has any history
    return jira


def test_a_killed_sync_is_marked_interrupted_at_the_next_start_and_shown_in_freshness(
    store: Database,
) -> None:
    # The live run starts first: a start marks every run whose lease ran out, so starting it after
    # the kill would mark the killed run itself whenever SHORT had passed by then (a slow machine).
    alive = WorkerLease(store.workers, "sync", lease=timedelta(minutes=1))
    live_run = store.sync_state.start_run("linear", "full", owner=alive.start())
    killed = WorkerLease(store.workers, "sync", lease=SHORT, interval=0.1)
    killed_run = store.sync_state.start_run("jira", "full", owner=killed.start())
    killed.stop(release=False)  # kill -9 mid-sync: the row stays 'running', the lease runs out
    assert wait_for(lambda: killed.id not in store.workers.live(), timeout=10)

    token = store.tokens.create("viewer", "test")
    with TestClient(create_app(Settings(), store)) as client:
        assert "interrupted_at" not in _freshness(client, token)  # nothing started since the kill
        failing = FakeConnector([make_item("1", minutes=1)], fail_after_pages=0)
        assert not sync_tracker(store, failing, full=True, now=lambda: T0).ok  # the next start
        statuses = _statuses(store)
        assert statuses[killed_run] == "interrupted"
        assert statuses[live_run] == "running"  # its process is alive: not ours to judge
        freshness = _freshness(client, token)
        assert freshness["interrupted_at"] is not None
        assert freshness["last_sync"] is None

        assert sync_tracker(store, FakeConnector([make_item("1", minutes=1)]), full=True).ok
        assert "interrupted_at" not in _freshness(client, token)  # a successful run since
    alive.stop()
