"""The effort-by-value report (``GET /api/reports/effort-by-value``).

One GROUP BY over the rollup's shares (``v2mom.rollup``: resolutions pre-summed per tracker, state,
day, orphaned and allocation set, maintained with every write, joined to the sets' (value, method,
weight) rows) returns a few rows per (value, method, orphaned);
everything else is arithmetic on those rows. Invariant:
``sum(values[].effort) + untagged.effort == total.effort``; ``orphaned`` overlaps the others.

A plan with teams adds the ``unaligned`` part (the share of team methods' effort that reaches no
value: a share with a method and no value) and the invariant becomes
``sum(values[].effort) + untagged.effort + unaligned.effort == total.effort``. Its values are the
company's, then each team's own (a team's target share is of the team's effort, not the company's,
so it is not repeated here); each value lists every method of the cascade that serves it. A plan
without teams gives the report it always did, without the ``unaligned`` key.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from v2mom.mapping.cascade import ancestor_ids, method_weights, subtree_ids
from v2mom.mapping.plan import Plan
from v2mom.reports.people_time import TIME_MEASURES, TimeViews, people_rows
from v2mom.store.database import Database
from v2mom.workdays import WorkCalendar

EstimateMeasure = Literal["points", "hours", "count"]  # what items carry (and the rollup sums)
Measure = Literal["points", "hours", "count", "person_days", "fte"]  # what the effort report takes
StateFilter = Literal["done", "open", "all"]
MEASURES: tuple[EstimateMeasure, ...] = ("points", "hours", "count")  # what reviews snapshot
STATES: tuple[StateFilter, ...] = ("done", "open", "all")
DIRECT = "(direct)"  # method bucket for values tagged directly, not through a method


@dataclass(frozen=True)
class ReportQuery:
    """The filters of one report."""

    measure: Measure = "points"
    state: StateFilter = "all"
    date_from: date | None = None
    date_to: date | None = None
    tracker: str | None = None
    team: str | None = None  # a team of the cascade: that team and its descendants (None: the company)
    period: str | None = None  # the CYCLE/PERIOD reference the dates were given as, if they were
    calendar: WorkCalendar = field(default_factory=WorkCalendar)  # people's time: days and people


# The dates a report filter may name. Completion dates come from the trackers' timestamps, which
# start at the Unix epoch, so nothing is done before 1970; 2999 leaves any open-ended "to" room.
# Both ends stay far from date.min/date.max, so week arithmetic around them (the trend's Monday
# and its twelve default weeks) cannot overflow (0001-01-01 and 9999-12-31 were 500s).
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(2999, 12, 31)


def date_range_problems(date_from: date | None, date_to: date | None) -> list[tuple[str, str]]:
    """(``from``/``to``, problem) for report dates outside FIRST_DAY..LAST_DAY or in the wrong order."""
    problems = [
        (name, f"{name}: must be between {FIRST_DAY.isoformat()} and {LAST_DAY.isoformat()}")
        for name, day in (("from", date_from), ("to", date_to))
        if day is not None and not FIRST_DAY <= day <= LAST_DAY
    ]
    if not problems and date_from and date_to and date_from > date_to:
        problems.append(("from", "from: must not be after 'to'"))
    return problems


def _iso(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else None


def grouped_rows(store: Database, plan: Plan, query: ReportQuery) -> list[tuple[Any, ...]]:
    """(value_id, method_id, orphaned, effort, value_items, items, rows) per group: the one query."""
    return store.report_queries.effort_groups(
        measure=query.measure,
        state=query.state,
        tracker=query.tracker,
        date_from=query.date_from,
        date_to=query.date_to,
        teams=None if query.team is None else subtree_ids(plan, query.team),
    )


def _listed(plan: Plan, team: str | None) -> set[str] | None:
    """What a team's report lists even without effort: the company's values, the values of the team
    and of the teams above it, and the methods of the team and of the teams below it (None: the
    company's report lists everything)."""
    if team is None:
        return None
    teams = plan.teams or ()
    parents = {t.id: t.parent for t in teams}
    above = {team, *ancestor_ids(team, parents)}
    below = set(subtree_ids(plan, team))
    return (
        {v.id for v in plan.values}
        | {v.id for t in teams if t.id in above for v in t.values}
        | {m.id for t in teams if t.id in below for m in t.methods}
    )


def unknown_team_problem(plan: Plan, team: str | None) -> str | None:
    """Why ``team`` names no team of the plan (listing those it has), or None when it does."""
    ids = [t.id for t in plan.teams or ()]
    if team is None or team in ids:
        return None
    return f"team: {team!r} is no team of the plan (teams: {', '.join(ids) or 'none'})"


def filters_of(query: ReportQuery) -> dict[str, Any]:
    """The filters a report document repeats back: measure, state, from, to, tracker."""
    return {
        "measure": query.measure,
        "state": query.state,
        "from": query.date_from.isoformat() if query.date_from else None,
        "to": query.date_to.isoformat() if query.date_to else None,
        "tracker": query.tracker,
    }


def share_of(part: float, whole: float) -> float:
    """``part`` as a share of ``whole``, to four places (0 when there is no whole)."""
    return round(part / whole, 4) if whole else 0.0


def build_freshness(store: Database, trackers: list[str] | None) -> dict[str, dict[str, Any]]:
    """Per tracker: last successful sync, last webhook received, inbox backlog, parked events.

    ``interrupted_at`` is added when a sync run was interrupted since the last successful one.
    """
    inbox = store.inbox
    last_sync = store.sync_state.last_successful_sync()
    interrupted = store.sync_state.last_interrupted()
    last_event = inbox.last_event()
    counts = inbox.counts()
    names = sorted(set(trackers or []) | set(last_sync) | set(last_event) | set(interrupted))
    freshness: dict[str, dict[str, Any]] = {}
    for tracker in names:
        freshness[tracker] = {
            "last_sync": _iso(last_sync.get(tracker)),
            "last_event": _iso(last_event.get(tracker)),
            "backlog": counts.get(tracker, {}).get("pending", 0)
            + counts.get(tracker, {}).get("processing", 0),
            "parked": counts.get(tracker, {}).get("parked", 0),
        }
        if tracker in interrupted:
            freshness[tracker]["interrupted_at"] = _iso(interrupted[tracker])
    return freshness


def build_report(
    store: Database, plan: Plan, query: ReportQuery, trackers: list[str] | None = None
) -> dict[str, Any]:
    """The whole report document, ready to serialise as JSON."""
    return {**report_body(store, plan, query), "freshness": build_freshness(store, trackers)}


def report_body(
    store: Database, plan: Plan, query: ReportQuery, views: TimeViews | None = None
) -> dict[str, Any]:
    """The report without ``freshness``: one GROUP BY and arithmetic (what a review snapshot keeps).

    In people's time (``person_days``, ``fte``) the rows come from the stored histories instead, and
    the document adds ``people``, ``working_days`` and ``unattributed``
    (:mod:`v2mom.reports.people_time`); ``views`` keeps what a view's reports share (its teams'
    facts and folding) for the next team's report in the same view."""
    if query.measure in TIME_MEASURES:
        found = people_rows(store, plan, query, views)
        return {**report_document(plan, found.query, found.rows), **found.extra}
    return report_document(plan, query, grouped_rows(store, plan, query))


def report_document(plan: Plan, query: ReportQuery, rows: list[tuple[Any, ...]]) -> dict[str, Any]:
    """The report for ``query`` from its grouped rows (see :func:`grouped_rows`): arithmetic only."""
    value_effort: dict[str | None, float] = defaultdict(float)
    value_items: dict[str | None, int] = defaultdict(int)
    method_effort: dict[tuple[str, str], float] = defaultdict(float)
    method_items: dict[tuple[str, str], int] = defaultdict(int)
    total_effort = 0.0
    total_items = 0
    orphaned_effort = 0.0
    orphaned_items = 0
    unaligned_effort = 0.0
    unaligned_items = 0
    lost_by_method: dict[str, float] = defaultdict(float)
    for value_id, method_id, orphaned, effort, first_value, first_item, count in rows:
        effort = float(effort or 0.0)
        total_effort += effort
        total_items += int(first_item or 0)
        if value_id is None and method_id is not None:  # a team method's share that reaches no value
            unaligned_effort += effort
            unaligned_items += int(first_value or 0)
            lost_by_method[method_id] += effort
        else:
            value_effort[value_id] += effort
            value_items[value_id] += int(first_value or 0)
        if value_id is not None:
            method_effort[(value_id, method_id or DIRECT)] += effort
            method_items[(value_id, method_id or DIRECT)] += int(count)
        if orphaned:
            orphaned_effort += effort
            orphaned_items += int(first_item or 0)

    teams = plan.teams or ()
    weights = method_weights(plan)  # the company's methods first, in plan order, then the teams'
    names = {m.id: m.name for m in plan.cascade_methods()}
    team_values = {v.id for team in teams for v in team.values}
    listed = _listed(plan, query.team)
    values_out = []
    known_values = set()
    for value in plan.cascade_values():
        known_values.add(value.id)
        if listed is not None and value.id not in listed and value.id not in value_effort:
            continue
        methods_out = []
        for method_id, found in weights.items():
            shown = listed is None or method_id in listed
            if (shown and value.id in found.values) or (value.id, method_id) in method_effort:
                key = (value.id, method_id)
                methods_out.append(
                    {
                        "id": method_id,
                        "name": names[method_id],
                        "effort": round(method_effort.get(key, 0.0), 6),
                        "items": method_items.get(key, 0),
                    }
                )
        if (value.id, DIRECT) in method_effort:
            methods_out.append(
                {
                    "id": None,
                    "name": "Tagged with the value directly",
                    "effort": round(method_effort[(value.id, DIRECT)], 6),
                    "items": method_items[(value.id, DIRECT)],
                }
            )
        effort = value_effort.get(value.id, 0.0)
        values_out.append(
            {
                "id": value.id,
                "name": value.name,
                "effort": round(effort, 6),
                "share": share_of(effort, total_effort),
                "items": value_items.get(value.id, 0),
                "target_share": None if value.id in team_values else value.target_share,
                "methods": methods_out,
            }
        )
    # Values tagged in trackers that the plan no longer has are resolved as orphaned/untagged by the
    # resolver, so every allocated value id is in the plan; guard anyway so sums stay exact.
    stray = sum(e for v, e in value_effort.items() if v is not None and v not in known_values)
    untagged_effort = value_effort.get(None, 0.0) + stray
    cascade: dict[str, Any] = {}
    if plan.teams is not None:
        if query.team is not None:
            cascade["team"] = query.team
        cascade["unaligned"] = {
            "effort": round(unaligned_effort, 6),
            "share": share_of(unaligned_effort, total_effort),
            "items": unaligned_items,
            "methods": [
                {"id": method_id, "name": names[method_id], "effort": round(lost, 6)}
                for method_id, lost in sorted(lost_by_method.items(), key=lambda pair: (-pair[1], pair[0]))
            ],
        }
    return {
        **filters_of(query),
        "total": {"effort": round(total_effort, 6), "items": total_items},
        "values": values_out,
        "untagged": {
            "effort": round(untagged_effort, 6),
            "share": share_of(untagged_effort, total_effort),
            "items": value_items.get(None, 0),
        },
        "orphaned": {
            "effort": round(orphaned_effort, 6),
            "share": share_of(orphaned_effort, total_effort),
            "items": orphaned_items,
        },
        **cascade,
    }
