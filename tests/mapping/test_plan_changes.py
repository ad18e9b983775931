"""A change to a plan's cycle or teams is named, not summed up as no change at all."""

from __future__ import annotations

from tests.factories import VALID
from v2mom.mapping.plan import load_plan
from v2mom.mapping.plan_changes import plan_changes

CYCLE = "cycle: {id: fy27, name: FY2027, start: 2026-02-01, end: 2027-01-31, periods: PERIODS}\n"
TEAM = "teams:\n  - {id: payments, name: Payments, methods: [{id: retries, name: Retries, serves: SERVES}]}\n"


def test_an_unchanged_plan_has_no_changes() -> None:
    plan = load_plan(VALID)
    assert plan_changes(plan, plan) == ["no changes"]


def test_cycle_changes_are_named() -> None:
    plain = load_plan(VALID)
    quarterly = load_plan(VALID + CYCLE.replace("PERIODS", "quarterly"))
    monthly = load_plan(VALID + CYCLE.replace("PERIODS", "monthly"))
    assert plan_changes(plain, quarterly) == ["cycle added"]
    assert plan_changes(quarterly, monthly) == ["cycle changed"]
    assert plan_changes(monthly, plain) == ["cycle removed"]


def test_team_changes_are_named_by_team() -> None:
    plain = load_plan(VALID)
    aligned = load_plan(VALID + TEAM.replace("SERVES", "{slo-program: 1}"))
    unaligned = load_plan(VALID + TEAM.replace("SERVES", "{}"))
    assert plan_changes(plain, aligned) == ["teams: added payments"]
    assert plan_changes(aligned, unaligned) == ["teams: changed payments"]
    assert plan_changes(unaligned, plain) == ["teams: removed payments"]
