"""The weekly trend of *done* effort per value (``GET /api/reports/trend``).

One GROUP BY over the rollup's shares (``v2mom.rollup``) by completion day and value, then days are
folded into ISO weeks (Monday first) in Python: a few hundred rows at most, and the same code on
SQLite and PostgreSQL.
A plan with teams lists the teams' own values after the company's, and each week gains
``unaligned`` (team work reaching no value) beside ``untagged``; a plan without teams gives the trend
it always did.
Without ``from``/``to`` the trend covers the twelve weeks that end with the latest completion.
A trend spans at most ``MAX_WEEKS`` weeks (``TrendRangeError`` beyond, a 422 at the API).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from v2mom.clock import utcnow
from v2mom.mapping.cascade import subtree_ids
from v2mom.mapping.plan import Plan
from v2mom.reports.effort import ReportQuery
from v2mom.reports.people_time import TIME_MEASURES, day_rows
from v2mom.store.database import Database

DEFAULT_WEEKS = 12
# Ten years of weekly points: more than a chart can show, and it keeps the answer small (each week
# is one object with a number per value; 0001..9999 was 521,000 weeks, 64 MB).
MAX_WEEKS = 520


class TrendRangeError(ValueError):
    """A ``from``..``to`` range longer than ``MAX_WEEKS`` weeks."""


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def build_trend(store: Database, plan: Plan, query: ReportQuery) -> dict[str, Any]:
    """Done effort per value and week in ``query``'s measure, tracker and date range.

    In people's time (``person_days``, ``fte``) a week holds the time worked in it, whatever the
    work's state now; ``fte`` divides each week's person-days by its working days. Without
    ``to`` the trend ends today (in the settings' zone); ``team`` folds as the effort report does."""
    people = query.measure in TIME_MEASURES
    end = query.date_to
    if end is None:
        end = (
            query.calendar.today(utcnow())
            if people
            else store.report_queries.latest_done_day(tracker=query.tracker)
        )
    end = end or date.today()
    start = query.date_from or _monday(end) - timedelta(weeks=DEFAULT_WEEKS - 1)
    weeks_asked = (_monday(end) - _monday(start)).days // 7 + 1
    if weeks_asked > MAX_WEEKS:
        raise TrendRangeError(
            f"from: a trend spans at most {MAX_WEEKS} weeks; {start.isoformat()} to {end.isoformat()}"
            f" is {weeks_asked} weeks"
        )
    extra: dict[str, Any] = {}
    workdays_in: dict[date, int] = {}
    if people:
        found = day_rows(store, plan, query, start, end)
        rows: list[tuple[date, str | None, bool, float | None]] = list(found.rows)
        extra = found.extra
        for day in found.workdays:
            workdays_in[_monday(day)] = workdays_in.get(_monday(day), 0) + 1
    else:
        teams = None if query.team is None else subtree_ids(plan, query.team)
        rows = store.report_queries.done_by_day(
            measure=query.measure, start=start, end=end, tracker=query.tracker, teams=teams
        )
    values = plan.cascade_values()
    known = {v.id for v in values}
    buckets: dict[date, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for day, value_id, unaligned, effort in rows:
        key = "unaligned" if unaligned else value_id if value_id in known else "untagged"
        buckets[_monday(day)][key] += float(effort or 0.0)
    weeks = []
    for offset in range(weeks_asked):  # counted, so no date past ``end`` is ever computed
        monday = _monday(start) + timedelta(weeks=offset)
        per_value = buckets.get(monday, {})
        if query.measure == "fte":  # a week's person-days over its working days
            divisor = workdays_in.get(monday, 0)
            per_value = {key: effort / divisor if divisor else 0.0 for key, effort in per_value.items()}
        iso = monday.isocalendar()
        week: dict[str, Any] = {
            "week": f"{iso.year}-W{iso.week:02d}",
            "start": monday.isoformat(),
            "values": {v.id: round(per_value.get(v.id, 0.0), 6) for v in values},
            "untagged": round(per_value.get("untagged", 0.0), 6),
        }
        if plan.teams is not None:
            week["unaligned"] = round(per_value.get("unaligned", 0.0), 6)
        weeks.append(week)
    return {
        "measure": query.measure,
        "tracker": query.tracker,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "weeks": weeks,
        **extra,
    }
