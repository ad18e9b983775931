"""Each connector's loop guard through its real path: the vendor SDK, HTTP on 127.0.0.1 and the
tracker's sandbox, whose answers are edited to hand back the page token the request sent."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.connectors.rewrite import RewriteAnswers
from v2mom.connectors.asana import connector as asana_connector
from v2mom.connectors.asana.connector import AsanaConnector
from v2mom.connectors.jira.connector import JiraConnector
from v2mom.connectors.linear.connector import LinearConnector
from v2mom.errors import FatalError
from v2mom.sandbox.asana.app import create_asana_app
from v2mom.sandbox.asana.generator import asana_settings, generate_asana_workspace
from v2mom.sandbox.generator import generate_jira_workspace, jira_settings
from v2mom.sandbox.jira.app import create_jira_app
from v2mom.sandbox.linear.app import create_linear_app
from v2mom.sandbox.linear.generator import generate_linear_workspace, linear_settings
from v2mom.sandbox.server import SandboxServer
from v2mom.settings import SyncSettings

NO_RETRIES = SyncSettings(max_retries=0)
SINCE = datetime(2000, 1, 1, tzinfo=UTC)  # incremental runs: the Events API is read


def _operation(request: Any) -> str:
    """The GraphQL operation a Linear request runs ("query Projects(..." -> "Projects")."""
    query = request.get("query", "") if isinstance(request, Mapping) else ""
    for line in query.splitlines():
        if line.startswith("query "):
            return line.split()[1].split("(")[0]
    return ""


def test_jira_search_fails_on_a_repeated_next_page_token() -> None:
    state, _ = generate_jira_workspace(seed=3, epics=4, issues=60)
    echoed: list[str] = []

    def repeat_token(path: str, query: Mapping[str, str], request: Any, answer: Any) -> Any:
        token = request.get("nextPageToken") if isinstance(request, Mapping) else None
        if path.endswith("/search/jql") and token:
            echoed.append(token)
            return {**answer, "nextPageToken": token, "isLast": False}
        return answer

    with SandboxServer(RewriteAnswers(create_jira_app(state), repeat_token)) as url:
        connector = JiraConnector(jira_settings(state, url, page_size=10), NO_RETRIES, sleep=lambda _: None)
        pages = connector.iter_pages(None)
        first, second = next(pages), next(pages)  # the page that repeated its token is still handed on
        with pytest.raises(FatalError) as caught:
            next(pages)
        connector.close()
    assert len(first.items) == 10
    assert len(second.items) == 10
    assert len(echoed) == 1
    message = str(caught.value)
    assert caught.value.tracker == "jira"
    assert message.startswith("jira: paginator loop: search returned the same nextPageToken")
    assert echoed[0][:40] in message


def test_jira_datacenter_search_fails_when_its_offset_pages_stop_moving() -> None:
    """A Data Center that answers every ``startAt`` with the first page (a broken proxy)."""
    state, _ = generate_jira_workspace(seed=3, epics=4, issues=60, deployment="datacenter")
    first_page: list[Any] = []

    def ignore_start(path: str, query: Mapping[str, str], request: Any, answer: Any) -> Any:
        if (
            path.endswith("/rest/api/2/search")
            and isinstance(request, Mapping)
            and "updated" in request["jql"]
        ):
            first_page.append(answer) if not first_page else None
            return {**first_page[0], "startAt": request.get("startAt", 0)}
        return answer

    with SandboxServer(RewriteAnswers(create_jira_app(state), ignore_start)) as url:
        connector = JiraConnector(jira_settings(state, url, page_size=10), NO_RETRIES, sleep=lambda _: None)
        with pytest.raises(FatalError) as caught:
            list(connector.iter_pages(SINCE))
        connector.close()
    assert caught.value.tracker == "jira"
    assert "search: offset paging stopped moving" in str(caught.value)
    assert len(first_page) == 1


def test_asana_tasks_fail_on_a_repeated_offset() -> None:
    state, truth = generate_asana_workspace(seed=3, tasks=80)
    echoed: list[str] = []

    def repeat_offset(path: str, query: Mapping[str, str], request: Any, answer: Any) -> Any:
        if path.endswith("/tasks") and query.get("offset"):
            echoed.append(query["offset"])
            return {**answer, "next_page": {"offset": query["offset"], "path": path, "uri": path}}
        return answer

    with SandboxServer(RewriteAnswers(create_asana_app(state), repeat_offset)) as url:
        settings = asana_settings(state, url, truth.projects[:1], page_size=10)
        connector = AsanaConnector(settings, NO_RETRIES, sleep=lambda _: None)
        with pytest.raises(FatalError) as caught:
            list(connector.iter_ids())
        connector.close()
    assert len(echoed) == 1
    assert caught.value.tracker == "asana"
    assert "paginator loop: census of project" in str(caught.value)
    assert f"same offset {echoed[0]!r} twice" in str(caught.value)


def test_asana_events_fail_on_a_repeated_sync_token() -> None:
    state, truth = generate_asana_workspace(seed=3, tasks=40)
    project = truth.projects[0]
    start = state.sync_token(project)

    def repeat_sync(path: str, query: Mapping[str, str], request: Any, answer: Any) -> Any:
        if path.endswith("/events") and query.get("sync"):
            return {**answer, "sync": query["sync"], "has_more": True}
        return answer

    with SandboxServer(RewriteAnswers(create_asana_app(state), repeat_sync)) as url:
        connector = AsanaConnector(asana_settings(state, url, [project]), NO_RETRIES, sleep=lambda _: None)
        connector.state["sync"] = {project: start}
        with pytest.raises(FatalError) as caught:
            list(connector.iter_pages(SINCE))
        events = connector.calls.calls.get("events", 0)
        connector.close()
    assert events == 1  # the first answer handed back the start token: no second request
    assert f"paginator loop: events returned the same sync token {start!r} twice" in str(caught.value)


def test_asana_events_stop_after_max_event_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    state, truth = generate_asana_workspace(seed=3, tasks=40)
    project = truth.projects[0]
    monkeypatch.setattr(asana_connector, "MAX_EVENT_CALLS", 3)

    def never_ending(path: str, query: Mapping[str, str], request: Any, answer: Any) -> Any:
        if path.endswith("/events") and query.get("sync"):
            return {**answer, "sync": state.sync_token(project), "has_more": True}  # a new token each time
        return answer

    with SandboxServer(RewriteAnswers(create_asana_app(state), never_ending)) as url:
        connector = AsanaConnector(asana_settings(state, url, [project]), NO_RETRIES, sleep=lambda _: None)
        connector.state["sync"] = {project: state.sync_token(project)}
        with pytest.raises(FatalError, match=r"events: has_more never ended \(loop guard\)"):
            list(connector.iter_pages(SINCE))
        events = connector.calls.calls.get("events", 0)
        connector.close()
    assert events == 3


def test_linear_projects_fail_on_a_repeated_end_cursor() -> None:
    state, _ = generate_linear_workspace(seed=3, projects=8, issues=40)
    echoed: list[str] = []

    def repeat_cursor(path: str, query: Mapping[str, str], request: Any, answer: Any) -> Any:
        after = (request.get("variables") or {}).get("after") if isinstance(request, Mapping) else None
        if _operation(request) == "Projects" and after:
            echoed.append(after)
            answer["data"]["projects"]["pageInfo"] = {"hasNextPage": True, "endCursor": after}
        return answer

    with SandboxServer(RewriteAnswers(create_linear_app(state), repeat_cursor)) as url:
        connector = LinearConnector(
            linear_settings(state, url, page_size=2), NO_RETRIES, sleep=lambda _: None
        )
        with pytest.raises(FatalError) as caught:
            list(connector.iter_pages(None))
        connector.close()
    assert len(echoed) == 1
    assert caught.value.tracker == "linear"
    assert "paginator loop: projects returned the same endCursor" in str(caught.value)
    assert echoed[0][:40] in str(caught.value)


def test_linear_label_pages_fail_on_a_repeated_end_cursor() -> None:
    state, _ = generate_linear_workspace(seed=3, projects=2, issues=20)
    asked: list[str] = []

    def repeat_labels(path: str, query: Mapping[str, str], request: Any, answer: Any) -> Any:
        operation = _operation(request)
        if operation == "Issues" and answer["data"]["issues"]["nodes"]:
            first = answer["data"]["issues"]["nodes"][0]
            first["labels"]["pageInfo"] = {"hasNextPage": True, "endCursor": "1"}
        if operation == "IssueLabels":
            after = request["variables"]["after"]
            asked.append(after)
            answer["data"]["issue"]["labels"]["pageInfo"] = {"hasNextPage": True, "endCursor": after}
        return answer

    with SandboxServer(RewriteAnswers(create_linear_app(state), repeat_labels)) as url:
        connector = LinearConnector(linear_settings(state, url), NO_RETRIES, sleep=lambda _: None)
        with pytest.raises(FatalError) as caught:
            list(connector.iter_pages(None))
        connector.close()
    assert asked == ["1"]  # one label page was read after the issue's own, which handed "1" back
    assert "paginator loop: labels of" in str(caught.value)
    assert "the same endCursor '1' twice" in str(caught.value)
