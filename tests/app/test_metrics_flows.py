"""The metrics move by what really happened: a sync against the sandbox Jira, the worker, a plan change.

Counters and histograms belong to the process, so each test compares a scrape after with one before.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from tests.app.scrape import Scrape, scrape
from tests.support import auth
from tests.webhooks.jira_signing import SECRET, delivery, sign
from v2mom.app.factory import create_app
from v2mom.connectors.jira.connector import JiraConnector
from v2mom.mapping.plan import load_plan
from v2mom.sandbox.generator import SAMPLE_PLAN_PATH, generate_jira_workspace, jira_settings
from v2mom.sandbox.jira.app import create_jira_app
from v2mom.sandbox.jira.state import JiraState
from v2mom.sandbox.server import SandboxServer
from v2mom.settings import Settings, TrackersSettings
from v2mom.store.database import Database
from v2mom.sync.service import run_sync
from v2mom.webhooks.worker import process_batch

RUNS = "v2mom_sync_runs_total"
ITEMS = "v2mom_sync_items_total"
RERESOLVE = "v2mom_reresolve_duration_seconds_count"
APPLY = "v2mom_webhook_apply_duration_seconds_count"
BACKLOG = "v2mom_webhook_inbox_backlog_events"


@dataclass
class World:
    """A sandbox Jira, settings pointing at it, the app on the store, and an admin token."""

    state: JiraState
    url: str
    settings: Settings
    store: Database
    client: TestClient
    admin: dict[str, str]

    def scrape(self) -> Scrape:
        return scrape(self.client, self.admin)


@pytest.fixture
def world(store: Database) -> Iterator[World]:
    state, _ = generate_jira_workspace(seed=12, epics=20, issues=120)
    store.plans.save(load_plan(SAMPLE_PLAN_PATH.read_text()), actor="test")
    with SandboxServer(create_jira_app(state)) as url:
        settings = Settings(
            trackers=TrackersSettings(jira=jira_settings(state, url, webhook_secrets=[SECRET]))
        )
        with TestClient(create_app(settings, store)) as client:
            yield World(state, url, settings, store, client, auth(store.tokens.create("admin", "ops")))


def moved(before: Scrape, after: Scrape, sample: str, **labels: str) -> float:
    return after.value(sample, **labels) - before.value(sample, **labels)


def test_a_sync_counts_its_run_its_items_and_its_reresolution(world: World) -> None:
    before = world.scrape()
    (result,) = run_sync(world.settings, world.store, full=True)
    after = world.scrape()

    assert result.ok, result.error
    assert result.seen == world.store.items.count("jira") > 0
    assert moved(before, after, RUNS, tracker="jira", outcome="ok") == 1
    assert moved(before, after, RUNS, tracker="jira", outcome="failed") == 0
    assert moved(before, after, ITEMS, tracker="jira") == result.seen
    assert moved(before, after, RERESOLVE, trigger="sync") == 1
    last = world.store.sync_state.last_successful_sync()["jira"].timestamp()
    assert after.value("v2mom_sync_last_success_timestamp_seconds", tracker="jira") == pytest.approx(last)


def test_a_failed_sync_counts_as_failed_and_reads_no_items(world: World) -> None:
    broken = Settings(
        trackers=TrackersSettings(jira=jira_settings(world.state, world.url, api_token="revoked-token"))
    )
    before = world.scrape()
    (result,) = run_sync(broken, world.store, full=True)
    after = world.scrape()

    assert not result.ok
    assert moved(before, after, RUNS, tracker="jira", outcome="failed") == 1
    assert moved(before, after, RUNS, tracker="jira", outcome="ok") == 0
    assert moved(before, after, ITEMS, tracker="jira") == 0
    assert after.value("v2mom_sync_last_success_timestamp_seconds", tracker="jira") == 0.0  # never ok
    assert "revoked-token" not in world.client.get("/metrics", headers=world.admin).text


def test_the_worker_observes_each_apply_and_drains_the_backlog_gauge(world: World) -> None:
    assert run_sync(world.settings, world.store, full=True)[0].ok
    story = next(i for i, x in sorted(world.state.issues.items()) if x.type_name == "Story")
    world.state.update_issue(story, points=21.0)
    body = delivery({"id": str(story)})
    for delivery_id in ("m-1", "m-2"):  # two deliveries, two applies
        headers = {"X-Atlassian-Webhook-Identifier": delivery_id, "X-Hub-Signature": sign(body)}
        assert world.client.post("/webhooks/jira", content=body, headers=headers).status_code == 202

    before = world.scrape()
    assert before.value(BACKLOG, tracker="jira") == 2
    connector = JiraConnector(world.settings.trackers.jira)  # type: ignore[arg-type]
    try:
        batch = process_batch(world.store, world.store.inbox, lambda _: connector, worker="metrics-test")
    finally:
        connector.close()
    after = world.scrape()

    assert batch.applied == 2
    assert moved(before, after, APPLY, tracker="jira") == 2
    assert moved(before, after, RERESOLVE, trigger="webhook") == 1  # once per batch
    assert after.value(BACKLOG, tracker="jira") == 0


def test_a_plan_change_observes_its_reresolution(world: World) -> None:
    assert run_sync(world.settings, world.store, full=True)[0].ok
    plan = world.client.get("/api/plan", headers=world.admin).json()
    plan["values"][0]["name"] = "Renamed for the metrics test"
    plan["reason"] = "the sample plan is in a cycle: every change says why"

    before = world.scrape()
    assert world.client.put("/api/plan", json=plan, headers=world.admin).status_code == 200
    after = world.scrape()

    assert moved(before, after, RERESOLVE, trigger="plan") == 1
    assert moved(before, after, RERESOLVE, trigger="sync") == 0
