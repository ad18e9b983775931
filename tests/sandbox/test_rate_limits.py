"""The sandboxes' rate limit: a token bucket, answered over the limit as each vendor answers.

Jira and Asana send 429 with ``Retry-After`` in whole seconds (bodies valid against their OpenAPI);
Linear sends a ``RATELIMITED`` GraphQL error on HTTP 400 with ``X-RateLimit-Requests-Reset`` (epoch
ms). An Asana batch costs one request per action and nothing for itself, as Asana documents. And
the real connectors, retrying what they are told, get every write through a tight limit.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests
from pydantic import SecretStr

from tests.contracts import validate_asana, validate_jira
from v2mom.connectors.linear.connector import LinearConnector
from v2mom.sandbox.asana.app import create_asana_app
from v2mom.sandbox.asana.state import AsanaState
from v2mom.sandbox.faults import RateLimit, whole_seconds
from v2mom.sandbox.jira.app import create_jira_app
from v2mom.sandbox.jira.state import JiraState
from v2mom.sandbox.linear.app import create_linear_app
from v2mom.sandbox.linear.state import LinearState
from v2mom.sandbox.server import SandboxServer
from v2mom.settings import LinearSettings, SyncSettings
from v2mom.vocabulary import LinkWrite

SLOW = 0.001  # requests per second: nothing refills within a test


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_lets_a_burst_through_then_names_the_wait_and_refills() -> None:
    clock = Clock()
    bucket = RateLimit(per_second=4, burst=3, clock=clock)  # quarters: exact in binary

    assert [bucket.spend() for _ in range(3)] == [None, None, None]
    assert bucket.spend() == 0.25
    clock.now += 0.125
    assert bucket.spend() == 0.125  # a refused request takes nothing
    clock.now += 0.125
    assert bucket.spend() is None
    assert bucket.spend(cost=2) == 0.5
    clock.now += 60
    assert bucket.spend(cost=3) is None  # refilled to the burst, no further
    assert bucket.spend() == 0.25
    assert (bucket.accepted, bucket.refused) == (7, 4)
    assert bucket.floor_seconds() == 7 / 4


def test_a_bucket_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="per_second"):
        RateLimit(per_second=0, burst=1)


def test_retry_after_is_whole_seconds_rounded_up() -> None:
    assert [whole_seconds(w) for w in (0.0, 0.01, 1.0, 1.2)] == ["1", "1", "1", "2"]


@pytest.fixture
def jira() -> Iterator[tuple[JiraState, str]]:
    state = JiraState()
    with SandboxServer(create_jira_app(state)) as url:
        yield state, url


def test_jira_answers_429_with_retry_after_beyond_the_limit(jira: tuple[JiraState, str]) -> None:
    state, url = jira
    state.limit_rate(SLOW, burst=2)
    auth = (state.account_email, state.api_token)

    answers = [requests.get(f"{url}/rest/api/3/myself", auth=auth, timeout=10) for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert int(answers[2].headers["Retry-After"]) >= 1
    validate_jira("ErrorCollection", answers[2].json())
    state.limit_rate(None)
    assert requests.get(f"{url}/rest/api/3/myself", auth=auth, timeout=10).status_code == 200


def test_an_asana_batch_costs_one_request_per_action() -> None:
    state = AsanaState(default_fields=False)
    project = state.add_project("Platform")
    task = state.add_task("Ship it", projects=[project])
    headers = {"Authorization": f"Bearer {state.token}"}
    action = {"relative_path": f"/tasks/{task}", "method": "get", "options": {"fields": ["name"]}}
    with SandboxServer(create_asana_app(state)) as url:
        state.limit_rate(SLOW, burst=5)
        batch = {"data": {"actions": [action] * 3}}

        first = requests.post(f"{url}/api/1.0/batch", json=batch, headers=headers, timeout=10)
        second = requests.post(f"{url}/api/1.0/batch", json=batch, headers=headers, timeout=10)
        single = requests.get(f"{url}/api/1.0/tasks/{task}", headers=headers, timeout=10)

    assert first.status_code == 200
    assert [r["status_code"] for r in first.json()["data"]] == [200, 200, 200]
    assert second.status_code == 429  # 2 tokens left, 3 actions asked
    assert int(second.headers["Retry-After"]) >= 1
    validate_asana("ErrorResponse", second.json())
    assert single.status_code == 200  # the refused batch spent nothing
    assert state.rate_limit is not None
    assert (state.rate_limit.accepted, state.rate_limit.refused) == (4, 1)


def test_linear_answers_ratelimited_with_the_reset_in_epoch_ms() -> None:
    state = LinearState()
    with SandboxServer(create_linear_app(state)) as url:
        state.limit_rate(SLOW, burst=1)
        body = {"query": "query Teams { teams { nodes { id } } }"}
        headers = {"Authorization": state.api_key}
        ok = requests.post(f"{url}/graphql", json=body, headers=headers, timeout=10)
        limited = requests.post(f"{url}/graphql", json=body, headers=headers, timeout=10)

    assert ok.status_code == 200
    assert "errors" not in ok.json()
    assert limited.status_code == 400
    assert limited.json()["errors"][0]["extensions"]["code"] == "RATELIMITED"
    reset_ms = int(limited.headers["X-RateLimit-Requests-Reset"])
    assert reset_ms > time.time() * 1000


def test_linear_links_all_land_through_a_tight_limit() -> None:
    """The real connector (gql → sandbox) waits out each RATELIMITED answer and loses no write."""
    state = LinearState()
    state.add_team("ENG", "Engineering")
    ids = [state.add_issue("ENG", f"Issue {n}") for n in range(60)]
    with SandboxServer(create_linear_app(state)) as url:
        settings = LinearSettings(api_url=f"{url}/graphql", api_key=SecretStr(state.api_key), teams=["ENG"])
        connector = LinearConnector(settings, SyncSettings(max_retries=20))
        state.limit_rate(2, burst=1)  # tighter than any machine sends: some requests are always refused
        try:
            links = [
                LinkWrite(i, state.issues[i].identifier, f"http://v2mom.test/items/{i}", "Why it counts")
                for i in ids
            ]
            outcomes = connector.write_links(links)
        finally:
            connector.close()

    assert all(o.ok for o in outcomes), [o.error for o in outcomes if not o.ok][:3]
    assert state.rate_limit is not None
    assert state.rate_limit.refused > 0
    linked = {a.issue_id for a in state.attachments.values() if a.url.startswith("http://v2mom.test/items/")}
    assert linked == set(ids)
