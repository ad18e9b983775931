"""``GET /metrics``: who may read it, the exposition format, the store's gauges, the report histogram."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from tests.app.scrape import parse, scrape
from tests.support import auth
from v2mom.app.factory import create_app
from v2mom.events import WebhookEvent
from v2mom.metrics import StoreGauges
from v2mom.settings import JiraSettings, LinearSettings, MetricsSettings, Settings, TrackersSettings
from v2mom.store.database import Database
from v2mom.store.inbox import MAX_ATTEMPTS

JIRA_TOKEN = "jira-api-token-that-must-not-leak"
LINEAR_KEY = "lin_api_key_that_must_not_leak"
HOOK_SECRET = "whsec-that-must-not-leak"
OUR_FAMILIES = {
    "v2mom_sync_runs": "counter",
    "v2mom_sync_items": "counter",
    "v2mom_webhook_apply_duration_seconds": "histogram",
    "v2mom_report_duration_seconds": "histogram",
    "v2mom_reresolve_duration_seconds": "histogram",
    "v2mom_store_up": "gauge",
    "v2mom_webhook_inbox_backlog_events": "gauge",
    "v2mom_webhook_inbox_parked_events": "gauge",
    "v2mom_sync_last_success_timestamp_seconds": "gauge",
}


def settings(*, public: bool = False) -> Settings:
    """Jira and Linear configured (pointing nowhere: nothing here contacts a tracker), with secrets."""
    return Settings(
        trackers=TrackersSettings(
            jira=JiraSettings(
                url="http://127.0.0.1:9",
                email="ops@example.com",
                api_token=SecretStr(JIRA_TOKEN),
                jql="project = ONB",
                webhook_secrets=[SecretStr(HOOK_SECRET)],
            ),
            linear=LinearSettings(
                api_url="http://127.0.0.1:9/graphql", api_key=SecretStr(LINEAR_KEY), teams=["ENG"]
            ),
        ),
        metrics=MetricsSettings(public=public),
    )


@pytest.fixture
def client(store: Database) -> Iterator[TestClient]:
    with TestClient(create_app(settings(), store)) as running:
        yield running


@pytest.fixture
def viewer(store: Database) -> dict[str, str]:
    return auth(store.tokens.create("viewer", "scraper"))


def test_metrics_need_a_token_of_any_role(client: TestClient, store: Database) -> None:
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers=auth("not-a-token")).status_code == 401
    for role in ("viewer", "admin"):
        answer = client.get("/metrics", headers=auth(store.tokens.create(role, f"{role}-scraper")))
        assert answer.status_code == 200, role


def test_public_metrics_need_no_token(store: Database) -> None:
    with TestClient(create_app(settings(public=True), store)) as public:
        answer = public.get("/metrics")
    assert answer.status_code == 200
    assert parse(answer.text).value("v2mom_store_up") == 1.0


def test_metrics_stay_out_of_the_openapi_document(client: TestClient) -> None:
    assert "/metrics" not in client.get("/openapi.json").json()["paths"]


def test_the_exposition_is_prometheus_text_with_every_metric(
    client: TestClient, viewer: dict[str, str]
) -> None:
    answer = client.get("/metrics", headers=viewer)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    families = parse(answer.text).families
    assert {name: families[name].type for name in OUR_FAMILIES if name in families} == OUR_FAMILIES
    assert "v2mom_sync_runs_total" in answer.text  # counters end in _total


def test_openmetrics_when_the_scraper_asks_for_it(client: TestClient, viewer: dict[str, str]) -> None:
    answer = client.get("/metrics", headers={**viewer, "Accept": "application/openmetrics-text"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/openmetrics-text")
    assert answer.text.rstrip().endswith("# EOF")


def test_inbox_gauges_equal_the_store_counts(
    client: TestClient, store: Database, viewer: dict[str, str]
) -> None:
    inbox = store.inbox
    for n in range(4):
        inbox.enqueue(WebhookEvent("jira", f"j-{n}", "refetch", f"ONB-{n}", None, {}))
    inbox.enqueue(WebhookEvent("jira", "j-ignored", "ignored", None, None, {"reason": "not ours"}))
    inbox.enqueue(WebhookEvent("linear", "l-1", "refetch", "ENG-1", None, {}))
    claimed = inbox.claim("test-worker", limit=2)  # two jira events: now processing
    inbox.fail(dataclasses.replace(claimed[0], attempts=MAX_ATTEMPTS - 1), "gone for good")  # parked
    counts = inbox.counts()

    metrics = scrape(client, viewer)

    jira, linear = counts["jira"], counts["linear"]
    assert metrics.value("v2mom_webhook_inbox_backlog_events", tracker="jira") == jira.get(
        "pending", 0
    ) + jira.get("processing", 0)
    assert metrics.value("v2mom_webhook_inbox_backlog_events", tracker="jira") == 3  # 2 pending, 1 claimed
    assert metrics.value("v2mom_webhook_inbox_parked_events", tracker="jira") == jira["parked"] == 1
    assert metrics.value("v2mom_webhook_inbox_backlog_events", tracker="linear") == linear["pending"] == 1
    assert metrics.value("v2mom_webhook_inbox_parked_events", tracker="linear") == 0


def test_a_configured_tracker_without_events_or_syncs_reads_zero(
    client: TestClient, viewer: dict[str, str]
) -> None:
    metrics = scrape(client, viewer)
    for tracker in ("jira", "linear"):
        assert metrics.has("v2mom_webhook_inbox_backlog_events", tracker=tracker)
        assert metrics.value("v2mom_sync_last_success_timestamp_seconds", tracker=tracker) == 0.0
    assert not metrics.has("v2mom_webhook_inbox_backlog_events", tracker="asana")  # not configured


def test_last_success_gauge_is_the_stored_finish_of_the_last_ok_run(
    client: TestClient, store: Database, viewer: dict[str, str]
) -> None:
    runs = store.sync_state
    runs.finish_run(runs.start_run("jira", "full"), status="ok", upserted=3, deleted=0, api_calls=2)
    runs.finish_run(
        runs.start_run("jira", "incremental"), status="failed", upserted=0, deleted=0, api_calls=1
    )
    finished = runs.last_successful_sync()["jira"]

    metrics = scrape(client, viewer)

    stamp = metrics.value("v2mom_sync_last_success_timestamp_seconds", tracker="jira")
    assert stamp == pytest.approx(finished.timestamp(), abs=1e-3)
    assert abs(stamp - datetime.now(UTC).timestamp()) < 3600  # a real Unix time, not 0 or an offset


def test_each_report_request_is_observed_once(client: TestClient, viewer: dict[str, str]) -> None:
    before = scrape(client, viewer)
    assert client.get("/api/reports/effort-by-value", headers=viewer).status_code == 200
    assert client.get("/api/reports/effort-by-value.csv", headers=viewer).status_code == 200
    assert client.get("/api/reports/effort-by-value", headers=viewer).status_code == 200
    refused = client.get("/api/reports/effort-by-value?from=2026-02-30", headers=viewer)
    assert refused.status_code == 422  # refused before any report is built: not observed
    after = scrape(client, viewer)

    def moved(report: str) -> float:
        sample = "v2mom_report_duration_seconds_count"
        return after.value(sample, report=report) - before.value(sample, report=report)

    assert moved("effort-by-value") == 2
    assert moved("effort-by-value.csv") == 1
    assert moved("trend") == 0


def test_no_secret_and_no_token_in_the_exposition(
    client: TestClient, store: Database, viewer: dict[str, str]
) -> None:
    token = viewer["Authorization"].removeprefix("Bearer ")
    assert client.get("/api/reports/effort-by-value", headers=viewer).status_code == 200
    text = client.get("/metrics", headers=viewer).text
    assert "v2mom_report_duration_seconds_count" in text
    for secret in (JIRA_TOKEN, LINEAR_KEY, HOOK_SECRET, token):
        assert secret not in text


def test_an_unreadable_store_answers_store_down_and_no_store_gauges() -> None:
    def broken() -> dict[str, dict[str, int]]:
        raise OSError("database is gone")

    metrics = {m.name: m for m in StoreGauges(["jira"], broken, dict).collect()}

    assert [s.value for s in metrics["v2mom_store_up"].samples] == [0]
    assert "v2mom_webhook_inbox_backlog_events" not in metrics
