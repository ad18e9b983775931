"""Reports per team of the cascade: a team's report is its subtree's work, the company's is every
team's plus its own, and ``GET /api/teams`` lists the tree with each team's effort."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import make_item
from tests.mapping.test_cascade import cascade
from v2mom.app.factory import create_app
from v2mom.mapping.plan import Plan, load_plan
from v2mom.reports.effort import ReportQuery, build_report
from v2mom.reports.explain import resolve_stored
from v2mom.reports.teams import build_teams
from v2mom.settings import Settings
from v2mom.store.database import Database
from v2mom.store.resolution.plan_change import apply_plan

ITEMS = [
    make_item("1", key="ONB-1", labels=("method:smart-retries",), points=10.0),  # Payments: 0.7 / 0.3
    make_item("2", key="ONB-2", labels=("method:backoff",), points=8.0, components=("Retry",)),  # Retries
    make_item("3", key="ONB-3", labels=("method:spike",), points=5.0),  # Payments, serving nothing
    make_item("4", tracker="linear", key="GRO-4", container="GRO", labels=("method:referrals",), points=4.0),
    make_item("5", key="CORE-5", container="CORE", labels=("method:slo-program",), points=6.0),  # company
    make_item("6", key="CORE-6", container="CORE", labels=("method:smart-retries",), points=3.0),
    make_item("7", key="CORE-7", container="CORE", points=2.0),  # the company's, untagged
]


@pytest.fixture
def plan(store: Database) -> Plan:
    store.items.upsert(ITEMS)
    cascaded = load_plan(cascade())
    apply_plan(store, cascaded, actor="test")
    return cascaded


def report(store: Database, plan: Plan, team: str | None = None) -> dict[str, Any]:
    return build_report(store, plan, ReportQuery(team=team))


def efforts(found: dict[str, Any]) -> dict[str, float]:
    return {value["id"]: value["effort"] for value in found["values"]}


def test_the_company_report_is_its_teams_reports_plus_its_own_work(store: Database, plan: Plan) -> None:
    company = report(store, plan)
    payments, growth = report(store, plan, "payments"), report(store, plan, "growth")
    assert company["total"]["effort"] == 38.0
    assert payments["total"]["effort"] == 23.0  # its own work and the retry squad's
    assert growth["total"]["effort"] == 4.0
    own = {  # the company's own work: slo-program's 6 points, and 5 untagged (one orphaned)
        "customer-first": 6 * 0.3,
        "reliability": 6 * 0.7,
        "merchant-trust": 0.0,
    }
    for value, effort in efforts(company).items():
        parts = efforts(payments).get(value, 0.0) + efforts(growth).get(value, 0.0) + own[value]
        assert effort == pytest.approx(parts), value
    assert company["untagged"]["effort"] == 5.0 == payments["untagged"]["effort"] + 5.0
    assert company["unaligned"]["effort"] == payments["unaligned"]["effort"] == 5.0
    assert payments["team"] == "payments"
    assert "team" not in company


def test_a_method_serving_two_parent_methods_splits_its_effort_exactly(store: Database, plan: Plan) -> None:
    payments = report(store, plan, "payments")
    by_value = {v["id"]: {m["id"]: m["effort"] for m in v["methods"]} for v in payments["values"]}
    # smart-retries serves self-serve-onboarding 0.7 (all customer-first) and slo-program 0.3.
    assert by_value["customer-first"]["smart-retries"] == pytest.approx(10 * (0.7 + 0.3 * 0.3))
    assert by_value["reliability"]["smart-retries"] == pytest.approx(10 * 0.3 * 0.7)
    assert "referrals" not in by_value["customer-first"]  # another branch's method, without effort here


def test_unaligned_work_is_unaligned_for_the_company_and_its_own_method_for_the_team(
    store: Database, plan: Plan
) -> None:
    company, payments = report(store, plan), report(store, plan, "payments")
    spike = [{"id": "spike", "name": "Research spike", "effort": 5.0}]
    assert company["unaligned"]["methods"] == payments["unaligned"]["methods"] == spike
    assert all(m["id"] != "spike" for v in company["values"] for m in v["methods"])
    assert report(store, plan, "growth")["unaligned"]["effort"] == 0.0


def test_work_naming_another_teams_method_is_orphaned_with_the_reason(store: Database, plan: Plan) -> None:
    stored = {s.item.key: s for s in store.items.stream()}
    found = resolve_stored(store, [stored["CORE-6"], stored["ONB-2"]], plan)
    core = found[stored["CORE-6"].pk]
    assert "orphaned" in core.flags
    assert "untagged" in core.flags
    assert "method smart-retries belongs to team payments, and the company's own work cannot name it" in (
        core.reasons
    )
    assert "orphaned" not in found[stored["ONB-2"].pk].flags  # the retry squad may name backoff
    assert sorted(store.resolutions.for_item(stored["CORE-6"].pk)["flags"]) == ["orphaned", "untagged"]


def test_the_teams_route_lists_the_tree_with_each_teams_effort(store: Database, plan: Plan) -> None:
    viewer = store.tokens.create("viewer", "pm")
    with TestClient(create_app(Settings(), store)) as client:
        client.headers["Authorization"] = f"Bearer {viewer}"
        body = client.get("/api/teams").json()
        teams = {team["id"]: team for team in body["teams"]}
        assert [team["id"] for team in body["teams"]] == ["payments", "retries", "growth"]
        assert body["total"]["effort"] == 38.0
        assert body["company"] == {"effort": 11.0, "share": round(11 / 38, 4), "items": 3}
        assert teams["payments"]["effort"] == 23.0
        assert teams["retries"]["effort"] == 8.0
        assert teams["payments"]["unaligned_share"] == round(5 / 23, 4)
        assert teams["payments"]["aligned_share"] == round(18 / 23, 4)
        assert teams["retries"]["parent"] == "payments"
        assert teams["retries"]["depth"] == 2
        assert teams["growth"]["aligned_share"] == 1.0
        team_report = client.get("/api/reports/effort-by-value", params={"team": "retries"})
        assert team_report.status_code == 200
        assert team_report.json()["total"]["effort"] == 8.0
        unknown = client.get("/api/reports/effort-by-value", params={"team": "nope"})
        assert unknown.status_code == 422
        assert "'nope' is no team of the plan (teams: payments, retries, growth)" in unknown.text


def test_the_tree_lists_each_parent_before_its_children(store: Database, plan: Plan) -> None:
    """A plan may list a team before its parent; the tree still reads from the top down, siblings
    in plan order."""
    reversed_teams = plan.model_copy(update={"teams": tuple(reversed(plan.teams or ()))})
    tree = build_teams(store, reversed_teams, ReportQuery())
    assert [team["id"] for team in tree["teams"]] == ["growth", "payments", "retries"]
