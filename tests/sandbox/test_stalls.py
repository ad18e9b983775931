"""A sandbox stall holds one request, before the tracker handles it or after, until the test releases it."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import pytest
import requests

from v2mom.sandbox.faults import StallWhen
from v2mom.sandbox.jira.app import create_jira_app
from v2mom.sandbox.jira.state import JiraState
from v2mom.sandbox.linear.app import create_linear_app
from v2mom.sandbox.linear.state import LinearState
from v2mom.sandbox.server import SandboxServer

WAIT = 30.0  # a generous liveness deadline


@pytest.fixture
def jira() -> Iterator[tuple[str, JiraState]]:
    state = JiraState()
    state.add_project("ONB", "Onboarding", team_managed=True)
    for n in range(3):
        state.add_issue("ONB", f"Issue {n}")
    server = SandboxServer(create_jira_app(state))
    url = server.start()
    try:
        yield url, state
    finally:
        state.release_stalls()
        server.stop()


def link(site: tuple[str, JiraState], issue_id: int) -> requests.Response:
    url, state = site
    return requests.post(
        f"{url}/rest/api/3/issue/{issue_id}/remotelink",
        json={"globalId": f"g-{issue_id}", "object": {"url": "https://example.com/x", "title": "x"}},
        auth=(state.account_email, state.api_token),
        timeout=WAIT,
    )


def links(state: JiraState) -> set[int]:
    with state.lock:
        return {issue for issue, made in state.remote_links.items() if made}


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_stall_holds_one_request_until_released(jira: tuple[str, JiraState], when: StallWhen) -> None:
    _url, state = jira
    first, second, third = sorted(state.issues)
    stall = state.stall("/rest/api/3/issue/", after=1, when=when, method="POST")
    with ThreadPoolExecutor(2) as pool:
        assert link(jira, first).status_code == 201  # the first one goes through
        held: Future[requests.Response] = pool.submit(link, jira, second)
        assert stall.reached.wait(WAIT)
        assert links(state) == ({first, second} if when == "after" else {first})  # taken, or not yet
        assert link(jira, third).status_code == 201  # held is one request: the others go on meanwhile
        assert not held.done()
        stall.release()
        assert held.result(WAIT).status_code == 201
    assert links(state) == {first, second, third}


def test_a_request_held_before_it_is_handled_can_be_dropped(jira: tuple[str, JiraState]) -> None:
    _url, state = jira
    issue = min(state.issues)
    stall = state.stall("/rest/api/3/issue/", when="before")
    with ThreadPoolExecutor(1) as pool:
        held = pool.submit(link, jira, issue)
        assert stall.reached.wait(WAIT)
        stall.release(handle=False)  # its client is gone: the tracker never takes it
        assert held.result(WAIT).status_code == 503
    assert links(state) == set()


def test_linear_stalls_by_operation_name() -> None:
    state = LinearState()
    state.add_team("ENG", "Engineering")
    stall = state.stall("/graphql/Teams", when="after")
    with SandboxServer(create_linear_app(state)) as url, ThreadPoolExecutor(1) as pool:

        def query(name: str) -> requests.Response:
            document = f'query {name} {{ teams(filter: {{key: {{in: ["ENG"]}}}}) {{ nodes {{ id }} }} }}'
            key = {"Authorization": state.api_key}
            return requests.post(f"{url}/graphql", json={"query": document}, headers=key, timeout=WAIT)

        assert query("Other").status_code == 200  # another operation is not held
        held = pool.submit(query, "Teams")
        assert stall.reached.wait(WAIT)
        stall.release()
        assert held.result(WAIT).json()["data"]["teams"]["nodes"]
