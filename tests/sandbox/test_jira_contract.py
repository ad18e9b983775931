"""The Jira sandbox cannot drift from the real API: its responses validate against Atlassian's spec."""

from __future__ import annotations

import itertools
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


def test_issues_serve_their_assignee_as_a_user(site: tuple[str, JiraState, requests.Session]) -> None:
    url, state, session = site
    body = session.post(
        f"{url}/rest/api/3/search/jql", json={"jql": scope_jql(), "fields": FIELDS, "maxResults": 100}
    ).json()
    served: dict[int, str | None] = {}
    for issue in body["issues"]:
        user = issue["fields"]["assignee"]
        if user is not None:
            validate_jira("UserDetails", user)
        served[int(issue["id"])] = user["accountId"] if user is not None else None
    assert served == {i: state.issues[i].assignee for i in served}
    assert None in served.values()  # unassigned issues: null, as Jira serves them
    assert len({a for a in served.values() if a is not None}) > 1


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


def test_statuses_are_status_details_with_the_categories_issues_show(
    site: tuple[str, JiraState, requests.Session],
) -> None:
    url, _, session = site
    body = session.get(f"{url}/rest/api/3/status").json()
    for status in body:
        validate_jira("StatusDetails", status)
    categories = {s["id"]: s["statusCategory"]["key"] for s in body}
    issue = session.get(f"{url}/rest/api/3/issue/ONB-1", params={"fields": "status"}).json()
    status = issue["fields"]["status"]
    assert categories[status["id"]] == status["statusCategory"]["key"]
    assert set(categories.values()) == {"new", "indeterminate", "done"}


def bulkfetch(site: tuple[str, JiraState, requests.Session], body: dict[str, object]) -> requests.Response:
    url, _, session = site
    return session.post(f"{url}/rest/api/3/changelog/bulkfetch", json=body)


def test_changelogs_are_bulk_changelog_pages_of_status_and_assignee_changes(
    site: tuple[str, JiraState, requests.Session],
) -> None:
    url, state, session = site
    ids = [str(i) for i in sorted(state.issues)[:60]]
    statuses = {s["id"] for s in session.get(f"{url}/rest/api/3/status").json()}
    seen: list[tuple[str, str]] = []
    page_times: list[list[str]] = []
    token: str | None = None
    pages = 0
    while True:
        body: dict[str, object] = {
            "issueIdsOrKeys": ids,
            "fieldIds": ["status", "assignee"],
            "maxResults": 25,
        }
        if token is not None:
            body["nextPageToken"] = token
        validate_jira("BulkChangelogRequestBean", body)
        answer = bulkfetch(site, body)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        validate_jira("BulkChangelogResponseBean", page)
        pages += 1
        assert sum(len(log["changeHistories"]) for log in page["issueChangeLogs"]) <= 25
        page_times.append([])
        for log in page["issueChangeLogs"]:
            times = [history["created"] for history in log["changeHistories"]]
            assert times == sorted(times)  # an issue's changes, oldest first
            page_times[-1].extend(times)
            for history in log["changeHistories"]:
                seen.append((log["issueId"], history["id"]))
                for item in history["items"]:
                    assert item["fieldId"] in ("status", "assignee")  # the resolution change is left out
                    if item["fieldId"] == "status":
                        assert {item["from"], item["to"]} <= statuses
                    else:
                        assert item.get("to") is None or item["to"] in state.people
        token = page.get("nextPageToken")
        if token is None:
            break
    assert pages > 2
    assert len(seen) == len(set(seen))
    for earlier, later in itertools.pairwise(page_times):
        assert max(earlier) <= min(later)  # a page holds the oldest changes not served yet
    expected = {
        (str(issue.id), str(group.id))
        for issue in (state.issues[int(i)] for i in ids)
        for group in issue.changelog
        if any(c.field_id in ("status", "assignee") for c in group.items)
    }
    assert set(seen) == expected


def test_a_changelog_request_jira_refuses_is_an_error_collection(
    site: tuple[str, JiraState, requests.Session],
) -> None:
    too_many = bulkfetch(site, {"issueIdsOrKeys": [str(n) for n in range(1001)]})
    assert too_many.status_code == 400
    validate_jira("ErrorCollection", too_many.json())
    assert "between 1 and 1000" in too_many.json()["errorMessages"][0]
    foreign = bulkfetch(site, {"issueIdsOrKeys": ["ONB-1"], "nextPageToken": "bm9wZQ=="})
    assert foreign.status_code == 400
    assert "token" in foreign.json()["errorMessages"][0]
