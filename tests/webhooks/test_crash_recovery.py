"""Crash test: ``v2mom serve`` and a standalone ``v2mom worker`` (real processes, PostgreSQL) are
killed with SIGKILL while signed deliveries are being group-committed and applied, then restarted.
Every acknowledged delivery is stored once and applied (done), and the backlog, the dead processes'
claims included, drains within 30 s of the restart, not after the five-minute claim timeout."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from tests.layout import ROOT
from tests.support import free_port, wait_for
from tests.webhooks.jira_signing import v2mom, write_jira_settings
from tests.webhooks.traffic import Deliveries, is_item_fetch
from v2mom.sandbox.generator import generate_jira_workspace
from v2mom.sandbox.jira.app import create_jira_app
from v2mom.sandbox.jira.state import JiraState
from v2mom.sandbox.server import SandboxServer
from v2mom.store import schema as t
from v2mom.store.database import Database

DRAIN_WITHIN = 30.0


@pytest.fixture(params=["cloud", "datacenter"])
def slow_jira(request: pytest.FixtureRequest) -> Iterator[tuple[str, JiraState, threading.Event]]:
    """A sandbox Jira of each deployment whose item fetches take 50 ms while the event it yields is
    set, so a kill lands in the middle of applies (Data Center's deliveries carry no delivery id:
    the inbox dedupes their bodies)."""
    state, _ = generate_jira_workspace(seed=11, epics=10, issues=60, deployment=request.param)
    app = create_jira_app(state)
    slow = threading.Event()
    slow.set()

    @app.middleware("http")
    async def slow_item_fetches(request: Any, call_next: Any) -> Any:
        if slow.is_set() and await is_item_fetch(state, request):
            await asyncio.sleep(0.05)
        return await call_next(request)

    with SandboxServer(app) as url:
        yield url, state, slow


def _processes(
    config: Path, port: int, env: dict[str, str]
) -> tuple[subprocess.Popen[str], subprocess.Popen[str]]:
    out = subprocess.DEVNULL
    serve = subprocess.Popen(
        v2mom("serve", "-c", str(config), "--port", str(port)), env=env, stdout=out, stderr=out, text=True
    )
    assert wait_for(lambda: _healthy(port), timeout=30), "v2mom serve did not come up"
    worker = subprocess.Popen(
        v2mom("worker", "-c", str(config), "--interval", "0.2"), env=env, stdout=out, stderr=out, text=True
    )
    return serve, worker


def _healthy(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def _claimed_by(store: Database, pid: int) -> int:
    i = t.webhook_inbox.c
    prefix = f"{socket.gethostname()[:40]}:{pid}:"
    with store.engine.connect() as conn:
        query = select(func.count()).where(i.status == "processing", i.claimed_by.startswith(prefix))
        return int(conn.execute(query).scalar_one())


def _backlog(store: Database) -> int:
    counts = store.inbox.counts().get("jira", {})
    return counts.get("pending", 0) + counts.get("processing", 0)


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_killed_serve_and_worker_lose_no_acknowledged_delivery_and_drain_after_restart(
    tmp_path: Path, database_url: str, slow_jira: tuple[str, JiraState, threading.Event]
) -> None:
    url, state, slow = slow_jira
    config = write_jira_settings(tmp_path / "v2mom.yaml", database_url, url, state)
    config.chmod(0o600)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    port = free_port()
    deliveries = Deliveries(f"http://127.0.0.1:{port}", state)
    serve, worker = _processes(config, port, env)
    store = Database.open(database_url)
    try:
        deliveries.start()
        # Kill both while the worker holds claims (applies in flight) and deliveries are committing.
        assert wait_for(
            lambda: len(deliveries.acknowledged) >= 60 and _claimed_by(store, worker.pid) > 0, timeout=30
        ), "the standalone worker never held claims"
        worker.send_signal(signal.SIGKILL)
        serve.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        serve.wait(timeout=10)
        deliveries.stop()
        stranded = _claimed_by(store, worker.pid) + _claimed_by(store, serve.pid)
        assert stranded > 0, "the kill should leave claims of dead processes behind"
        slow.clear()  # what is timed now is the drain, not the site

        serve, worker = _processes(config, port, env)  # the restart
        restarted = time.monotonic()
        for delivery_id in sorted(deliveries.unacknowledged):  # trackers retry unanswered deliveries
            deliveries.send(delivery_id)
        assert wait_for(
            lambda: _backlog(store) == 0, timeout=DRAIN_WITHIN - (time.monotonic() - restarted)
        ), f"backlog {_backlog(store)} not drained within {DRAIN_WITHIN:.0f} s of the restart"

        i = t.webhook_inbox.c
        with store.engine.connect() as conn:
            rows = conn.execute(select(i.delivery_id, i.status).where(i.tracker == "jira")).all()
        stored: dict[str, list[str]] = {}
        for delivery_id, status in rows:
            stored.setdefault(delivery_id, []).append(status)
        assert deliveries.acknowledged
        for delivery_id in deliveries.acknowledged:
            stored_id = deliveries.stored_id(delivery_id)
            assert stored.get(stored_id) == ["done"], (delivery_id, stored.get(stored_id))
    finally:
        deliveries.stop()
        for process in (serve, worker):
            process.terminate()
        for process in (serve, worker):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        store.close()
