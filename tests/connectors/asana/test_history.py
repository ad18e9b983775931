"""Asana tasks' completion and assignee history: the real connector against the sandbox, and the parser."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.histories import as_recorded
from v2mom.connectors.asana import history
from v2mom.connectors.asana.batch import Answer
from v2mom.connectors.asana.connector import AsanaConnector
from v2mom.connectors.asana.history import AsanaHistory, parse_stories
from v2mom.errors import AuthError, FatalError, RetriableError
from v2mom.models import ItemTransition, State
from v2mom.sandbox.asana.app import create_asana_app
from v2mom.sandbox.asana.generator import AsanaGroundTruth, asana_settings, generate_asana_workspace
from v2mom.sandbox.asana.state import AsanaState
from v2mom.sandbox.server import SandboxServer
from v2mom.settings import SyncSettings


@pytest.fixture
def site() -> Iterator[tuple[AsanaState, AsanaGroundTruth, AsanaConnector]]:
    state, truth = generate_asana_workspace(seed=5, tasks=200)
    with SandboxServer(create_asana_app(state)) as url:
        settings = asana_settings(state, url, truth.projects)
        connector = AsanaConnector(settings, SyncSettings(max_retries=1), sleep=lambda _: None)
        yield state, truth, connector
        connector.close()


def test_every_recorded_change_is_read_from_each_tasks_story_pages(
    site: tuple[AsanaState, AsanaGroundTruth, AsanaConnector], monkeypatch: pytest.MonkeyPatch
) -> None:
    state, truth, connector = site
    monkeypatch.setattr(history, "STORY_PAGE", 2)  # several pages of stories for most tasks
    gone = sorted(truth.live_tasks())[-1]
    state.delete_task(gone)  # deleted after it was listed: its stories answer 404
    found = connector.read_history([*sorted(truth.live_ids()), gone])
    assert as_recorded(found) == truth.transitions()
    assert [t.at for t in found] == sorted(t.at for t in found)
    tasks = len(truth.live_tasks())
    for project in truth.projects:  # the projects have no stories to read
        assert state.request_count(f"/api/1.0/tasks/{project}/stories") == 0
    # the first pages of ten tasks (and the deleted one) a batch; a longer history read on alone
    assert connector.calls.calls["batch"] == state.request_count("/api/1.0/batch") == -(-(tasks + 1) // 10)
    alone = {task: state.request_count(f"/api/1.0/tasks/{task}/stories") for task in truth.live_tasks()}
    assert connector.calls.calls["stories"] == sum(alone.values())
    long = {task for task in alone if len(state.tasks[task].stories) > 2}
    assert long
    assert all(alone[task] >= 1 for task in long)
    assert not any(alone[task] for task in alone.keys() - long)  # one page: the batch read it all
    assert {t.to_category for t in found if t.field == "status"} == {State.DONE}


def test_several_batches_of_stories_are_read_at_once_and_a_held_one_does_not_stop_the_others(
    site: tuple[AsanaState, AsanaGroundTruth, AsanaConnector],
) -> None:
    state, truth, connector = site
    tasks = sorted(truth.live_tasks())
    held = state.stall("/api/1.0/batch")  # the first batch of ten tasks
    done = threading.Event()
    found: list[ItemTransition] = []

    def read() -> None:
        found.extend(connector.read_history(tasks))
        done.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert held.reached.wait(30)
        others = lambda: state.request_count("/api/1.0/batch") - 1  # noqa: E731  (the held one)
        deadline = time.monotonic() + 30
        while others() < 10 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert others() >= 10  # the other readers went on while one batch was held
        assert not done.is_set()
    finally:
        held.release()
    reader.join(30)
    assert done.is_set()
    assert as_recorded(found) == truth.transitions()


def test_rate_limited_stories_are_retried_after_the_wait_asana_asks_for(
    site: tuple[AsanaState, AsanaGroundTruth, AsanaConnector],
) -> None:
    state, truth, first = site
    waits: list[float] = []
    # enough retries for one task to meet all three refusals, whichever reader gets them
    connector = AsanaConnector(first.settings, SyncSettings(max_retries=3), sleep=waits.append)
    state.inject_fault(429, times=3, retry_after=7, path_prefix="/api/1.0/batch", after=3)
    try:
        found = connector.read_history(sorted(truth.live_ids()))
    finally:
        connector.close()
    assert as_recorded(found) == truth.transitions()
    assert sorted(waits)[-3:] == [7, 7, 7]  # each refused request waited what Asana said


def test_reassigning_and_reopening_are_read_from_the_previous_assignee(
    site: tuple[AsanaState, AsanaGroundTruth, AsanaConnector],
) -> None:
    state, truth, connector = site
    gid = next(g for g, t in truth.live_tasks().items() if t.assignee is not None and t.completed)
    previous = state.tasks[gid].assignee
    someone = next(p for p in sorted(state.people) if p != previous)
    state.update_task(gid, assignee=someone, completed=False)
    *_, reassigned, reopened = connector.read_history([gid])
    assert (reassigned.field, reassigned.from_value, reassigned.to_value) == ("assignee", previous, someone)
    assert (reopened.field, reopened.to_value, reopened.to_category) == ("status", "incomplete", State.TODO)
    assert reassigned.at == reopened.at == state.tasks[gid].modified_at


def story(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "gid": "s-1",
        "created_at": "2026-11-02T09:30:00.000Z",
        "resource_subtype": "assigned",
        "assignee": {"gid": "u-1", "resource_type": "user", "name": "Ada"},
    }
    base.update(overrides)
    return base


def test_stories_become_assignee_and_completion_changes_and_the_rest_is_skipped() -> None:
    stories = [
        story(resource_subtype="added_to_project", assignee=None),
        story(),
        story(gid="s-2", resource_subtype="comment_added", created_at=None),
        story(gid="s-3", assignee={"gid": "u-2"}),
        story(gid="s-4", resource_subtype="marked_complete", assignee=None),
        story(gid="s-5", resource_subtype="unassigned", assignee=None),
    ]
    changes = parse_stories("t-1", stories)
    assert [(t.event_id, t.field, t.from_value, t.to_value, t.to_category) for t in changes] == [
        ("s-1", "assignee", None, "u-1", None),
        ("s-3", "assignee", "u-1", "u-2", None),
        ("s-4", "status", "incomplete", "completed", State.DONE),
        ("s-5", "assignee", "u-2", None, None),
    ]


def test_an_assignment_naming_nobody_is_kept_as_unassigned_and_counted() -> None:
    """An account removed from the workspace: Asana's ``assignee`` is conditional."""
    stories = [story(), story(gid="s-2", assignee=None), story(gid="s-3", assignee={"gid": "u-2"})]
    unnamed: list[str] = []
    changes = parse_stories("t-1", stories, unnamed=unnamed)
    assert [(t.event_id, t.from_value, t.to_value) for t in changes] == [
        ("s-1", None, "u-1"),
        ("s-2", "u-1", None),
        ("s-3", None, "u-2"),
    ]
    assert unnamed == ["s-2"]


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("nope", "malformed story of task t-1: a story is not an object"),
        (story(gid=""), "malformed story of task t-1: a story has no gid"),
        (story(created_at=7), "malformed story s-1 of task t-1: 'created_at' is missing or not a timestamp"),
        (
            story(created_at="2026-11-02"),
            "malformed story s-1 of task t-1: 'created_at' '2026-11-02' has no UTC",
        ),
        (story(assignee={"name": "Ada"}), "malformed story s-1 of task t-1: an 'assigned' story names no"),
    ],
)
def test_a_malformed_story_is_refused_naming_the_task_and_the_story(raw: object, problem: str) -> None:
    with pytest.raises(FatalError, match=problem):
        parse_stories("t-1", [raw])


@pytest.mark.parametrize(
    ("status", "error"),
    [(403, AuthError), (429, RetriableError), (500, RetriableError), (400, FatalError), (0, FatalError)],
)
def test_a_refused_action_of_a_stories_batch_is_the_error_its_request_alone_would_raise(
    status: int, error: type[Exception]
) -> None:
    reader = AsanaHistory(lambda: pytest.fail("no request"), lambda call: call(), ["1"])
    refused = Answer(status, {"errors": [{"message": "refused here"}]})
    with pytest.raises(error) as raised:
        reader._task_stories("1203", refused)
    assert type(raised.value) is error
    assert reader._task_stories("1203", Answer(404, {})) is None  # deleted since it was listed
