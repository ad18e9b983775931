"""The effort report in people's time: ``measure=person_days`` or ``measure=fte``.

``from`` and ``to`` select the days worked (not completion dates); with neither, the last 90 days
in the settings' time zone. ``fte`` is person-days divided by the working days of the window. The
report adds ``people`` (distinct people counted), ``working_days`` and ``unattributed`` (in-progress
items nobody held: a count, no effort). No figure is ever broken down by person: a team whose
figures would cover fewer than ``min_group_size`` people is answered as its parent team (the
company at the top), and ``folded`` says so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal

from v2mom.clock import utcnow
from v2mom.mapping.cascade import subtree_ids
from v2mom.mapping.plan import Plan
from v2mom.reports.disclosure import Folding, fold_teams
from v2mom.store.database import Database
from v2mom.store.people_time import TeamsFacts, TimeWindow
from v2mom.workdays import WorkCalendar

if TYPE_CHECKING:
    from v2mom.reports.effort import ReportQuery

__all__ = [
    "TIME_MEASURES",
    "PeopleDays",
    "PeopleRows",
    "PeopleTeamRows",
    "TimeViews",
    "day_rows",
    "folded_part",
    "item_time",
    "people_rows",
    "team_rows",
    "time_window",
]

TIME_MEASURES: tuple[Literal["person_days", "fte"], ...] = ("person_days", "fte")


@dataclass(frozen=True)
class PeopleRows:
    """The grouped rows of a people's-time report (in the report's measure), the query as answered
    (its window's dates filled in, its team after folding) and what the document adds."""

    rows: list[tuple[Any, ...]]
    query: ReportQuery
    extra: dict[str, Any]


def time_window(
    calendar: WorkCalendar, date_from: date | None, date_to: date | None, now: datetime
) -> tuple[date, date, TimeWindow]:
    """The first and last date a people's-time figure covers (as given, else the last 90 days in the
    calendar's zone) and its working days, as the store counts them."""
    first, last = calendar.window(date_from, date_to, now)
    return (
        first,
        last,
        TimeWindow(
            workdays=calendar.workdays(first, last), now=now, accounts=calendar.accounts, calendar=calendar
        ),
    )


def item_time(
    store: Database,
    calendar: WorkCalendar,
    pk: int,
    date_from: date | None = None,
    date_to: date | None = None,
) -> dict[str, Any]:
    """One item's people's time in the window (``explain``): its person-days and on how many working
    days it had a share. Counts only: who held it never leaves the store."""
    first, last, window = time_window(calendar, date_from, date_to, utcnow())
    person_days, days_worked = store.people_time.item_days(window, pk)
    return {
        "from": first,
        "to": last,
        "working_days": len(window.workdays),
        "person_days": person_days,
        "days_worked": days_worked,
    }


@dataclass(frozen=True)
class PeopleTeamRows:
    """A teams tree's rows in people's time: (team, value, method, effort, items) in the query's
    measure, the people each team's subtree covers, the teams it must fold, the query as answered
    (its window's dates) and what the document adds (``people``, ``working_days``)."""

    rows: list[tuple[str | None, str | None, str | None, float, int]]
    people: dict[str, int]
    folding: Folding
    query: ReportQuery
    extra: dict[str, Any]


def _subtrees(plan: Plan) -> dict[str, list[str]]:
    """Each team of ``plan`` and the teams of its subtree (itself included)."""
    return {team.id: subtree_ids(plan, team.id) for team in plan.teams or ()}


def team_rows(store: Database, plan: Plan, query: ReportQuery) -> PeopleTeamRows:
    """Person-days (or FTE) per (team, value, method) and people per team subtree, for ``query``."""
    first, last, window = time_window(query.calendar, query.date_from, query.date_to, utcnow())
    found = store.people_time.by_team(window, _subtrees(plan), state=query.state, tracker=query.tracker)
    days = len(window.workdays)
    rows = found.rows
    if query.measure == "fte":
        rows = [(t, v, m, e / days if days else 0.0, n) for t, v, m, e, n in rows]
    return PeopleTeamRows(
        rows=rows,
        people=found.people,
        folding=_folding(store, plan, window, query, found.people),
        query=replace(query, date_from=first, date_to=last),
        extra={"people": found.everyone, "working_days": days},
    )


@dataclass(frozen=True)
class PeopleDays:
    """A trend's rows in people's time: (working day, value, unaligned, person-days), the working
    days of its window, the team answered (after folding) and what the document adds."""

    rows: list[tuple[date, str | None, bool, float]]
    workdays: list[date]
    team: str | None
    extra: dict[str, Any]


def day_rows(store: Database, plan: Plan, query: ReportQuery, first: date, last: date) -> PeopleDays:
    """Person-days per working day and value from ``first`` to ``last`` (work in any state), folded
    up the cascade as :func:`people_rows` folds a team too small to show."""
    _, _, window = time_window(query.calendar, first, last, utcnow())
    team, folded = _answering(store, plan, window, replace(query, state="all"))
    teams = None if team is None else subtree_ids(plan, team)
    found = store.people_time.by_day(window, tracker=query.tracker, teams=teams)
    extra: dict[str, Any] = {"people": found.people, "working_days": len(window.workdays), **folded}
    return PeopleDays(rows=found.rows, workdays=[d.day for d in window.workdays], team=team, extra=extra)


def _folding(
    store: Database, plan: Plan, window: TimeWindow, query: ReportQuery, people: dict[str, int]
) -> Folding:
    """The teams a view of ``query`` in ``window`` folds, given each team subtree's people."""

    def count(sets: Mapping[str, Sequence[str | None]]) -> Mapping[str, int]:
        return store.people_time.by_team(window, sets, state=query.state, tracker=query.tracker).people

    return fold_teams(plan, people, query.calendar.min_group_size, count)


class TimeViews:
    """The people's-time views (window, state, tracker, fewest people) that several reports in one
    calendar share (a review's company and teams): each view's facts for every team and its teams'
    folding, computed once the first time they are asked."""

    def __init__(self) -> None:
        """Start empty."""
        self._facts: dict[tuple[Any, ...], TeamsFacts] = {}
        self._foldings: dict[tuple[Any, ...], Folding] = {}

    def facts(self, key: tuple[Any, ...], compute: Callable[[], TeamsFacts]) -> TeamsFacts:
        """The facts of every team in the view ``key``."""
        if key not in self._facts:
            self._facts[key] = compute()
        return self._facts[key]

    def folding(self, key: tuple[Any, ...], compute: Callable[[], Folding]) -> Folding:
        """The teams' folding in the view ``key``."""
        if key not in self._foldings:
            self._foldings[key] = compute()
        return self._foldings[key]


def _view(window: TimeWindow, query: ReportQuery) -> tuple[Any, ...]:
    """What a people's-time figure of ``query`` depends on besides its team (and the calendar)."""
    days = (window.workdays[0].day, window.workdays[-1].day) if window.workdays else ()
    return (*days, query.state, query.tracker, query.calendar.min_group_size)


def _all_teams(
    views: TimeViews, store: Database, plan: Plan, window: TimeWindow, query: ReportQuery
) -> TeamsFacts:
    """The facts of every team of ``plan`` (and the people of each team's subtree) in ``query``'s
    view, read the first time the view is asked."""

    def compute() -> TeamsFacts:
        return store.people_time.facts_by_team(
            window, _subtrees(plan), state=query.state, tracker=query.tracker
        )

    return views.facts(_view(window, query), compute)


def _answering(
    store: Database, plan: Plan, window: TimeWindow, query: ReportQuery, views: TimeViews | None = None
) -> tuple[str | None, dict[str, Any]]:
    """The team that answers a view of ``query``'s team (itself unless it is folded, see
    :mod:`v2mom.reports.disclosure`), and the document's ``folded`` part when it is not itself.
    ``views`` keeps the view's folding (and the teams' people it is made of) for the next team."""
    if query.team is None:
        return None, {}
    view = _view(window, query)

    def compute() -> Folding:
        if views is not None:
            people = _all_teams(views, store, plan, window, query).people
        else:
            found = store.people_time.by_team(
                window, _subtrees(plan), state=query.state, tracker=query.tracker
            )
            people = found.people
        return _folding(store, plan, window, query, people)

    folding = compute() if views is None else views.folding(view, compute)
    team = folding.shown(query.team)
    if team == query.team:
        return team, {}
    return team, {"folded": folded_part(folding, query.team, query.calendar.min_group_size)}


def folded_part(folding: Folding, team: str, fewest: int) -> dict[str, Any]:
    """The ``folded`` part of a document for ``team``, folded into the team that answers for it."""
    into = folding.into[team]
    shown = f"team {into}" if into is not None else "the company"
    reason = (
        f"{team} has fewer than {fewest} people in this window"
        if team in folding.too_small
        else f"{team} is not shown on its own in this window, so that no group under {fewest} people"
        " can be worked out from the figures"
    )
    return {"team": team, "into": into, "note": f"{reason}; its time is shown within {shown}"}


def people_rows(
    store: Database, plan: Plan, query: ReportQuery, views: TimeViews | None = None
) -> PeopleRows:
    """Person-days (or FTE) per (value, method, orphaned) for ``query``, its team answered as the
    teams tree folds it (:mod:`v2mom.reports.disclosure`). With ``views``, the facts of every team
    are read once per view and each report takes its subtree's from them (a review's reports)."""
    calendar = query.calendar
    first, last, window = time_window(calendar, query.date_from, query.date_to, utcnow())

    team, folded = _answering(store, plan, window, query, views)
    teams = None if team is None else subtree_ids(plan, team)
    if views is None:
        facts = store.people_time.facts(window, state=query.state, tracker=query.tracker, teams=teams)
    else:
        facts = _all_teams(views, store, plan, window, query).of(team, teams)
    days = len(window.workdays)
    rows = facts.groups
    if query.measure == "fte":
        rows = [(v, m, o, float(e or 0.0) / days if days else 0.0, *rest) for v, m, o, e, *rest in rows]
    extra: dict[str, Any] = {
        "people": facts.people,
        "working_days": days,
        "unattributed": {"items": facts.unattributed},
        **folded,
    }
    return PeopleRows(rows=rows, query=replace(query, date_from=first, date_to=last, team=team), extra=extra)
