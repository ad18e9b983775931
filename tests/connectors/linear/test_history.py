"""Linear issues' status and assignee history: the real connector against the sandbox, and the parser."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterator
from typing import Any

import pytest

from tests.histories import as_recorded
from v2mom.connectors.linear import history
from v2mom.connectors.linear.connector import LinearConnector
from v2mom.connectors.linear.history import HISTORY_READERS, parse_history
from v2mom.errors import FatalError
from v2mom.models import State
from v2mom.sandbox.linear.app import create_linear_app
from v2mom.sandbox.linear.generator import LinearGroundTruth, generate_linear_workspace, linear_settings
from v2mom.sandbox.linear.state import LinearState
from v2mom.sandbox.server import SandboxServer
from v2mom.settings import SyncSettings


@pytest.fixture
def site() -> Iterator[tuple[LinearState, LinearGroundTruth, LinearConnector]]:
    state, truth = generate_linear_workspace(seed=5, projects=8, issues=400)
    with SandboxServer(create_linear_app(state)) as url:
        connector = LinearConnector(linear_settings(state, url), SyncSettings(max_retries=1))
        yield state, truth, connector
        connector.close()


def test_every_recorded_change_is_read_following_each_issues_history_pages(
    site: tuple[LinearState, LinearGroundTruth, LinearConnector], monkeypatch: pytest.MonkeyPatch
) -> None:
    state, truth, connector = site
    monkeypatch.setattr(history, "HISTORY_FIRST", 2)  # most issues' histories run over several pages
    monkeypatch.setattr(history, "HISTORY_PAGE", 2)
    issue = next(i for i in state.issues.values() if i.id in truth.live_ids())
    state.change_labels([issue.id], [state.label("frontend")], [])  # an entry that changes neither
    ids = sorted(truth.live_ids())  # the projects among them have no history
    found = connector.read_history([*ids, "00000000-0000-4000-8000-000000000000"])
    assert as_recorded(found) == truth.transitions()
    assert [t.at for t in found] == sorted(t.at for t in found)
    pages = state.request_count("/graphql/IssueHistoryPage")
    assert pages > 0
    assert state.request_count("/graphql/IssueHistory") - pages == math.ceil(
        (len(ids) + 1) / 50
    )  # 50 ids each
    assert {t.to_category for t in found if t.field == "status"} == {
        State.TODO,
        State.IN_PROGRESS,
        State.DONE,
        State.CANCELED,
    }


class SlowAnswers:
    """An ASGI app answering 50 ms late, as Linear across a network does, counting the requests in
    flight at once."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.running = 0
        self.peak = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.running += 1
        self.peak = max(self.peak, self.running)
        try:
            await asyncio.sleep(0.05)
            await self.app(scope, receive, send)
        finally:
            self.running -= 1


def test_history_batches_are_read_as_many_at_once_as_the_connector_has_readers() -> None:
    """One batch after another, a sync's history requests outnumber its listing's and become the
    longer chain of waits: the batches overlap, and what is read is the same."""
    state, truth = generate_linear_workspace(seed=5, projects=8, issues=400)
    slow = SlowAnswers(create_linear_app(state))
    with SandboxServer(slow) as url:
        connector = LinearConnector(linear_settings(state, url), SyncSettings(max_retries=1))
        try:
            found = connector.read_history(sorted(truth.live_ids()))
        finally:
            connector.close()
    assert as_recorded(found) == truth.transitions()
    assert HISTORY_READERS == 2
    assert slow.peak == HISTORY_READERS  # 400 issues: eight batches, two at a time


def entry(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "h-1",
        "createdAt": "2026-11-02T09:30:00.000Z",
        "fromStateId": "s-todo",
        "toState": {"id": "s-doing", "type": "started"},
        "fromAssigneeId": None,
        "toAssigneeId": "u-1",
    }
    base.update(overrides)
    return base


def test_an_entry_changing_state_and_assignee_is_two_records_and_one_changing_neither_none() -> None:
    changes = list(
        parse_history("i-1", [entry(), entry(id="h-2", fromStateId=None, toState=None, toAssigneeId=None)])
    )
    assert [(t.field, t.from_value, t.to_value, t.to_category, t.event_id) for t in changes] == [
        ("status", "s-todo", "s-doing", State.IN_PROGRESS, "h-1"),
        ("assignee", None, "u-1", None, "h-1"),
    ]
    (released,) = parse_history(
        "i-1", [entry(fromStateId=None, toState=None, fromAssigneeId="u-1", toAssigneeId=None)]
    )
    assert (released.field, released.from_value, released.to_value) == ("assignee", "u-1", None)
    (duplicate,) = parse_history(
        "i-1", [entry(toState={"id": "s-dup", "type": "duplicate"}, toAssigneeId=None)]
    )
    assert duplicate.to_category is State.CANCELED


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("nope", "malformed history of issue i-1: an entry is not an object"),
        (entry(id=None), "malformed history of issue i-1: an entry has no id"),
        (
            entry(createdAt="yesterday"),
            "malformed history of issue i-1, entry h-1: 'createdAt' 'yesterday' is not ISO 8601",
        ),
        (entry(createdAt=None), "malformed history of issue i-1, entry h-1: 'createdAt' is missing"),
        (entry(toState={"id": "s-1"}), "malformed history of issue i-1, entry h-1: 'toState' has no type"),
        (
            entry(toState={"type": "started"}),
            "malformed history of issue i-1, entry h-1: 'toState' has no id",
        ),
        (
            entry(toAssigneeId={"id": "u-1"}),
            "malformed history of issue i-1, entry h-1: 'toAssigneeId' is not an id",
        ),
        (entry(fromStateId=""), "malformed history of issue i-1, entry h-1: 'fromStateId' is not an id"),
        (entry(fromAssigneeId=7), "malformed history of issue i-1, entry h-1: 'fromAssigneeId' is not an id"),
    ],
)
def test_a_malformed_entry_is_refused_naming_the_issue_and_the_entry(raw: object, problem: str) -> None:
    with pytest.raises(FatalError, match=problem):
        list(parse_history("i-1", [raw]))
