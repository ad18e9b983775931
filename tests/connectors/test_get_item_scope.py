"""``get_item`` answers only for items in the configured scope, for each tracker, through the real
clients and the sandboxes: the item when in scope, OutOfScopeError (a NotFoundError) when outside,
NotFoundError when gone; and what each check costs in requests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from v2mom.connectors.asana.connector import AsanaConnector
from v2mom.connectors.errors import OutOfScopeError
from v2mom.connectors.jira.connector import JiraConnector
from v2mom.connectors.linear.connector import LinearConnector
from v2mom.errors import FatalError, NotFoundError
from v2mom.sandbox.asana.app import create_asana_app
from v2mom.sandbox.asana.generator import asana_settings, generate_asana_workspace
from v2mom.sandbox.asana.state import AsanaState
from v2mom.sandbox.generator import OUT_OF_SCOPE, generate_jira_workspace, jira_settings
from v2mom.sandbox.jira.app import create_jira_app
from v2mom.sandbox.jira.state import JiraState
from v2mom.sandbox.linear.app import create_linear_app
from v2mom.sandbox.linear.generator import generate_linear_workspace, linear_settings
from v2mom.sandbox.linear.state import LinearState
from v2mom.sandbox.server import SandboxServer
from v2mom.store.database import Database
from v2mom.sync.runner import sync_tracker

# -- Jira -------------------------------------------------------------------------------------


@pytest.fixture(params=["cloud", "datacenter"])
def jira(request: pytest.FixtureRequest) -> Iterator[tuple[JiraState, JiraConnector]]:
    state, _ = generate_jira_workspace(seed=3, epics=10, issues=60, deployment=request.param)
    with SandboxServer(create_jira_app(state)) as url:
        connector = JiraConnector(jira_settings(state, url))
        connector.discover()
        yield state, connector
        connector.close()


def in_project(state: JiraState, project: str) -> int:
    return min(i for i, x in state.issues.items() if x.project == project and x.type_name == "Story")


def test_jira_in_scope_issue_costs_one_search(jira: tuple[JiraState, JiraConnector]) -> None:
    """On Data Center, an Epic Link names a key: the first issue under an epic costs one lookup."""
    state, connector = jira
    epic = min(
        e
        for e, x in state.issues.items()
        if x.type_name == "Epic"
        and x.project == "ONB"
        and sum(1 for i in state.issues.values() if i.parent_id == e and i.type_name == "Story") > 1
    )
    story, sibling = sorted(
        i for i, x in state.issues.items() if x.parent_id == epic and x.type_name == "Story"
    )[:2]
    for issue, lookups in ((story, 1), (sibling, 0)):
        before = dict(connector.calls.calls)
        item = connector.get_item(str(issue))
        assert (item.id, item.key, item.parent_id) == (str(issue), state.issues[issue].key, str(epic))
        spent = {k: v - before.get(k, 0) for k, v in connector.calls.calls.items() if v != before.get(k, 0)}
        assert spent == {"issue": 1} | ({"epic-key": lookups} if state.datacenter and lookups else {})
    search = "/rest/api/2/search" if state.datacenter else "/rest/api/3/search/jql"
    assert state.request_count(search) >= 2


def test_jira_issue_outside_the_jql_and_moved_out_is_out_of_scope(
    jira: tuple[JiraState, JiraConnector],
) -> None:
    state, connector = jira
    with pytest.raises(OutOfScopeError):
        connector.get_item(str(min(i for i, x in state.issues.items() if x.project == OUT_OF_SCOPE)))
    story = in_project(state, "PLAT")
    old_key = state.issues[story].key
    new_key = state.move_issue(story, OUT_OF_SCOPE)
    for ref in (str(story), new_key, old_key):
        with pytest.raises(OutOfScopeError) as raised:
            connector.get_item(ref)
        assert not raised.value.cascade  # a Jira issue's children carry their own project
    state.move_issue(story, "PLAT")
    assert connector.get_item(str(story)).id == str(story)


def test_jira_deleted_issue_is_not_found_not_a_rejected_query(jira: tuple[JiraState, JiraConnector]) -> None:
    state, connector = jira
    story = in_project(state, "MOB")
    state.delete_issue(story)
    with pytest.raises(NotFoundError) as raised:
        connector.get_item(str(story))
    assert not isinstance(raised.value, OutOfScopeError)  # told apart through /issue/{id}: a 404
    with pytest.raises(FatalError):
        connector.get_item('1 OR project = "LEGACY"')  # never put into JQL


CLOUD_ONLY = pytest.mark.parametrize("jira", ["cloud"], indirect=True)  # the same JQL on both


@CLOUD_ONLY
def test_jira_membership_jql_names_the_issue_inside_the_scope(jira: tuple[JiraState, JiraConnector]) -> None:
    _, connector = jira
    assert connector.membership_jql("10042") == f"({connector.scope}) AND id = 10042"
    assert connector.membership_jql("onb-7") == f'({connector.scope}) AND key = "ONB-7"'


@CLOUD_ONLY
@pytest.mark.parametrize("ref", ["١٢", "²", "12\n", " 12"])
def test_jira_membership_jql_takes_only_ascii_digits_as_an_id(
    jira: tuple[JiraState, JiraConnector], ref: str
) -> None:
    # str.isdigit() takes these; int() read "١٢" as issue 12 and failed on "²" with a bare ValueError.
    _, connector = jira
    with pytest.raises(FatalError, match="neither an issue id nor an issue key"):
        connector.membership_jql(ref)


# -- Linear -----------------------------------------------------------------------------------


@pytest.fixture
def linear() -> Iterator[tuple[LinearState, LinearConnector]]:
    state, _ = generate_linear_workspace(seed=5, projects=4, issues=60)
    with SandboxServer(create_linear_app(state)) as url:
        connector = LinearConnector(linear_settings(state, url))
        yield state, connector
        connector.close()


def test_linear_issue_moved_to_another_team_and_back(linear: tuple[LinearState, LinearConnector]) -> None:
    state, connector = linear
    issue = min(i for i, x in state.issues.items() if x.team_key == "ENG" and not x.removed)
    assert connector.get_item(issue).key == state.issues[issue].identifier
    new_identifier = state.move_issue(issue, "OPS")
    assert new_identifier.startswith("OPS-")
    with pytest.raises(OutOfScopeError):
        connector.get_item(issue)
    state.move_issue(issue, "WEB")
    assert connector.get_item(issue).container == "WEB"


def test_linear_project_of_another_team_is_out_of_scope(linear: tuple[LinearState, LinearConnector]) -> None:
    state, connector = linear
    ops = next(p for p, x in state.projects.items() if x.team_key == "OPS")
    eng = next(p for p, x in state.projects.items() if x.team_key == "ENG" and not x.removed)
    with pytest.raises(OutOfScopeError):
        connector.get_item(ops)
    assert connector.get_item(eng).id == eng


# -- Asana ------------------------------------------------------------------------------------


@pytest.fixture
def asana() -> Iterator[tuple[AsanaState, AsanaConnector, list[str]]]:
    state, truth = generate_asana_workspace(seed=8, tasks=80)
    with SandboxServer(create_asana_app(state)) as url:
        connector = AsanaConnector(asana_settings(state, url, truth.projects))
        yield state, connector, truth.projects
        connector.close()


def homed_once(state: AsanaState, scope: list[str], *, with_subtasks: bool) -> str:
    return min(
        g
        for g, t in state.tasks.items()
        if t.parent is None
        and len(t.projects) == 1
        and t.projects[0] in scope
        and bool(state.children.get(g)) == with_subtasks
    )


def test_asana_task_removed_from_its_project_takes_its_subtasks_out(
    asana: tuple[AsanaState, AsanaConnector, list[str]],
) -> None:
    state, connector, scope = asana
    task = homed_once(state, scope, with_subtasks=True)
    subtask = state.children[task][0]
    assert connector.get_item(subtask).parent_id == task
    state.remove_from_project(task, state.tasks[task].projects[0])
    for gid in (task, subtask):
        with pytest.raises(OutOfScopeError) as raised:
            connector.get_item(gid)
        assert raised.value.cascade  # the subtasks were in scope through it
    legacy_task = min(g for g, t in state.tasks.items() if t.projects and not set(t.projects) & set(scope))
    with pytest.raises(OutOfScopeError):
        connector.get_item(legacy_task)


def test_asana_subtask_that_is_itself_a_member_stays_in_scope(
    asana: tuple[AsanaState, AsanaConnector, list[str]],
) -> None:
    state, connector, scope = asana
    parent = min(g for g, t in state.tasks.items() if t.projects and not set(t.projects) & set(scope))
    member = state.add_task("Subtask homed in scope", parent=parent, projects=[scope[0]])
    assert connector.get_item(member).id == member
    state.remove_from_project(member, scope[0])
    with pytest.raises(OutOfScopeError):
        connector.get_item(member)


def test_asana_incremental_sync_does_not_bring_back_a_removed_task(
    asana: tuple[AsanaState, AsanaConnector, list[str]], store: Database
) -> None:
    state, connector, scope = asana
    assert sync_tracker(store, connector, full=True).ok
    task = homed_once(state, scope, with_subtasks=False)
    assert task in store.items.live_ids("asana")
    state.remove_from_project(task, state.tasks[task].projects[0])  # an event of the project it left
    result = sync_tracker(store, connector, census=False)
    assert result.ok
    assert task in result.changed_ids
    assert task not in store.items.live_ids("asana")
