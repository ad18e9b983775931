"""A plan with a fiscal-year cycle and teams, and work done across its first quarters: shared by the
review tests of the use cases, the API and the CLI."""

from __future__ import annotations

from datetime import UTC, date, datetime

from tests.factories import VALID, make_item
from tests.mapping.test_cascade import TEAMS
from v2mom.mapping.plan import Plan, load_plan
from v2mom.models import State, WorkItem
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
