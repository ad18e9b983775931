"""The Jira Data Center sandbox's search and worklog feeds answer as Data Center 10.3 does: every
answer validates against Atlassian's Data Center OpenAPI, and pages, totals, caps, expanded
changelogs, worklog feeds and refusals behave as the real server's."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import requests

from tests.contracts import validate_jira_dc
from v2mom.sandbox.generator import DEFAULT_NOW, generate_jira_workspace, scope_jql
from v2mom.sandbox.jira.app import create_jira_app
from v2mom.sandbox.jira.state import JiraState, SearchCall
from v2mom.sandbox.server import SandboxServer

SEARCH = "/rest/api/2/search"
ORDERED = f"{scope_jql()} ORDER BY updated ASC, id ASC"
Site = tuple[str, JiraState, requests.Session]


@pytest.fixture
def site() -> Iterator[Site]:
    state, _truth = generate_jira_workspace(seed=3, epics=8, issues=90, deployment="datacenter")
    with SandboxServer(create_jira_app(state)) as url:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {state.api_token}"
        yield url, state, session


def search(site: Site, method: str = "POST", **params: Any) -> requests.Response:
    url, _, session = site
    if method == "GET":
        return session.get(f"{url}{SEARCH}", params=params)
    return session.post(f"{url}{SEARCH}", json=params)


def in_scope(state: JiraState) -> list[str]:
    live = [i for i in state.issues.values() if i.project != "LEGACY"]
    return [str(i.id) for i in sorted(live, key=lambda i: i.order)]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_offset_pages_with_a_total_cover_the_ordered_listing(site: Site, method: str) -> None:
    _, state, _ = site
    served: list[str] = []
    start = 0
    while True:
        body = search(
            site, method, jql=ORDERED, startAt=start, maxResults=25, fields="summary,updated"
        ).json()
        validate_jira_dc("SearchResultsBean", body)
        assert (body["startAt"], body["maxResults"], body["total"]) == (start, 25, len(in_scope(state)))
        served += [issue["id"] for issue in body["issues"]]
        assert all(set(issue["fields"]) == {"summary", "updated"} for issue in body["issues"])
        start += len(body["issues"])
        if not body["issues"] or start >= body["total"]:
            break
    assert served == in_scope(state)


def test_the_page_defaults_to_50_and_never_exceeds_the_sites_maximum(site: Site) -> None:
    _, state, _ = site
    assert state.search_max == 1000  # Data Center's jira.search.views.default.max
    default = search(site, jql=ORDERED, fields=["id"]).json()
    assert (default["maxResults"], len(default["issues"])) == (50, 50)
    state.search_max = 20  # an administrator lowered it: what is asked does not matter
    capped = search(site, jql=ORDERED, maxResults=5000, fields=["id"]).json()
    validate_jira_dc("SearchResultsBean", capped)
    assert (capped["maxResults"], len(capped["issues"])) == (20, 20)
    counted = search(site, jql=ORDERED, maxResults=0).json()
    assert (counted["issues"], counted["total"]) == ([], len(in_scope(state)))


def test_an_issue_updated_between_two_pages_moves_and_shifts_the_later_pages(site: Site) -> None:
    _, state, _ = site
    before = in_scope(state)
    first = search(site, jql=ORDERED, maxResults=10, fields=["id"]).json()
    state.update_issue(int(first["issues"][2]["id"]), summary="edited")  # jumps to the end
    second = search(site, jql=ORDERED, startAt=10, maxResults=10, fields=["id"]).json()
    assert [i["id"] for i in second["issues"]] == before[11:21]  # before[10] is skipped: real Jira too
    assert in_scope(state)[-1] == first["issues"][2]["id"]


def test_each_search_calls_the_states_hooks_with_its_start(site: Site) -> None:
    _, state, _ = site
    seen: list[int] = []

    def hook(call: SearchCall) -> int | None:
        seen.append(call.start_at)
        return 503 if call.start_at > 5 else None

    state.search_hooks.append(hook)
    refused = search(site, jql=ORDERED, startAt=7, fields=["id"])
    assert refused.status_code == 503
    assert search(site, "GET", jql=ORDERED, startAt=3, fields="id").status_code == 200
    assert seen == [7, 3]


def test_issue_keys_and_ids_that_do_not_exist_are_warnings_only_when_validation_is_off(site: Site) -> None:
    _, state, _ = site
    epic = next(i for i in state.issues.values() if i.type_name == "Epic")
    jql = f'issuekey in ("{epic.key}", "NOPE-404") OR id in (999999)'
    refused = search(site, jql=jql)
    assert refused.status_code == 400
    assert "NOPE-404" in refused.json()["errorMessages"][0]
    for method, off in (("POST", False), ("GET", "false")):
        body = search(site, method, jql=jql, validateQuery=off, fields=["id"]).json()
        validate_jira_dc("SearchResultsBean", body)
        assert [i["key"] for i in body["issues"]] == [epic.key]
        assert any("NOPE-404" in w for w in body["warningMessages"])
        assert any("999999" in w for w in body["warningMessages"])


def test_a_project_the_site_lacks_is_refused_unless_validation_is_off(site: Site) -> None:
    refused = search(site, jql="project in (ONB, NOPE)")
    assert refused.status_code == 400
    assert "'NOPE' does not exist for the field 'project'" in refused.json()["errorMessages"][0]
    lenient = search(site, jql="project = NOPE", validateQuery=False).json()
    validate_jira_dc("SearchResultsBean", lenient)
    assert (lenient["total"], len(lenient["warningMessages"])) == (0, 1)


def test_an_unbounded_query_is_taken(site: Site) -> None:
    _, state, _ = site
    body = search(site, jql="ORDER BY id ASC", maxResults=0).json()
    assert body["total"] == len(state.issues)  # Data Center has no bounded-JQL rule


@pytest.mark.parametrize("negated", [True, False], ids=["is not EMPTY", "is NULL"])
def test_a_custom_field_is_asked_whether_it_holds_a_value(site: Site, negated: bool) -> None:
    _, state, _ = site
    jql = f"{scope_jql()} AND cf[10009] is {'not EMPTY' if negated else 'NULL'} ORDER BY id ASC"
    body = search(site, jql=jql, fields=["id"], maxResults=1000).json()
    validate_jira_dc("SearchResultsBean", body)
    epics = {str(i.id) for i in state.issues.values() if i.project != "LEGACY" and i.type_name == "Epic"}
    found = {issue["id"] for issue in body["issues"]}
    assert found
    assert found == (epics if negated else set(in_scope(state)) - epics)  # Epic Name: epics only


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ({"jql": "project = ONB AND"}, "ended unexpectedly"),
        ({"jql": "sprint = 1"}, "sprint"),
        ({"jql": "project = ONB AND summary is EMPTY"}, "'summary'"),
        ({"jql": "project = ONB AND cf[10009] is FULL"}, "Expecting 'EMPTY'"),
        ({"jql": ORDERED, "startAt": "ten"}, "startAt must be a number"),
        ({"jql": ORDERED, "maxResults": True}, "maxResults must be a number"),
        ({"jql": ORDERED, "startAt": -1}, "must not be negative"),
    ],
)
def test_bad_queries_and_numbers_are_400s_naming_the_problem(
    site: Site, params: dict[str, Any], problem: str
) -> None:
    answer = search(site, **params)
    assert answer.status_code == 400
    assert problem in answer.json()["errorMessages"][0]


def test_a_search_needs_the_personal_access_token_as_bearer(site: Site) -> None:
    url, state, _ = site
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {state.api_token}"}):
        answer = requests.post(f"{url}{SEARCH}", json={"jql": ORDERED}, headers=headers, timeout=10)
        assert answer.status_code == 401


def test_expand_changelog_puts_each_issues_history_in_it(site: Site) -> None:
    _, state, _ = site
    body = search(site, jql=ORDERED, maxResults=100, fields=["status"], expand=["changelog"]).json()
    validate_jira_dc("SearchResultsBean", body)
    assignees = 0
    for issue in body["issues"]:
        validate_jira_dc("ChangelogBean", issue["changelog"])
        groups = state.issues[int(issue["id"])].changelog
        histories = issue["changelog"]["histories"]
        assert issue["changelog"]["total"] == len(groups) == len(histories)
        assert [h["id"] for h in histories] == [str(g.id) for g in groups]
        for history in histories:
            validate_jira_dc("ChangeHistoryBean", history)
            for item in history["items"]:
                assert "fieldId" not in item  # Data Center's ChangeItemBean names the field only
                if item["field"] == "assignee":
                    assignees += 1
                    assert {item.get("from"), item.get("to")} - {None} <= set(state.people)  # user keys
    assert assignees > 0
    assert "changelog" not in search(site, jql=ORDERED, fields=["status"]).json()["issues"][0]


def test_a_search_may_serve_part_of_a_changelog_and_the_issue_serves_all_of_it(site: Site) -> None:
    url, state, session = site
    state.search_changelog_max = 2
    body = search(site, jql=ORDERED, maxResults=100, fields=["status"], expand="changelog").json()
    long = next(i for i in body["issues"] if i["changelog"]["total"] > 2)
    assert len(long["changelog"]["histories"]) == 2
    whole = session.get(f"{url}/rest/api/2/issue/{long['id']}", params={"expand": "changelog"}).json()
    validate_jira_dc("IssueBean", whole)
    assert len(whole["changelog"]["histories"]) == whole["changelog"]["total"] == long["changelog"]["total"]


def test_worklogs_feed_their_changes_and_name_their_issues(site: Site) -> None:
    url, state, session = site
    story = min(i for i, x in state.issues.items() if x.type_name == "Story")
    since = int((DEFAULT_NOW - timedelta(minutes=1)).timestamp() * 1000)
    state.worklog_page = 2
    logged = [state.add_worklog(story, 1800 * n) for n in (1, 2, 3)]
    pages = []
    following = f"{url}/rest/api/2/worklog/updated?since={since}"
    while following:
        page = session.get(following).json()
        validate_jira_dc("WorklogChangedSinceBean", page)
        pages.append(page)
        following = page.get("nextPage") if not page["lastPage"] else None
    assert [len(p["values"]) for p in pages] == [2, 2]  # pages chained by time repeat the boundary
    assert {v["worklogId"] for p in pages for v in p["values"]} == set(logged)
    listed = session.post(f"{url}/rest/api/2/worklog/list", json={"ids": [*logged, 1]}).json()
    validate_jira_dc("worklog", listed)
    assert {(w["issueId"], w["timeSpentSeconds"]) for w in listed} == {
        (str(story), 1800 * n) for n in (1, 2, 3)
    }
    too_many = session.post(f"{url}/rest/api/2/worklog/list", json={"ids": list(range(1001))})
    assert too_many.status_code == 400
    state.delete_worklog(logged[0])
    deleted = session.get(f"{url}/rest/api/2/worklog/deleted", params={"since": since}).json()
    validate_jira_dc("WorklogChangedSinceBean", deleted)
    assert [v["worklogId"] for v in deleted["values"]] == [logged[0]]
    assert session.get(f"{url}/rest/api/2/worklog/updated", params={"since": "soon"}).status_code == 400


def test_an_app_changes_logged_time_without_moving_updated_and_jira_itself_moves_it(site: Site) -> None:
    _, state, _ = site
    story = state.issues[min(i for i, x in state.issues.items() if x.type_name == "Story")]
    spent, updated = story.timespent or 0, story.updated
    worklog = state.add_worklog(story.id, 3600, by_app=True)
    assert (story.timespent, story.updated) == (spent + 3600, updated)
    state.change_worklog(worklog, 7200, by_app=True)
    assert (story.timespent, story.updated) == (spent + 7200, updated)
    state.add_worklog(story.id, 600)
    assert story.timespent == spent + 7800
    assert story.updated > updated
