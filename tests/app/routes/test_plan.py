"""Plan changes over HTTP once the plan has a cycle: every route that changes the plan refuses a
change without a reason (422 at ``reason``, nothing written), keeps the reason it is given, and
``GET /api/plan/history`` lists who, when, why and what changed, newest first."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import VALID
from tests.support import auth
from v2mom.app.factory import create_app
from v2mom.mapping.plan import load_plan
from v2mom.settings import Settings
from v2mom.store.database import Database

CYCLE = "cycle: {id: fy27, name: FY2027, start: 2026-02-01, end: 2027-01-31, periods: quarterly}\n"
TEAM = (
    "teams:\n  - {id: payments, name: Payments,"
    " methods: [{id: retries, name: Retries, serves: {slo-program: 1}}]}\n"
)
# A rule no seeded item matches: changes the plan without moving effort (no confirmation needed).
QUIET_RULE = {"when": {"tracker": "jira", "label": "nothing-has-this"}, "value": "reliability"}

World = tuple[TestClient, Database, dict[str, str], dict[str, str]]


@pytest.fixture
def world(seeded: Database) -> Iterator[World]:
    """The seeded store, its plan now in cycle fy27; an admin's and a viewer's headers."""
    seeded.plans.save(load_plan(VALID + CYCLE), actor="test", reason="the FY27 cycle starts")
    admin = auth(seeded.tokens.create("admin", "alice"))
    viewer = auth(seeded.tokens.create("viewer", "pm"))
    with TestClient(create_app(Settings(), seeded)) as client:
        yield client, seeded, admin, viewer


def _plan(extra: str = "") -> dict[str, Any]:
    """The plan document with ``extra`` YAML appended (a team, say)."""
    return load_plan(VALID + CYCLE + extra).model_dump(mode="json", exclude_none=True)


# Every route that changes the plan, as (method, path, body, where its reason goes).
CHANGES: list[tuple[str, str, dict[str, Any] | None, str]] = [
    ("PUT", "/api/plan", None, "body"),
    ("PUT", "/api/admin/plan", None, "body"),
    ("POST", "/api/admin/rules", {"rule": QUIET_RULE}, "body"),
    ("PUT", "/api/admin/rules/1", {"rule": QUIET_RULE}, "body"),
    ("DELETE", "/api/admin/rules/1", None, "query"),
    ("POST", "/api/admin/rules/reorder", {"order": [1, 0]}, "body"),
    ("POST", "/api/rules", dict(QUIET_RULE), "body"),
    ("DELETE", "/api/rules/r2", None, "query"),
]


def _request(
    client: TestClient,
    admin: dict[str, str],
    change: tuple[str, str, dict[str, Any] | None, str],
    reason: Any,
) -> Any:
    method, path, body, where = change
    if body is None and method != "DELETE":
        body = _plan(TEAM)
    params: dict[str, str] = {}
    if reason is not None:
        if where == "query":
            params["reason"] = reason
        else:
            body = {**(body or {}), "reason": reason}
    return client.request(method, path, json=body, params=params, headers=admin)


@pytest.mark.parametrize("change", CHANGES, ids=[f"{c[0]} {c[1]}" for c in CHANGES])
def test_a_change_in_a_cycle_without_a_reason_is_422_and_writes_nothing(
    world: World, change: tuple[str, str, dict[str, Any] | None, str]
) -> None:
    client, store, admin, _viewer = world
    history, audit = store.plans.history(), store.audit.entries(limit=200)
    rollup = store.resolutions.rollup_rows()
    for reason in (None, "  "):
        answer = _request(client, admin, change, reason)
        assert answer.status_code == 422, answer.text
        (problem,) = answer.json()["detail"]
        assert problem["loc"] == [change[3], "reason"]
        assert problem["msg"].startswith("reason: a reason is needed: the plan is in cycle fy27")
    assert store.plans.history() == history
    assert store.audit.entries(limit=200) == audit
    assert store.resolutions.rollup_rows() == rollup
    applied = _request(client, admin, change, "Q2 re-plan")
    assert applied.status_code == 200, applied.text
    newest = store.plans.history(1)[0]
    assert (newest["version"], newest["reason"]) == (history[0]["version"] + 1, "Q2 re-plan")
    assert store.audit.entries(limit=1)[0].details["reason"] == "Q2 re-plan"


def test_a_dry_run_needs_no_reason(world: World) -> None:
    client, store, admin, _viewer = world
    versions = store.plans.history()
    answer = client.put("/api/admin/plan?dry_run=true", json=_plan(TEAM), headers=admin)
    assert answer.status_code == 200, answer.text
    assert store.plans.history() == versions


def test_a_reason_must_be_text(world: World) -> None:
    client, store, admin, _viewer = world
    versions = store.plans.history()
    answer = client.put("/api/plan", json={**_plan(TEAM), "reason": 42}, headers=admin)
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "reason"]
    assert store.plans.history() == versions


def test_before_a_cycle_a_reason_is_optional_and_kept_when_given(seeded: Database) -> None:
    admin = auth(seeded.tokens.create("admin", "alice"))
    with TestClient(create_app(Settings(), seeded)) as client:
        plain = load_plan(VALID).model_dump(mode="json", exclude_none=True)
        assert client.put("/api/plan", json={**plain, "vision": "Sharper."}, headers=admin).status_code == 200
        with_reason = {**plain, "vision": "Sharper still.", "reason": "board feedback"}
        assert client.put("/api/plan", json=with_reason, headers=admin).status_code == 200
    newest, middle = seeded.plans.history(2)
    assert (newest["reason"], middle["reason"]) == ("board feedback", None)
    assert newest["changes"]["lines"] == ["vision changed"]


def test_the_history_lists_who_when_why_and_what_changed_newest_first(world: World) -> None:
    client, _store, admin, viewer = world
    added = _request(client, admin, CHANGES[0], "payments joins the cascade")
    assert added.status_code == 200, added.text
    renamed = _plan(TEAM.replace("name: Retries", "name: Smart retries"))
    renamed["values"][1]["name"] = "Rock-solid reliability"
    answer = client.put("/api/plan", json={**renamed, "reason": "clearer names"}, headers=admin)
    assert answer.status_code == 200, answer.text
    rule = client.post("/api/rules", json={**QUIET_RULE, "reason": "tag uptime work"}, headers=admin)
    assert rule.status_code == 200, rule.text

    history = client.get("/api/plan/history", headers=viewer)
    assert history.status_code == 200
    versions = history.json()["versions"]
    assert [v["version"] for v in versions] == sorted((v["version"] for v in versions), reverse=True)
    assert [v["reason"] for v in versions] == [
        "tag uptime work",
        "clearer names",
        "payments joins the cascade",
        "the FY27 cycle starts",
        None,  # the seeded plan, before any cycle
    ]
    ruled, named, grown = versions[:3]
    assert ruled["created_by"] == "token:alice"
    assert ruled["created_at"].endswith("Z")
    assert ruled["changes"]["rules"] == {
        "added": ["r3: tracker=jira, label=nothing-has-this -> value reliability"],
        "removed": [],
        "changed": [],
    }
    assert ruled["changes"]["effort_moved"] == {
        "measure": "points",
        "moved": 0,
        "total": ruled["changes"]["effort_moved"]["total"],
        "share": 0.0,
        "deltas": {},
    }
    assert named["changes"]["values"]["renamed"] == [
        {"id": "reliability", "from": "Reliability", "to": "Rock-solid reliability"}
    ]
    assert named["changes"]["methods"]["renamed"] == [
        {"id": "retries", "from": "Retries", "to": "Smart retries"}
    ]
    assert grown["changes"]["methods"]["added"] == ["retries"]
    assert grown["changes"]["lines"] == ["teams: added payments"]
    limited = client.get("/api/plan/history?limit=2", headers=viewer).json()["versions"]
    assert [v["version"] for v in limited] == [v["version"] for v in versions[:2]]


@pytest.mark.parametrize("limit", ["0", "201", "x"])
def test_the_history_limit_is_checked(world: World, limit: str) -> None:
    client, _store, _admin, viewer = world
    assert client.get(f"/api/plan/history?limit={limit}", headers=viewer).status_code == 422


def test_the_history_needs_a_viewer(world: World) -> None:
    client, _store, _admin, _viewer = world
    assert client.get("/api/plan/history").status_code == 401
