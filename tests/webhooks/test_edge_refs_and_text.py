"""Item references and unstorable text at the webhook edge, on SQLite and PostgreSQL.

18.5: a signed delivery with a lone surrogate (or NUL) in its event type, Linear ``type`` or
``action``, or Asana ``resource_type`` is stored as ignored with U+FFFD in its place, and
``GET /api/admin/webhooks/ignored`` lists it (before: a 500 for every later read of the list). Rows
stored before the receivers cleaned them are listed too.

18.10: an item reference the worker cannot look up (neither an id nor a key of its tracker) is a
400 naming the field, with nothing stored (before: stored, then six failed retries and a park).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.webhooks.receivers import Receivers, dumps, now_ms
from v2mom.events import WebhookEvent

SITE = "https://acme.atlassian.net"
UUID = "d62a755d-5389-4dbd-98bb-3db03f239d9d"


def jira(event: str, **parts: Any) -> bytes:
    return dumps({"webhookEvent": event, "timestamp": 1763900000000, **parts})


def linear(kind: str, data: dict[str, Any] | None, action: str = "update") -> bytes:
    """A Linear body stamped now (built in the test: a stamp taken at collection goes stale)."""
    return dumps({"action": action, "type": kind, "data": data, "webhookTimestamp": now_ms()})


def asana(resource: dict[str, Any], action: str = "changed") -> bytes:
    return dumps(
        {"events": [{"action": action, "resource": resource, "created_at": "2026-11-20T12:00:00.123Z"}]}
    )


def on_both_jiras(cases: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """``cases`` (tracker first), each Jira case again through the Data Center receiver."""
    return [*cases, *(("jira-datacenter", *rest) for tracker, *rest in cases if tracker == "jira")]


def listed_ignored(hooks: Receivers) -> list[dict[str, Any]]:
    answer = hooks.client.get("/api/admin/webhooks/ignored", headers=hooks.admin())
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = json.loads(answer.content.decode("utf-8"))["items"]
    return items


# -- 18.5: unstorable text in what an ignored event keeps ----------------------------------------


@pytest.mark.parametrize(
    ("tracker", "body", "event_type"),
    on_both_jiras(
        [
            ("jira", lambda: jira("sprint_started\ud800"), "sprint_started\ufffd"),
            ("jira", lambda: jira("sprint_\x00started"), "sprint_\ufffdstarted"),
            ("linear", lambda: linear("Cycle\ud800", {"id": "cy"}), "Cycle\ufffd"),
            ("linear", lambda: linear("Cyc\x00le", {"id": "cy"}), "Cyc\ufffdle"),
            ("linear", lambda: linear("IssueLabel", {"id": "l"}, "remove\udfff\x00"), "IssueLabel"),
            ("asana", lambda: asana({"gid": "5", "resource_type": "story\ud800"}), "story\ufffd"),
            ("asana", lambda: asana({"gid": "5", "resource_type": "sto\x00ry"}), "sto\ufffdry"),
        ]
    ),
)
def test_unstorable_text_in_an_ignored_event_is_listed_as_replacement_characters(
    hooks: Receivers, tracker: str, body: Any, event_type: str
) -> None:
    answer = hooks.post(tracker, body())
    assert (answer.status_code, answer.json()) == (202, {"status": "ignored"}), answer.text
    [item] = listed_ignored(hooks)
    assert item["event_type"] == event_type
    assert "\ud800" not in item["reason"]
    assert "\x00" not in item["reason"]
    if tracker == "linear" and event_type == "IssueLabel":
        assert "label remove\ufffd\ufffd" in item["reason"]  # the action, as the reason quotes it


def test_an_overlong_event_type_is_cut_to_what_the_list_shows(hooks: Receivers) -> None:
    assert hooks.post("jira", jira("x" * 100_000 + "\ud800")).status_code == 202
    [item] = listed_ignored(hooks)
    assert item["event_type"] == "x" * 100
    assert len(item["reason"]) == 300


def test_ignored_rows_stored_before_the_edge_cleaned_them_are_still_listed(hooks: Receivers) -> None:
    # What a receiver without the cleaning stored: the payload as it came.
    legacy = WebhookEvent(
        "jira", "legacy-1", "ignored", None, None, {"type": "a\ud800b", "reason": "c\udfff"}
    )
    assert hooks.inbox.enqueue_many([legacy]) == [True]
    [item] = listed_ignored(hooks)
    assert (item["event_type"], item["reason"]) == ("a\ufffdb", "c\ufffd")


def test_unstorable_text_anywhere_in_a_refetch_payload_is_stored_cleaned(hooks: Receivers) -> None:
    body = jira(
        "jira:issue_updated",
        issue={"id": "10010", "fields": {"summary": "a\ud800\x00", "labels": ["\x1b"], "x\udfff": None}},
    )
    assert hooks.post("jira", body).json() == {"status": "stored"}
    raw_bytes = body.replace(b"\\ud800", b"\xed\xa0\x80")  # the surrogate as raw UTF-8 bytes
    assert hooks.post("jira", raw_bytes, "d-2").json() == {"status": "stored"}
    for entry in hooks.inbox.claim("test"):
        fields = entry.event.payload["issue"]["fields"]
        assert fields["summary"] == "a\ufffd\ufffd"
        assert fields["labels"] == ["\ufffd"]
        assert "x\ufffd" in fields


# -- 18.10: item references the worker cannot look up ---------------------------------------------


@pytest.mark.parametrize(
    ("tracker", "body", "field"),
    on_both_jiras(
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
        ]
    ),
)
def test_item_references_the_worker_cannot_look_up_are_refused(
    hooks: Receivers, tracker: str, body: Any, field: str
) -> None:
    answer = hooks.post(tracker, body())
    assert answer.status_code == 400, answer.text
    assert field in answer.json()["detail"]
    assert hooks.stored() == 0


@pytest.mark.parametrize(
    ("tracker", "body", "ref"),
    on_both_jiras(
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
            (
                "linear",
                lambda: linear("Comment", {"id": "c", "issueId": UUID.upper()}, "create"),
                UUID.upper(),
            ),
            ("asana", lambda: asana({"gid": "1202222222222", "resource_type": "task"}), "1202222222222"),
            ("asana", lambda: asana({"gid": 1202222222222, "resource_type": "project"}), "1202222222222"),
        ]
    ),
)
def test_ids_and_keys_are_stored_for_the_worker(hooks: Receivers, tracker: str, body: Any, ref: str) -> None:
    assert hooks.post(tracker, body()).json() == {"status": "stored"}
    [entry] = hooks.inbox.claim("test")
    assert entry.event.item_ref == ref
