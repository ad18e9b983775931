"""Reports for a review period: ``period=fy27/q2`` stands for the period's dates, and a closed period
is answered from its review snapshot.

A reference names the plan's cycle and one of its periods, or a period of an earlier cycle that was
closed (its dates are the snapshot's). The effort report of a period that has a snapshot is the
stored report whenever the snapshot holds it, so a reviewed quarter reads the same whatever the plan
says today. A snapshot holds, for the company and every team and in every measure, the report of
done work over all trackers (people's time: the time worked in the period on work in every state,
so ``state=all``); any other filter (another ``state``, a ``tracker``, a team the snapshot does not
have, people's time in a review closed before it was recorded) is computed live for the period's
dates, with a note saying why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from v2mom.mapping.cycle import CyclePeriod, cycle_periods, resolve_period, split_reference
from v2mom.mapping.plan import Plan
from v2mom.reports.effort import ReportQuery, build_report
from v2mom.reports.people_time import TIME_MEASURES
from v2mom.store.database import Database
from v2mom.store.reviews import Review


class PeriodError(ValueError):
    """A period reference that names no period: no cycle in the plan, or an unknown cycle or period."""


@dataclass(frozen=True)
class ReportPeriod:
    """A period a report may name, with its dates (both days included)."""

    cycle_id: str
    period_id: str
    start: date
    end: date

    @property
    def reference(self) -> str:
        """``cycle/period``, as the reference is written."""
        return f"{self.cycle_id}/{self.period_id}"


def known_references(store: Database, plan: Plan) -> list[str]:
    """Every period reference that exists: the plan's cycle's periods, then closed periods of others."""
    cycle = plan.cycle
    own = [f"{cycle.id}/{p.id}" for p in cycle_periods(cycle)] if cycle is not None else []
    closed = [f"{r.cycle_id}/{r.period_id}" for r in store.reviews.list()]
    return own + [reference for reference in closed if reference not in own]


def find_period(store: Database, plan: Plan, reference: str) -> ReportPeriod:
    """The period ``reference`` (``fy27/q2``) names: a closed period's dates are its snapshot's,
    any other's the plan's cycle's. Raises PeriodError saying what is wrong and listing the periods
    that exist."""
    cycle_id, period_id = split_reference(reference)
    stored = store.reviews.summary(cycle_id, period_id) if cycle_id and period_id else None
    if stored is not None:
        return ReportPeriod(cycle_id, period_id, stored.period_start, stored.period_end)
    try:
        found: CyclePeriod = resolve_period(plan.cycle, reference)
    except ValueError as exc:
        message = str(exc)
        known = known_references(store, plan)
        if plan.cycle is not None and "has no period" not in message and known:
            message += f"; the periods are {', '.join(known)}"
        raise PeriodError(message) from None
    return ReportPeriod(cycle_id, found.id, found.start, found.end)


def _part(document: dict[str, Any], team: str | None) -> dict[str, Any]:
    """The company's part of a stored review (``team`` None) or a team's."""
    part: dict[str, Any] = document["company"] if team is None else document["teams"][team]
    return part


def _folded(review: Review, query: ReportQuery) -> dict[str, Any] | None:
    """The ``folded`` part ``review`` stored for ``query``'s team and measure: the team was too small
    to show in people's time (None when it was shown, or for the company)."""
    folded: dict[str, Any] | None = _part(review.document, query.team).get("folded", {}).get(query.measure)
    return folded


def snapshot_problem(review: Review, query: ReportQuery) -> str | None:
    """Why ``review`` cannot answer ``query`` (None when it can): it holds done work of every
    tracker (people's time: the time worked on work in every state), for the company and the teams
    of its day; a review closed before people's time was recorded holds none of it."""
    if query.tracker is not None:
        return f"it holds every tracker's work; tracker={query.tracker} was computed live"
    if query.team is not None and query.team not in review.document.get("teams", {}):
        return f"it has no team '{query.team}'; computed live"
    folded = _folded(review, query)
    answering = _part(review.document, folded["into"] if folded else query.team)
    report = answering["reports"].get(query.measure)
    if report is None:
        if query.measure in TIME_MEASURES:
            return "it was closed before people's time was recorded; computed live"
        return f"it holds no {query.measure} figures; computed live"
    if query.state != report["state"]:
        held = "done work" if report["state"] == "done" else "work in every state"
        return f"it holds {held}; state={query.state} was computed live"
    return None


def stored_report(review: Review, query: ReportQuery) -> dict[str, Any]:
    """The report ``review`` stored for ``query``'s team (the company when None) and measure; for a
    team it stored as folded, the report of the team (or company) it was folded into, with the
    ``folded`` part, as the live report answers."""
    folded = _folded(review, query)
    if folded is None:
        report: dict[str, Any] = _part(review.document, query.team)["reports"][query.measure]
        return report
    return {**_part(review.document, folded["into"])["reports"][query.measure], "folded": folded}


def period_report(
    store: Database, plan: Plan, query: ReportQuery, today: date, trackers: list[str] | None = None
) -> dict[str, Any]:
    """The effort report for ``query.period``: from its snapshot when the snapshot holds it, else live
    for the period's dates (``query`` already carries them). The document gains ``period``: the
    reference, its dates, where the numbers come from and, when live, why. A snapshot's answer has
    no freshness (``{}``): it is what was reviewed, not what the trackers say now."""
    if query.period is None:
        raise ValueError("period_report needs a query naming a period")
    cycle_id, period_id = split_reference(query.period)
    review = store.reviews.get(cycle_id, period_id)
    block: dict[str, Any] = {
        "id": query.period,
        "start": query.date_from.isoformat() if query.date_from else None,
        "end": query.date_to.isoformat() if query.date_to else None,
        "source": "live",
        "plan_version": None,
        "closed_at": None,
        "note": None,
    }
    if review is not None:
        problem = snapshot_problem(review, query)
        if problem is None:
            block |= {
                "source": "snapshot",
                "plan_version": review.plan_version,
                "closed_at": review.document["closed_at"],
            }
            return {**stored_report(review, query), "period": block, "freshness": {}}
        block["note"] = f"the review of {query.period} cannot answer this: {problem}"
    elif query.date_to is not None and query.date_to < today:
        block["note"] = f"{query.period} has ended but has no review yet: computed live"
    else:
        block["note"] = f"{query.period} has not ended: computed live"
    live = build_report(store, plan, query, trackers)
    freshness = live.pop("freshness")
    return {**live, "period": block, "freshness": freshness}


@dataclass(frozen=True)
class PlanPeriod:
    """A period of the plan's cycle with its dates, whether it has ended and whether it is closed."""

    cycle_id: str
    period_id: str
    start: date
    end: date
    ended: bool
    closed: bool


def plan_periods(store: Database, plan: Plan, today: date) -> list[PlanPeriod]:
    """The plan's cycle's periods in order (none without a cycle): ended once their last day is
    before ``today``, closed once they have a review."""
    cycle = plan.cycle
    if cycle is None:
        return []
    closed = store.reviews.closed_periods(cycle.id)
    return [
        PlanPeriod(cycle.id, period.id, period.start, period.end, period.end < today, period.id in closed)
        for period in cycle_periods(cycle)
    ]
