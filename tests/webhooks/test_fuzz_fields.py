"""Every field of real-shaped vendor bodies, poisoned in turn, through the real routes.

Each body below is a vendor's delivery as it arrives (Jira's and Linear's are cut down from the
samples in ``shared/contracts``: Sentry's ``jira:issue_updated`` stubs and Port's Linear ``Issue``
``create``; Asana's compact events follow its Events API). For every field (every string, number,
boolean, null and empty container, and every key) a body is signed with that one field poisoned: a
lone surrogate (as a JSON escape or as raw UTF-8 surrogate bytes), NUL and other control
characters, or 100,000 more characters. Whatever arrives, no answer is a 5xx: a 2xx, or a 4xx whose
``detail`` names the problem and stores nothing. Then every admin view of the inbox must answer
valid JSON (UTF-8 without a surrogate) holding no unstorable character: the ignored and parked lists,
``/healthz`` with an admin token, ``/metrics`` and the report's freshness. Every event stored for a
worker names its item by a reference the tracker can look up.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.contracts import contracts_dir
from tests.support import unstorable_strings
from tests.webhooks.jira_signing import DC_CHANGELOG, dc_delivery
from tests.webhooks.receivers import Receivers, inbox_tracker, now_ms
from v2mom.store.inbox import MAX_ATTEMPTS

Path = tuple[str | int, ...]
# What each tracker's connector can look an item up by (the worker's ``get_item``).
REFERENCES = {
    "jira": re.compile(r"[0-9]+|[A-Za-z][A-Za-z0-9_]*-[0-9]+"),  # issue id or key
    "linear": re.compile(
        r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[A-Za-z][A-Za-z0-9_]*-[0-9]+"
    ),
    "asana": re.compile(r"[0-9]+"),  # gid
}
OVERLONG = 100_000
# What a poisoned string gets appended (a key: renamed with it; any other value: replaced by it).
POISONS: dict[str, str] = {
    "surrogate": "\ud800",
    "control": "\x00\x01\x1b\x7f",
    "overlong": "x" * OVERLONG,
}
SITE = "https://acme.atlassian.net"
USER = {
    "self": f"{SITE}/rest/api/2/user?accountId=5b10a2844c20165700ede21g",
    "accountId": "5b10a2844c20165700ede21g",
    "displayName": "Ada Lovelace",
    "active": True,
    "timeZone": "Europe/London",
}
JIRA_BODIES: list[dict[str, Any]] = [
    {
        "timestamp": 1763900000000,
        "webhookEvent": "jira:issue_updated",
        "issue_event_type_name": "issue_generic",
        "user": USER,
        "issue": {
            "id": "10010",
            "self": f"{SITE}/rest/api/2/issue/10010",
            "key": "ONB-12",
            "fields": {
                "summary": "Self-serve signup",
                "created": "2026-11-01T09:00:00.000+0000",
                "updated": "2026-11-20T10:00:00.000+0000",
                "labels": ["value:customer-first"],
                "status": {"name": "In Progress", "statusCategory": {"key": "indeterminate"}},
                "issuetype": {"name": "Story", "hierarchyLevel": 0, "subtask": False},
                "project": {"id": "10000", "key": "ONB"},
                "components": [{"name": "Billing"}],
                "customfield_10016": 3.5,
                "parent": None,
            },
        },
        "changelog": {
            "id": "10196",
            "items": [
                {
                    "field": "status",
                    "fieldtype": "jira",
                    "fieldId": "status",
                    "from": "10101",
                    "fromString": "Done",
                    "to": "3",
                    "toString": "In Progress",
                }
            ],
        },
    },
    {
        "timestamp": 1763900000000,
        "webhookEvent": "comment_created",
        "comment": {
            "id": "10000",
            "self": f"{SITE}/rest/api/2/issue/10010/comment/10000",
            "body": "Looks good",
            "author": USER,
        },
    },
    {
        "timestamp": 1763900000000,
        "webhookEvent": "worklog_updated",
        "worklog": {
            "id": "10020",
            "issueId": "10010",
            "self": f"{SITE}/rest/api/2/issue/10010/worklog/10020",
            "timeSpentSeconds": 3600,
        },
    },
    {
        "timestamp": 1763900000000,
        "webhookEvent": "sprint_started",
        "sprint": {"id": 3, "name": "Sprint 3", "state": "active", "originBoardId": 1},
    },
]
LINEAR_ISSUE_ID = "d62a755d-5389-4dbd-98bb-3db03f239d9d"
LINEAR_BODIES: list[dict[str, Any]] = [
    {
        "action": "update",
        "actor": {"id": "11c5ce7d-229b-4487-b23b-f404e4a8c85d", "name": "Mor Paz", "type": "user"},
        "createdAt": "2026-11-20T12:00:00.000Z",
        "data": {
            "id": LINEAR_ISSUE_ID,
            "updatedAt": "2026-11-20T12:00:00.000Z",
            "number": 5,
            "title": "New issue again",
            "priority": 0,
            "labelIds": [],
            "identifier": "POR-5",
            "state": {"id": "f12cad17-9b8f-470d-b20a-5e17da8e46b9", "name": "Todo", "type": "unstarted"},
            "team": {"id": "92d25fa4-fb1c-449f-b314-47f82e8f280d", "key": "POR", "name": "Port"},
            "labels": [{"id": "a1b2c3d4-0000-4000-8000-000000000001", "name": "Reliability"}],
        },
        "updatedFrom": {"title": "New issue", "updatedAt": "2026-11-20T11:00:00.000Z"},
        "url": "https://linear.app/getport/issue/POR-5/new-issue-again",
        "type": "Issue",
        "organizationId": "36968e1b-496c-4610-8c25-641364da172e",
        "webhookId": "ee1fa20e-6b57-4448-86f7-39d9672ddedd",
    },
    {
        "action": "create",
        "type": "Comment",
        "data": {"id": "c0ffee00-0000-4000-8000-000000000002", "issueId": LINEAR_ISSUE_ID, "body": "On it"},
        "webhookId": "ee1fa20e-6b57-4448-86f7-39d9672ddedd",
    },
    {
        "action": "update",
        "type": "IssueLabel",
        "data": {"id": "a1b2c3d4-0000-4000-8000-000000000001", "name": "Reliability", "color": "#f2c94c"},
        "webhookId": "ee1fa20e-6b57-4448-86f7-39d9672ddedd",
    },
    {
        "action": "create",
        "type": "Reaction",
        "data": {"id": "feed0000-0000-4000-8000-000000000003", "emoji": "+1", "issueId": LINEAR_ISSUE_ID},
        "webhookId": "ee1fa20e-6b57-4448-86f7-39d9672ddedd",
    },
]
ASANA_BODIES: list[dict[str, Any]] = [
    {
        "events": [
            {
                "user": {"gid": "1201111111111", "resource_type": "user"},
                "created_at": "2026-11-20T12:00:00.123Z",
                "action": "changed",
                "resource": {
                    "gid": "1202222222222",
                    "resource_type": "task",
                    "resource_subtype": "default_task",
                },
                "parent": None,
                "change": {
                    "field": "custom_fields",
                    "action": "changed",
                    "new_value": {"gid": "1203", "resource_type": "custom_field"},
                },
            },
            {
                "user": {"gid": "1201111111111", "resource_type": "user"},
                "created_at": "2026-11-20T12:00:01.456Z",
                "action": "added",
                "resource": {
                    "gid": "1204444444444",
                    "resource_type": "story",
                    "resource_subtype": "comment_added",
                },
                "parent": {
                    "gid": "1202222222222",
                    "resource_type": "task",
                    "resource_subtype": "default_task",
                },
            },
            {
                "user": None,
                "created_at": "2026-11-20T12:00:02.789Z",
                "action": "deleted",
                "resource": {"gid": "1205555555555", "resource_type": "task"},
                "parent": None,
            },
        ]
    }
]


def places(node: Any, path: Path = ()) -> Iterator[tuple[str, Path]]:
    """Every place of a document to poison: ``("value", path)`` for each leaf (scalars, empty
    containers), ``("key", path)`` for each key of each object."""
    if isinstance(node, dict) and node:
        for key, child in node.items():
            yield "key", (*path, key)
            yield from places(child, (*path, key))
    elif isinstance(node, list) and node:
        for index, child in enumerate(node):
            yield from places(child, (*path, index))
    else:
        yield "value", path


def poisoned(document: Any, where: str, path: Path, poison: str) -> Any:
    """A copy of ``document`` with the one place poisoned (see :data:`POISONS`)."""
    changed = copy.deepcopy(document)
    *parents, last = path
    holder = changed
    for step in parents:
        holder = holder[step]
    if where == "key":
        holder[f"{last}{poison}"] = holder.pop(last)
        return changed
    old = holder[last]
    holder[last] = (
        f"{old}{poison}"
        if isinstance(old, str)
        else [poison]
        if old == []
        else {poison: poison}
        if old == {}
        else poison
    )
    return changed


def encoded(document: Any, raw_surrogates: bool) -> bytes:
    """JSON bytes; with ``raw_surrogates`` as UTF-8 holding surrogate bytes (ED A0 80), which
    ``json.loads`` reads as a lone surrogate, rather than ``\\ud800`` escapes."""
    if raw_surrogates:
        return json.dumps(document, ensure_ascii=False).encode("utf-8", "surrogatepass")
    return json.dumps(document).encode()


Post = Callable[[bytes, str], httpx.Response]


def fuzz(
    hooks: Receivers, bodies: list[dict[str, Any]], post: Post, prepare: Callable[[Any, int], Any]
) -> int:
    """Post every poisoned variant of ``bodies``; assert each answer; returns how many were stored."""
    n = stored = 0
    for body in bodies:
        for where, path in places(body):
            for kind, poison in POISONS.items():
                n += 1
                document = poisoned(prepare(body, n), where, path, poison)
                raw = encoded(document, raw_surrogates=kind == "surrogate" and n % 2 == 0)
                before = hooks.stored()
                answer = post(raw, f"fz-{n}")
                context = (where, path, kind, answer.status_code, answer.text[:300])
                assert answer.status_code < 500, context
                if answer.status_code >= 400:
                    assert isinstance(answer.json()["detail"], str), context
                    assert answer.json()["detail"], context
                    assert hooks.stored() == before, context
                stored += hooks.stored() - before
    return stored


def read_json(hooks: Receivers, path: str, headers: dict[str, str]) -> Any:
    """The JSON answer of ``GET path``: a 200 in strict UTF-8 whose strings are all storable."""
    answer = hooks.client.get(path, headers=headers)
    assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
    document = json.loads(answer.content.decode("utf-8"))  # strict: a surrogate would not decode
    assert unstorable_strings(document) == [], path
    return document


def read_every_admin_view(hooks: Receivers) -> dict[str, Any]:
    """Every view of the inbox an admin has; each must answer valid, storable JSON."""
    admin = hooks.admin()
    views = {
        path: read_json(hooks, path, admin)
        for path in (
            "/api/admin/webhooks/ignored?limit=1000",
            "/api/admin/webhooks/parked?limit=1000",
            "/healthz",
            "/api/reports/effort-by-value",
        )
    }
    metrics = hooks.client.get("/metrics", headers=admin)
    assert metrics.status_code == 200, metrics.text[:300]
    metrics.content.decode("utf-8")
    return views


def park_everything(hooks: Receivers, tracker: str) -> int:
    """Claim every stored event as a worker would, check what it holds, and fail each until it is
    parked with an error quoting poisoned text (as a tracker's error can); returns how many."""
    later = datetime.now(UTC)
    parked = 0
    for _ in range(MAX_ATTEMPTS):
        later += timedelta(days=1)  # past any backoff
        for entry in hooks.inbox.claim("fuzz-worker", limit=100_000, now=later):
            event = entry.event
            assert event.tracker == tracker
            assert event.item_ref is None or REFERENCES[tracker].fullmatch(event.item_ref), event.item_ref
            assert unstorable_strings(event.payload) == [], event.delivery_id
            status = hooks.inbox.fail(entry, f"{tracker}: {event.item_ref} went \ud800\x00 wrong", now=later)
            parked += status == "parked"
    return parked


def check_views(hooks: Receivers, tracker: str, *, ignored: bool = True) -> None:
    """Read every admin view before and after parking what a worker would claim."""
    views = read_every_admin_view(hooks)
    if ignored:
        assert views["/api/admin/webhooks/ignored?limit=1000"]["items"], "the fuzz stored no ignored event"
    assert park_everything(hooks, tracker) > 0, "the fuzz stored no event for a worker"
    parked = read_every_admin_view(hooks)["/api/admin/webhooks/parked?limit=1000"]["items"]
    assert parked
    assert all("\ufffd" in row["last_error"] for row in parked)


def as_is(body: Any, _: int) -> Any:
    """``body`` unchanged (Jira deliveries are deduplicated on their header, which differs)."""
    return body


def fresh_linear(body: Any, _: int) -> Any:
    """``body`` stamped now (a stale ``webhookTimestamp`` is refused before any field is read)."""
    return {**body, "webhookTimestamp": now_ms()}


def distinct_asana(body: Any, n: int) -> Any:
    """``body`` with each event's ``created_at`` moved by ``n`` ms, so that no poisoned variant is a
    duplicate of another (Asana deliveries are deduplicated on what the events hold)."""
    shifted = copy.deepcopy(body)
    for event in shifted["events"]:
        when = datetime.fromisoformat(event["created_at"].replace("Z", "+00:00")) + timedelta(milliseconds=n)
        event["created_at"] = when.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return shifted


def poster(hooks: Receivers, tracker: str) -> Post:
    """The signed ``post`` of ``tracker``'s receiver."""
    return functools.partial(hooks.post, tracker)


# Data Center's admin webhook bodies (user beans, the whole issue, changelog items without fieldId).
DC_BODIES: list[dict[str, Any]] = [
    json.loads(dc_delivery("10001", "ONB-1", changelog=DC_CHANGELOG)),
    json.loads(dc_delivery("10002", "ONB-2", "jira:issue_deleted")),
    json.loads(dc_delivery("10003", "ONB-3", "sprint_started")),  # a kind no worker needs
]
PREPARE = {"jira": as_is, "jira-datacenter": as_is, "linear": fresh_linear, "asana": distinct_asana}
BODIES = {"jira": JIRA_BODIES, "jira-datacenter": DC_BODIES, "linear": LINEAR_BODIES, "asana": ASANA_BODIES}


@pytest.mark.parametrize("tracker", ["jira", "jira-datacenter", "linear", "asana"])
def test_every_field_of_real_shaped_bodies(hooks: Receivers, tracker: str) -> None:
    stored = fuzz(hooks, BODIES[tracker], poster(hooks, tracker), PREPARE[tracker])
    assert stored > 0
    check_views(hooks, inbox_tracker(tracker))


@pytest.mark.parametrize(
    ("tracker", "sample"),
    [
        ("jira", "jira/examples/sentry/edit_issue_status_payload.json"),
        ("jira", "jira/examples/sentry/edit_issue_assignee_payload.json"),
        ("linear", "linear/examples/port-docs/webhook_issue_create.json"),
    ],
)
def test_every_field_of_the_vendors_own_samples(hooks: Receivers, tracker: str, sample: str) -> None:
    body = json.loads((contracts_dir() / sample).read_text(encoding="utf-8"))
    assert fuzz(hooks, [body], poster(hooks, tracker), PREPARE[tracker]) > 0
    check_views(hooks, tracker, ignored=False)
