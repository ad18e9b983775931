"""Webhooks keep people's time current: a Jira or Linear status or assignee change arrives with its
transition, and the store holds it as soon as the worker has applied the event.

Through the real path on SQLite and PostgreSQL: the sandbox tracker changes an item and sends its
signed webhook to the served app; the worker re-fetches the item and stores it with the reported
changes. A later sync's history read gives the same changes (Jira: the same changelog entry ids) or
replaces the provisional ones (Linear: the ``IssueHistory`` entries), so nothing counts twice. An
item outside the scope stores no change, and a changelog that cannot be read is refused (400) at
the edge, or (stored before that check) parked by the worker, never a 5xx.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import requests

from tests.histories import as_recorded
from tests.webhooks.jira_signing import SECRET as JIRA_SECRET
from tests.webhooks.jira_signing import dc_delivery, sign
from v2mom.app.factory import create_app
from v2mom.events import WebhookEvent
from v2mom.mapping.plan import load_plan
from v2mom.models import State
from v2mom.sandbox import SAMPLE_PLAN_PATH
from v2mom.sandbox.generator import OUT_OF_SCOPE as JIRA_OUTSIDE
from v2mom.sandbox.generator import generate_jira_workspace, jira_settings
from v2mom.sandbox.history import Recorded
from v2mom.sandbox.jira.app import create_jira_app
from v2mom.sandbox.jira.datacenter_webhooks import DataCenterWebhookSender, add_webhook
from v2mom.sandbox.jira.webhooks import WebhookSender
from v2mom.sandbox.linear.app import create_linear_app
from v2mom.sandbox.linear.generator import OUT_OF_SCOPE as LINEAR_OUTSIDE
from v2mom.sandbox.linear.generator import generate_linear_workspace, linear_settings
from v2mom.sandbox.linear.webhooks import LinearWebhookSender
from v2mom.sandbox.server import SandboxServer
from v2mom.sandbox.webhooks import Sender
from v2mom.settings import Settings, TrackersSettings
from v2mom.store.database import Database
from v2mom.sync.service import run_sync
from v2mom.webhooks.worker import connector_cache, process_batch

LINEAR_SECRET = "lin-history-secret"


@dataclass
class World:
    """A sandbox tracker synced into ``store``, the app served at ``app_url`` and its webhook sender."""

    tracker: str
    state: Any
    truth: Any
    settings: Settings
    store: Database
    app_url: str
    sender: Sender

    def settle(self, *, work: bool = True) -> None:
        """Wait until every change was delivered and (``work``) the worker applied every event."""
        deadline = time.monotonic() + 30
        connector_for = connector_cache(self.settings)
        while time.monotonic() < deadline:
            if work:
                process_batch(self.store, self.store.inbox, connector_for, worker="test")
            # Idle first: every delivery it sent was acknowledged, so stored, before the counts
            # are read (read the other way round, one landing in between is missed).
            if self.sender.idle() and (
                not work or self.store.inbox.counts().get(self.tracker, {}).get("pending", 0) == 0
            ):
                return
            time.sleep(0.05)
        raise AssertionError("webhooks did not settle")

    def stored(self, item_id: str) -> set[Recorded]:
        return as_recorded(self.store.history.for_items(self.tracker, [item_id]))

    def truth_of(self, item_id: str) -> set[Recorded]:
        return {change for change in self.truth.transitions() if change.item_id == item_id}

    def sync(self, *, full: bool = False) -> None:
        assert all(r.ok for r in run_sync(self.settings, self.store, full=full))


def identities(changes: set[Recorded]) -> set[tuple[Any, ...]]:
    """The changes without their times (a webhook's time may be a moment off the history's)."""
    return {(c.item_id, c.event_id, c.field, c.before, c.after, c.category) for c in changes}


def jira_world(store: Database, deployment: str) -> Iterator[World]:
    """A synced sandbox Jira of ``deployment`` whose changes are delivered as that deployment does:
    Cloud's sender, or Data Center's to the admin webhook registered on the site (a smaller site)."""
    if deployment == "datacenter":
        state, truth = generate_jira_workspace(seed=4, epics=8, issues=40, deployment="datacenter")
    else:
        state, truth = generate_jira_workspace(seed=4, epics=30, issues=150)
    with SandboxServer(create_jira_app(state)) as url:
        settings = Settings(
            trackers=TrackersSettings(jira=jira_settings(state, url, webhook_secrets=[JIRA_SECRET]))
        )
        store.plans.save(load_plan(SAMPLE_PLAN_PATH.read_text()), actor="test")
        assert all(r.ok for r in run_sync(settings, store, full=True))
        with SandboxServer(create_app(settings, store)) as app_url:
            target = f"{app_url}/webhooks/jira"
            sender: Sender
            if deployment == "datacenter":
                add_webhook(state, target, secret=JIRA_SECRET)
                sender = DataCenterWebhookSender(state, url)
            else:
                sender = WebhookSender(state, target, JIRA_SECRET)
            sender.start()
            yield World("jira", state, truth, settings, store, app_url, sender)
            sender.stop()


@pytest.fixture
def jira(store: Database) -> Iterator[World]:
    yield from jira_world(store, "cloud")


@pytest.fixture(params=["cloud", "datacenter"])
def any_jira(request: pytest.FixtureRequest, store: Database) -> Iterator[World]:
    """Jira of either deployment (Data Center: user keys in the changelog, no delivery id)."""
    yield from jira_world(store, request.param)


@pytest.fixture
def linear(store: Database) -> Iterator[World]:
    state, truth = generate_linear_workspace(seed=11, projects=6, issues=120)
    with SandboxServer(create_linear_app(state)) as url:
        section = linear_settings(state, url, webhook_secrets=(LINEAR_SECRET,))
        settings = Settings(trackers=TrackersSettings(linear=section))
        store.plans.save(load_plan(SAMPLE_PLAN_PATH.read_text()), actor="test")
        assert all(r.ok for r in run_sync(settings, store, full=True))
        with SandboxServer(create_app(settings, store)) as app_url:
            state.add_webhook(
                f"{app_url}/webhooks/linear", LINEAR_SECRET, team_key=None, resource_types=["Issue"]
            )
            sender = LinearWebhookSender(state)
            sender.start()
            yield World("linear", state, truth, settings, store, app_url, sender)
            sender.stop()


def jira_to_start(world: World, *, inside: bool = True) -> int:
    """A Jira issue not started and not assigned (in the scope's projects, or outside them)."""
    return min(
        i
        for i, issue in world.state.issues.items()
        if issue.category == "new" and issue.assignee is None and (issue.project != JIRA_OUTSIDE) == inside
    )


def linear_to_start(world: World, *, inside: bool = True) -> str:
    """A Linear issue not started and not assigned (in the scope's teams, or a new one outside them)."""
    if not inside:
        return str(world.state.add_issue(LINEAR_OUTSIDE, "Ops work", estimate=3.0))
    return min(
        i.id
        for i in world.state.issues.values()
        if i.state_type == "unstarted" and i.assignee_id is None and i.id in world.truth.live_ids()
    )


def test_a_jira_change_arrives_with_its_transition_under_the_changelog_entrys_id(any_jira: World) -> None:
    jira = any_jira
    issue_id = jira_to_start(jira)
    item_id = str(issue_id)
    before, held = jira.store.history.count("jira"), jira.stored(item_id)
    person = jira.state.workers()[0]
    jira.state.update_issue(issue_id, category="indeterminate", status="In Progress", assignee=person)
    jira.settle()

    new = jira.stored(item_id) - held
    assert {(c.field, c.after, c.category) for c in new} == {
        ("status", jira.state.statuses["In Progress"][0], State.IN_PROGRESS.value),
        ("assignee", person, None),
    }
    assert len({c.event_id for c in new}) == 1  # one changelog entry
    assert identities(jira.stored(item_id)) == identities(jira.truth_of(item_id))  # the read's identities
    assert jira.store.history.count("jira") == before + 2
    truth = {(c.event_id, c.field): c.at for c in jira.truth_of(item_id)}
    for change in jira.stored(item_id):
        assert abs(change.at - truth[(change.event_id, change.field)]) < timedelta(seconds=1)

    jira.sync()  # the item's updated time moved: its history is read again, the same entries
    jira.sync(full=True)
    assert jira.store.history.count("jira") == before + 2
    assert jira.stored(item_id) == jira.truth_of(item_id)


def test_a_linear_change_is_provisional_until_the_next_history_read_replaces_it(linear: World) -> None:
    item_id = linear_to_start(linear)
    before = linear.store.history.count("linear")
    person = sorted(linear.state.users)[0]
    linear.state.update_issue(item_id, state_type="started", assignee_id=person)
    linear.settle()

    stored = linear.stored(item_id)
    reported = {c for c in stored if c.event_id.startswith("webhook:")}
    started = linear.state.workflow_state_id(linear.state.issues[item_id].team_key, "started")
    assert {(c.field, c.after, c.category) for c in reported} == {
        ("status", started, State.IN_PROGRESS.value),
        ("assignee", person, None),
    }
    assert len({c.event_id for c in reported}) == 1  # one delivery, one event
    assert linear.store.history.count("linear") == before + 2

    linear.sync()  # reads the issue's history: the IssueHistory entry replaces the webhook's
    assert linear.stored(item_id) == linear.truth_of(item_id)
    assert linear.store.history.count("linear") == before + 2  # the change counts once
    linear.sync(full=True)
    assert linear.store.history.count("linear") == before + 2


def test_a_linear_webhook_applied_after_the_history_read_adds_nothing(linear: World) -> None:
    item_id = linear_to_start(linear)
    before = linear.store.history.count("linear")
    linear.state.update_issue(item_id, state_type="started", assignee_id=sorted(linear.state.users)[0])
    linear.settle(work=False)  # delivered and stored in the inbox, not applied yet
    linear.sync()  # the history read holds the change already
    assert linear.stored(item_id) == linear.truth_of(item_id)

    linear.settle()  # the late webhook: the item is applied, its change is not stored twice
    assert linear.stored(item_id) == linear.truth_of(item_id)
    assert linear.store.history.count("linear") == before + 2


def test_a_jira_change_outside_the_scope_stores_no_transition(any_jira: World) -> None:
    jira = any_jira
    issue_id = jira_to_start(jira, inside=False)
    before = jira.store.history.count()
    jira.state.update_issue(issue_id, category="indeterminate", assignee=jira.state.workers()[0])
    jira.settle()
    assert jira.sender.log.sent  # the webhook was sent and acknowledged
    assert jira.store.items.by_id("jira", str(issue_id)) is None
    assert jira.stored(str(issue_id)) == set()
    assert jira.store.history.count() == before


def test_a_linear_change_outside_the_scope_stores_no_transition(linear: World) -> None:
    item_id = linear_to_start(linear, inside=False)
    before = linear.store.history.count()
    linear.state.update_issue(item_id, state_type="started", assignee_id=sorted(linear.state.users)[0])
    linear.settle()
    assert linear.sender.log.sent
    assert linear.store.items.by_id("linear", item_id) is None
    assert linear.stored(item_id) == set()
    assert linear.store.history.count() == before


BAD_CHANGELOGS = [
    {"id": "900001", "items": "status"},  # items not a list
    {"items": [{"field": "status", "fieldId": "status", "from": "1", "to": "3"}]},  # no entry id
    {"id": "900002", "items": [{"field": "status", "fieldId": "status", "from": "1", "to": None}]},
    {"id": "900003", "items": [{"field": "assignee", "fieldId": "assignee", "to": {"accountId": "x"}}]},
]


@pytest.mark.parametrize("changelog", BAD_CHANGELOGS)
def test_a_signed_jira_webhook_with_an_unreadable_changelog_is_refused_not_a_5xx(
    any_jira: World, changelog: dict[str, Any]
) -> None:
    jira = any_jira
    issue_id = jira_to_start(jira)
    key = jira.state.issues[issue_id].key
    headers = {}
    if jira.state.deployment == "datacenter":  # its own body, and no delivery id
        body = dc_delivery(str(issue_id), key, changelog=changelog, timestamp=int(time.time() * 1000))
    else:
        body = json.dumps(
            {
                "webhookEvent": "jira:issue_updated",
                "timestamp": int(time.time() * 1000),
                "issue": {"id": str(issue_id), "key": key},
                "changelog": changelog,
            }
        ).encode()
        headers["X-Atlassian-Webhook-Identifier"] = str(uuid.uuid4())
    headers["X-Hub-Signature"] = sign(body)
    answer = requests.post(f"{jira.app_url}/webhooks/jira", data=body, headers=headers, timeout=10)
    assert answer.status_code == 400, answer.text
    assert "changelog" in answer.json()["detail"]
    assert jira.store.inbox.counts() == {}


def test_a_signed_linear_webhook_with_an_unreadable_update_is_refused_not_a_5xx(linear: World) -> None:
    item_id = linear_to_start(linear)
    body = json.dumps(
        {
            "action": "update",
            "type": "Issue",
            "data": {"id": item_id, "stateId": "s-2", "updatedAt": "2026-11-20T10:00:00.000Z"},
            "updatedFrom": {"stateId": "s-1"},  # the state entered is not given with its type
            "createdAt": "2026-11-20T10:00:00.000Z",
            "webhookTimestamp": int(time.time() * 1000),
            "webhookId": str(uuid.uuid4()),
        }
    ).encode()
    headers = {
        "Linear-Signature": hmac.new(LINEAR_SECRET.encode(), body, hashlib.sha256).hexdigest(),
        "Linear-Delivery": str(uuid.uuid4()),
    }
    answer = requests.post(f"{linear.app_url}/webhooks/linear", data=body, headers=headers, timeout=10)
    assert answer.status_code == 400, answer.text
    assert "data.state" in answer.json()["detail"]
    assert linear.store.inbox.counts() == {}


def test_an_unreadable_changelog_already_in_the_inbox_is_parked_by_the_worker(jira: World) -> None:
    issue_id = jira_to_start(jira)
    payload = {
        "webhookEvent": "jira:issue_updated",
        "timestamp": int(time.time() * 1000),
        "issue": {"id": str(issue_id)},
        "changelog": BAD_CHANGELOGS[0],
    }
    jira.store.inbox.enqueue_many(
        [WebhookEvent("jira", "stored-before", "refetch", str(issue_id), None, payload)]
    )
    before = jira.store.history.count()
    result = process_batch(jira.store, jira.store.inbox, connector_cache(jira.settings), worker="test")
    assert (result.applied, result.failed) == (0, 1)  # failed, to be retried and parked, not raised
    assert jira.store.history.count() == before
