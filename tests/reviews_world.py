"""A plan with a fiscal-year cycle and teams, and work done across its first quarters: shared by the
review tests of the use cases, the API and the CLI."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from typing import Any

from tests.factories import VALID, make_item
from tests.mapping.test_cascade import TEAMS
from tests.store.test_people_time import ONBOARDING, SLO, at, worked
from v2mom.clock import iso_seconds
from v2mom.mapping.cycle import resolve_period
from v2mom.mapping.plan import Plan, load_plan
from v2mom.models import State, WorkItem
from v2mom.reports.people_time import TIME_MEASURES
from v2mom.reports.reviews import snapshot_document
from v2mom.store.database import Database
from v2mom.store.resolution.plan_change import apply_plan

CYCLE = "cycle: {id: fy27, name: FY2027, start: 2026-02-01, end: 2027-01-31, periods: quarterly}\n"
PLAN = VALID + TEAMS + CYCLE
# q1: 2026-02-01..2026-04-30, q2: 2026-05-01..2026-07-31, q3: 2026-08-01..2026-10-31 (current)
TODAY = date(2026, 8, 15)
Q1_DONE_POINTS = 12.0  # items 1, 2 and 6
Q1_CUSTOMER_FIRST = 5.0 + 4.0 * 0.79  # item 1, and item 6's smart-retries share of customer-first


def done(item_id: str, day: str, points: float, *labels: str) -> WorkItem:
    """A done item completed on ``day``, tagged by ``labels``."""
    completed = datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC)
    return make_item(item_id, labels=labels, points=points, state=State.DONE, completed_at=completed)


ITEMS = [
    done("1", "2026-03-10", 5.0, "method:self-serve-onboarding"),
    done("2", "2026-04-20", 3.0, "value:reliability"),
    done("6", "2026-03-01", 4.0, "method:smart-retries"),
    done("3", "2026-06-01", 2.0),
    done("4", "2026-06-15", 10.0, "method:slo-program"),
    done("7", "2026-08-05", 6.0, "method:slo-program"),
    make_item("5", points=7.0, labels=("method:slo-program",)),
]


def reviews_world(store: Database, text: str = PLAN) -> Plan:
    """``store`` holding ``ITEMS`` under the stored plan ``text`` (default: the cycle and teams)."""
    plan = load_plan(text)
    store.items.upsert(ITEMS)
    apply_plan(store, plan, actor="test")
    return plan


# People's time: November 2026 (fy27/m2 of a monthly cycle), 21 working days, under the cascade.
MONTHLY = "cycle: {id: fy27, name: FY2027, start: 2026-10-01, end: 2027-09-30, periods: monthly}\n"
NOVEMBER = "fy27/m2"  # 2026-11-01..2026-11-30
NOVEMBER_WORKING_DAYS = 21
TIME_ITEMS = [
    make_item("1", labels=SLO, state=State.DONE),
    make_item("2", labels=ONBOARDING, state=State.DONE),
    make_item("3", state=State.DONE),  # untagged
    make_item("4", labels=SLO, state=State.TODO),  # worked, then put back: time worked is worked
    make_item("5", labels=ONBOARDING, state=State.DONE),
    make_item("9", labels=("method:backoff",), components=("Retry",), state=State.DONE),  # Retry squad's
]
TIME_CHANGES = [
    *worked("1", "ada", at(0), at(4, 17)),  # Ada, Mon 2 to Fri 6: alone on Mon, Tue, Fri, half Wed, Thu
    *worked("2", "ada", at(2), at(3, 17)),  # Ada, Wed 4 and Thu 5: the other half
    *worked("3", "bob", at(0), at(1, 17)),  # Bob, Mon 2 and Tue 3, beside item 5
    *worked("5", "bob", at(-4), at(1, 17)),  # Bob, from Thu Oct 29: Oct's two days are outside
    *worked("9", "cy", at(0), at(0, 17)),  # Cy, Mon 2 only: the Retry squad is one person
    *worked("4", "dan", at(7), at(8, 17), finish=State.TODO),  # Dan, Mon 9 and Tue 10
]
# Person-days: Ada 5 (item 1: 4, item 2: 1), Bob 2 (items 3 and 5: 1 each), Cy 1, Dan 2 (item 4).
TIME_TOTAL = 10.0
TIME_UNTAGGED = 1.0  # item 3
# slo-program (items 1 and 4, 6 days) gives customer-first 0.3; self-serve-onboarding (items 2 and 5)
# all of it; backoff (item 9) serves smart-retries 3/4, whose customer-first share is 0.79.
TIME_CUSTOMER_FIRST = 6 * 0.3 + 2 + 0.75 * 0.79


def people_time_world(store: Database) -> Plan:
    """``store`` holding ``TIME_ITEMS`` and their histories under the cascade with a monthly cycle:
    four people in Payments, of whom one (Cy) in its Retry squad; nobody in Growth."""
    plan = load_plan(VALID + TEAMS + MONTHLY)
    store.items.upsert(TIME_ITEMS)
    store.history.record(TIME_CHANGES)
    apply_plan(store, plan, actor="test")
    return plan


def strip_people_time(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` (a review snapshot) as it was stored before reviews held people's time."""
    old = copy.deepcopy(document)
    for part in [old["company"], *old["teams"].values()]:
        for measure in TIME_MEASURES:
            part["reports"].pop(measure, None)
            part["measures"].pop(measure, None)
        part.pop("folded", None)
    return old


def close_before_people_time(store: Database, plan: Plan, reference: str, actor: str = "test") -> None:
    """Store the review of ``reference`` as a close before reviews held people's time stored it."""
    cycle = plan.cycle
    assert cycle is not None
    period = resolve_period(cycle, reference)
    closed_at = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
    document = snapshot_document(
        store, plan, cycle, period, plan_version=1, closed_at=iso_seconds(closed_at), closed_by=actor
    )
    store.reviews.close(
        cycle_id=cycle.id,
        period_id=period.id,
        period_start=period.start,
        period_end=period.end,
        plan_version=1,
        closed_at=closed_at,
        closed_by=actor,
        document=strip_people_time(document),
    )
