"""The Asana sandbox's concurrent request limiter: reads in flight, a batch's GET actions counted
as so many reads, and a 429 past Asana's 50."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from v2mom.sandbox.asana.app import create_asana_app
from v2mom.sandbox.asana.concurrency import READ_LIMIT, ConcurrentReads
from v2mom.sandbox.asana.state import AsanaState
from v2mom.sandbox.server import SandboxServer


@pytest.fixture
def sandbox() -> Iterator[tuple[httpx.Client, AsanaState, str]]:
    state = AsanaState(default_fields=False)
    project = state.add_project("Platform")
    task = state.add_task("Task", projects=[project])
    with SandboxServer(create_asana_app(state)) as url:
        headers = {"Authorization": f"Bearer {state.token}"}
        with httpx.Client(base_url=f"{url}/api/1.0", headers=headers) as client:
            yield client, state, task


def _batch(client: httpx.Client, task: str, reads: int) -> httpx.Response:
    action = {"relative_path": f"/tasks/{task}/stories", "method": "get", "options": {"limit": 10}}
    return client.post("/batch", json={"data": {"actions": [action] * reads}})


def _settles(state: AsanaState, reads: int) -> bool:
    """Whether the reads in flight come down to ``reads``: a read ends once its answer is sent,
    which the client may see first."""
    deadline = time.monotonic() + 10
    while state.reads.in_flight != reads and time.monotonic() < deadline:
        time.sleep(0.01)
    return state.reads.in_flight == reads


def test_the_limit_is_asanas_fifty_reads() -> None:
    assert ConcurrentReads().limit == READ_LIMIT == 50


def test_a_read_past_the_limit_is_refused_and_one_within_it_served(
    sandbox: tuple[httpx.Client, AsanaState, str],
) -> None:
    client, state, task = sandbox
    assert state.reads.enter(READ_LIMIT)  # 50 reads already in flight
    refused = client.get(f"/tasks/{task}")
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "1"
    state.reads.leave()
    assert client.get(f"/tasks/{task}").status_code == 200
    assert _settles(state, READ_LIMIT - 1)  # the served read is no longer in flight
    assert state.reads.refused == 1


def test_each_get_action_of_a_batch_is_a_read_in_flight(
    sandbox: tuple[httpx.Client, AsanaState, str],
) -> None:
    client, state, task = sandbox
    assert state.reads.enter(READ_LIMIT - 3)
    assert _batch(client, task, 4).status_code == 429  # 47 + 4 > 50: refused whole
    answered = _batch(client, task, 3)
    assert answered.status_code == 200
    assert [r["status_code"] for r in answered.json()["data"]] == [200, 200, 200]
    assert state.reads.peak == READ_LIMIT
    assert _settles(state, READ_LIMIT - 3)
