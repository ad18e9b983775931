"""Asana tags through the real path: connector -> asana SDK (urllib3) -> sandbox.

After provisioning, values and methods are written into the ``V2MOM Value`` / ``V2MOM Method`` enum
fields through ``/batch`` (10 tasks a request) and read back by ``get_item``; refusals name their
task while the rest are written; rate limits are retried. Request counts are asserted, never time.
"""

from __future__ import annotations

import pytest

from tests.connectors.asana.conftest import TASKS, Workspace
from tests.connectors.asana.test_vocabulary import PLAN
from v2mom.connectors.asana.connector import AsanaConnector
from v2mom.connectors.asana.tags import FieldsNotProvisioned
from v2mom.connectors.base import TagWriter
from v2mom.errors import AuthError
from v2mom.sandbox.asana.app import create_asana_app
from v2mom.sandbox.asana.generator import asana_settings
from v2mom.sandbox.asana.state import AsanaState, Task
from v2mom.sandbox.server import SandboxServer
from v2mom.settings import SyncSettings
from v2mom.vocabulary import TagWrite


def test_values_and_methods_reach_500_tasks_in_batches_of_ten(workspace: Workspace) -> None:
    connector = workspace.connector()
    assert isinstance(connector, TagWriter)
    writes = [
        workspace.tag(gid, "reliability" if n % 2 else "customer-first", "slo-program")
        for n, gid in enumerate(workspace.tasks)
    ]
    try:
        outcomes = connector.write_tags(writes)
    finally:
        connector.close()
    assert [o.item_id for o in outcomes] == workspace.tasks
    assert all(o.ok for o in outcomes), [o.error for o in outcomes if not o.ok][:3]
    assert connector.calls.calls["batch"] == TASKS // 10
    per_item = connector.calls.total / TASKS
    assert per_item <= 0.11, connector.calls.calls
    names = {v.id: v.name for v in PLAN.values}
    for n, gid in enumerate(workspace.tasks):
        value = "reliability" if n % 2 else "customer-first"
        assert workspace.state.tasks[gid].enums == {
            "V2MOM Value": names[value],
            "V2MOM Method": "SLO program",
        }
    for n, gid in list(enumerate(workspace.tasks))[::50]:  # and as the connector reads a task
        value = "reliability" if n % 2 else "customer-first"
        assert workspace.fields(gid) == {"V2MOM Value": (names[value],), "V2MOM Method": ("SLO program",)}


def test_a_kind_is_cleared_with_none_and_an_absent_kind_is_left_alone(workspace: Workspace) -> None:
    gid = workspace.tasks[0]
    connector = workspace.connector()
    try:
        assert connector.write_tags([workspace.tag(gid)])[0].ok
        assert connector.write_tags([workspace.tag(gid, value="", method=None)])[0].ok
        assert workspace.fields(gid) == {"V2MOM Method": ("SLO program",)}
        assert connector.write_tags([workspace.tag(gid, value=None, method="")])[0].ok
        assert connector.calls.calls["custom_fields"] == 1  # the field gids are kept by the connector
    finally:
        connector.close()
    assert workspace.fields(gid) == {}


def test_a_subtask_added_to_a_configured_project_takes_its_fields(workspace: Workspace) -> None:
    parent = workspace.tasks[4]
    (project,) = workspace.state.tasks[parent].projects
    inside = workspace.state.add_task("In the project too", parent=parent)
    outside = workspace.state.add_task("Only under its parent", parent=parent)
    workspace.state.add_to_project(inside, project)
    connector = workspace.connector()
    try:
        read = connector.get_item(inside)
        assert (read.parent_id, read.container, read.member_of) == (parent, None, project)
        assert connector.get_item(outside).member_of is None
        outcomes = connector.write_tags([workspace.tag(inside), workspace.tag(outside)])
    finally:
        connector.close()
    assert outcomes[0].ok
    assert workspace.fields(inside) == {"V2MOM Value": ("Reliability",), "V2MOM Method": ("SLO program",)}
    assert outcomes[1].unsupported
    assert "a subtask outside every project" in str(outcomes[1].error)
    assert workspace.state.tasks[outside].enums == {}


def test_refused_tasks_are_named_and_the_others_are_written(workspace: Workspace) -> None:
    gone, subtask = workspace.tasks[3], workspace.state.add_task("A piece", parent=workspace.tasks[4])
    locked = workspace.tasks[7]
    workspace.state.delete_task(gone)
    workspace.state.inject_fault(403, path_prefix=f"/api/1.0/tasks/{locked}")  # no permission on it
    writes = [workspace.tag(gid) for gid in [*workspace.tasks[:12], subtask]]
    connector = workspace.connector()
    try:
        outcomes = connector.write_tags(writes)
    finally:
        connector.close()
    failed = {o.item_id: o.error for o in outcomes if not o.ok}
    assert set(failed) == {gone, subtask, locked}
    assert f"task T-{locked} ({locked}): HTTP 403" in str(failed[locked])
    assert f"task T-{gone} ({gone}): HTTP 404" in str(failed[gone])
    assert f"task T-{subtask} ({subtask}): HTTP 400" in str(failed[subtask])
    assert "on none of the task's projects" in str(failed[subtask])
    written = [gid for gid in workspace.tasks[:12] if gid not in (gone, locked)]
    assert all(workspace.state.tasks[g].enums["V2MOM Method"] == "SLO program" for g in written)
    assert workspace.state.tasks[subtask].enums == {}


def test_rate_limits_are_retried_and_the_writes_land(workspace: Workspace) -> None:
    first, slow = workspace.tasks[0], workspace.tasks[15]
    workspace.state.inject_fault(429, retry_after=1, path_prefix="/api/1.0/batch")  # the batch itself
    workspace.state.inject_fault(429, retry_after=1, path_prefix=f"/api/1.0/tasks/{first}")  # an action
    workspace.state.inject_fault(503, path_prefix=f"/api/1.0/tasks/{slow}")  # one action of a batch
    connector = workspace.connector(retries=3)
    try:
        outcomes = connector.write_tags([workspace.tag(gid) for gid in workspace.tasks[:20]])
    finally:
        connector.close()
    assert all(o.ok for o in outcomes), [o.error for o in outcomes if not o.ok]
    assert connector.calls.calls["batch"] == 2 + 3  # two batches, two 429s, one action sent again
    assert all(workspace.state.tasks[g].enums["V2MOM Method"] == "SLO program" for g in workspace.tasks[:20])
    assert workspace.state.faults == []


def test_a_write_fires_a_changed_event(workspace: Workspace) -> None:
    seen: list[tuple[str, str]] = []

    def listener(action: str, task: Task) -> None:
        seen.append((action, task.gid))

    workspace.state.listeners.append(listener)
    connector = workspace.connector()
    try:
        connector.write_tags([workspace.tag(workspace.tasks[1])])
    finally:
        connector.close()
    assert seen == [("changed", workspace.tasks[1])]


def test_missing_fields_and_a_bad_token_fail_the_whole_run(workspace: Workspace) -> None:
    bare = AsanaState(default_fields=False)
    project = bare.add_project("Empty")
    task = bare.add_task("Lonely", projects=[project])
    with SandboxServer(create_asana_app(bare)) as url:
        connector = AsanaConnector(asana_settings(bare, url, [project]), SyncSettings(max_retries=0))
        try:
            with pytest.raises(FieldsNotProvisioned, match=r"V2MOM Value.*v2mom trackers provision --apply"):
                connector.write_tags([TagWrite(task, "L-1", {"value": "1"})])
        finally:
            connector.close()
    connector = workspace.connector(token="wrong")
    try:
        with pytest.raises(AuthError):
            connector.write_tags([workspace.tag(workspace.tasks[0])])
        with pytest.raises(AuthError):
            connector.write_links([workspace.link(workspace.tasks[0])])
    finally:
        connector.close()


def test_a_team_made_multi_enum_field_gets_a_one_option_list() -> None:
    state = AsanaState()  # the default fields: V2MOM Value is a multi_enum there
    project = state.add_project("Legacy")
    task = state.add_task("Old", projects=[project])
    option = state.custom_fields["V2MOM Value"].option_named("reliability")
    assert option is not None
    with SandboxServer(create_asana_app(state)) as url:
        connector = AsanaConnector(asana_settings(state, url, [project]), SyncSettings(max_retries=0))
        try:
            assert connector.write_tags([TagWrite(task, "L-1", {"value": option.gid})])[0].ok
            assert connector.get_item(task).custom_fields["V2MOM Value"] == ("reliability",)
        finally:
            connector.close()
