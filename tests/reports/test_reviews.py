"""Closing review periods: the snapshot of a period is stored once, holds every team and measure, and
a plan with a new cycle closes the old one."""

from __future__ import annotations

import json
from datetime import date

import pytest

from tests.reviews_world import CYCLE, PLAN, Q1_CUSTOMER_FIRST, Q1_DONE_POINTS, TODAY, reviews_world
from v2mom.mapping.cycle import CyclePeriod, resolve_period
from v2mom.mapping.plan import load_plan
from v2mom.reports.periods import PeriodError
from v2mom.reports.reviews import (
    close_ended_periods,
    close_period,
    close_reference,
    close_replaced_cycle,
)
from v2mom.store.database import Database


def test_closing_a_period_stores_every_team_and_measure(store: Database) -> None:
    plan = reviews_world(store)
    q1 = resolve_period(plan.cycle, "fy27/q1")
    result = close_period(store, plan, q1, "cli:ana")
    assert result.closed
    review = store.reviews.get("fy27", "q1")
    assert review is not None
    document = review.document
    assert (review.period_start, review.period_end) == (date(2026, 2, 1), date(2026, 4, 30))
    assert review.plan_version == document["plan_version"] == 1
    assert document["closed_by"] == review.closed_by == "cli:ana"
    assert document["period"] == {"id": "q1", "start": "2026-02-01", "end": "2026-04-30", "cut": False}
    company = document["company"]["reports"]
    assert set(company) == {"points", "hours", "count", "person_days", "fte"}
    points = company["points"]
    assert "freshness" not in points
    assert (points["state"], points["from"], points["to"]) == ("done", "2026-02-01", "2026-04-30")
    assert points["total"] == {"effort": Q1_DONE_POINTS, "items": 3}
    assert company["count"]["total"]["effort"] == 3.0
    values = {value["id"]: value for value in points["values"]}
    assert values["customer-first"]["effort"] == pytest.approx(Q1_CUSTOMER_FIRST)
    measure = document["company"]["measures"]["points"][0]
    assert measure["id"] == "cf-share"
    assert measure["target"] == 0.4
    assert measure["actual"] == values["customer-first"]["share"]
    assert measure["met"] is True  # 68 % of q1's done points against a 40 % target
    # Every team is there in every measure (per-team numbers depend on scopes: structure only).
    assert list(document["teams"]) == ["payments", "retries", "growth"]
    payments = document["teams"]["payments"]
    assert payments["reports"]["hours"]["team"] == "payments"
    assert [m["id"] for m in payments["measures"]["points"]] == ["trust-share"]
    assert [o["id"] for o in document["obstacles"]["points"]] == ["legacy-billing"]
    assert set(document["flags"]["count"]) == {"untagged", "orphaned", "conflict", "unaligned"}


def test_a_second_close_says_so_and_rewrites_nothing(store: Database) -> None:
    plan = reviews_world(store)
    q1 = resolve_period(plan.cycle, "fy27/q1")
    first = close_period(store, plan, q1, "cli:ana")
    before = store.reviews.get("fy27", "q1")
    apply_plan_edit = load_plan(PLAN.replace("target: 0.40", "target: 0.90"))
    again = close_period(store, apply_plan_edit, q1, "cli:bob")
    after = store.reviews.get("fy27", "q1")
    assert first.closed
    assert not again.closed
    assert again.review == first.review  # who closed it and when: the first close
    assert before is not None
    assert after is not None
    assert json.dumps(after.document, sort_keys=True) == json.dumps(before.document, sort_keys=True)
    assert after.closed_by == "cli:ana"
    (entry,) = store.audit.entries(kind="review")  # the close that stored it, and only that one
    assert (entry.actor, entry.summary) == (
        "cli:ana",
        "closed the review of fy27/q1 (2026-02-01..2026-04-30) under plan v1",
    )
    assert entry.details == {
        "cycle": "fy27",
        "period": "q1",
        "start": "2026-02-01",
        "end": "2026-04-30",
        "plan_version": 1,
        "cut": False,
    }


def test_ended_periods_close_in_order_and_only_once(store: Database) -> None:
    plan = reviews_world(store)
    first = close_ended_periods(store, plan, "reconcile", TODAY)
    assert [(r.review.period_id, r.closed) for r in first] == [("q1", True), ("q2", True)]
    again = close_ended_periods(store, plan, "reconcile", TODAY)
    assert [(r.review.period_id, r.closed) for r in again] == [("q1", False), ("q2", False)]
    assert [r.period_id for r in store.reviews.list()] == ["q1", "q2"]
    # q2 ends on July 31st: closed from August 1st, not on its last day.
    assert [r.review.period_id for r in close_ended_periods(store, plan, "x", date(2026, 7, 31))] == ["q1"]


def test_a_period_is_closed_by_reference_only_once_it_has_ended(store: Database) -> None:
    plan = reviews_world(store)
    with pytest.raises(PeriodError, match=r"fy27/q3 has not ended \(its last day is 2026-10-31\)"):
        close_reference(store, plan, "fy27/q3", "cli:ana", TODAY)
    with pytest.raises(PeriodError, match="has no period 'q9' \\(it has q1, q2, q3, q4\\)"):
        close_reference(store, plan, "fy27/q9", "cli:ana", TODAY)
    assert store.reviews.list() == []
    assert close_reference(store, plan, "fy27/q2", "cli:ana", TODAY).closed
    assert not close_reference(store, plan, "fy27/q2", "cli:ana", TODAY).closed


def test_a_plan_without_a_cycle_closes_nothing(store: Database) -> None:
    plan = reviews_world(store, PLAN.replace(CYCLE, ""))
    assert close_ended_periods(store, plan, "reconcile", TODAY) == []
    with pytest.raises(PeriodError, match="the plan has no cycle"):
        close_period(store, plan, CyclePeriod("q1", date(2026, 2, 1), date(2026, 4, 30)), "x")


def test_a_new_cycle_closes_the_old_one_up_to_the_switch(store: Database) -> None:
    reviews_world(store)
    new = load_plan(PLAN.replace("id: fy27, name: FY2027", "id: fy27b, name: FY2027 again"))
    same = load_plan(PLAN.replace("target: 0.40", "target: 0.50"))
    assert close_replaced_cycle(store, same, "cli:ana", TODAY) == []  # same cycle id: nothing to close
    closed = close_replaced_cycle(store, new, "cli:ana", TODAY)
    assert [(r.review.period_id, r.closed) for r in closed] == [("q1", True), ("q2", True), ("q3", True)]
    q3 = store.reviews.get("fy27", "q3")
    assert q3 is not None
    assert (q3.period_start, q3.period_end) == (date(2026, 8, 1), TODAY)  # cut at the switch
    assert q3.document["period"]["cut"] is True
    assert q3.document["company"]["reports"]["points"]["total"]["effort"] == 6.0  # item 7, done Aug 5th
    assert store.reviews.get("fy27", "q4") is None  # not started: nothing to review
    latest = store.audit.entries(kind="review", limit=1)[0]
    assert latest.summary.endswith("(2026-08-01..2026-08-15, cut short by a new cycle) under plan v1")
    assert latest.details["cut"] is True
    assert close_replaced_cycle(store, new, "cli:ana", TODAY) == []  # every started period is closed
