"""The sandbox answers the membership search ``(<jql>) AND id = N`` as Jira does, in Atlassian's
shapes: the issue in scope, an empty page outside it (also after a move: same id, new key), and a 400
error collection for an issue that does not exist."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.contracts import validate_jira
from v2mom.connectors.jira.parse import BASE_FIELDS
from v2mom.sandbox.generator import OUT_OF_SCOPE, generate_jira_workspace, scope_jql
from v2mom.sandbox.jira.app import create_jira_app
from v2mom.sandbox.jira.state import JiraState
from v2mom.sandbox.server import SandboxServer


@pytest.fixture
def site() -> Iterator[tuple[str, JiraState, requests.Session]]:
    state, _truth = generate_jira_workspace(seed=3, epics=10, issues=60)
    with SandboxServer(create_jira_app(state)) as url:
        session = requests.Session()
        session.auth = (state.account_email, state.api_token)
        yield url, state, session


def search(site: tuple[str, JiraState, requests.Session], jql: str) -> requests.Response:
    url, _, session = site
    return session.post(f"{url}/rest/api/3/search/jql", json={"jql": jql, "fields": BASE_FIELDS})


def test_membership_search_in_scope_moved_out_and_deleted(
    site: tuple[str, JiraState, requests.Session],
) -> None:
    _, state, _ = site
    story = min(i for i, x in state.issues.items() if x.project == "ONB" and x.type_name == "Story")
    jql = f"({scope_jql()}) AND id = {story}"
    found = search(site, jql).json()
    validate_jira("SearchAndReconcileResults", found)
    assert [i["id"] for i in found["issues"]] == [str(story)]
    validate_jira("IssueBean", found["issues"][0])
    old_key = state.issues[story].key
    new_key = state.move_issue(story, OUT_OF_SCOPE)
    assert new_key != old_key
    assert state.issues[story].id == story
    for query in (jql, f'({scope_jql()}) AND key = "{new_key}"', f'({scope_jql()}) AND key = "{old_key}"'):
        empty = search(site, query).json()
        validate_jira("SearchAndReconcileResults", empty)
        assert empty["issues"] == []
        assert empty["isLast"] is True
    state.delete_issue(story)
    refused = search(site, jql)
    assert refused.status_code == 400
    validate_jira("ErrorCollection", refused.json())
    assert f"'{story}' does not exist" in refused.json()["errorMessages"][0]


def test_id_conditions_under_or_still_match_everything_they_should(
    site: tuple[str, JiraState, requests.Session],
) -> None:
    _, state, _ = site
    onb = sorted(i for i, x in state.issues.items() if x.project == "ONB")
    plat = {str(i) for i, x in state.issues.items() if x.project == "PLAT"}
    either = search(site, f"id = {onb[0]} OR project = PLAT").json()["issues"]
    assert {i["id"] for i in either} == plat | {str(onb[0])}
    both = search(site, f"(id = {onb[0]} OR id = {onb[1]}) AND project = ONB ORDER BY id DESC").json()
    assert [i["id"] for i in both["issues"]] == [str(onb[1]), str(onb[0])]
