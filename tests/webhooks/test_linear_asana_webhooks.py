"""Linear and Asana webhooks end to end: every verification case, the Asana handshake, duplicates,
heartbeats, deletions and re-fetches applied by the worker through the real connectors."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from v2mom.app.factory import create_app
from v2mom.app.services import services_of
from v2mom.connectors.linear.webhook import TOLERANCE_SECONDS
from v2mom.connectors.registry import build_connector
from v2mom.mapping.plan import load_plan
from v2mom.sandbox import SAMPLE_PLAN_PATH
from v2mom.sandbox.asana.app import create_asana_app
from v2mom.sandbox.asana.generator import AsanaGroundTruth, asana_settings, generate_asana_workspace
from v2mom.sandbox.asana.state import AsanaState
from v2mom.sandbox.linear.app import create_linear_app
from v2mom.sandbox.linear.generator import LinearGroundTruth, generate_linear_workspace, linear_settings
from v2mom.sandbox.linear.state import LinearState
from v2mom.sandbox.server import SandboxServer
from v2mom.settings import Settings, TrackersSettings
from v2mom.store.database import Database
from v2mom.store.inbox import Inbox
from v2mom.sync.service import run_sync
from v2mom.webhooks.hook_secrets import StoredHookSecrets
from v2mom.webhooks.worker import process_batch

SECRET = "lin-whsec-current"
OLD_SECRET = "lin-whsec-previous"


def hexsign(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class World:
    client: TestClient
    store: Database
    inbox: Inbox
    settings: Settings
    linear: LinearState
    linear_truth: LinearGroundTruth
    asana: AsanaState
    asana_truth: AsanaGroundTruth

    def stored(self, tracker: str) -> int:
        return sum(self.inbox.counts().get(tracker, {}).values())

    def work(self) -> int:
        connectors: dict[str, Any] = {}

        def connector_for(tracker: str) -> Any:
            if tracker not in connectors:
                connectors[tracker] = build_connector(tracker, self.settings)
            return connectors[tracker]

        applied = process_batch(self.store, self.inbox, connector_for, worker="test").applied
        for connector in connectors.values():
            connector.close()
        return applied


@pytest.fixture
def world(store: Database, request: pytest.FixtureRequest) -> Iterator[World]:
    """Both sandboxes served and configured; only the tracker the test is about (its name says:
    ``test_linear_…`` or ``test_asana_…``) is synced, which is all the test reads."""
    about = request.function.__name__.split("_")[1]
    assert about in ("linear", "asana"), request.function.__name__
    linear_state, linear_truth = generate_linear_workspace(seed=6, projects=4, issues=120)
    asana_state, asana_truth = generate_asana_workspace(seed=6, tasks=120)
    with (
        SandboxServer(create_linear_app(linear_state)) as linear_url,
        SandboxServer(create_asana_app(asana_state)) as asana_url,
    ):
        settings = Settings(
            trackers=TrackersSettings(
                linear=linear_settings(linear_state, linear_url, webhook_secrets=(OLD_SECRET, SECRET)),
                asana=asana_settings(asana_state, asana_url, asana_truth.projects),
            )
        )
        store.plans.save(load_plan(SAMPLE_PLAN_PATH.read_text()), actor="test")
        assert all(r.ok for r in run_sync(settings, store, tracker=about, full=True))
        app = create_app(settings, store)
        with TestClient(app) as client:
            yield World(
                client,
                store,
                services_of(app).inbox,
                settings,
                linear_state,
                linear_truth,
                asana_state,
                asana_truth,
            )


# -- Linear ---------------------------------------------------------------------------------


def linear_body(
    issue_id: str, *, action: str = "update", kind: str = "Issue", stamp: float | None = None
) -> bytes:
    moment = time.time() if stamp is None else stamp
    return json.dumps(
        {
            "action": action,
            "type": kind,
            "data": {"id": issue_id, "updatedAt": "2026-11-20T12:00:00.000Z"},
            "createdAt": "2026-11-20T12:00:00.000Z",
            "webhookTimestamp": int(moment * 1000),
            "webhookId": "wh-1",
        }
    ).encode()


def post_linear(world: World, body: bytes, *, delivery: str = "ld-1", signature: str | None = None) -> Any:
    headers = {"Linear-Delivery": delivery, "Content-Type": "application/json"}
    signature = hexsign(body, SECRET) if signature is None else signature
    if signature:
        headers["Linear-Signature"] = signature
    return world.client.post("/webhooks/linear", content=body, headers=headers)


def a_live_issue(world: World) -> str:
    return sorted(i for i in world.linear_truth.live_ids() if i in world.linear.issues)[0]


@pytest.mark.parametrize(
    ("case", "status"),
    [
        ("good", 202),
        ("rotated-previous-secret", 202),
        ("wrong-secret", 401),
        ("missing-signature", 401),
        ("stale-timestamp", 401),
        ("future-timestamp", 401),
        ("tampered-body", 401),
        ("malformed-json", 400),
        ("missing-delivery-header", 400),
        ("no-data-id", 400),
    ],
)
def test_linear_verification_cases(world: World, case: str, status: int) -> None:
    body = linear_body(a_live_issue(world))
    signature = hexsign(body, SECRET)
    headers_delivery = f"ld-{case}"
    if case == "rotated-previous-secret":
        signature = hexsign(body, OLD_SECRET)
    elif case == "wrong-secret":
        signature = hexsign(body, "nope")
    elif case == "missing-signature":
        signature = ""
    elif case in ("stale-timestamp", "future-timestamp"):
        # Well past the limit: a body stamped 1 s past it was accepted when posting it took 1 s.
        off = TOLERANCE_SECONDS + 30
        body = linear_body(
            a_live_issue(world), stamp=time.time() + (-off if case == "stale-timestamp" else off)
        )
        signature = hexsign(body, SECRET)
    elif case == "tampered-body":
        body = body.replace(b'"update"', b'"remove"')
    elif case == "malformed-json":
        body = b"{not json"
        signature = hexsign(body, SECRET)
    elif case == "missing-delivery-header":
        headers_delivery = ""
    elif case == "no-data-id":
        body = json.dumps(
            {"action": "update", "type": "Issue", "data": {}, "webhookTimestamp": int(time.time() * 1000)}
        ).encode()
        signature = hexsign(body, SECRET)
    headers = {"Content-Type": "application/json"}
    if headers_delivery:
        headers["Linear-Delivery"] = headers_delivery
    if signature:
        headers["Linear-Signature"] = signature
    answer = world.client.post("/webhooks/linear", content=body, headers=headers)
    assert answer.status_code == status, answer.text
    assert world.stored("linear") == (1 if status == 202 else 0)


def test_linear_without_secrets_fails_closed(world: World) -> None:
    services_of(world.client.app).settings = Settings(
        trackers=TrackersSettings(
            linear=world.settings.trackers.linear.model_copy(update={"webhook_secrets": []})
        )  # type: ignore[union-attr]
    )
    answer = post_linear(world, linear_body(a_live_issue(world)))
    assert answer.status_code == 401
    assert "no webhook secret configured" in answer.text
    assert world.stored("linear") == 0


def test_linear_oversized_is_refused(world: World) -> None:
    services_of(world.client.app).webhook_max_bytes = 500
    body = linear_body(a_live_issue(world)).replace(b'"wh-1"', b'"' + b"x" * 600 + b'"')
    assert post_linear(world, body).status_code == 413
    assert world.stored("linear") == 0


def test_linear_updates_duplicates_and_removals_reach_the_store(world: World) -> None:
    issue_id = a_live_issue(world)
    world.linear.update_issue(issue_id, title="renamed by webhook")
    body = linear_body(issue_id)
    assert post_linear(world, body, delivery="ld-a").json()["status"] == "stored"
    assert post_linear(world, body, delivery="ld-a").json()["status"] == "duplicate"
    assert world.work() == 1
    stored = world.store.items.by_id("linear", issue_id)
    assert stored is not None
    assert stored.item.title == "renamed by webhook"
    world.linear.archive_issue(issue_id)
    assert post_linear(world, linear_body(issue_id, action="remove"), delivery="ld-b").status_code == 202
    assert world.work() == 1
    assert issue_id not in world.store.items.live_ids("linear")


def test_linear_comments_without_an_issue_are_ignored_and_apply_nothing(world: World) -> None:
    body = linear_body("c-1", kind="Comment")
    answer = post_linear(world, body, delivery="ld-c")
    assert (answer.status_code, answer.json()) == (202, {"status": "ignored"})
    before = world.store.items.count("linear")
    assert world.work() == 0  # never claimed: nothing to apply
    assert world.store.items.count("linear") == before
    assert world.inbox.counts()["linear"] == {"ignored": 1}
    assert world.inbox.last_event().get("linear") is not None


# -- Asana ----------------------------------------------------------------------------------


def asana_body(*events: dict[str, Any]) -> bytes:
    return json.dumps({"events": list(events)}).encode()


def compact(gid: str, action: str = "changed", created: str = "2026-11-20T12:00:00.123Z") -> dict[str, Any]:
    return {
        "user": {"gid": "1", "resource_type": "user"},
        "created_at": created,
        "action": action,
        "resource": {"gid": gid, "resource_type": "task"},
        "parent": None,
        "change": {"field": "name", "action": "changed"},
    }


def handshake(world: World, secret: str) -> Any:
    return world.client.post("/webhooks/asana", content=b"", headers={"X-Hook-Secret": secret})


def post_asana(world: World, body: bytes, secret: str | None) -> Any:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Hook-Signature"] = hexsign(body, secret)
    return world.client.post("/webhooks/asana", content=body, headers=headers)


def test_asana_handshake_only_while_a_registration_is_expected(world: World) -> None:
    refused = handshake(world, "planted-secret")
    assert refused.status_code == 401
    assert post_asana(world, asana_body(), "planted-secret").status_code == 401  # fail closed: no secret yet
    StoredHookSecrets(world.store, "asana").expect_handshake()
    accepted = handshake(world, "asana-hook-secret")
    assert accepted.status_code == 204
    assert accepted.headers["X-Hook-Secret"] == "asana-hook-secret"
    assert handshake(world, "second-planted-secret").status_code == 401  # the window closed
    assert StoredHookSecrets(world.store, "asana").secrets() == ["asana-hook-secret"]
    assert world.stored("asana") == 0


def test_asana_deliveries_are_verified_deduplicated_and_applied(world: World) -> None:
    StoredHookSecrets(world.store, "asana").expect_handshake()
    assert handshake(world, "hook-1").status_code == 204
    gid = sorted(world.asana_truth.live_tasks())[0]
    world.asana.update_task(gid, name="renamed through Asana")
    body = asana_body(compact(gid))
    assert post_asana(world, body, "wrong").status_code == 401
    assert post_asana(world, body, None).status_code == 401
    tampered = body.replace(b"changed", b"deleted")
    assert post_asana(world, tampered, None).status_code == 401
    headers = {"X-Hook-Signature": hexsign(body, "hook-1")}
    assert world.client.post("/webhooks/asana", content=tampered, headers=headers).status_code == 401
    assert world.stored("asana") == 0
    assert post_asana(world, body, "hook-1").json()["status"] == "stored"
    assert post_asana(world, body, "hook-1").json()["status"] == "duplicate"  # the same composite key
    assert post_asana(world, b"[1, 2]", "hook-1").status_code == 400
    assert world.stored("asana") == 1
    assert world.work() == 1
    stored = world.store.items.by_id("asana", gid)
    assert stored is not None
    assert stored.item.title == "renamed through Asana"


def test_asana_heartbeats_are_recorded(world: World) -> None:
    StoredHookSecrets(world.store, "asana").expect_handshake()
    assert handshake(world, "hook-hb").status_code == 204
    assert post_asana(world, asana_body(), "hook-hb").status_code == 202
    assert world.stored("asana") == 1
    assert world.work() == 1
    assert world.inbox.last_event().get("asana") is not None


def test_asana_secret_learned_by_another_replica_is_found(world: World) -> None:
    hooks = services_of(world.client.app).receivers["asana"].stored
    assert hooks is not None
    assert hooks.secrets() == []  # cached empty in this replica
    other = StoredHookSecrets(world.store, "asana")
    other.expect_handshake()
    assert other.accept_handshake("from-elsewhere")
    gid = sorted(world.asana_truth.live_tasks())[1]
    assert post_asana(world, asana_body(compact(gid)), "from-elsewhere").status_code == 202


def test_asana_deleted_events_and_missing_tasks_are_deletions(world: World) -> None:
    StoredHookSecrets(world.store, "asana").expect_handshake()
    assert handshake(world, "hook-del").status_code == 204
    first, second = sorted(g for g in world.asana_truth.live_tasks() if not world.asana.children.get(g))[:2]
    world.asana.delete_task(first)
    world.asana.delete_task(second)
    body = asana_body(compact(first, "deleted"), compact(second, "changed", "2026-11-20T12:00:01.000Z"))
    assert post_asana(world, body, "hook-del").status_code == 202
    assert world.stored("asana") == 2  # one delivery, two events
    assert world.work() == 2
    assert not {first, second} & world.store.items.live_ids("asana")


@pytest.mark.parametrize(
    ("case", "status"),
    [
        ("good", 202),
        ("rotated-previous-secret", 202),
        ("wrong-secret", 401),
        ("missing-signature", 401),
        ("tampered-body", 401),
        ("malformed-json", 400),
        ("no-events-list", 400),
        ("oversized", 413),
    ],
)
def test_asana_verification_cases(world: World, case: str, status: int) -> None:
    hooks = StoredHookSecrets(world.store, "asana")
    for secret in ("asana-old", "asana-new"):  # two webhooks' secrets, as after re-registering
        hooks.expect_handshake()
        assert handshake(world, secret).status_code == 204
    gid = sorted(world.asana_truth.live_tasks())[2]
    body = asana_body(compact(gid))
    secret: str | None = "asana-new"
    signed = body
    if case == "rotated-previous-secret":
        secret = "asana-old"
    elif case == "wrong-secret":
        secret = "asana-other"
    elif case == "missing-signature":
        secret = None
    elif case == "tampered-body":
        body = body.replace(b"changed", b"deleted")
    elif case == "malformed-json":
        body = signed = b"{not json"
    elif case == "no-events-list":
        body = signed = b'{"data": []}'
    elif case == "oversized":
        services_of(world.client.app).webhook_max_bytes = 100
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Hook-Signature"] = hexsign(signed, secret)
    answer = world.client.post("/webhooks/asana", content=body, headers=headers)
    assert answer.status_code == status, answer.text
    assert world.stored("asana") == (1 if status == 202 else 0)
