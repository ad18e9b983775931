"""Data Center's rate limit: its ``X-RateLimit-*`` headers pace the client so that a long run spends
tokens as they refill instead of collecting 429s; a 429 without ``Retry-After`` waits one interval."""

from __future__ import annotations

import pytest

from tests.sandbox.test_rate_limits import Clock
from v2mom.connectors.jira.client import DeploymentCheck, JiraClient
from v2mom.connectors.jira.rate_limits import RateBudget
from v2mom.errors import RetriableError
from v2mom.sandbox.faults import RateLimit
from v2mom.sandbox.jira.app import create_jira_app
from v2mom.sandbox.jira.state import JiraState
from v2mom.sandbox.server import SandboxServer

HEADERS = {
    "X-RateLimit-Limit": "10",
    "X-RateLimit-Remaining": "2",
    "X-RateLimit-FillRate": "4",
    "X-RateLimit-Interval-Seconds": "2",
}


def test_the_budget_spends_what_is_left_then_waits_out_the_interval() -> None:
    clock = Clock()
    budget = RateBudget(clock=clock)
    assert budget.pause() == 0.0  # nothing known yet: nothing paced
    budget.observe(HEADERS)
    assert [budget.pause(), budget.pause()] == [0.0, 0.0]
    clock.now += 0.5
    assert budget.pause() == 1.5  # the rest of the interval since the answer that said 2 were left
    clock.now += 1.5  # the caller slept it
    assert [budget.pause() for _ in range(3)] == [0.0, 0.0, 0.0]  # the refill of 4, this one included
    assert budget.pause() == 2.0  # the next refill, one interval after the last
    assert (budget.pauses, budget.paused_seconds) == (2, 3.5)
    assert budget.note() == "paced by the tracker's rate limit: 2 pauses, 3.5 s in all"


def test_calls_in_flight_are_not_counted_twice_by_an_earlier_answer() -> None:
    """Two calls went out on the last two tokens; the first one's answer (the second not yet at the
    server) says one is left, but the second takes it: a third call waits."""
    clock = Clock()
    budget = RateBudget(clock=clock)
    budget.observe(HEADERS)  # 2 left
    assert [budget.pause(), budget.pause()] == [0.0, 0.0]
    budget.observe({**HEADERS, "X-RateLimit-Remaining": "1"})
    budget.finished()
    assert budget.pause() == 2.0
    budget.finished()
    budget.finished()
    budget.observe({**HEADERS, "X-RateLimit-Remaining": "3"})  # nothing in flight now
    assert [budget.pause() for _ in range(3)] == [0.0, 0.0, 0.0]


def test_a_caller_does_not_take_a_refill_before_it_is_due() -> None:
    """One caller waits out the interval for the next refill; another asking meanwhile waits for
    the same moment instead of spending the refill's tokens before they exist."""
    clock = Clock()
    budget = RateBudget(clock=clock)
    budget.observe({**HEADERS, "X-RateLimit-Remaining": "0"})
    assert budget.pause() == 2.0
    clock.now += 0.5
    assert budget.pause() == 1.5
    clock.now += 1.5
    assert budget.pause() == 0.0  # the refill of 4 is there: 2 taken, 2 left


@pytest.mark.parametrize(
    "headers",
    [
        {},  # Jira Cloud: no bucket headers
        {**HEADERS, "X-RateLimit-Remaining": "many"},
        {**HEADERS, "X-RateLimit-FillRate": "0"},
        {k: v for k, v in HEADERS.items() if k != "X-RateLimit-Interval-Seconds"},
    ],
)
def test_answers_without_a_readable_bucket_pace_nothing(headers: dict[str, str]) -> None:
    budget = RateBudget()
    budget.observe(headers)
    assert all(budget.pause() == 0.0 for _ in range(50))
    assert budget.note() is None


def _datacenter(clock: Clock, *, per_second: float, burst: float) -> JiraState:
    state = JiraState(deployment="datacenter")
    state.rate_limit = RateLimit(per_second=per_second, burst=burst, clock=clock)
    return state


def checked() -> DeploymentCheck:
    """A deployment check already passed: these tests count the requests of one kind."""
    check = DeploymentCheck()
    check.passed = True
    return check


def test_a_tight_limit_is_paced_without_a_single_429() -> None:
    clock = Clock()
    state = _datacenter(clock, per_second=2, burst=3)
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.now += seconds

    with SandboxServer(create_jira_app(state)) as url:
        budget = RateBudget(clock=clock)
        client = JiraClient(
            url,
            api_token=state.api_token,
            deployment="datacenter",
            budget=budget,
            sleep=sleep,
            deployment_check=checked(),
        )
        for _ in range(12):
            assert client.myself()["key"] == state.account_id
        client.close()

    assert state.rate_limit is not None
    assert state.rate_limit.refused == 0
    assert state.rate_limit.accepted == 12
    assert len(slept) == 5  # after the burst of 3, a pause before every other call (2 tokens a second)
    assert set(slept) == {1.0}  # one interval whenever the bucket ran dry
    assert client.budget.note() is not None


def test_a_429_without_retry_after_asks_for_one_interval() -> None:
    clock = Clock()
    state = _datacenter(clock, per_second=0.25, burst=1)  # one token every 4 s
    with SandboxServer(create_jira_app(state)) as url:
        client = JiraClient(
            url,
            api_token=state.api_token,
            deployment="datacenter",
            sleep=lambda _s: None,
            deployment_check=checked(),
        )
        client.myself()
        state.inject_fault(429, path_prefix="/rest/api/2/myself")  # a 429 with no Retry-After
        with pytest.raises(RetriableError) as refused:
            client.myself()
        client.close()
    assert refused.value.status == 429
    assert refused.value.retry_after == 4.0


def test_a_data_center_listing_paced_by_the_limit_says_so_in_the_runs_warnings() -> None:
    from v2mom.connectors.jira.connector import JiraConnector
    from v2mom.sandbox.generator import generate_jira_workspace, jira_settings
    from v2mom.settings import SyncSettings

    clock = Clock()
    state, truth = generate_jira_workspace(seed=3, epics=4, issues=60, deployment="datacenter")
    state.rate_limit = RateLimit(per_second=2, burst=3, clock=clock)

    def sleep(seconds: float) -> None:
        clock.now += seconds

    with SandboxServer(create_jira_app(state)) as url:
        connector = JiraConnector(
            jira_settings(state, url, page_size=10), SyncSettings(max_retries=0), sleep=sleep
        )
        listed = [item.id for page in connector.iter_pages(None) for item in page.items]
        connector.close()
    assert set(listed) == {str(i) for i in truth.live()}
    assert state.rate_limit.refused == 0
    [note] = [w for w in connector.warnings if w.startswith("paced by the tracker's rate limit: ")]
    assert int(note.split(": ")[1].split()[0]) > 0  # "N pauses, … s in all"
