"""The Asana sandbox cannot drift from the real API: its responses validate against Asana's spec.

Requests go through the real SDK (``asana`` v5, ``full_payload``) where the connector uses it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import asana
import pytest
import requests
import urllib3
from asana.rest import ApiException

from tests.contracts import validate_asana
from v2mom.connectors.asana.parse import PROJECT_FIELDS, STORY_FIELDS, TASK_FIELDS
from v2mom.sandbox.asana.app import create_asana_app
from v2mom.sandbox.asana.generator import generate_asana_workspace
from v2mom.sandbox.asana.state import AsanaState
from v2mom.sandbox.server import SandboxServer


@dataclass
class Workspace:
    url: str
    state: AsanaState
    projects: list[str]
    tasks: asana.TasksApi
    events: asana.EventsApi
    stories: asana.StoriesApi

    def get(self, path: str, **params: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.state.token}"}
        return requests.get(f"{self.url}/api/1.0{path}", params=params, headers=headers, timeout=10)


@pytest.fixture(scope="module")
def workspace() -> Iterator[Workspace]:
    state, truth = generate_asana_workspace(seed=3, tasks=300)
    with SandboxServer(create_asana_app(state)) as url:
        configuration = asana.Configuration()
        configuration.host = f"{url}/api/1.0"
        configuration.access_token = state.token
        configuration.retry_strategy = urllib3.Retry(0)
        client = asana.ApiClient(configuration)
        yield Workspace(
            url,
            state,
            truth.projects,
            asana.TasksApi(client),
            asana.EventsApi(client),
            asana.StoriesApi(client),
        )


def test_task_pages_are_task_responses_with_next_pages(workspace: Workspace) -> None:
    project = workspace.projects[0]
    seen: list[str] = []
    offset: str | None = None
    sizes: list[int] = []
    while True:
        opts: dict[str, Any] = {"project": project, "limit": 10, "opt_fields": TASK_FIELDS}
        if offset:
            opts["offset"] = offset
        body = workspace.tasks.get_tasks(opts, full_payload=True)
        for task in body["data"]:
            validate_asana("TaskResponse", task)
        sizes.append(len(body["data"]))
        seen.extend(t["gid"] for t in body["data"])
        if body["next_page"] is None:
            break
        validate_asana("NextPage", body["next_page"])
        offset = body["next_page"]["offset"]
    members = workspace.state.members[project]
    assert seen == members  # every member exactly once, in gid order
    assert 5 in sizes[:-1]  # a short page although more remained


def test_a_full_task_validates_and_opt_fields_choose_what_comes_back(workspace: Workspace) -> None:
    gid = workspace.state.members[workspace.projects[1]][0]
    full = workspace.tasks.get_task(gid, {"opt_fields": TASK_FIELDS}, full_payload=True)["data"]
    validate_asana("TaskResponse", full)
    assert {"name", "modified_at", "custom_fields", "memberships", "num_subtasks"} <= set(full)
    assert all(
        set(f) <= {"gid", "name", "type", "enum_value", "multi_enum_values", "number_value"}
        for f in full["custom_fields"]
    )
    narrow = workspace.tasks.get_task(gid, {"opt_fields": "name"}, full_payload=True)["data"]
    assert narrow == {"gid": gid, "name": full["name"]}


def test_tasks_serve_their_assignee_and_start_as_asana_does(workspace: Workspace) -> None:
    state = workspace.state
    served: list[dict[str, Any]] = []
    for project in workspace.projects:
        body = workspace.get("/tasks", project=project, limit=100, opt_fields=TASK_FIELDS).json()
        served += body["data"]
    assert len(served) > 50
    for task in served:
        validate_asana("TaskResponse", task)
        held = state.tasks[task["gid"]]
        if held.assignee is None:  # Asana's spec does not let assignee be null: absent
            assert "assignee" not in task
        else:
            validate_asana("UserCompact", task["assignee"])
            assert task["assignee"]["gid"] == held.assignee
        # The validator checks no formats: a day is YYYY-MM-DD, a moment Asana's UTC timestamp.
        if held.start_on is None:
            assert task["start_on"] is None
        else:
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", task["start_on"])
            assert date.fromisoformat(task["start_on"]) == held.start_on
        if held.start_at is None:
            assert task["start_at"] is None
        else:
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z", task["start_at"])
            assert datetime.fromisoformat(task["start_at"]) == held.start_at
        assert task["start_on"] is None or task["start_at"] is None  # never both, as Asana asks
    assert any("assignee" in t for t in served)
    assert any("assignee" not in t for t in served)
    assert any(t["start_on"] for t in served)
    assert any(t["start_at"] for t in served)
    assert any(not t["start_on"] and not t["start_at"] for t in served)


def test_subtasks_are_not_listed_in_projects_but_under_their_parent(workspace: Workspace) -> None:
    state = workspace.state
    parent = next(g for p in workspace.projects for g in state.members[p] if state.children.get(g))
    body = workspace.tasks.get_subtasks_for_task(
        parent, {"limit": 100, "opt_fields": TASK_FIELDS}, full_payload=True
    )
    children = [t["gid"] for t in body["data"]]
    assert children == sorted(state.children[parent])
    for task in body["data"]:
        validate_asana("TaskResponse", task)
        assert task["parent"]["gid"] == parent
    listed = {g for p in workspace.projects for g in state.members[p]}
    assert not set(children) & listed


def test_modified_since_filters(workspace: Workspace) -> None:
    state = workspace.state
    project = workspace.projects[2]
    newest = max(state.tasks[g].modified_at for g in state.members[project])
    stamp = newest.isoformat().replace("+00:00", "Z")
    body = workspace.get(
        "/tasks", project=project, modified_since=stamp, limit=100, opt_fields="modified_at"
    ).json()
    assert body["data"]
    assert all(t["modified_at"] >= stamp[:19] for t in body["data"])
    assert len(body["data"]) < len(state.members[project])


def test_project_and_user_validate(workspace: Workspace) -> None:
    project = workspace.get(f"/projects/{workspace.projects[0]}", opt_fields=PROJECT_FIELDS).json()["data"]
    validate_asana("ProjectResponse", project)
    me = workspace.get("/users/me").json()["data"]
    validate_asana("UserResponse", me)
    assert me["workspaces"][0]["gid"] == workspace.state.workspace_gid


def test_errors_validate_and_say_what_went_wrong(workspace: Workspace) -> None:
    missing = workspace.get("/tasks/1", opt_fields="name")
    assert missing.status_code == 404
    validate_asana("ErrorResponse", missing.json())
    bad_limit = workspace.get("/tasks", project=workspace.projects[0], limit=101)
    assert bad_limit.status_code == 400
    assert "limit" in bad_limit.json()["errors"][0]["message"]
    unauthorized = requests.get(
        f"{workspace.url}/api/1.0/users/me", headers={"Authorization": "Bearer nope"}, timeout=10
    )
    assert unauthorized.status_code == 401
    validate_asana("ErrorResponse", unauthorized.json())


def test_events_need_a_sync_token_then_carry_changes_until_it_expires(workspace: Workspace) -> None:
    state, project = workspace.state, workspace.projects[0]
    with pytest.raises(ApiException) as first:
        workspace.events.get_events(project, {}, full_payload=True)
    assert first.value.status == 412
    token = requests.models.complexjson.loads(first.value.body)["sync"]
    changed = state.members[project][3]
    subtask_parent = next(g for g in state.members[project] if state.children.get(g))
    subtask = state.children[subtask_parent][0]
    state.update_task(changed, name="renamed")
    state.update_task(subtask, completed=True)
    body = workspace.events.get_events(project, {"sync": token}, full_payload=True)
    for event in body["data"]:
        validate_asana("EventResponse", event)
    assert [(e["resource"]["gid"], e["action"]) for e in body["data"]] == [
        (changed, "changed"),
        (subtask, "changed"),
    ]
    assert body["has_more"] is False
    state.expire_sync_tokens()
    with pytest.raises(ApiException) as expired:
        workspace.events.get_events(project, {"sync": body["sync"]}, full_payload=True)
    assert expired.value.status == 412


def test_an_injected_rate_limit_names_its_wait(workspace: Workspace) -> None:
    workspace.state.inject_fault(429, retry_after=2.5, path_prefix="/api/1.0/tasks")
    answer = workspace.get("/tasks", project=workspace.projects[0], limit=10)
    assert answer.status_code == 429
    assert answer.headers["Retry-After"] == "2.5"
    validate_asana("ErrorResponse", answer.json())


def test_task_stories_are_story_pages_naming_assignees(workspace: Workspace) -> None:
    state = workspace.state
    gid = max(state.tasks, key=lambda g: (len(state.tasks[g].stories), g))
    stories: list[dict[str, Any]] = []
    offset: str | None = None
    pages = 0
    while True:
        opts: dict[str, Any] = {"limit": 2, "opt_fields": STORY_FIELDS}
        if offset:
            opts["offset"] = offset
        body = workspace.stories.get_stories_for_task(gid, opts, full_payload=True)
        pages += 1
        for story in body["data"]:
            validate_asana("StoryCompact", story)
            validate_asana("StoryResponse", story)
            assert set(story) <= {"gid", "created_at", "resource_subtype", "assignee"}
        stories.extend(body["data"])
        if body["next_page"] is None:
            break
        validate_asana("NextPage", body["next_page"])
        offset = body["next_page"]["offset"]
    assert pages > 1
    assert [s["gid"] for s in stories] == [s.gid for s in state.tasks[gid].stories]
    assert [s["created_at"] for s in stories] == sorted(s["created_at"] for s in stories)
    for story in stories:
        if story["resource_subtype"] == "assigned":
            assert story["assignee"]["gid"] in state.people
        else:
            assert "assignee" not in story
    subtypes = {s.subtype for task in state.tasks.values() for s in task.stories}
    assert {"assigned", "unassigned", "marked_complete", "added_to_project", "comment_added"} <= subtypes
    compact = workspace.get(f"/tasks/{gid}/stories").json()["data"][0]
    validate_asana("StoryCompact", compact)
    assert {"gid", "resource_type", "created_at", "created_by", "resource_subtype", "text"} == set(compact)
    missing = workspace.get("/tasks/1/stories")
    assert missing.status_code == 404
    validate_asana("ErrorResponse", missing.json())
