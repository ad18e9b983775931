"""The Jira sandbox cannot drift from the real API: its responses validate against Atlassian's spec."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.contracts import validate_jira
from v2mom.connectors.jira.parse import BASE_FIELDS
from v2mom.sandbox.generator import generate_jira_workspace, scope_jql
from v2mom.sandbox.jira.app import create_jira_app
from v2mom.sandbox.jira.state import COMPANY_POINTS, SELECT_FIELDS, TEAM_POINTS, JiraState
from v2mom.sandbox.server import SandboxServer

# What the connector asks for on every sync, plus every custom field the sandbox serves.
FIELDS = [*BASE_FIELDS, TEAM_POINTS, COMPANY_POINTS, *SELECT_FIELDS]


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[str, JiraState, requests.Session]]:
    state, _truth = generate_jira_workspace(seed=3, epics=30, issues=300)
    with SandboxServer(create_jira_app(state)) as url:
        session = requests.Session()
        session.auth = (state.account_email, state.api_token)
        yield url, state, session


def test_myself_is_a_user(site: tuple[str, JiraState, requests.Session]) -> None:
    url, state, session = site
    body = session.get(f"{url}/rest/api/3/myself").json()
    validate_jira("User", body)
    assert body["timeZone"] == state.time_zone


def test_fields_are_field_details(site: tuple[str, JiraState, requests.Session]) -> None:
    url, _, session = site
    body = session.get(f"{url}/rest/api/3/field").json()
    for field in body:
        validate_jira("FieldDetails", field)
    customs = {f["schema"].get("custom") for f in body if f["custom"]}
    assert "com.atlassian.jira.plugin.system.customfieldtypes:jsw-story-points" in customs
    assert "com.atlassian.jira.plugin.system.customfieldtypes:float" in customs


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_search_pages_are_search_results(site: tuple[str, JiraState, requests.Session], method: str) -> None:
    url, _, session = site
    jql = f"{scope_jql()} ORDER BY updated ASC, id ASC"
    if method == "GET":
        answer = session.get(f"{url}/rest/api/3/search/jql", params={"jql": jql, "fields": ",".join(FIELDS)})
    else:
        answer = session.post(
            f"{url}/rest/api/3/search/jql", json={"jql": jql, "fields": FIELDS, "maxResults": 100}
        )
    body = answer.json()
    validate_jira("SearchAndReconcileResults", body)
    assert "total" not in body
    assert body["isLast"] is False
    assert body["nextPageToken"]
    for issue in body["issues"]:
        validate_jira("IssueBean", issue)
        assert set(issue["fields"]) <= set(FIELDS)


def test_ids_only_page_and_single_issue(site: tuple[str, JiraState, requests.Session]) -> None:
    url, _, session = site
    body = session.get(f"{url}/rest/api/3/search/jql", params={"jql": scope_jql(), "maxResults": 5000}).json()
    validate_jira("SearchAndReconcileResults", body)
    assert body["isLast"] is True
    assert all(set(issue) == {"expand", "id", "key", "self"} for issue in body["issues"])
    some = body["issues"][0]["key"]
    issue = session.get(f"{url}/rest/api/3/issue/{some}", params={"fields": ",".join(FIELDS)}).json()
    validate_jira("IssueBean", issue)


def test_errors_are_error_collections(site: tuple[str, JiraState, requests.Session]) -> None:
    url, _, session = site
    missing = session.get(f"{url}/rest/api/3/issue/NOPE-1")
    assert missing.status_code == 404
    validate_jira("ErrorCollection", missing.json())
    unbounded = session.get(f"{url}/rest/api/3/search/jql", params={"jql": "updated >= '2026-01-01'"})
    assert unbounded.status_code == 400
    validate_jira("ErrorCollection", unbounded.json())
