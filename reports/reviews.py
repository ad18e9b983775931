"""Closing review periods: the snapshot of a period, stored once and never changed.

A snapshot holds, for the company and every team of the plan and in every estimate measure (points,
hours, count), the effort-by-value report of the work done in the period (state ``done``, every
tracker, without ``freshness``); the plan's measures with their targets, the actual share and
whether each was met; the obstacles and the flag counts as they stand at closing (both are current
states, not dated, and counted in the estimate measures only); and the plan version it was computed
under. Each of those reports is the one GROUP BY over the rollup.

It holds people's time too (``person_days``, ``fte``): the time worked on the period's working days
(its ``start`` and ``end`` select the days worked), on work in every state (time worked is worked,
whatever became of the work: as the trend counts it), every tracker, with the people counted and
the working days; and the measures met on those shares. A team whose people's time covers fewer
than the calendar's ``min_group_size`` people never has its figures stored: its part holds, per
time measure, only the report's ``folded`` part (the team, the team or company whose figures answer
for it, the note), and no report or measures in that measure. Snapshots closed before people's time
was recorded have no time measures at all; they are read as stored. The people's time of the company
and of every team is read in one statement (:class:`~v2mom.reports.people_time.TimeViews`): each
report takes its subtree's sums from it, so closing reads the people's-time shares once, whatever the
number of teams, on top of the estimate reports.

Periods are closed after they end (by the scheduled reconcile, or ``v2mom review close``). A plan
that replaces the cycle closes the old one at once: each period of it without a snapshot that has
started, the current one cut at the day of the switch (marked ``cut``), so the old cycle's last
numbers are kept before the new plan re-resolves the work; periods that had not started are not
closed.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from v2mom.clock import iso_seconds, utcnow
from v2mom.mapping.cycle import Cycle, CyclePeriod, cycle_periods
from v2mom.mapping.plan import Measure, Plan
from v2mom.mapping.plan_changes import RuleChange
from v2mom.reports.effort import MEASURES, ReportQuery, report_body
from v2mom.reports.flags import flag_counts
from v2mom.reports.obstacles import build_obstacles
from v2mom.reports.people_time import TIME_MEASURES, TimeViews
from v2mom.reports.periods import PeriodError, find_period
from v2mom.store.database import Database
from v2mom.store.resolution.plan_change import PlanApplied, apply_plan
from v2mom.store.resolution.preview import PlanPreview
from v2mom.store.reviews import CloseResult
from v2mom.workdays import WorkCalendar


def _measures(measures: tuple[Measure, ...], report: dict[str, Any]) -> list[dict[str, Any]]:
    """Each effort-share measure against ``report``: its target, the value's actual share, met or not."""
    shares = {value["id"]: value["share"] for value in report["values"]}
    out = []
    for measure in measures:
        actual = shares.get(measure.value, 0.0)
        out.append(
            {
                "id": measure.id,
                "name": measure.name,
                "value": measure.value,
                "target": measure.target,
                "actual": actual,
                "met": actual >= measure.target,
            }
        )
    return out


def _part(
    store: Database,
    plan: Plan,
    period: CyclePeriod,
    team: str | None,
    measures: tuple[Measure, ...],
    calendar: WorkCalendar,
    views: TimeViews,
) -> dict[str, Any]:
    """The reports (one per measure) and the measures met for the company (``team`` None) or a team:
    done work in the estimate measures, the time worked in the period in people's time. A team too
    small to show in people's time gets the ``folded`` part instead of those reports and measures."""
    reports: dict[str, dict[str, Any]] = {
        measure: report_body(
            store,
            plan,
            ReportQuery(measure=measure, state="done", date_from=period.start, date_to=period.end, team=team),
        )
        for measure in MEASURES
    }
    folded: dict[str, Any] = {}
    for measure in TIME_MEASURES:
        query = ReportQuery(
            measure=measure,
            state="all",
            date_from=period.start,
            date_to=period.end,
            team=team,
            calendar=calendar,
        )
        report = report_body(store, plan, query, views)
        if "folded" in report:  # the figures are another team's (or the company's): never stored here
            folded[measure] = report["folded"]
        else:
            reports[measure] = report
    part: dict[str, Any] = {
        "reports": reports,
        "measures": {measure: _measures(measures, report) for measure, report in reports.items()},
    }
    if folded:
        part["folded"] = folded
    return part


def snapshot_document(
    store: Database,
    plan: Plan,
    cycle: Cycle,
    period: CyclePeriod,
    *,
    plan_version: int,
    closed_at: str,
    closed_by: str,
    cut: bool = False,
    calendar: WorkCalendar | None = None,
) -> dict[str, Any]:
    """The review of ``period`` under ``plan``, as stored (see the module's docstring); people's time
    is counted in ``calendar`` (the settings' days, people and ``min_group_size``; default: the
    defaults')."""
    calendar = calendar or WorkCalendar()
    views = TimeViews()  # the snapshot's teams share each view: its facts and folding, read once
    return {
        "cycle": {
            "id": cycle.id,
            "name": cycle.name,
            "start": cycle.start.isoformat(),
            "end": cycle.end.isoformat(),
        },
        "period": {
            "id": period.id,
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
            "cut": cut,
        },
        "plan_version": plan_version,
        "closed_at": closed_at,
        "closed_by": closed_by,
        "company": _part(store, plan, period, None, plan.measures, calendar, views),
        "teams": {
            team.id: {
                "name": team.name,
                **_part(store, plan, period, team.id, team.measures, calendar, views),
            }
            for team in plan.teams or ()
        },
        "obstacles": {
            measure: build_obstacles(store, plan, ReportQuery(measure=measure))["obstacles"]
            for measure in MEASURES
        },
        "flags": {measure: flag_counts(store, measure=measure) for measure in MEASURES},
    }


def close_period(
    store: Database,
    plan: Plan,
    cycle_period: CyclePeriod,
    actor: str,
    *,
    cut: bool = False,
    calendar: WorkCalendar | None = None,
) -> CloseResult:
    """Store the review of ``cycle_period`` of ``plan``'s cycle, once.

    A period closed before is not recomputed: the result says so (``closed`` False) and carries the
    snapshot stored then. ``cut`` marks a period closed before its end (at a cycle switch);
    ``calendar`` is the settings' (people's time: days, people, ``min_group_size``).
    """
    cycle = plan.cycle
    if cycle is None:
        raise PeriodError(f"cannot close period '{cycle_period.id}': the plan has no cycle")
    before = store.reviews.summary(cycle.id, cycle_period.id)
    if before is not None:
        return CloseResult(False, before)
    closed_at = utcnow().replace(microsecond=0)
    document = snapshot_document(
        store,
        plan,
        cycle,
        cycle_period,
        plan_version=store.plans.current_version(),
        closed_at=iso_seconds(closed_at),
        closed_by=actor,
        cut=cut,
        calendar=calendar,
    )
    return store.reviews.close(
        cycle_id=cycle.id,
        period_id=cycle_period.id,
        period_start=cycle_period.start,
        period_end=cycle_period.end,
        plan_version=document["plan_version"],
        closed_at=closed_at,
        closed_by=actor,
        document=document,
    )


def close_ended_periods(
    store: Database, plan: Plan, actor: str, today: date, *, calendar: WorkCalendar | None = None
) -> list[CloseResult]:
    """Every period of the plan's cycle that ended before ``today``, in order: closed now (``closed``
    True) or already closed before. Nothing for a plan without a cycle."""
    if plan.cycle is None:
        return []
    ended = [period for period in cycle_periods(plan.cycle) if period.end < today]
    return [close_period(store, plan, period, actor, calendar=calendar) for period in ended]


def close_reference(
    store: Database,
    plan: Plan,
    reference: str,
    actor: str,
    today: date,
    *,
    calendar: WorkCalendar | None = None,
) -> CloseResult:
    """Close the period ``reference`` (``fy27/q1``) names. Already closed: says so. Raises PeriodError
    for a reference to no period of the plan's cycle, or to a period that has not ended."""
    found = find_period(store, plan, reference)
    before = store.reviews.summary(found.cycle_id, found.period_id)
    if before is not None:
        return CloseResult(False, before)
    if found.end >= today:
        raise PeriodError(
            f"{found.reference} has not ended (its last day is {found.end.isoformat()}): "
            "a period is closed after its last day"
        )
    period = CyclePeriod(found.period_id, found.start, found.end)
    return close_period(store, plan, period, actor, calendar=calendar)


def close_replaced_cycle(
    store: Database, new_plan: Plan, actor: str, today: date, *, calendar: WorkCalendar | None = None
) -> list[CloseResult]:
    """Before ``new_plan`` is applied: when it replaces the stored plan's cycle (another ``cycle.id``,
    or no cycle), close the old cycle under the stored plan. Every period of it that has started by
    ``today`` and has no snapshot is closed, the current one cut at ``today``. Nothing otherwise."""
    old_plan = store.plans.current()
    if old_plan is None or old_plan.cycle is None:
        return []
    if new_plan.cycle is not None and new_plan.cycle.id == old_plan.cycle.id:
        return []
    closed = store.reviews.closed_periods(old_plan.cycle.id)
    results = []
    for period in cycle_periods(old_plan.cycle):
        if period.start > today:
            break
        if period.id in closed:
            continue
        cut = period.end >= today
        final = CyclePeriod(period.id, period.start, today) if cut else period
        results.append(close_period(store, old_plan, final, actor, cut=cut, calendar=calendar))
    return results


def apply_closing_cycle(
    store: Database,
    plan: Plan,
    *,
    actor: str,
    today: date,
    reason: str | None = None,
    preview: PlanPreview | None = None,
    rule: RuleChange | None = None,
    calendar: WorkCalendar | None = None,
) -> tuple[list[CloseResult], PlanApplied]:
    """Apply ``plan`` (:func:`~v2mom.store.resolution.plan_change.apply_plan`); when it replaces the
    stored plan's cycle, the old cycle is closed first (:func:`close_replaced_cycle`), so its last
    review is taken under the plan it ran on. Every path that applies a plan comes through here."""
    closed = close_replaced_cycle(store, plan, actor, today, calendar=calendar)
    applied = apply_plan(store, plan, actor=actor, rule=rule, reason=reason, preview=preview)
    return closed, applied


def close_due_periods(
    store: Database, today: date, actor: str = "reconcile", *, calendar: WorkCalendar | None = None
) -> list[CloseResult]:
    """The scheduled close: every ended period of the stored plan's cycle without a review yet
    (nothing before a plan with a cycle is stored)."""
    plan = store.plans.current()
    return [] if plan is None else close_ended_periods(store, plan, actor, today, calendar=calendar)
