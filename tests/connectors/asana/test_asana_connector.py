"""Asana specifics through the real SDK and the sandbox: retries, the 412 of an expired sync token,
subtasks reached through events, parsing of custom fields and tags."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from v2mom.connectors.asana.client import AsanaClient, SyncTokenExpired
from v2mom.connectors.asana.connector import AsanaConnector
from v2mom.connectors.asana.parse import TASK_FIELDS, parse_task
from v2mom.errors import ConfigError, RetriableError
from v2mom.models import Level, State
from v2mom.sandbox.asana.app import create_asana_app
from v2mom.sandbox.asana.generator import AsanaGroundTruth, asana_settings, generate_asana_workspace
from v2mom.sandbox.asana.state import AsanaState
from v2mom.sandbox.server import SandboxServer
from v2mom.settings import SyncSettings
from v2mom.store.database import Database
from v2mom.sync.runner import sync_tracker


@pytest.fixture(scope="module")
def sandbox() -> Iterator[tuple[str, AsanaState, AsanaGroundTruth]]:
    state, truth = generate_asana_workspace(seed=9, tasks=250)
    with SandboxServer(create_asana_app(state)) as url:
        yield url, state, truth


def connector(url: str, state: AsanaState, truth: AsanaGroundTruth, **kw: object) -> AsanaConnector:
    waits: list[float] = []
    return AsanaConnector(asana_settings(state, url, truth.projects), SyncSettings(**kw), sleep=waits.append)  # type: ignore[arg-type]


def test_the_sdk_does_not_retry_on_its_own(sandbox: tuple[str, AsanaState, AsanaGroundTruth]) -> None:
    url, state, truth = sandbox
    client = AsanaClient(f"{url}/api/1.0", token=state.token)
    before = state.request_count("/api/1.0/tasks")
    state.inject_fault(503, times=1, path_prefix="/api/1.0/tasks")
    with pytest.raises(RetriableError):
        client.tasks_page(
            truth.projects[0], opt_fields="name", limit=10, offset=None, modified_since=None, kind="t"
        )
    assert state.request_count("/api/1.0/tasks") - before == 1  # one request: no hidden urllib3 retries
    client.close()


def test_an_expired_token_is_surfaced_with_the_fresh_one(
    sandbox: tuple[str, AsanaState, AsanaGroundTruth],
) -> None:
    url, state, truth = sandbox
    client = AsanaClient(f"{url}/api/1.0", token=state.token)
    with pytest.raises(SyncTokenExpired) as first:
        client.events(truth.projects[0], None)
    assert first.value.sync
    body = client.events(truth.projects[0], first.value.sync)
    assert body["data"] == []
    state.expire_sync_tokens()
    with pytest.raises(SyncTokenExpired):
        client.events(truth.projects[0], body["sync"])
    client.close()


def test_expired_sync_token_triggers_a_full_listing_and_a_census(
    store: Database, sandbox: tuple[str, AsanaState, AsanaGroundTruth]
) -> None:
    url, state, truth = sandbox
    assert sync_tracker(store, connector(url, state, truth), full=True).ok
    subtask = next(g for g, t in truth.live_tasks().items() if t.parent and not state.children.get(g))
    state.update_task(subtask, name="renamed subtask")
    changed = sync_tracker(store, connector(url, state, truth), census=False)
    assert changed.ok, changed.error
    assert subtask in changed.changed_ids  # subtasks are not listed: the Events API names them
    assert changed.calls.get("subtasks", 0) == 0
    state.expire_sync_tokens()
    gone = next(g for g, t in truth.live_tasks().items() if t.parent is None and not state.children.get(g))
    state.delete_task(gone)
    result = sync_tracker(store, connector(url, state, truth), census=False)
    assert result.ok, result.error
    assert result.census  # asked for by the connector although the caller said no
    assert result.warnings
    assert "sync token expired (412)" in result.summary()
    assert result.deleted == 1
    assert store.items.live_ids("asana") == truth.live_ids()
    again = sync_tracker(store, connector(url, state, truth), census=False)
    assert again.ok
    assert again.warnings == []  # the fresh token was kept


def test_a_wrong_workspace_or_project_is_a_config_error(
    sandbox: tuple[str, AsanaState, AsanaGroundTruth],
) -> None:
    url, state, truth = sandbox
    settings = asana_settings(state, url, [*truth.projects, "1999999999999"])
    with pytest.raises(ConfigError, match="1999999999999 not found"):
        AsanaConnector(settings).discover()
    settings = asana_settings(state, url, truth.projects).model_copy(update={"workspace": "42"})
    with pytest.raises(ConfigError, match="workspace: 42"):
        AsanaConnector(settings).discover()


def test_parse_reads_fields_tags_points_hours_and_hierarchy() -> None:
    raw = {
        "gid": "77",
        "name": "Ship it",
        "permalink_url": "https://app.asana.com/0/1/77",
        "created_at": "2026-11-01T09:00:00.000Z",
        "modified_at": "2026-11-02T09:00:00.000Z",
        "completed": True,
        "completed_at": "2026-11-02T09:00:00.000Z",
        "memberships": [{"project": {"gid": "9"}}, {"project": {"gid": "5"}}],
        "tags": [{"gid": "1", "name": "value:reliability"}],
        "custom_fields": [
            {
                "gid": "c1",
                "name": "V2MOM Value",
                "type": "multi_enum",
                "multi_enum_values": [{"name": "reliability"}, {"name": "efficiency"}],
            },
            {"gid": "c2", "name": "V2MOM Method", "type": "enum", "enum_value": {"name": "SLO program"}},
            {"gid": "c3", "name": "Story Points", "type": "number", "number_value": 5},
            {"gid": "c4", "name": "Team Bet", "type": "enum"},
        ],
        "actual_time_minutes": 90,
        "num_subtasks": 0,
    }
    item = parse_task(raw, scope=["5", "9"], points_field="Story Points")
    assert (item.id, item.level, item.parent_id, item.container) == ("77", Level.STANDARD, "5", "5")
    assert item.state is State.DONE
    assert item.completed_at == datetime(2026, 11, 2, 9, tzinfo=UTC)
    assert item.points == 5.0
    assert item.hours == 1.5
    assert item.labels == ("value:reliability",)
    assert item.custom_fields == {
        "V2MOM Value": ("reliability", "efficiency"),
        "V2MOM Method": ("SLO program",),
    }
    sub = parse_task({**raw, "parent": {"gid": "70"}, "memberships": []}, scope=["5"], points_field="c3")
    assert (sub.level, sub.parent_id, sub.container, sub.points) == (Level.SUBTASK, "70", None, 5.0)
    assert "num_subtasks" in TASK_FIELDS
