"""SIGTERM stops ``v2mom serve`` and ``v2mom worker`` cleanly while their worker holds claims: the
batch being applied finishes, nothing stays claimed, the lease is gone and the exit status is 0."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import pytest
import requests
from sqlalchemy import func, select

from tests.layout import ROOT
from tests.support import free_port, wait_for
from tests.webhooks.jira_signing import v2mom, write_jira_settings
from tests.webhooks.traffic import GatedJira, gated_jira
from v2mom.clock import utcnow
from v2mom.events import WebhookEvent
from v2mom.store import schema as t
from v2mom.store.database import Database

EVENTS = 4


@pytest.fixture
def jira() -> Iterator[GatedJira]:
    with gated_jira() as served:
        yield served


def _claims_of(store: Database, pid: int) -> int:
    i = t.webhook_inbox.c
    prefix = f"{socket.gethostname()[:40]}:{pid}:"
    with store.engine.connect() as conn:
        query = select(func.count()).where(i.status == "processing", i.claimed_by.startswith(prefix))
        return int(conn.execute(query).scalar_one())


def _leases_of(store: Database, pid: int) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).where(t.workers.c.pid == pid)).scalar_one())


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def _start(kind: str, config: Path, log: IO[str]) -> tuple[subprocess.Popen[bytes], Callable[[], bool]]:
    """Start ``v2mom serve`` or ``v2mom worker``; returns it and whether it is up (serve: answering)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    port = free_port()
    command = (
        v2mom("serve", "-c", str(config), "--port", str(port))
        if kind == "serve"
        else v2mom("worker", "-c", str(config), "--interval", "0.2")
    )
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=config.parent)
    if kind == "serve":
        return process, lambda: _answers(f"http://127.0.0.1:{port}/healthz")
    return process, lambda: True


@pytest.mark.parametrize("kind", ["serve", "worker"])
def test_sigterm_finishes_the_batch_and_hands_back_the_lease(
    tmp_path: Path, database_url: str, jira: GatedJira, kind: str
) -> None:
    config = write_jira_settings(tmp_path / "v2mom.yaml", database_url, jira.url, jira.state)
    with config.open("a") as settings:
        settings.write("sync: {reconcile_every: 1h}\n")
    config.chmod(0o600)
    store = Database.open(database_url)
    issues = sorted(jira.state.issues)[:EVENTS]
    events = [
        WebhookEvent("jira", f"stop-{n}", "refetch", str(issue), utcnow(), {})
        for n, issue in enumerate(issues)
    ]
    assert store.inbox.enqueue_many(events) == [True] * EVENTS
    jira.hold.set()  # the worker's batch will wait in its first fetch, holding its claims
    log_path = tmp_path / f"{kind}.log"
    log = log_path.open("w")
    process, up = _start(kind, config, log)
    try:
        assert wait_for(
            lambda: up() and _claims_of(store, process.pid) > 0 and jira.waiting > 0, timeout=60
        ), log_path.read_text()
        process.send_signal(signal.SIGTERM)
        wait_for(lambda: process.poll() is not None, timeout=2)  # time for the signal to land
        jira.hold.clear()  # the batch can finish now, if the process still runs it
        assert process.wait(timeout=60) == 0, log_path.read_text()
        assert _claims_of(store, process.pid) == 0  # the batch finished: nothing stays claimed
        assert _leases_of(store, process.pid) == 0  # the lease was handed back, not left to expire
        counts = store.inbox.counts()["jira"]
        assert counts.get("processing", 0) == 0
        assert counts.get("done", 0) >= 1
    finally:
        jira.hold.clear()
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        log.close()
        store.close()
    assert "Traceback" not in log_path.read_text()
