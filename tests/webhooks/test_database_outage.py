"""A PostgreSQL outage under webhook load: ``v2mom serve`` (a real process) reaches its database
through a TCP proxy, which cuts every connection while the worker is applying a batch and refuses new
ones for a few seconds. Once the database is back, every acknowledged delivery is applied within the
15 s lease, without a restart, and none stays ``processing``. Deliveries refused during the outage
are the vendor's to send again."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from tests.layout import ROOT
from tests.outages import TcpProxy
from tests.support import free_port, wait_for
from tests.webhooks.jira_signing import v2mom, write_jira_settings
from tests.webhooks.traffic import Deliveries, GatedJira, gated_jira
from v2mom.store import schema as t
from v2mom.store.database import Database
from v2mom.store.workers import LEASE

OUTAGE = 4.0  # seconds; the same path as a 10 s one: shorter than the lease, so the process keeps it


@pytest.fixture(params=["cloud", "datacenter"])
def jira(request: pytest.FixtureRequest) -> Iterator[GatedJira]:
    """A gated sandbox Jira of each deployment: Data Center's deliveries carry no delivery id."""
    with gated_jira(seed=13, epics=6, issues=40, deployment=request.param) as served:
        yield served


@pytest.fixture
def proxy(database_url: str) -> Iterator[TcpProxy]:
    """A proxy in front of the test's PostgreSQL server."""
    url = make_url(database_url)
    with TcpProxy((url.host or "127.0.0.1", url.port or 5432)) as started:
        yield started


def _through(database_url: str, proxy: TcpProxy) -> str:
    url = make_url(database_url).set(host="127.0.0.1", port=proxy.port)
    return url.render_as_string(hide_password=False)


def _healthy(base: str) -> bool:
    try:
        return requests.get(f"{base}/healthz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def _claims_of(store: Database, pid: int) -> int:
    i = t.webhook_inbox.c
    prefix = f"{socket.gethostname()[:40]}:{pid}:"
    with store.engine.connect() as conn:
        query = select(func.count()).where(i.status == "processing", i.claimed_by.startswith(prefix))
        return int(conn.execute(query).scalar_one())


def _statuses(store: Database) -> dict[str, tuple[str, int]]:
    """Per delivery id: its status and how many failed attempts it had."""
    i = t.webhook_inbox.c
    with store.engine.connect() as conn:
        rows = conn.execute(select(i.delivery_id, i.status, i.attempts).where(i.tracker == "jira")).all()
    return {delivery_id: (status, attempts) for delivery_id, status, attempts in rows}


def _all_applied(store: Database, acknowledged: set[str]) -> bool:
    statuses = _statuses(store)
    none_claimed = all(status != "processing" for status, _ in statuses.values())
    return none_claimed and all(statuses.get(d, ("missing", 0))[0] == "done" for d in acknowledged)


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_every_acknowledged_delivery_is_applied_within_the_lease_after_a_database_outage(
    tmp_path: Path, database_url: str, proxy: TcpProxy, jira: GatedJira
) -> None:
    config = write_jira_settings(tmp_path / "v2mom.yaml", _through(database_url, proxy), jira.url, jira.state)
    with config.open("a") as settings:
        settings.write("sync: {reconcile_every: 1h}\n")
    config.chmod(0o600)
    observer = Database.open(database_url)  # straight to PostgreSQL: the outage does not reach it
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = (tmp_path / "serve.log").open("w")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    serve = subprocess.Popen(
        v2mom("serve", "-c", str(config), "--port", str(port)), env=env, stdout=log, stderr=subprocess.STDOUT
    )
    deliveries = Deliveries(base, jira.state, prefix="outage", pause=0.05)
    try:
        assert wait_for(lambda: _healthy(base), timeout=30), (tmp_path / "serve.log").read_text()
        deliveries.start(threads=3)
        assert wait_for(lambda: len(deliveries.acknowledged) >= 20, timeout=20)

        jira.hold.set()  # catch the worker in the middle of a batch, holding claims
        assert wait_for(lambda: _claims_of(observer, serve.pid) > 0 and jira.waiting > 0, timeout=20)
        proxy.cut()
        cut = time.monotonic()
        jira.hold.clear()  # the batch goes on, and finds the database gone
        wait_for(lambda: time.monotonic() - cut >= OUTAGE, timeout=OUTAGE + 1, interval=0.1)
        refused_during_outage = len(deliveries.unacknowledged)
        proxy.restore()
        returned = time.monotonic()
        wait_for(lambda: time.monotonic() - returned >= 1, timeout=2, interval=0.1)  # load goes on
        deliveries.stop()

        acknowledged = {deliveries.stored_id(d) for d in deliveries.acknowledged}
        assert wait_for(
            lambda: _all_applied(observer, acknowledged),
            timeout=LEASE.total_seconds() - (time.monotonic() - returned),
            interval=0.2,
        ), {d: s for d, s in _statuses(observer).items() if s[0] != "done"}
        assert serve.poll() is None  # the same process, never restarted
        assert proxy.refused > 0  # the outage refused new connections
        assert refused_during_outage > 0  # and deliveries: the vendor sends those again
        statuses = _statuses(observer)
        assert any(statuses[d][1] > 0 for d in acknowledged)  # the cut batch handed its claims back
    finally:
        deliveries.stop()
        jira.hold.clear()
        serve.terminate()
        try:
            serve.wait(timeout=30)
        except subprocess.TimeoutExpired:
            serve.kill()
            serve.wait(timeout=10)
        log.close()
        observer.close()
