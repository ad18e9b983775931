"""The weekly trend of *done* effort per value (``GET /api/reports/trend``).

One GROUP BY over the rollup's shares (``v2mom.rollup``) by completion day and value, then days are
folded into ISO weeks (Monday first) in Python: a few hundred rows at most, and the same code on
SQLite and PostgreSQL.
Without ``from``/``to`` the trend covers the twelve weeks that end with the latest completion.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, func, select

from v2mom.mapping.plan import Plan
from v2mom.models import State
from v2mom.reports.effort import ReportQuery
from v2mom.store.database import Database
from v2mom.store.rollup import shares

DEFAULT_WEEKS = 12


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def build_trend(store: Database, plan: Plan, query: ReportQuery) -> dict[str, Any]:
    """Done effort per value and week in ``query``'s measure, tracker and date range."""
    a = shares().c
    conditions = [a.state == State.DONE.value, a.completed_on.is_not(None)]
    if query.tracker:
        conditions.append(a.tracker == query.tracker)
    end = query.date_to
    if end is None:
        with store.engine.connect() as conn:
            end = conn.execute(select(func.max(a.completed_on)).where(and_(*conditions))).scalar_one_or_none()
    end = end or date.today()
    start = query.date_from or _monday(end) - timedelta(weeks=DEFAULT_WEEKS - 1)
    conditions += [a.completed_on >= start, a.completed_on <= end]
    stmt = (
        select(a.completed_on, a.value_id, func.sum(a[query.measure]))
        .where(and_(*conditions))
        .group_by(a.completed_on, a.value_id)
    )
    with store.engine.connect() as conn:
        rows = conn.execute(stmt).all()
    known = {v.id for v in plan.values}
    buckets: dict[date, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for day, value_id, effort in rows:
        key = value_id if value_id in known else "untagged"
        buckets[_monday(day)][key] += float(effort or 0.0)
    weeks = []
    monday = _monday(start)
    while monday <= end:
        per_value = buckets.get(monday, {})
        iso = monday.isocalendar()
        weeks.append(
            {
                "week": f"{iso.year}-W{iso.week:02d}",
                "start": monday.isoformat(),
                "values": {v.id: round(per_value.get(v.id, 0.0), 6) for v in plan.values},
                "untagged": round(per_value.get("untagged", 0.0), 6),
            }
        )
        monday += timedelta(weeks=1)
    return {
        "measure": query.measure,
        "tracker": query.tracker,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "weeks": weeks,
    }
