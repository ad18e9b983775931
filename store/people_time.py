"""People's time per value, team and day: who worked on what, each working day, grouped like effort.

The shares (each person's part of each working day per item; see :mod:`v2mom.store.people_chain`
for how they are computed from the histories) come from ``people_shares`` when the stored rows
cover the window (:meth:`~v2mom.store.people_shares.PeopleShares.covers`, which first refreshes
them if an item, a history, the day or the settings' calendar changed since), else from the
computation itself (a window before the days stored, or without the settings' calendar): both give
the same figures. Reports group the shares by the items' allocation sets exactly as the other
measures group effort; the report's filters (state, tracker, team) pick items after the days are
shared, so a filter never enlarges another item's share. Person-level rows never leave the store:
only sums per value, counts of people and of items do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    FromClause,
    Integer,
    Join,
    Select,
    String,
    and_,
    case,
    cast,
    column,
    func,
    literal,
    null,
    select,
    true,
    union_all,
    values,
)

from v2mom.models import State
from v2mom.store import schema as t
from v2mom.store.people_chain import Chain, TimeWindow, tune
from v2mom.store.people_shares import COPIED, PeopleShares
from v2mom.store.transactions import Repository

__all__ = ["DayFacts", "PeopleFacts", "PeopleTimeQueries", "TeamFacts", "TeamsFacts", "TimeWindow"]

TODO, IN_PROGRESS = State.TODO.value, State.IN_PROGRESS.value


@dataclass(frozen=True)
class PeopleFacts:
    """What a people's-time report is made of: person-days per (value, method, orphaned) group in
    the shape of :meth:`~v2mom.store.report_queries.ReportQueries.effort_groups`, the distinct
    people counted, and the in-progress items nobody held (``unattributed``)."""

    groups: list[tuple[Any, ...]]
    people: int
    unattributed: int


@dataclass(frozen=True)
class DayFacts:
    """People's time per (working day, value id, unaligned) and the distinct people counted."""

    rows: list[tuple[date, str | None, bool, float]]
    people: int


@dataclass(frozen=True)
class TeamFacts:
    """People's time per team: (team_id, value_id, method_id, person_days, items) rows (team None:
    the company's own work), the distinct people of each subtree asked for, and of everything."""

    rows: list[tuple[str | None, str | None, str | None, float, int]]
    people: dict[str, int]
    everyone: int


@dataclass(frozen=True)
class TeamsFacts:
    """A people's-time report's facts for every team at once: ``groups`` and ``unattributed`` per team
    (None: the company's own work), in :class:`PeopleFacts`' shapes; the distinct people of each
    subtree asked for and of everything. An item belongs to one team, so a subtree's groups and
    unattributed items are the sums of its teams' (:meth:`of`)."""

    groups: dict[str | None, list[tuple[Any, ...]]]
    unattributed: dict[str | None, int]
    people: dict[str, int]
    everyone: int

    def of(self, subtree: str | None, teams: Sequence[str] | None) -> PeopleFacts:
        """The facts of the subtree named ``subtree`` (its ``teams``), or of everything (None)."""
        chosen = list(self.groups) if teams is None else [team for team in teams if team in self.groups]
        summed: dict[tuple[Any, ...], list[Any]] = {}
        for team in chosen:
            for value_id, method_id, orphaned, days, value_items, items, rows in self.groups[team]:
                into = summed.setdefault((value_id, method_id, orphaned), [0.0, 0, 0, 0])
                into[0] += float(days or 0.0)
                into[1] += int(value_items or 0)
                into[2] += int(items or 0)
                into[3] += int(rows or 0)
        unheld = list(self.unattributed) if teams is None else teams
        return PeopleFacts(
            groups=[(*key, *sums) for key, sums in summed.items()],
            people=self.everyone if subtree is None else self.people.get(subtree, 0),
            unattributed=sum(self.unattributed.get(team, 0) for team in unheld),
        )


@dataclass(frozen=True)
class _Shares:
    """Where a report's shares come from: (person, day, pk, share) rows and (day, pk) rows of the
    in-progress items nobody held, for the window's working days. ``copied``: the share rows carry
    their item's resolution (``alloc_key``, ``orphaned``, ``team_id``, ``state``, ``tracker``: the
    stored rows do), so no resolution need be probed for them."""

    shares: CTE
    unheld: CTE
    copied: bool = False

    @cached_property
    def item_people(self) -> CTE:
        """Each item's person-days in the window per person who had a share of it. ``lead`` is 1 on
        one row of each item (its counts), 0 on the others: which one does not matter, as all the rows
        of an item count under its resolution. Numbering them sorts the rows by item, so the probes of
        the resolutions that follow (:func:`_resolved`) read their key in order."""
        sh = self.shares.c
        first = func.row_number().over(partition_by=sh.pk) == 1
        return (
            select(
                sh.pk, sh.person, func.sum(sh.share).label("days"), case((first, 1), else_=0).label("lead")
            )
            .group_by(sh.pk, sh.person)
            .cte("item_people")
        )


def _stored(window: TimeWindow, dialect: str) -> _Shares:
    """The window's rows of ``people_shares`` and ``people_unheld``."""
    s, u = t.people_shares.c, t.people_unheld.c
    first, last = window.workdays[0].day, window.workdays[-1].day
    # read where used: a filtered table scan is cheaper than PostgreSQL copying the rows aside
    inline = ("NOT MATERIALIZED",) if dialect == "postgresql" else ()
    return _Shares(
        shares=select(s.person, s.day, s.item_pk.label("pk"), s.share, *(s[name] for name in COPIED))
        .where(s.day.between(first, last))
        .cte("shares")
        .prefix_with(*inline),
        unheld=select(u.item_pk.label("pk"))
        .where(u.first_day <= last, u.last_day >= first)
        .cte("unheld")
        .prefix_with(*inline),
        copied=True,
    )


@dataclass(frozen=True)
class _Scope:
    """The report's filters on the items' resolutions (canceled work counts nothing)."""

    state: str = "all"
    tracker: str | None = None
    teams: Sequence[str] | None = None

    def on(self, r: Any) -> list[ColumnElement[bool]]:
        """The filters as conditions on ``r``: the resolutions' columns, or the same columns copied
        onto the stored shares."""
        conditions: list[ColumnElement[bool]] = [r.state != State.CANCELED.value]
        if self.teams is not None:
            conditions.append(r.team_id.in_(self.teams))
        if self.state == "done":
            conditions.append(r.state == State.DONE.value)
        elif self.state == "open":
            conditions.append(r.state.in_((TODO, IN_PROGRESS)))
        if self.tracker:
            conditions.append(r.tracker == self.tracker)
        return conditions


def _resolved(rows: FromClause, pk: ColumnElement[Any], scope: _Scope, dialect: str) -> tuple[Join, Any]:
    """``rows`` joined to the resolution of their item ``pk`` when it is in ``scope``, and the
    resolution's columns to read. PostgreSQL probes the resolutions' primary key once per row: a
    LATERAL subquery, whose LIMIT 1 (a no-op on a unique key) keeps the planner from flattening it
    into the join that hashed or scanned every resolution, a million, for the window's items."""
    r = t.resolutions.c
    if dialect == "postgresql":
        probe = (
            select(r.alloc_key, r.orphaned, r.team_id)
            .where(r.item_pk == pk, *scope.on(r))
            .limit(1)
            .lateral("resolution")
        )
        return rows.join(probe, true()), probe.c
    return rows.join(t.resolutions, and_(r.item_pk == pk, *scope.on(r))), r


def _scoped(found: _Shares, scope: _Scope, dialect: str) -> CTE:
    """The window's items in ``scope`` with their person-days, ``lead`` (1 on one row of each item)
    and what the item's resolution counts it under, and the people who had a share of them: what
    :func:`_allocated` sums (per allocation set, on rows with a ``lead``) and the people counts
    count (on rows with a ``person``).

    Read off the stored rows' copy of each resolution, a row per item (``person`` null) and one per
    (person, team) (``alloc_key`` null, no days, no ``lead``): two hashes of the window's rows, no
    sort. Else a row per item and person who had a share of it, each joined to its resolution."""
    if found.copied:
        sh = found.shares.c
        kept = [sh.alloc_key.is_not(None), *scope.on(sh)]
        items = (
            select(
                sh.pk,
                null().label("person"),
                func.sum(sh.share).label("days"),
                literal(1).label("lead"),
                sh.alloc_key,
                sh.orphaned,
                sh.team_id,
            )
            .where(*kept)
            .group_by(sh.pk, sh.alloc_key, sh.orphaned, sh.team_id)
        )
        people = (
            select(null(), sh.person, literal(0.0), literal(0), null(), null(), sh.team_id)
            .where(*kept)
            .group_by(sh.person, sh.team_id)
        )
        return union_all(items, people).cte("scoped")
    ip = found.item_people.c
    joined, r = _resolved(found.item_people, ip.pk, scope, dialect)
    return (
        select(ip.pk, ip.person, ip.days, ip.lead, r.alloc_key, r.orphaned, r.team_id)
        .select_from(joined)
        .cte("scoped")
    )


def _allocated(scoped: CTE, *by: ColumnElement[Any]) -> tuple[Join, Any]:
    """``scoped`` summed per allocation set (and ``by``: columns of ``scoped``) and joined to the
    sets' values, and the sums' columns: ``counted`` (the items, from ``lead``) and ``days``. Summed
    first, a few rows join the sets' values instead of one per item and person (``counted`` cast:
    PostgreSQL sums a bigint into a numeric)."""
    a, sc = t.allocation_sets.c, scoped.c
    per_set = (
        select(
            *by,
            sc.alloc_key,
            cast(func.sum(sc.lead), Integer).label("counted"),
            func.sum(sc.days).label("days"),
        )
        .group_by(*by, sc.alloc_key)
        .subquery("per_set")
    )
    return per_set.join(t.allocation_sets, a.alloc_key == per_set.c.alloc_key), per_set.c


def _value_groups(scoped: CTE, *by: str) -> Select[Any]:
    """Rows ``group`` of ``scoped``: per (``by``: columns of ``scoped``, value, method, orphaned) the
    items counted once per value (``value_items``) and once (``items``), the rows and the weighted
    person-days, in that order after the key."""
    a, sc = t.allocation_sets.c, scoped.c
    allocated, ps = _allocated(scoped, *(sc[name] for name in by), sc.orphaned)
    keys = [*(ps[name] for name in by), a.value_id, a.method_id, ps.orphaned]
    return (
        select(
            literal("group").label("kind"),
            *keys,
            func.sum(a.first_of_value * ps.counted).label("value_items"),
            func.sum(a.first_of_item * ps.counted).label("items"),
            func.sum(ps.counted).label("rows"),
            func.sum(ps.days * a.weight).label("days"),
        )
        .select_from(allocated)
        .group_by(*keys)
    )


def _unattributed(found: _Shares, scope: _Scope, dialect: str, *, per_team: bool = False) -> Select[Any]:
    """Rows ``nobody`` for a union of 8 columns (9 ``per_team``, the team's id second): the in-progress
    items in ``scope`` that nobody held in the window, counted in the last column (the others null),
    in all or per team."""
    u = found.unheld.c
    unheld, r = _resolved(found.unheld, u.pk, scope, dialect)
    team = [r.team_id] if per_team else []
    return (
        select(literal("nobody"), *team, *(null() for _ in range(6)), func.count(func.distinct(u.pk)))
        .select_from(unheld)
        .group_by(*team)
    )


def _people_counted(scoped: CTE, kind: str, width: int) -> Select[Any]:
    """One row ``kind`` for a union of ``width`` + 1 columns: the distinct people with a share of a
    ``scoped`` item, in the last column (the others null). Grouped, not ``count(distinct ...)``:
    PostgreSQL then hashes the few people instead of sorting every row."""
    person = scoped.c.person
    people = select(person).where(person.is_not(None)).group_by(person).subquery("people")
    columns: list[Any] = [literal(kind), *(null() for _ in range(width - 1)), func.count()]
    return select(*columns).select_from(people)


def _people_per_subtree(scoped: CTE, subtrees: Mapping[str, Sequence[str | None]], width: int) -> list[Any]:
    """Rows ``people`` for a union of ``width`` + 1 columns, one per subtree (its name second): the
    distinct people with a share of a ``scoped`` item of the subtree's teams, in the last column (a
    member None is the company's own work). No rows when no subtree is asked for."""
    pairs = [(root, member) for root, members in subtrees.items() for member in members]
    if not pairs:
        return []
    members = (
        values(column("root", String), column("member", String), name="members").data(pairs).cte("members")
    )
    m, sc = members.c, scoped.c
    columns: list[Any] = [literal("people"), m.root, *(null() for _ in range(width - 2))]
    return [
        select(*columns, func.count(func.distinct(sc.person)))
        .select_from(scoped.join(members, func.coalesce(m.member, "") == func.coalesce(sc.team_id, "")))
        .group_by(m.root)
    ]


class PeopleTimeQueries(Repository):
    """Person-days per value from the stored shares or the histories (``Database.people_time``)."""

    def _shares(self, window: TimeWindow) -> _Shares:
        """The stored rows when they cover ``window`` (refreshed first if need be), else the chain."""
        if PeopleShares(self._tx, self.dialect).covers(window):
            return _stored(window, self.dialect)
        chain = Chain(window, self.dialect)
        return _Shares(shares=chain.shares, unheld=chain.unheld)

    def facts(
        self,
        window: TimeWindow,
        *,
        state: str = "all",
        tracker: str | None = None,
        teams: Sequence[str] | None = None,
    ) -> PeopleFacts:
        """Person-days in ``window`` per (value, method, orphaned), people and unattributed items.

        ``groups`` rows are (value_id, method_id, orphaned, person_days, value_items, items, rows),
        as the other measures' groups; ``state``, ``tracker`` and ``teams`` filter the items as
        every report does. No working day in the window: nothing.
        """
        if not window.workdays:
            return PeopleFacts(groups=[], people=0, unattributed=0)
        found_shares = self._shares(window)
        scope = _Scope(state, tracker, teams)
        scoped = _scoped(found_shares, scope, self.dialect)
        groups = _value_groups(scoped)
        people = _people_counted(scoped, "people", 7)
        nobody = _unattributed(found_shares, scope, self.dialect)
        # One statement, so the shares are computed once for the three answers.
        found: dict[str, list[tuple[Any, ...]]] = {"group": [], "people": [], "nobody": []}
        with self._tx.read() as conn:
            tune(conn, self.dialect)
            answered: list[Any] = list(conn.execute(union_all(groups, people, nobody)))
        for kind, *row in answered:
            found[kind].append(tuple(row))
        return PeopleFacts(
            groups=[
                (v, m, o, days, first_value, items, n)
                for v, m, o, first_value, items, n, days in found["group"]
            ],
            people=int(found["people"][0][-1] or 0),
            unattributed=int(found["nobody"][0][-1] or 0),
        )

    def by_team(
        self,
        window: TimeWindow,
        subtrees: Mapping[str, Sequence[str | None]],
        *,
        state: str = "all",
        tracker: str | None = None,
    ) -> TeamFacts:
        """Person-days in ``window`` per (team, value, method) (team None: the company's own work),
        and the distinct people counted in each set of ``subtrees`` (a name → its teams; a member
        None is the company's own work) and in all: one statement, so the shares are read once."""
        if not window.workdays:
            return TeamFacts(rows=[], people={}, everyone=0)
        found_shares = self._shares(window)
        a = t.allocation_sets.c
        scoped = _scoped(found_shares, _Scope(state, tracker), self.dialect)
        sc = scoped.c
        allocated, ps = _allocated(scoped, sc.team_id)
        effort = (
            select(
                literal("team").label("kind"),
                ps.team_id.label("team"),
                a.value_id,
                a.method_id,
                func.sum(a.first_of_item * ps.counted).label("items"),
                func.sum(ps.days * a.weight).label("days"),
            )
            .select_from(allocated)
            .group_by(ps.team_id, a.value_id, a.method_id)
        )
        everyone = _people_counted(scoped, "everyone", 5)
        parts: list[Any] = [effort, everyone, *_people_per_subtree(scoped, subtrees, 5)]
        rows: list[tuple[str | None, str | None, str | None, float, int]] = []
        people: dict[str, int] = {}
        counted = 0
        with self._tx.read() as conn:
            tune(conn, self.dialect)
            for kind, team, value_id, method_id, count, days in conn.execute(union_all(*parts)):
                if kind == "team":
                    rows.append((team, value_id, method_id, float(days or 0.0), int(count or 0)))
                elif kind == "people":
                    people[team] = int(days or 0)
                else:
                    counted = int(days or 0)
        return TeamFacts(rows=rows, people=people, everyone=counted)

    def facts_by_team(
        self,
        window: TimeWindow,
        subtrees: Mapping[str, Sequence[str | None]],
        *,
        state: str = "all",
        tracker: str | None = None,
    ) -> TeamsFacts:
        """:meth:`facts` for every team at once (``state`` and ``tracker`` filter as there), and the
        distinct people of each of ``subtrees`` and of everything: one statement, so the shares are
        read once for a review's company and all its teams."""
        if not window.workdays:
            return TeamsFacts(groups={}, unattributed={}, people={}, everyone=0)
        found_shares = self._shares(window)
        scope = _Scope(state, tracker)
        scoped = _scoped(found_shares, scope, self.dialect)
        groups = _value_groups(scoped, "team_id")
        nobody = _unattributed(found_shares, scope, self.dialect, per_team=True)
        parts = [
            groups,
            nobody,
            _people_counted(scoped, "everyone", 8),
            *_people_per_subtree(scoped, subtrees, 8),
        ]
        groups_of: dict[str | None, list[tuple[Any, ...]]] = {}
        unattributed: dict[str | None, int] = {}
        people: dict[str, int] = {}
        everyone = 0
        with self._tx.read() as conn:
            tune(conn, self.dialect)
            for kind, team, value_id, method_id, orphaned, value_items, items, n, days in conn.execute(
                union_all(*parts)
            ):
                if kind == "group":
                    groups_of.setdefault(team, []).append(
                        (value_id, method_id, orphaned, days, value_items, items, n)
                    )
                elif kind == "nobody":
                    unattributed[team] = int(days or 0)
                elif kind == "people":
                    people[team] = int(days or 0)
                else:
                    everyone = int(days or 0)
        return TeamsFacts(groups=groups_of, unattributed=unattributed, people=people, everyone=everyone)

    def by_day(
        self, window: TimeWindow, *, tracker: str | None = None, teams: Sequence[str] | None = None
    ) -> DayFacts:
        """Person-days per (working day, value) in ``window`` (of ``teams`` when given), whatever the
        items' state (time worked is worked), and the distinct people counted: one statement."""
        if not window.workdays:
            return DayFacts(rows=[], people=0)
        found_shares = self._shares(window)
        a = t.allocation_sets.c
        sh = found_shares.shares.c
        scope = _Scope("all", tracker, teams)
        scoped = _scoped(found_shares, scope, self.dialect)
        sc = scoped.c
        if found_shares.copied:  # summed per (day, allocation set) off the rows' own copy
            per_day = (
                select(sh.day, sh.alloc_key, func.sum(sh.share).label("days"))
                .where(sh.alloc_key.is_not(None), *scope.on(sh))
                .group_by(sh.day, sh.alloc_key)
                .cte("set_day")
            )
            resolved: Any = per_day
            alloc_key = per_day.c.alloc_key
        else:
            per_day = (
                select(sh.day, sh.pk, func.sum(sh.share).label("days"))
                .group_by(sh.day, sh.pk)
                .cte("item_day")
            )
            item = per_day.c.pk
            if self.dialect == "postgresql":  # hashes the items' rows of ``scoped``, one per item
                resolved = per_day.join(scoped, and_(sc.pk == item, sc.lead == 1))
                alloc_key = sc.alloc_key
            else:  # SQLite would compare every pair of the two: a key probe per (day, item) instead
                resolved, r = _resolved(per_day, item, scope, self.dialect)
                alloc_key = r.alloc_key
        pd = per_day.c
        effort = (
            select(
                literal("day").label("kind"),
                pd.day,
                a.value_id,
                a.method_id,
                func.sum(pd.days * a.weight).label("days"),
            )
            .select_from(resolved.join(t.allocation_sets, a.alloc_key == alloc_key))
            .group_by(pd.day, a.value_id, a.method_id)
        )
        everyone = _people_counted(scoped, "people", 4)
        rows: list[tuple[date, str | None, bool, float]] = []
        people = 0
        with self._tx.read() as conn:
            tune(conn, self.dialect)
            for kind, day, value_id, method_id, days in conn.execute(union_all(effort, everyone)):
                if kind == "day":  # a share through a method to no value is unaligned
                    rows.append(
                        (day, value_id, value_id is None and method_id is not None, float(days or 0.0))
                    )
                else:
                    people = int(days or 0)
        return DayFacts(rows=rows, people=people)

    def item_days(self, window: TimeWindow, pk: int) -> tuple[float, int]:
        """One item's person-days in ``window`` and on how many working days it had a share."""
        if not window.workdays:
            return 0.0, 0
        found_shares = self._shares(window)
        sh = found_shares.shares.c
        stmt = select(func.coalesce(func.sum(sh.share), 0.0), func.count(func.distinct(sh.day))).where(
            sh.pk == pk
        )
        with self._tx.read() as conn:
            tune(conn, self.dialect)
            days, count = conn.execute(stmt).one()
        return float(days), int(count)
