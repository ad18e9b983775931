"""Issue 18.10 at the webhook edge, on SQLite and PostgreSQL: an item reference the worker cannot
look up (neither an id nor a key of its tracker) is a 400 naming the field, with nothing stored
(before: stored, then six failed retries and a park).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.webhooks.receivers import Receivers, dumps, now_ms, receivers
from v2mom.store.database import Database

SITE = "https://acme.atlassian.net"
UUID = "d62a755d-5389-4dbd-98bb-3db03f239d9d"


@pytest.fixture
def hooks(store: Database) -> Iterator[Receivers]:
    yield from receivers(store)


def jira(event: str, **parts: Any) -> bytes:
    return dumps({"webhookEvent": event, "timestamp": 1763900000000, **parts})


def linear(kind: str, data: dict[str, Any] | None, action: str = "update") -> bytes:
    """A Linear body stamped now (built in the test: a stamp taken at collection goes stale)."""
    return dumps({"action": action, "type": kind, "data": data, "webhookTimestamp": now_ms()})


def asana(resource: dict[str, Any], action: str = "changed") -> bytes:
    return dumps(
        {"events": [{"action": action, "resource": resource, "created_at": "2026-11-20T12:00:00.123Z"}]}
    )


def post(hooks: Receivers, tracker: str, body: bytes, delivery: str = "d-1") -> Any:
    if tracker == "asana":
        return hooks.post_asana(body)
    return hooks.post_jira(body, delivery) if tracker == "jira" else hooks.post_linear(body, delivery)


# -- 18.10: item references the worker cannot look up ---------------------------------------------


@pytest.mark.parametrize(
    ("tracker", "body", "field"),
    [
        ("jira", lambda: jira("jira:issue_updated", issue={"id": "abc"}), "issue.id"),
        ("jira", lambda: jira("jira:issue_updated", issue={"id": "ONB-1"}), "issue.id"),
        ("jira", lambda: jira("jira:issue_updated", issue={"id": "١٢"}), "issue.id"),  # not ASCII digits
        ("jira", lambda: jira("jira:issue_updated", issue={"id": "²"}), "issue.id"),
        ("jira", lambda: jira("jira:issue_updated", issue={"id": -5}), "issue.id"),
        ("jira", lambda: jira("jira:issue_deleted", issue={"key": "hello world"}), "issue.key"),
        ("jira", lambda: jira("jira:issue_updated", issue={"key": 'ONB-1" OR 1=1'}), "issue.key"),
        ("jira", lambda: jira("worklog_updated", worklog={"issueId": "ONB-1"}), "worklog.issueId"),
        (
            "jira",
            lambda: jira("comment_created", comment={"self": f"{SITE}/rest/api/2/issue/%41/comment/7"}),
            "comment.self issue",
        ),
        ("linear", lambda: linear("Issue", {"id": "i"}), "data.id"),
        ("linear", lambda: linear("Issue", {"id": "not a uuid"}), "data.id"),
        ("linear", lambda: linear("Project", {"id": UUID + "0"}), "data.id"),
        ("linear", lambda: linear("Issue", {"id": 42}, "remove"), "data.id"),
        ("linear", lambda: linear("Comment", {"id": "c", "issueId": "../x"}, "create"), "data.issueId"),
        ("asana", lambda: asana({"gid": "abc", "resource_type": "task"}), "gid"),
        ("asana", lambda: asana({"gid": "١٢", "resource_type": "task"}), "gid"),
        ("asana", lambda: asana({"gid": -5, "resource_type": "project"}, "deleted"), "gid"),
    ],
)
def test_item_references_the_worker_cannot_look_up_are_refused(
    hooks: Receivers, tracker: str, body: Any, field: str
) -> None:
    answer = post(hooks, tracker, body())
    assert answer.status_code == 400, answer.text
    assert field in answer.json()["detail"]
    assert hooks.stored() == 0


@pytest.mark.parametrize(
    ("tracker", "body", "ref"),
    [
        ("jira", lambda: jira("jira:issue_updated", issue={"id": 10010}), "10010"),
        ("jira", lambda: jira("jira:issue_updated", issue={"key": "ONB-12"}), "ONB-12"),
        (
            "jira",
            lambda: jira("jira:issue_updated", issue={"self": f"{SITE}/rest/api/2/issue/ONB-12"}),
            "ONB-12",
        ),
        ("jira", lambda: jira("worklog_created", worklog={"issueId": 10010}), "10010"),
        ("linear", lambda: linear("Issue", {"id": UUID}), UUID),
        ("linear", lambda: linear("Issue", {"id": "ENG-12"}), "ENG-12"),
        ("linear", lambda: linear("Comment", {"id": "c", "issueId": UUID.upper()}, "create"), UUID.upper()),
        ("asana", lambda: asana({"gid": "1202222222222", "resource_type": "task"}), "1202222222222"),
        ("asana", lambda: asana({"gid": 1202222222222, "resource_type": "project"}), "1202222222222"),
    ],
)
def test_ids_and_keys_are_stored_for_the_worker(hooks: Receivers, tracker: str, body: Any, ref: str) -> None:
    assert post(hooks, tracker, body()).json() == {"status": "stored"}
    [entry] = hooks.inbox.claim("test")
    assert entry.event.item_ref == ref
