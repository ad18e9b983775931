"""The sandbox's write endpoints follow Asana's spec: ``/batch``, ``PUT /tasks``, ``addProject``,
attachments.

Requests go through the real SDK (``asana`` v5, ``full_payload``) as the connector sends them; every
answer is validated against Asana's OpenAPI (read in place from ``shared/contracts``), and the state
behind it is checked too.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import asana
import pytest
import urllib3
from asana.rest import ApiException

from tests.contracts import validate_asana
from v2mom.connectors.asana.parse import TASK_FIELDS
from v2mom.sandbox.asana.app import create_asana_app
from v2mom.sandbox.asana.state import AsanaState
from v2mom.sandbox.server import SandboxServer

ATTACHMENT_FIELDS = "name,resource_subtype,view_url,host,created_at,parent,parent.name"


@dataclass
class Workspace:
    state: AsanaState
    field: str  # the V2MOM Value enum field, on the project
    options: list[str]  # its option gids
    task: str  # a project task
    subtask: str  # a subtask outside every project
    batch: asana.BatchAPIApi
    tasks: asana.TasksApi
    attachments: asana.AttachmentsApi

    def put(self, gid: str, option: str | None, field: str | None = None) -> dict[str, Any]:
        data = {"custom_fields": {field or self.field: option}}
        return {
            "relative_path": f"/tasks/{gid}",
            "method": "put",
            "data": data,
            "options": {"fields": ["name"]},
        }

    def run(self, actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
        body = self.batch.create_batch_request({"data": {"actions": actions}}, {}, full_payload=True)
        results: list[dict[str, Any]] = body["data"]
        for result in results:
            validate_asana("BatchResponse", result)
            if result["status_code"] >= 400:
                validate_asana("ErrorResponse", result["body"])
        return results


@pytest.fixture
def workspace() -> Iterator[Workspace]:
    state = AsanaState(default_fields=False)
    project = state.add_project("Platform")
    field = state.create_custom_field("V2MOM Value", "enum")
    options = [state.add_enum_option(field.gid, name).gid for name in ("Speed", "Care")]
    state.add_field_setting(project, field.gid)
    task = state.add_task("Ship it", projects=[project])
    subtask = state.add_task("A piece of it", parent=task)
    with SandboxServer(create_asana_app(state)) as url:
        configuration = asana.Configuration()
        configuration.host = f"{url}/api/1.0"
        configuration.access_token = state.token
        configuration.retry_strategy = urllib3.Retry(0)
        client = asana.ApiClient(configuration)
        yield Workspace(
            state,
            field.gid,
            options,
            task,
            subtask,
            asana.BatchAPIApi(client),
            asana.TasksApi(client),
            asana.AttachmentsApi(client),
        )


def error_of(exc: ApiException) -> str:
    body = json.loads(exc.body)
    validate_asana("ErrorResponse", body)
    return str(body["errors"][0]["message"])


def test_a_batch_sets_enum_values_and_answers_each_action_in_order(workspace: Workspace) -> None:
    gone = workspace.state.add_task("Gone", projects=list(workspace.state.projects))
    workspace.state.delete_task(gone)
    seen: list[tuple[str, str]] = []
    workspace.state.listeners.append(lambda action, task: seen.append((action, task.gid)))
    results = workspace.run(
        [
            workspace.put(workspace.task, workspace.options[0]),
            workspace.put(gone, workspace.options[0]),
            workspace.put(workspace.subtask, workspace.options[0]),
        ]
    )
    assert [r["status_code"] for r in results] == [200, 404, 400]
    validate_asana("TaskResponse", results[0]["body"]["data"])
    assert results[0]["body"]["data"] == {"gid": workspace.task, "name": "Ship it"}
    assert gone in results[1]["body"]["errors"][0]["message"]
    assert "is not on given object" in results[2]["body"]["errors"][0]["message"]
    assert seen == [("changed", workspace.task)]
    read = workspace.tasks.get_task(workspace.task, {"opt_fields": TASK_FIELDS}, full_payload=True)["data"]
    validate_asana("TaskResponse", read)
    assert [(f["name"], f["enum_value"]["name"]) for f in read["custom_fields"]] == [("V2MOM Value", "Speed")]
    cleared = workspace.run([workspace.put(workspace.task, None)])
    assert cleared[0]["status_code"] == 200
    assert workspace.state.tasks[workspace.task].enums == {}


def test_a_subtask_added_to_a_project_holds_its_fields_and_takes_a_write(workspace: Workspace) -> None:
    (project,) = workspace.state.projects
    refused = workspace.run([workspace.put(workspace.subtask, workspace.options[0])])
    assert refused[0]["status_code"] == 400  # outside every project: no field to set
    assert "is not on given object" in refused[0]["body"]["errors"][0]["message"]

    added = workspace.tasks.add_project_for_task({"data": {"project": project}}, workspace.subtask)
    assert added == {}  # the SDK unwraps {"data": {}}
    raw = workspace.tasks.add_project_for_task(
        {"data": {"project": project}}, workspace.subtask, full_payload=True
    )  # again: already a member, nothing changes
    validate_asana("EmptyResponse", raw["data"])
    assert workspace.state.tasks[workspace.subtask].projects == [project]

    read = workspace.tasks.get_task(workspace.subtask, {"opt_fields": TASK_FIELDS}, full_payload=True)["data"]
    validate_asana("TaskResponse", read)
    assert read["parent"]["gid"] == workspace.task
    assert [m["project"]["gid"] for m in read["memberships"]] == [project]
    assert [f["name"] for f in read["custom_fields"]] == ["V2MOM Value"]  # the project's field, empty

    written = workspace.run([workspace.put(workspace.subtask, workspace.options[1])])
    assert written[0]["status_code"] == 200
    validate_asana("TaskResponse", written[0]["body"]["data"])
    assert workspace.state.tasks[workspace.subtask].enums == {"V2MOM Value": "Care"}

    for body, status in (({"data": {"project": "404404"}}, 400), ({"data": {}}, 400)):
        with pytest.raises(ApiException) as wrong:
            workspace.tasks.add_project_for_task(body, workspace.subtask)
        assert wrong.value.status == status
        assert "project" in error_of(wrong.value)
    with pytest.raises(ApiException) as unknown:
        workspace.tasks.add_project_for_task({"data": {"project": project}}, "404404")
    assert unknown.value.status == 404
    error_of(unknown.value)


def test_a_plain_put_validates_and_refuses_an_option_of_another_field_or_a_disabled_one(
    workspace: Workspace,
) -> None:
    body = {"data": {"custom_fields": {workspace.field: workspace.options[1]}}}
    updated = workspace.tasks.update_task(
        body, workspace.task, {"opt_fields": TASK_FIELDS}, full_payload=True
    )
    validate_asana("TaskResponse", updated["data"])
    assert updated["data"]["custom_fields"][0]["enum_value"]["name"] == "Care"
    workspace.state.update_enum_option(workspace.options[0], enabled=False)
    with pytest.raises(ApiException) as disabled:
        workspace.tasks.update_task(
            {"data": {"custom_fields": {workspace.field: workspace.options[0]}}}, workspace.task, {}
        )
    assert disabled.value.status == 400
    assert "disabled" in error_of(disabled.value)
    with pytest.raises(ApiException) as foreign:
        workspace.tasks.update_task(
            {"data": {"custom_fields": {workspace.field: workspace.task}}}, workspace.task, {}
        )
    assert foreign.value.status == 400
    assert workspace.state.tasks[workspace.task].enums == {"V2MOM Value": "Care"}


def test_a_batch_holds_one_to_ten_actions(workspace: Workspace) -> None:
    for actions in ([], [workspace.put(workspace.task, None)] * 11):
        with pytest.raises(ApiException) as refused:
            workspace.batch.create_batch_request({"data": {"actions": actions}}, {}, full_payload=True)
        assert refused.value.status == 400
        assert "actions" in error_of(refused.value)
    assert len(workspace.run([workspace.put(workspace.task, None)] * 10)) == 10


def test_a_rate_limit_fails_the_entire_batch_before_any_action_runs(workspace: Workspace) -> None:
    before = workspace.state.tasks[workspace.task].modified_at
    for prefix in ("/api/1.0/batch", f"/api/1.0/tasks/{workspace.task}"):
        workspace.state.inject_fault(429, retry_after=2, path_prefix=prefix)
        with pytest.raises(ApiException) as limited:
            workspace.run([workspace.put(workspace.task, workspace.options[0])])
        assert limited.value.status == 429
        assert limited.value.headers["Retry-After"] == "2"
        error_of(limited.value)
    assert workspace.state.tasks[workspace.task].modified_at == before
    assert workspace.state.request_count("/api/1.0/batch") == 2
    assert workspace.state.request_count("/api/1.0/tasks") == 0  # actions are not HTTP requests


def test_external_attachments_are_created_listed_read_and_deleted(workspace: Workspace) -> None:
    url, name = "https://v2mom.example.com/items/asana/1", "V2MOM: why"
    opts = {  # the SDK moves the form fields out of this dict
        "resource_subtype": "external",
        "parent": workspace.task,
        "url": url,
        "name": name,
        "opt_fields": ATTACHMENT_FIELDS,
    }
    created = workspace.attachments.create_attachment_for_object(opts, full_payload=True)["data"]
    validate_asana("AttachmentResponse", created)
    assert (created["view_url"], created["parent"]["gid"]) == (url, workspace.task)
    listed = workspace.attachments.get_attachments_for_object(workspace.task, {}, full_payload=True)
    assert listed["next_page"] is None
    for record in listed["data"]:
        validate_asana("AttachmentCompact", record)
    assert [a["gid"] for a in listed["data"]] == [created["gid"]]
    read = workspace.attachments.get_attachment(created["gid"], {}, full_payload=True)["data"]
    validate_asana("AttachmentResponse", read)
    batched = workspace.run(
        [
            {
                "relative_path": "/attachments",
                "method": "get",
                "data": {"parent": workspace.task},
                "options": {"fields": ["name", "view_url"]},
            },
            {"relative_path": "/attachments", "method": "post", "data": {"parent": workspace.task}},
        ]
    )
    assert [r["status_code"] for r in batched] == [200, 400]  # uploads cannot go through /batch
    assert batched[0]["body"]["data"] == [{"gid": created["gid"], "name": name, "view_url": url}]
    deleted = workspace.run([{"relative_path": f"/attachments/{created['gid']}", "method": "delete"}])
    assert deleted[0]["status_code"] == 200
    assert deleted[0]["body"] == {"data": {}}
    validate_asana("EmptyResponse", deleted[0]["body"]["data"])
    assert workspace.state.attachments == {}
    with pytest.raises(ApiException) as missing:
        workspace.attachments.get_attachment(created["gid"], {}, full_payload=True)
    assert missing.value.status == 404
    error_of(missing.value)


def test_an_attachment_needs_an_existing_parent_and_its_fields(workspace: Workspace) -> None:
    base = {"resource_subtype": "external", "url": "https://x.test/a", "name": "a"}
    with pytest.raises(ApiException) as no_parent:
        workspace.attachments.create_attachment_for_object({**base, "parent": "1"}, full_payload=True)
    assert no_parent.value.status == 404
    with pytest.raises(ApiException) as no_url:
        workspace.attachments.create_attachment_for_object(
            {"resource_subtype": "external", "parent": workspace.task, "name": "a"}, full_payload=True
        )
    assert no_url.value.status == 400
    assert "url" in error_of(no_url.value)
