"""Receiver edges, through the real HTTP path on SQLite and PostgreSQL: values too long for the
inbox, a poisoned member of a group commit, signed-but-malformed bodies, and vendor events that
must be acknowledged (re-fetched, or stored as ignored with a reason)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.webhooks.receivers import Receivers, dumps, now_ms
from v2mom.app.cli import app as cli
from v2mom.app.services import services_of
from v2mom.events import MAX_DELIVERY_ID, MAX_ITEM_REF, WebhookEvent
from v2mom.models import TRACKERS
from v2mom.store import schema
from v2mom.store.database import Database

LONG = "9" * 300
SITE = "https://acme.atlassian.net"


def jira(event: str, **parts: Any) -> bytes:
    return dumps({"webhookEvent": event, "timestamp": 1763900000000, **parts})


def linear(kind: str, data: dict[str, Any], action: str = "update", **extra: Any) -> bytes:
    """A Linear body stamped now (build it in the test: a stamp taken at collection goes stale)."""
    return dumps({"action": action, "type": kind, "data": data, "webhookTimestamp": now_ms(), **extra})


Body = bytes | Callable[[], bytes]


def built(body: Body) -> bytes:
    return body() if callable(body) else body


def only_event(hooks: Receivers) -> WebhookEvent:
    rows = hooks.inbox.claim("test")
    assert len(rows) == 1
    return rows[0].event


# -- 1a: lengths checked at the edge, naming the field ---------------------------------------


def test_limits_are_the_inbox_column_sizes() -> None:
    columns = schema.webhook_inbox.c
    assert (columns.delivery_id.type.length, columns.item_ref.type.length) == (MAX_DELIVERY_ID, MAX_ITEM_REF)


@pytest.mark.parametrize(
    ("tracker", "body", "delivery", "field"),
    [
        ("jira", jira("jira:issue_updated", issue={"id": LONG}), "ok", "issue.id"),
        ("jira", jira("jira:issue_updated", issue={"key": LONG}), "ok", "issue.key"),
        ("jira", jira("worklog_created", worklog={"issueId": LONG}), "ok", "worklog.issueId"),
        ("jira", jira("jira:issue_updated", issue={"id": "1"}), "d" * 256, "x-atlassian-webhook-identifier"),
        ("linear", lambda: linear("Issue", {"id": LONG}), "ok", "data.id"),
        ("linear", lambda: linear("Comment", {"id": "c", "issueId": LONG}), "ok", "data.issueId"),
        ("linear", lambda: linear("Issue", {"id": "i"}), "d" * 256, "linear-delivery"),
        ("asana", dumps({"events": [{"resource": {"gid": LONG, "resource_type": "task"}}]}), "", "gid"),
    ],
)
def test_values_too_long_for_the_inbox_are_refused_naming_the_field(
    hooks: Receivers, tracker: str, body: Body, delivery: str, field: str
) -> None:
    post = {"jira": hooks.post_jira, "linear": hooks.post_linear}.get(tracker)
    answer = post(built(body), delivery) if post is not None else hooks.post_asana(built(body))
    assert answer.status_code == 400, answer.text
    assert field in answer.json()["detail"]
    assert hooks.stored() == 0


def test_an_asana_dedupe_key_too_long_for_the_inbox_is_hashed_and_stable(hooks: Receivers) -> None:
    event = {"resource": {"gid": "1", "resource_type": "task"}, "change": {"field": "f" * 400}}
    body = dumps({"events": [event]})
    assert hooks.post_asana(body).json() == {"status": "stored"}
    assert hooks.post_asana(body).json() == {"status": "duplicate"}
    assert only_event(hooks).delivery_id.startswith("sha256:")


# -- 1b: a poisoned member of a group commit fails alone -------------------------------------


def poison_batches(hooks: Receivers, monkeypatch: pytest.MonkeyPatch, *, wait_for: int) -> None:
    """Make any insert holding delivery 'poison' fail, and hold the first commit until ``wait_for``
    more deliveries are queued, so that they share the next group commit with the poison."""
    inbox, committer = hooks.inbox, services_of(hooks.client.app).ingest
    real = inbox.enqueue_many
    first = threading.Event()
    pause = threading.Event()  # never set: only waited on, briefly

    def enqueue_many(events: list[WebhookEvent]) -> list[bool]:
        if not first.is_set():
            first.set()
            for _ in range(200):  # at most ~10 s; the concurrent requests are normally queued at once
                if committer._queue.qsize() >= wait_for:
                    break
                pause.wait(0.05)
        if any(e.delivery_id == "poison" for e in events):
            raise RuntimeError("value too long for type character varying(255)")
        return real(events)

    monkeypatch.setattr(inbox, "enqueue_many", enqueue_many)


def test_a_poisoned_delivery_in_a_group_commit_fails_alone(
    hooks: Receivers, monkeypatch: pytest.MonkeyPatch
) -> None:
    neighbours = [f"n{i}" for i in range(12)]
    poison_batches(hooks, monkeypatch, wait_for=len(neighbours))
    deliveries = ["first", *neighbours[:6], "poison", *neighbours[6:]]

    def post(delivery: str) -> tuple[str, int]:
        body = jira("jira:issue_updated", issue={"id": "10001"})
        return delivery, hooks.post_jira(body, delivery).status_code

    with ThreadPoolExecutor(max_workers=len(deliveries)) as pool:
        answers = dict(pool.map(post, deliveries))
    assert answers.pop("poison") >= 500
    assert set(answers.values()) == {202}
    assert hooks.stored("jira") == len(deliveries) - 1


def test_a_poisoned_member_fails_alone_in_one_batch(store: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    from v2mom.webhooks.ingest import GroupCommitter

    committer = GroupCommitter(store.inbox)  # not started: the test commits the one batch itself
    real = store.inbox.enqueue_many
    batches: list[int] = []

    def enqueue_many(events: list[WebhookEvent]) -> list[bool]:
        batches.append(len(events))
        if any(e.delivery_id == "poison" for e in events):
            raise RuntimeError("poisoned")
        return real(events)

    monkeypatch.setattr(store.inbox, "enqueue_many", enqueue_many)
    names = ["a", "b", "poison", "c"]

    async def scenario() -> list[Any]:
        events = [WebhookEvent("jira", n, "refetch", "1", None, {}) for n in names]
        tasks = [asyncio.create_task(committer.submit(e)) for e in events]
        await asyncio.sleep(0)  # every submit has queued its event
        committer._commit_batch()
        return list(await asyncio.gather(*tasks, return_exceptions=True))

    outcomes = asyncio.run(scenario())
    assert batches[0] == 4  # they really shared one group commit
    assert [outcomes[0], outcomes[1], outcomes[3]] == [True, True, True]
    assert isinstance(outcomes[2], RuntimeError)
    assert store.inbox.counts() == {"jira": {"pending": 3}}


# -- 2: signed but malformed bodies are 4xx naming the problem, nothing stored ----------------


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b'{"webhookEvent": "jira:issue_updated", "timestamp": 1e20, "issue": {"id": "1"}}', "timestamp"),
        (b'{"webhookEvent": "jira:issue_updated", "timestamp": NaN, "issue": {"id": "1"}}', "NaN"),
        (b'{"webhookEvent": "jira:issue_updated", "timestamp": -Infinity, "issue": {"id": "1"}}', "Infinity"),
        (b'{"webhookEvent": "worklog_created", "timestamp": 1e400, "worklog": {"issueId": "1"}}', "number"),
        (b'{"webhookEvent": "worklog_created", "timestamp": "x", "worklog": {"issueId": "1"}}', "timestamp"),
        (b'{"webhookEvent": "jira:issue_updated", "issue": {"id": "1", "fields": [1]}}', "issue.fields"),
        (b'{"webhookEvent": "x", "issue": {"id": "1", "fields": {"updated": 5}}}', "updated"),
        (b'{"webhookEvent": "jira:issue_updated", "issue": [1]}', "issue"),
        (b'{"webhookEvent": 7, "issue": {"id": "1"}}', "webhookEvent"),
        (b'{"webhookEvent": "jira:issue_updated", "issue": {"id": "a\\u0000b"}}', "issue.id"),
        (b'{"webhookEvent": "jira:issue_updated", "issue": {"id": "\\ud800"}}', "issue.id"),
        (b"[" * 100_000 + b"]" * 100_000, "nested"),
        (b'{"a":' * 200 + b"1" + b"}" * 200, "nested"),
        (b'{"webhookEvent": "x", "n": ' + b"9" * 5000 + b"}", "not JSON"),
        ("{}".encode("utf-16") + b"\xff", "not JSON"),
    ],
)
@pytest.mark.parametrize("tracker", ["jira", "jira-datacenter"])
def test_signed_malformed_jira_bodies_are_refused(
    hooks: Receivers, tracker: str, body: bytes, problem: str
) -> None:
    answer = hooks.post(tracker, body)
    assert answer.status_code == 400, answer.text
    assert problem in answer.json()["detail"]
    assert hooks.stored() == 0


@pytest.mark.parametrize(
    ("stamp", "status", "problem"),
    [("NaN", 400, "NaN"), ("Infinity", 400, "Infinity"), ("1e400", 400, "number"), ("1e20", 401, "from now")],
)
def test_signed_linear_bodies_with_impossible_timestamps_are_refused(
    hooks: Receivers, stamp: str, status: int, problem: str
) -> None:
    body = b'{"action": "update", "type": "Issue", "data": {"id": "i"}, "webhookTimestamp": ' + stamp.encode()
    answer = hooks.post_linear(body + b"}")
    assert answer.status_code == status, answer.text
    assert problem in answer.json()["detail"]
    assert hooks.stored() == 0


def test_signed_linear_body_with_a_bad_updated_at_is_refused(hooks: Receivers) -> None:
    answer = hooks.post_linear(linear("Issue", {"id": "ENG-1", "updatedAt": "9999-12-31T23:59:59-14:00"}))
    assert answer.status_code == 400, answer.text
    assert "data.updatedAt" in answer.json()["detail"]
    assert hooks.stored() == 0


# -- 3: every validly signed vendor event is acknowledged ------------------------------------


@pytest.mark.parametrize(
    ("event", "parts", "ref"),
    [
        ("worklog_created", {"worklog": {"id": "1", "issueId": "10010", "timeSpentSeconds": 60}}, "10010"),
        ("worklog_updated", {"worklog": {"id": "100", "issueId": "10010"}}, "10010"),
        ("worklog_deleted", {"worklog": {"id": "100", "issueId": 10010}}, "10010"),
        ("jira:worklog_updated", {"worklog": {"issueId": "10010"}}, "10010"),
        ("comment_created", {"comment": {"self": f"{SITE}/rest/api/2/issue/10010/comment/7"}}, "10010"),
        ("comment_updated", {"comment": {"id": "7"}, "issue": {"id": "10010", "key": "ONB-1"}}, "10010"),
        ("comment_deleted", {"issue": {"self": f"{SITE}/rest/api/3/issue/10010"}}, "10010"),
        ("issue_property_set", {"issue": {"key": "ONB-7"}}, "ONB-7"),
    ],
)
def test_jira_events_that_name_an_issue_refetch_it(
    hooks: Receivers, event: str, parts: dict[str, Any], ref: str
) -> None:
    answer = hooks.post_jira(jira(event, **parts))
    assert (answer.status_code, answer.json()) == (202, {"status": "stored"})
    stored = only_event(hooks)
    assert (stored.kind, stored.item_ref) == ("refetch", ref)


def test_jira_issue_deleted_is_still_a_delete(hooks: Receivers) -> None:
    assert hooks.post_jira(jira("jira:issue_deleted", issue={"id": "10010"})).status_code == 202
    stored = only_event(hooks)
    assert (stored.kind, stored.item_ref) == ("delete", "10010")


@pytest.mark.parametrize(
    ("tracker", "body", "reason"),
    [
        ("jira", jira("attachment_created", attachment={"self": f"{SITE}/rest/api/2/attachment/5"}), "issue"),
        ("jira", jira("comment_created", comment={"id": "7", "body": "hi"}), "names no issue"),
        ("jira", jira("sprint_started", sprint={"id": 3}), "names no issue"),
        ("jira", jira("some_future_event"), "names no issue"),
        ("jira", dumps({"timestamp": 1763900000000}), "without webhookEvent"),
        ("linear", lambda: linear("Comment", {"id": "c-1", "body": "no issue"}), "change nothing"),
        ("linear", lambda: linear("Reaction", {"id": "r", "issueId": "i-1"}, "create"), "reactions"),
        ("linear", lambda: linear("ProjectUpdate", {"id": "pu", "projectId": "p-1"}), "project updates"),
        ("linear", lambda: linear("IssueLabel", {"id": "l", "name": "Reliability"}), "v2mom sync --full"),
        ("linear", lambda: linear("Cycle", {"id": "cy"}, "create"), "Cycle events"),
        (
            "asana",
            dumps(
                {
                    "events": [
                        {
                            "action": "added",
                            "resource": {"gid": "5", "resource_type": "story"},
                            "parent": {"gid": "9", "resource_type": "task"},
                        }
                    ]
                }
            ),
            "story events",
        ),
        ("asana", dumps({"events": [{"action": "changed"}]}), "without a resource type"),
    ],
)
def test_events_that_name_no_item_are_acknowledged_and_listed_as_ignored(
    hooks: Receivers, tracker: str, body: Body, reason: str
) -> None:
    post = {"jira": hooks.post_jira, "linear": hooks.post_linear}.get(tracker)
    answer = post(built(body)) if post is not None else hooks.post_asana(built(body))
    assert (answer.status_code, answer.json()) == (202, {"status": "ignored"}), answer.text
    assert hooks.inbox.counts() == {tracker: {"ignored": 1}}
    assert hooks.inbox.claim("worker") == []  # nothing for the worker to apply
    listed = hooks.client.get("/api/admin/webhooks/ignored", headers=hooks.admin()).json()
    assert listed["counts"] == {tracker: 1}
    assert [item["tracker"] for item in listed["items"]] == [tracker]
    assert reason in listed["items"][0]["reason"]


def test_webhooks_list_counts_ignored_events(hooks: Receivers, tmp_path: Path) -> None:
    assert hooks.post_jira(jira("attachment_created", attachment={"id": "5"}), "i-1").status_code == 202
    url = hooks.store.engine.url.render_as_string(hide_password=False)
    config = tmp_path / "v2mom.yaml"
    config.write_text(
        f"database_url: {url}\ntrackers:\n  jira:\n    url: http://127.0.0.1:9\n    email: a@example.com\n"
        "    api_token: t\n    jql: project = ONB\n    webhook_secrets: [s]\n"
    )
    listed = CliRunner().invoke(cli, ["webhooks", "list", "-c", str(config)])
    assert listed.exit_code == 0, listed.stderr
    assert listed.stdout.startswith("jira\t1 secret(s)\tlast event 20")
    assert listed.stdout.rstrip("\n").endswith("\tbacklog 0\tparked 0\tignored 1")


def test_the_ignored_list_is_for_admins(hooks: Receivers) -> None:
    assert hooks.client.get("/api/admin/webhooks/ignored").status_code == 401
    viewer = hooks.store.tokens.create("viewer", "v")
    answer = hooks.client.get("/api/admin/webhooks/ignored", headers={"Authorization": f"Bearer {viewer}"})
    assert answer.status_code == 403


def test_linear_comments_on_an_issue_and_new_actions_refetch_it(hooks: Receivers) -> None:
    comment = linear("Comment", {"id": "c", "issueId": "i-1"}, "create")
    assert hooks.post_linear(comment, "a").status_code == 202
    assert hooks.post_linear(linear("Issue", {"id": "i-2"}, "restore"), "b").status_code == 202
    refs = sorted((e.event.kind, e.event.item_ref) for e in hooks.inbox.claim("test"))
    assert refs == [("refetch", "i-1"), ("refetch", "i-2")]


def test_ignored_events_are_deduplicated_like_the_rest(hooks: Receivers) -> None:
    body = jira("attachment_created", attachment={"id": "5"})
    assert hooks.post_jira(body, "same").json() == {"status": "ignored"}
    assert hooks.post_jira(body, "same").json() == {"status": "duplicate"}
    listed = hooks.client.get("/api/admin/webhooks/ignored", headers=hooks.admin())
    assert json.loads(listed.text)["counts"] == {"jira": 1}


# -- one route for every tracker: an unknown tracker is named, not guessed --------------------


@pytest.mark.parametrize("tracker", ["github", "JIRA", "jira.json"])
def test_a_delivery_for_a_tracker_we_do_not_know_is_404_naming_it(hooks: Receivers, tracker: str) -> None:
    answer = hooks.client.post(f"/webhooks/{tracker}", content=jira("jira:issue_updated", issue={"id": "1"}))
    assert answer.status_code == 404
    assert repr(tracker) in answer.json()["detail"]
    assert hooks.stored() == 0


def test_every_tracker_the_settings_know_has_a_receiver(hooks: Receivers) -> None:
    assert set(services_of(hooks.client.app).receivers) == set(TRACKERS)
