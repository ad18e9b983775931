"""SIGTERM stops ``v2mom serve`` and ``v2mom worker`` cleanly while their worker holds claims: the
batch being applied finishes, nothing stays claimed, the lease is gone and the exit status is 0."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.support import free_port, wait_for
from tests.webhooks.jira_signing import v2mom, write_jira_settings
from v2mom.clock import utcnow
from v2mom.events import WebhookEvent
from v2mom.sandbox.generator import generate_jira_workspace
from v2mom.sandbox.jira.app import create_jira_app
from v2mom.sandbox.jira.state import JiraState
from v2mom.sandbox.server import SandboxServer
from v2mom.store import schema as t
from v2mom.store.database import Database

ROOT = Path(__file__).resolve().parents[2]
EVENTS = 4


@dataclass
class GatedJira:
    """A sandbox Jira whose single-issue searches (the worker's fetches) wait while ``hold`` is set."""

    url: str
    state: JiraState
    hold: threading.Event = field(default_factory=threading.Event)
    waiting: int = 0


@pytest.fixture
def gated_jira() -> Iterator[GatedJira]:
    state, _ = generate_jira_workspace(seed=7, epics=4, issues=20)
    app = create_jira_app(state)
    jira = GatedJira("", state)

    @app.middleware("http")
    async def gate_issue_reads(request: Any, call_next: Any) -> Any:
        if request.url.path == "/rest/api/3/search/jql" and b"AND id = " in await request.body():
            jira.waiting += 1
            while jira.hold.is_set():
                await asyncio.sleep(0.01)
            jira.waiting -= 1
        return await call_next(request)

    with SandboxServer(app) as url:
        jira.url = url
        yield jira
        jira.hold.clear()


def _claims_of(store: Database, pid: int) -> int:
    i = t.webhook_inbox.c
    prefix = f"{socket.gethostname()[:40]}:{pid}:"
    with store.engine.connect() as conn:
        query = select(func.count()).where(i.status == "processing", i.claimed_by.startswith(prefix))
        return int(conn.execute(query).scalar_one())


def _leases_of(store: Database, pid: int) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).where(t.workers.c.pid == pid)).scalar_one())


def _command(kind: str, config: Path) -> list[str]:
    if kind == "serve":
        return v2mom("serve", "-c", str(config), "--port", str(free_port()))
    return v2mom("worker", "-c", str(config), "--interval", "0.2")


@pytest.mark.parametrize("kind", ["serve", "worker"])
def test_sigterm_finishes_the_batch_and_hands_back_the_lease(
    tmp_path: Path, database_url: str, gated_jira: GatedJira, kind: str
) -> None:
    config = write_jira_settings(tmp_path / "v2mom.yaml", database_url, gated_jira.url, gated_jira.state)
    with config.open("a") as settings:
        settings.write("sync: {reconcile_every: 1h}\n")
    config.chmod(0o600)
    store = Database.open(database_url)
    issues = sorted(gated_jira.state.issues)[:EVENTS]
    events = [
        WebhookEvent("jira", f"stop-{n}", "refetch", str(issue), utcnow(), {})
        for n, issue in enumerate(issues)
    ]
    assert store.inbox.enqueue_many(events) == [True] * EVENTS
    gated_jira.hold.set()  # the worker's batch will wait in its first fetch, holding its claims
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    log = (tmp_path / f"{kind}.log").open("w")
    process = subprocess.Popen(
        _command(kind, config), env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path
    )
    try:
        assert wait_for(lambda: _claims_of(store, process.pid) > 0 and gated_jira.waiting > 0, timeout=60), (
            tmp_path / f"{kind}.log"
        ).read_text()
        process.send_signal(signal.SIGTERM)
        wait_for(lambda: process.poll() is not None, timeout=2)  # time for the signal to land
        gated_jira.hold.clear()  # the batch can finish now, if the process still runs it
        assert process.wait(timeout=60) == 0, (tmp_path / f"{kind}.log").read_text()
        assert _claims_of(store, process.pid) == 0  # the batch finished: nothing stays claimed
        assert _leases_of(store, process.pid) == 0  # the lease was handed back, not left to expire
        counts = store.inbox.counts()["jira"]
        assert counts.get("processing", 0) == 0
        assert counts.get("done", 0) >= 1
    finally:
        gated_jira.hold.clear()
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        log.close()
        store.close()
    assert "Traceback" not in (tmp_path / f"{kind}.log").read_text()
