"""The Jira Data Center sandbox cannot drift from the real API: its answers validate against
Atlassian's Data Center 10.3 OpenAPI, and it answers what Data Center answers where Cloud differs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.contracts import validate_jira, validate_jira_dc, validate_jira_dc_issue
from v2mom.sandbox.generator import generate_jira_workspace
from v2mom.sandbox.jira.app import create_jira_app
from v2mom.sandbox.jira.state import DC_EPIC_LINK, DC_EPIC_NAME, DC_POINTS, JiraState
from v2mom.sandbox.server import SandboxServer

EPIC_LINK_TYPE = "com.pyxis.greenhopper.jira:gh-epic-link"


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[str, JiraState, requests.Session]]:
    state, _truth = generate_jira_workspace(seed=3, epics=12, issues=120, deployment="datacenter")
    with SandboxServer(create_jira_app(state)) as url:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {state.api_token}"
        yield url, state, session


def test_server_info_names_the_deployment_to_anyone() -> None:
    for deployment, expected in (("datacenter", "DataCenter"), ("cloud", "Cloud")):
        state = JiraState(deployment=deployment)  # type: ignore[arg-type]
        with SandboxServer(create_jira_app(state)) as url:
            body = requests.get(f"{url}/rest/api/2/serverInfo", timeout=10).json()  # no credentials
        assert body["deploymentType"] == expected
        if deployment == "datacenter":
            validate_jira_dc("ServerInfoBean", body)
            assert body["versionNumbers"][:2] == [10, 3]
        else:
            validate_jira("ServerInformation", body)


def test_myself_is_a_user_bean_with_a_key(site: tuple[str, JiraState, requests.Session]) -> None:
    url, state, session = site
    body = session.get(f"{url}/rest/api/2/myself").json()
    validate_jira_dc("UserBean", body)
    assert body["key"] == state.account_id == "JIRAUSER10000"
    assert "accountId" not in body


def test_only_the_personal_access_token_as_bearer_is_accepted(
    site: tuple[str, JiraState, requests.Session],
) -> None:
    url, state, session = site
    basic = requests.get(f"{url}/rest/api/2/myself", auth=(state.account_email, state.api_token), timeout=10)
    wrong = requests.get(f"{url}/rest/api/2/myself", headers={"Authorization": "Bearer nope"}, timeout=10)
    assert (basic.status_code, wrong.status_code) == (401, 401)
    state.token_expired = True
    try:
        assert session.get(f"{url}/rest/api/2/myself").status_code == 401
    finally:
        state.token_expired = False
    assert session.get(f"{url}/rest/api/2/myself").status_code == 200


def test_cloud_only_routes_do_not_exist(site: tuple[str, JiraState, requests.Session]) -> None:
    url, _, session = site
    assert session.get(f"{url}/rest/api/3/myself").status_code == 404
    assert session.post(f"{url}/rest/api/3/search/jql", json={"jql": "order by id"}).status_code == 404


def test_fields_are_field_beans_with_jira_softwares_fields(
    site: tuple[str, JiraState, requests.Session],
) -> None:
    url, _, session = site
    body = session.get(f"{url}/rest/api/2/field").json()
    for field in body:
        validate_jira_dc("FieldBean", field)
    by_id = {f["id"]: f for f in body}
    assert by_id[DC_EPIC_LINK]["schema"]["custom"] == EPIC_LINK_TYPE
    assert by_id[DC_POINTS]["name"] == "Story Points"
    assert "statuscategorychangedate" not in by_id
    assert not any("jsw-story-points" in str(f["schema"]) for f in body if f["custom"])


def test_statuses_are_status_beans(site: tuple[str, JiraState, requests.Session]) -> None:
    url, _, session = site
    body = session.get(f"{url}/rest/api/2/status").json()
    assert body
    for status in body:
        validate_jira_dc("StatusJsonBean", status)
        assert status["self"].startswith(f"{url}/rest/api/2/status/")


def test_issues_link_epics_by_key_and_sub_tasks_by_parent(
    site: tuple[str, JiraState, requests.Session],
) -> None:
    url, state, session = site
    kinds: set[str] = set()
    for issue in list(state.issues.values()):
        body = session.get(f"{url}/rest/api/2/issue/{issue.id}").json()
        validate_jira_dc_issue(body)
        fields = body["fields"]
        assert "hierarchyLevel" not in fields["issuetype"]
        parent = state.issues.get(issue.parent_id) if issue.parent_id is not None else None
        if issue.type_name == "Sub-task":
            assert fields["parent"]["id"] == str(issue.parent_id)
            assert fields[DC_EPIC_LINK] is None
            kinds.add("sub-task")
        elif parent is not None and parent.type_name == "Epic":
            assert fields[DC_EPIC_LINK] == parent.key
            assert "parent" not in fields or fields["parent"] is None
            kinds.add("story under an epic")
        if issue.type_name == "Epic":
            assert fields[DC_EPIC_NAME] == issue.summary
            kinds.add("epic")
        if issue.assignee is not None:
            assert fields["assignee"]["key"] == issue.assignee
        assert fields["description"] == (issue.description or None)
    assert kinds == {"sub-task", "story under an epic", "epic"}
