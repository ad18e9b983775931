"""A change to a plan's cycle or teams is named, not summed up as no change at all; the summary a
version keeps names values, methods (team ones too) and rules; a plan in a cycle needs a reason."""

from __future__ import annotations

import pytest

from tests.factories import VALID
from v2mom.errors import ConfigError
from v2mom.mapping.plan import load_plan
from v2mom.mapping.plan_changes import change_summary, plan_changes, reason_problem, require_reason

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


# -- the structured summary a plan version keeps, over the whole cascade ----------------------------

CASCADE = TEAM.replace("SERVES", "{slo-program: 1}")


def test_the_summary_names_values_and_methods_added_renamed_and_removed() -> None:
    old = load_plan(VALID)
    new = load_plan(
        VALID.replace("name: Reliability", "name: Rock-solid reliability")
        .replace("weights: {customer-first: 0.3, reliability: 0.7}", "weights: {reliability: 1}")
        .replace(
            "  - id: self-serve-onboarding\n    name: Launch self-serve onboarding\n",
            "  - id: guided-setup\n    name: Guided setup\n",
        )
        .replace("self-serve-onboarding", "guided-setup")
    )
    summary = change_summary(old, new)
    assert summary["values"] == {
        "added": [],
        "renamed": [{"id": "reliability", "from": "Reliability", "to": "Rock-solid reliability"}],
        "removed": [],
        "changed": [],
    }
    assert summary["methods"] == {
        "added": ["guided-setup"],
        "renamed": [],
        "removed": ["self-serve-onboarding"],
        "changed": ["slo-program"],
    }
    assert summary["lines"] == plan_changes(old, new)


def test_team_values_and_methods_are_in_the_summary() -> None:
    plain = load_plan(VALID)
    team = load_plan(VALID + CASCADE)
    grown = load_plan(
        VALID
        + CASCADE.replace("methods: [", "values: [{id: trust, name: Trust}], methods: [").replace(
            "name: Retries,", "name: Smart retries,"
        )
    )
    assert change_summary(plain, team)["methods"]["added"] == ["retries"]
    assert change_summary(team, plain)["methods"]["removed"] == ["retries"]
    grew = change_summary(team, grown)
    assert grew["values"]["added"] == ["trust"]
    assert grew["methods"]["renamed"] == [{"id": "retries", "from": "Retries", "to": "Smart retries"}]


def test_rules_are_added_removed_and_changed_by_their_line() -> None:
    old = load_plan(VALID.replace("  - when: {tracker: jira", "  - id: r1\n    when: {tracker: jira"))
    new = load_plan(
        VALID.replace("  - when: {tracker: jira", "  - id: r1\n    when: {tracker: jira").replace(
            "component: Billing}", "component: Payments}"
        )
        + "  - {when: {label: uptime}, value: reliability}\n"
    )
    rules = change_summary(old, new)["rules"]
    assert rules == {
        "added": ["r3: label=uptime -> value reliability"],
        "removed": [],
        "changed": ["r1: tracker=jira, component=Payments -> method slo-program"],
    }
    assert change_summary(new, old)["rules"]["removed"] == ["r3: label=uptime -> value reliability"]


def test_the_first_plan_adds_everything_and_an_unchanged_plan_nothing() -> None:
    plan = load_plan(VALID + CASCADE)
    first = change_summary(None, plan)
    assert first["values"]["added"] == ["customer-first", "reliability"]
    assert first["methods"]["added"] == ["self-serve-onboarding", "slo-program", "retries"]
    assert len(first["rules"]["added"]) == 2
    same = change_summary(plan, plan)
    assert same["lines"] == ["no changes"]
    assert all(
        not entries for section in ("values", "methods", "rules") for entries in same[section].values()
    )


# -- a plan in a cycle changes only with a reason ---------------------------------------------------


def test_a_plan_in_a_cycle_needs_a_reason_for_every_change() -> None:
    cycled = load_plan(VALID + CYCLE.replace("PERIODS", "quarterly"))
    problem = reason_problem(cycled, "  ")
    assert problem is not None
    assert problem.startswith("reason: a reason is needed: the plan is in cycle fy27")
    assert reason_problem(cycled, None) == problem
    assert reason_problem(cycled, "Q2 re-plan") is None
    with pytest.raises(ConfigError, match="reason: a reason is needed"):
        require_reason(cycled, "")


def test_before_a_cycle_a_reason_is_optional() -> None:
    assert reason_problem(None, None) is None
    assert reason_problem(load_plan(VALID), None) is None
