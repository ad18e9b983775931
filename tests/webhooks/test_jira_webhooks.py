"""Jira webhooks end to end: verification, durable inbox, worker, crash recovery, ordering."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from tests.contracts import contracts_dir, validate_jira_dc, validate_jira_dc_issue
from tests.webhooks.jira_signing import DC_CHANGELOG, OLD_SECRET, SECRET, dc_delivery, delivery, sign
from v2mom.app.factory import create_app
from v2mom.app.services import services_of
from v2mom.clock import utcnow
from v2mom.connectors.jira.connector import JiraConnector
from v2mom.connectors.jira.webhook import changelog_transitions, parse_jira_dc_event, parse_jira_event
from v2mom.mapping.plan import load_plan
from v2mom.reports.flags import item_document
from v2mom.sandbox.generator import SAMPLE_PLAN_PATH, generate_jira_workspace, jira_settings
from v2mom.sandbox.jira.app import create_jira_app
from v2mom.sandbox.jira.datacenter_webhooks import DataCenterWebhookSender, add_webhook
from v2mom.sandbox.jira.state import JiraState
from v2mom.sandbox.server import SandboxServer
from v2mom.settings import JiraSettings, Settings, TrackersSettings
from v2mom.store.database import Database
from v2mom.store.inbox import CLAIM_TIMEOUT, Inbox
from v2mom.sync.service import run_sync
from v2mom.webhooks.worker import process_batch


@dataclass
class World:
    client: TestClient
    store: Database
    inbox: Inbox
    state: JiraState
    connector: JiraConnector

    @property
    def datacenter(self) -> bool:
        return self.state.deployment == "datacenter"

    def post(self, body: bytes, *, delivery_id: str = "d-1", signature: str | None = None) -> Any:
        """Deliver ``body`` signed as the site does (Data Center sends no delivery id: its
        deliveries are told apart by their bodies)."""
        headers = {"Content-Type": "application/json"}
        if not self.datacenter:
            headers["X-Atlassian-Webhook-Identifier"] = delivery_id
        headers["X-Hub-Signature"] = sign(body) if signature is None else signature
        return self.client.post("/webhooks/jira", content=body, headers=headers)

    def event(
        self,
        issue_id: int | str,
        kind: str = "jira:issue_updated",
        *,
        updated: str | None = None,
        summary: str | None = None,
    ) -> bytes:
        """A delivery about issue ``issue_id`` in the site's deployment's shape."""
        issue = self.state.issues.get(int(issue_id))
        key = issue.key if issue is not None else f"ONB-{issue_id}"
        if self.datacenter:
            optional = {"updated": updated, "summary": summary}
            return dc_delivery(str(issue_id), key, kind, **{k: v for k, v in optional.items() if v})
        fields = {name: value for name, value in (("updated", updated), ("summary", summary)) if value}
        return delivery({"id": str(issue_id), "key": key, **({"fields": fields} if fields else {})}, kind)

    def stored_events(self) -> int:
        return sum(sum(statuses.values()) for statuses in self.inbox.counts().values())

    def work(self) -> int:
        return process_batch(self.store, self.inbox, lambda _: self.connector, worker="test").applied


def make_world(store: Database, url: str, state: JiraState, secrets: list[str]) -> Iterator[World]:
    settings = Settings(trackers=TrackersSettings(jira=jira_settings(state, url, webhook_secrets=secrets)))
    store.plans.save(load_plan(SAMPLE_PLAN_PATH.read_text()), actor="test")
    assert all(r.ok for r in run_sync(settings, store, full=True))
    app = create_app(settings, store)
    connector = JiraConnector(settings.trackers.jira)  # type: ignore[arg-type]
    with TestClient(app) as client:
        yield World(client, store, services_of(app).inbox, state, connector)
    connector.close()


def jira_site(deployment: str) -> Iterator[tuple[str, JiraState]]:
    state, _ = generate_jira_workspace(seed=4, epics=30, issues=150, deployment=deployment)  # type: ignore[arg-type]
    with SandboxServer(create_jira_app(state)) as url:
        yield url, state


@pytest.fixture(params=["cloud", "datacenter"])
def jira(request: pytest.FixtureRequest) -> Iterator[tuple[str, JiraState]]:
    """A Jira sandbox of each deployment: the webhook suite runs against both."""
    yield from jira_site(request.param)


@pytest.fixture
def cloud_jira() -> Iterator[tuple[str, JiraState]]:
    yield from jira_site("cloud")


@pytest.fixture
def world(store: Database, jira: tuple[str, JiraState]) -> Iterator[World]:
    yield from make_world(store, *jira, secrets=[OLD_SECRET, SECRET])


def some_story(state: JiraState) -> int:
    return next(
        i
        for i, issue in sorted(state.issues.items())
        if issue.type_name == "Story" and issue.project == "ONB"
    )


BODY = delivery({"id": "10001", "key": "ONB-1", "fields": {"updated": "2026-11-20T10:00:00.000+0000"}})
DC_BODY = dc_delivery("10001", "ONB-1", changelog=DC_CHANGELOG)
FLAVOURS = ["cloud", "datacenter"]
NOWHERE = "http://127.0.0.1:9"  # receiving contacts no tracker


def offline_jira(deployment: str, secrets: list[str]) -> JiraSettings:
    """Jira settings of either deployment for a receiver that never reaches the site."""
    credentials: dict[str, Any] = (
        {"token": SecretStr("pat")}
        if deployment == "datacenter"
        else {"email": "a@example.com", "api_token": SecretStr("t")}
    )
    return JiraSettings(
        deployment=deployment,  # type: ignore[arg-type]
        url=NOWHERE,
        jql="project = ONB",
        webhook_secrets=[SecretStr(s) for s in secrets],
        **credentials,
    )


@dataclass
class Receiving:
    """The app receiving one deployment's deliveries, and its inbox (no worker, no sync)."""

    deployment: str
    client: TestClient
    inbox: Inbox

    @property
    def body(self) -> bytes:
        return DC_BODY if self.deployment == "datacenter" else BODY

    def post(self, body: bytes, headers: dict[str, str]) -> Any:
        return self.client.post("/webhooks/jira", content=body, headers=headers)

    def stored(self) -> int:
        return sum(sum(statuses.values()) for statuses in self.inbox.counts().values())


def receiving(store: Database, deployment: str, secrets: list[str]) -> Iterator[Receiving]:
    app = create_app(Settings(trackers=TrackersSettings(jira=offline_jira(deployment, secrets))), store)
    with TestClient(app) as client:
        yield Receiving(deployment, client, services_of(app).inbox)


@pytest.fixture(params=FLAVOURS)
def receiver(request: pytest.FixtureRequest, store: Database) -> Iterator[Receiving]:
    yield from receiving(store, request.param, [OLD_SECRET, SECRET])


def _tampered(body: bytes) -> bytes:
    return body.replace(b"ONB-1", b"ONB-2")


# (case, body from the flavour's body, signature from that body ("" none), delivery id, cloud, DC)
CASES: list[tuple[str, Any, Any, str | None, int, int]] = [
    ("good", lambda b: b, sign, "d", 202, 202),
    ("rotated-previous-secret", lambda b: b, lambda b: sign(b, OLD_SECRET), "d", 202, 202),
    ("wrong-secret", lambda b: b, lambda b: sign(b, "nope"), "d", 401, 401),
    ("missing-header", lambda b: b, lambda b: "", "d", 401, 401),
    ("no-prefix", lambda b: b, lambda b: sign(b)[len("sha256=") :], "d", 401, 401),
    ("tampered-body", _tampered, lambda b: sign(b), "d", 401, 401),
    ("malformed-json", lambda b: b"{not json", lambda b: sign(b"{not json"), "d", 400, 400),
    ("not-an-object", lambda b: b"[1]", lambda b: sign(b"[1]"), "d", 400, 400),
    (
        "unknown-event",
        lambda b: b'{"webhookEvent": "x"}',
        lambda b: sign(b'{"webhookEvent": "x"}'),
        "d",
        202,
        202,
    ),
    # Data Center documents no delivery id header: its deliveries are deduplicated by their body.
    ("no-delivery-id", lambda b: b, sign, None, 400, 202),
]


@pytest.mark.parametrize(
    ("case", "body_of", "signature_of", "delivery_id", "cloud", "datacenter"),
    CASES,
    ids=[c[0] for c in CASES],
)
def test_verification_cases(
    receiver: Receiving,
    case: str,
    body_of: Any,
    signature_of: Any,
    delivery_id: str | None,
    cloud: int,
    datacenter: int,
) -> None:
    status = datacenter if receiver.deployment == "datacenter" else cloud
    body = body_of(receiver.body)
    signature = signature_of(receiver.body if case == "tampered-body" else body)
    headers = {"X-Atlassian-Webhook-Identifier": f"{delivery_id}-{case}"} if delivery_id else {}
    if signature:
        headers["X-Hub-Signature"] = signature
    answer = receiver.post(body, headers)
    assert answer.status_code == status, answer.text
    assert receiver.stored() == (1 if status == 202 else 0)


def test_an_unsigned_data_center_delivery_is_refused_saying_to_set_a_secret(store: Database) -> None:
    for hooks in receiving(store, "datacenter", [SECRET]):
        answer = hooks.post(DC_BODY, {})
        assert answer.status_code == 401
        assert "has no secret" in answer.json()["detail"]
        assert "webhooks register" in answer.json()["detail"]
        assert hooks.stored() == 0


def test_a_data_center_delivery_retried_is_stored_once_and_other_kinds_are_acknowledged(
    store: Database,
) -> None:
    for hooks in receiving(store, "datacenter", [SECRET]):
        signed = {"X-Hub-Signature": sign(DC_BODY)}
        assert hooks.post(DC_BODY, signed).json() == {"status": "stored"}
        assert hooks.post(DC_BODY, signed).json() == {"status": "duplicate"}
        for kind in ("sprint_started", "worklog_deleted", "user_updated", "jira:version_released"):
            other = json.dumps({"webhookEvent": kind, "timestamp": 1763900000000}).encode()
            answer = hooks.post(other, {"X-Hub-Signature": sign(other)})
            assert answer.json() == {"status": "ignored"}, kind
        assert hooks.inbox.counts()["jira"] == {"pending": 1, "ignored": 4}


def test_oversized_body_is_refused_and_not_stored(world: World) -> None:
    services_of(world.client.app).webhook_max_bytes = 1000
    big = world.event("10001", summary="x" * 2000)
    assert world.post(big).status_code == 413
    assert world.stored_events() == 0


@pytest.mark.parametrize("deployment", FLAVOURS)
def test_no_secret_configured_fails_closed(
    store: Database, deployment: str, caplog: pytest.LogCaptureFixture
) -> None:
    for closed in receiving(store, deployment, []):
        answer = closed.post(
            closed.body, {"X-Hub-Signature": sign(closed.body), "X-Atlassian-Webhook-Identifier": "n"}
        )
        assert answer.status_code == 401
        assert "no webhook secret configured" in answer.text
        assert closed.stored() == 0
    assert any("fail closed" in record.message for record in caplog.records)


def test_duplicates_are_stored_once(world: World) -> None:
    body = world.event("10001")
    assert world.post(body, delivery_id="same").json() == {"status": "stored"}
    assert world.post(body, delivery_id="same").json() == {"status": "duplicate"}
    assert world.stored_events() == 1


def test_update_is_applied_and_resolution_recomputed(world: World) -> None:
    story = some_story(world.state)
    world.state.update_issue(story, labels=["value:reliability"], points=13.0)
    assert world.post(world.event(story)).status_code == 202
    assert world.work() == 1
    stored = world.store.items.by_id("jira", str(story))
    assert stored is not None
    assert stored.item.points == 13.0
    document = item_document(world.store, "jira", stored.item.key)
    assert document is not None
    assert document["resolution"]["values"] == {"reliability": 1.0}
    assert world.inbox.counts()["jira"] == {"done": 1}


def test_delete_event_and_refetch_of_a_deleted_issue(world: World) -> None:
    first, second = sorted(i for i, x in world.state.issues.items() if x.project == "MOB")[:2]
    world.state.delete_issue(first)
    world.state.delete_issue(second)
    world.post(world.event(first, "jira:issue_deleted"), delivery_id="del")
    world.post(world.event(second), delivery_id="upd")  # re-fetch answers 404
    assert world.work() == 2
    assert not ({str(first), str(second)} & world.store.items.live_ids("jira"))


def test_older_event_applied_last_does_not_roll_back(world: World) -> None:
    story = some_story(world.state)
    world.state.update_issue(story, summary="first")
    world.post(world.event(story, updated="2026-11-20T10:00:00.000+0000"), delivery_id="a")
    world.state.update_issue(story, summary="second")
    world.post(world.event(story, updated="2026-11-20T11:00:00.000+0000"), delivery_id="b")
    assert world.work() == 2
    stored = world.store.items.by_id("jira", str(story))
    assert stored is not None
    assert stored.item.title == "second"


def test_crash_between_inbox_commit_and_apply_is_recovered(world: World) -> None:
    story = some_story(world.state)
    world.state.update_issue(story, points=34.0)
    world.post(world.event(story))
    claimed = world.inbox.claim("crashed-worker")  # claimed, then the worker dies before applying
    assert len(claimed) == 1
    assert world.work() == 0  # the claim is still fresh: nobody else takes it yet
    later = utcnow() + CLAIM_TIMEOUT + timedelta(seconds=1)
    retaken = world.inbox.claim("second-worker", now=later)
    assert [e.event.item_ref for e in retaken] == [str(story)]


def test_failures_back_off_then_park(world: World) -> None:
    world.state.inject_fault(500, times=100, path_prefix="/rest/api/")
    world.post(world.event(some_story(world.state)))
    statuses = []
    now = utcnow()
    for attempt in range(6):
        entries = world.inbox.claim("w", now=now + timedelta(hours=attempt))
        assert len(entries) == 1
        statuses.append(world.inbox.fail(entries[0], "server error"))
    assert statuses == ["pending"] * 5 + ["parked"]
    parked = world.inbox.parked()
    assert parked[0]["attempts"] == 6
    assert parked[0]["last_error"] == "server error"


def test_real_partial_payload_parses_to_a_refetch_by_key() -> None:
    body = (contracts_dir() / "jira" / "examples" / "sentry" / "edit_issue_status_payload.json").read_bytes()
    event = parse_jira_event({"x-atlassian-webhook-identifier": "abc"}, body)
    assert (event.kind, event.item_ref) == ("refetch", "APP-123")
    assert event.event_time is not None
    assert event.event_time.year == 2023


def test_freshness_shows_events_backlog_and_parked(world: World) -> None:
    from v2mom.reports.effort import build_freshness

    world.post(world.event(some_story(world.state)))
    before = build_freshness(world.store, ["jira"])["jira"]
    assert before["last_event"] is not None
    assert before["last_sync"] is not None
    assert (before["backlog"], before["parked"]) == (1, 0)
    world.work()
    assert build_freshness(world.store, ["jira"])["jira"]["backlog"] == 0


def test_health_details_and_parked_list_are_for_admins(world: World) -> None:
    viewer, admin = world.store.tokens.create("viewer", "v"), world.store.tokens.create("admin", "a")
    assert world.client.get("/healthz").json() == {"status": "ok"}
    assert "details" not in world.client.get("/healthz", headers={"Authorization": f"Bearer {viewer}"}).json()
    details = world.client.get("/healthz", headers={"Authorization": f"Bearer {admin}"}).json()["details"]
    assert set(details["jira"]) == {"last_sync", "last_event", "backlog", "parked"}

    world.post(world.event("10001"))
    for attempt in range(6):
        entry = world.inbox.claim("w", now=utcnow() + timedelta(hours=attempt + 1))[0]
        world.inbox.fail(entry, "boom")
    assert world.client.get("/api/admin/webhooks/parked").status_code == 401
    assert (
        world.client.get(
            "/api/admin/webhooks/parked", headers={"Authorization": f"Bearer {viewer}"}
        ).status_code
        == 403
    )
    parked = world.client.get(
        "/api/admin/webhooks/parked", headers={"Authorization": f"Bearer {admin}"}
    ).json()
    assert [e["last_error"] for e in parked["items"]] == ["boom"]
    if not world.datacenter:  # a Data Center delivery is named by its body, having no id
        assert [e["delivery_id"] for e in parked["items"]] == ["d-1"]


def test_webhooks_register_and_list_commands(
    tmp_path: Any, cloud_jira: tuple[str, JiraState], database_url: str
) -> None:
    from typer.testing import CliRunner

    from v2mom.app.cli import app

    url, state = cloud_jira
    config = tmp_path / "v2mom.yaml"
    config.write_text(
        f"database_url: {database_url}\ntrackers:\n  jira:\n"
        f"    url: {url}\n    email: {state.account_email}\n"
        f"    api_token: {state.api_token}\n    jql: project in (ONB)\n    webhook_secrets: ['{SECRET}']\n"
    )
    runner = CliRunner()
    registered = runner.invoke(
        app,
        [
            "webhooks",
            "register",
            "--tracker",
            "jira",
            "--url",
            "https://v2m.example/webhooks/jira",
            "-c",
            str(config),
        ],
    )
    assert registered.exit_code == 0, registered.stderr
    assert "URL: https://v2m.example/webhooks/jira" in registered.stdout
    assert "JQL filter: project in (ONB)" in registered.stdout
    refused = runner.invoke(
        app, ["webhooks", "register", "--tracker", "linear", "--url", "https://x", "-c", str(config)]
    )
    assert refused.exit_code == 2
    listed = runner.invoke(app, ["webhooks", "list", "-c", str(config)])
    assert listed.exit_code == 0, listed.stderr
    assert listed.stdout.startswith("jira\t1 secret(s)\tlast event never\tbacklog 0\tparked 0")
    assert SECRET not in listed.stdout


WORKLOG_EVENTS = ["worklog_created", "worklog_updated", "worklog_deleted", "jira:worklog_updated"]


@pytest.mark.parametrize("event", WORKLOG_EVENTS)
def test_worklog_events_refetch_their_issue_and_move_its_hours(world: World, event: str) -> None:
    story = some_story(world.state)
    world.state.update_issue(story, timespent=7200)
    body = json.dumps(
        {"webhookEvent": event, "timestamp": 1763900000000, "worklog": {"id": "1", "issueId": str(story)}}
    ).encode()
    answer = world.post(body, delivery_id=f"wl-{event}")
    assert (answer.status_code, answer.json()) == (202, {"status": "stored"})
    assert world.work() == 1
    stored = world.store.items.by_id("jira", str(story))
    assert stored is not None
    assert stored.item.hours == 2.0


def test_data_center_deliveries_have_its_shapes_and_read_as_its_changes() -> None:
    state, _ = generate_jira_workspace(seed=4, epics=4, issues=24, deployment="datacenter")
    add_webhook(state, "http://127.0.0.1:9/signed", secret=SECRET, events=("jira:issue_updated",))
    add_webhook(state, "http://127.0.0.1:9/unsigned", secret=None)
    sent: dict[str, tuple[dict[str, Any], dict[str, str]]] = {}
    sender = DataCenterWebhookSender(state, "http://jira.example")

    def capture(target: str, delivery_id: str, body: bytes, headers_for: Any) -> None:
        sent[target.rsplit("/", 1)[1]] = (json.loads(body), headers_for(delivery_id, body))

    sender.enqueue = capture  # type: ignore[method-assign]
    issue_id = min(i for i, x in state.issues.items() if x.category == "new" and x.assignee is None)
    person = state.workers()[0]
    state.update_issue(issue_id, category="indeterminate", status="In Progress", assignee=person)

    payload, headers = sent["signed"]
    assert headers["X-Hub-Signature"] == sign(json.dumps(payload).encode())
    assert "X-Hub-Signature" not in sent["unsigned"][1]  # a webhook without a secret: sent unsigned
    validate_jira_dc_issue(payload["issue"])
    validate_jira_dc("UserBean", payload["user"])
    assert "accountId" not in json.dumps(payload)
    for item in payload["changelog"]["items"]:
        validate_jira_dc("ChangeItemBean", item)
    event = parse_jira_dc_event({}, json.dumps(payload).encode())
    assert (event.kind, event.item_ref) == ("refetch", str(issue_id))
    found = changelog_transitions(str(issue_id), event.payload, lambda _status: None)
    assert ("assignee", person) in {(c.field, c.to_value) for c in found}
    assert person.startswith("JIRAUSER")
