"""The reports' read queries: plain rows for ``v2mom.reports`` to shape into documents.

Effort-by-value and the trend group the rollup's shares (``v2mom.store.resolution.rollup.shares``); flags and
obstacles read the resolutions of individual items. Each method is one read on its own connection
(or a unit of work's), and returns tuples or small dataclasses, never SQLAlchemy objects.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from sqlalchemy import ColumnElement, FromClause, and_, case, func, or_, select

from v2mom.models import State
from v2mom.store import schema as t
from v2mom.store.resolution.rollup import shares, unaligned_sets
from v2mom.store.transactions import Repository

StateFilter = Literal["done", "open", "all"]
OPEN_STATES = (State.TODO.value, State.IN_PROGRESS.value)


@dataclass(frozen=True)
class FlaggedRow:
    """One flagged item with its flags and its counted effort in the measure asked for."""

    pk: int
    tracker: str
    key: str
    title: str
    url: str | None
    untagged: bool
    orphaned: bool
    conflict: bool
    unaligned: bool
    effort: float


@dataclass(frozen=True)
class ValueItemRow:
    """An item counted under a value: its share of effort there, and the method (one of ``methods``)."""

    pk: int
    tracker: str
    key: str
    title: str
    url: str | None
    effort: float
    method_id: str | None
    methods: int


@dataclass(frozen=True)
class BlockedShare:
    """A blocked, unfinished item's effort through one method (effort times the method's weight)."""

    pk: int
    tracker: str
    key: str
    title: str
    url: str | None
    status_name: str
    method_id: str | None
    effort: float | None


@dataclass(frozen=True)
class ObstacleFacts:
    """Blocked items' shares in some methods, and the open effort of each of those methods."""

    blocked: list[BlockedShare]
    open_effort: dict[str, float]


def _conditions(
    source: FromClause,
    state: StateFilter,
    tracker: str | None,
    date_from: date | None,
    date_to: date | None,
    teams: Sequence[str] | None = None,
) -> list[ColumnElement[bool]]:
    """The report filters as conditions on ``source`` (rollup shares or resolutions); ``teams``
    keeps the work of those teams (a subtree of the cascade), None keeps everything."""
    a = source.c
    conditions: list[ColumnElement[bool]] = []
    if teams is not None:
        conditions.append(a.team_id.in_(teams))
    if state == "done":
        conditions.append(a.state == State.DONE.value)
    elif state == "open":
        conditions.append(a.state.in_([State.TODO.value, State.IN_PROGRESS.value]))
    if tracker:
        conditions.append(a.tracker == tracker)
    if date_from is not None:
        conditions.append(a.completed_on >= date_from)
    if date_to is not None:
        conditions.append(a.completed_on <= date_to)
    return conditions


FLAG_COLUMNS = ("untagged", "orphaned", "conflict")


def _flag_scope(tracker: str | None, text: str | None) -> list[ColumnElement[bool]]:
    """What the flag lists and their counts keep: live, uncancelled items, of ``tracker``, whose key
    or title holds ``text`` (any case; ``%`` and ``_`` are plain characters)."""
    i = t.items.c
    conditions: list[ColumnElement[bool]] = [~i.deleted, i.state != State.CANCELED.value]
    if tracker:
        conditions.append(i.tracker == tracker)
    if text:
        conditions.append(
            or_(i.key.icontains(text, autoescape=True), i.title.icontains(text, autoescape=True))
        )
    return conditions


class ReportQueries(Repository):
    """Read-only queries behind the effort, trend, flags and obstacles reports."""

    def effort_groups(
        self,
        *,
        measure: str,
        state: StateFilter = "all",
        tracker: str | None = None,
        date_from: date | None = None,
        date_to: date | None = None,
        teams: Sequence[str] | None = None,
    ) -> list[tuple[Any, ...]]:
        """(value_id, method_id, orphaned, effort, value_items, items, rows) per group: one GROUP BY.

        ``teams``: only the work of those teams (None: all, the company's own included)."""
        source = shares()
        a = source.c
        stmt = (
            select(
                a.value_id,
                a.method_id,
                a.orphaned,
                func.sum(a[measure]),
                func.sum(a.value_items),
                func.sum(a["items"]),
                func.sum(a["rows"]),
            )
            .where(and_(True, *_conditions(source, state, tracker, date_from, date_to, teams)))
            .group_by(a.value_id, a.method_id, a.orphaned)
        )
        with self._tx.read() as conn:
            return [tuple(row) for row in conn.execute(stmt)]

    def effort_by_team(
        self,
        *,
        measure: str,
        state: StateFilter = "all",
        tracker: str | None = None,
        date_from: date | None = None,
        date_to: date | None = None,
    ) -> list[tuple[str | None, str | None, str | None, float, int]]:
        """(team_id, value_id, method_id, effort, items) per group of the rollup's shares: every
        team's effort by value and method in one GROUP BY (team None: the company's own work)."""
        source = shares()
        a = source.c
        stmt = (
            select(a.team_id, a.value_id, a.method_id, func.sum(a[measure]), func.sum(a["items"]))
            .where(and_(True, *_conditions(source, state, tracker, date_from, date_to)))
            .group_by(a.team_id, a.value_id, a.method_id)
        )
        with self._tx.read() as conn:
            return [(t_, v, m, float(e or 0.0), int(n or 0)) for t_, v, m, e, n in conn.execute(stmt)]

    def latest_done_day(self, *, tracker: str | None = None) -> date | None:
        """The latest completion day of done work (of ``tracker``), None when nothing is done."""
        a = shares().c
        conditions = [a.state == State.DONE.value, a.completed_on.is_not(None)]
        if tracker:
            conditions.append(a.tracker == tracker)
        with self._tx.read() as conn:
            day: date | None = conn.execute(
                select(func.max(a.completed_on)).where(and_(*conditions))
            ).scalar_one_or_none()
        return day

    def done_by_day(
        self,
        *,
        measure: str,
        start: date,
        end: date,
        tracker: str | None = None,
        teams: Sequence[str] | None = None,
    ) -> list[tuple[date, str | None, bool, float | None]]:
        """(completion day, value id, unaligned, effort) of done work between ``start`` and ``end``
        inclusive (of ``teams`` when given); ``unaligned``: a share through a team method to no value
        (then no value id)."""
        a = shares().c
        conditions = [a.state == State.DONE.value, a.completed_on.is_not(None)]
        if tracker:
            conditions.append(a.tracker == tracker)
        if teams is not None:
            conditions.append(a.team_id.in_(teams))
        conditions += [a.completed_on >= start, a.completed_on <= end]
        unaligned = and_(a.value_id.is_(None), a.method_id.is_not(None))
        stmt = (
            select(a.completed_on, a.value_id, unaligned, func.sum(a[measure]))
            .where(and_(*conditions))
            .group_by(a.completed_on, a.value_id, unaligned)
        )
        with self._tx.read() as conn:
            return [(day, value_id, bool(lost), effort) for day, value_id, lost, effort in conn.execute(stmt)]

    def flagged(
        self,
        *,
        kind: str | None,
        measure: str,
        limit: int,
        after: tuple[float, int] | None = None,
        tracker: str | None = None,
        text: str | None = None,
    ) -> list[FlaggedRow]:
        """Up to ``limit`` live items flagged ``kind`` (None: any flag), biggest effort first.

        ``after`` is the (effort, pk) of the last row of the previous page (keyset pagination);
        ``text`` keeps the items whose key or title holds it (any case). ``unaligned`` is not a
        column: it is read off the item's allocation set (only a plan with teams has such sets).
        """
        i, r = t.items.c, t.resolutions.c
        effort = r[measure]
        unaligned = r.alloc_key.in_(unaligned_sets())
        stmt = (
            select(
                i.pk, i.tracker, i.key, i.title, i.url, r.untagged, r.orphaned, r.conflict, unaligned, effort
            )
            .select_from(t.items.join(t.resolutions, r.item_pk == i.pk))
            .where(*_flag_scope(tracker, text))
        )
        if kind == "unaligned":
            stmt = stmt.where(unaligned)
        elif kind is not None:
            stmt = stmt.where(r[kind].is_(True))
        else:
            stmt = stmt.where(or_(r.untagged, r.orphaned, r.conflict, unaligned))
        if after is not None:
            after_effort, after_pk = after
            stmt = stmt.where(or_(effort < after_effort, and_(effort == after_effort, i.pk > after_pk)))
        stmt = stmt.order_by(effort.desc(), i.pk).limit(limit)
        with self._tx.read() as conn:
            return [FlaggedRow(*row) for row in conn.execute(stmt)]

    def flag_counts(
        self, *, measure: str, tracker: str | None = None, text: str | None = None, unaligned: bool = False
    ) -> dict[str, tuple[int, float]]:
        """(items, effort in ``measure``) flagged untagged, orphaned and conflict, and with
        ``unaligned`` (a plan with teams) those resolved to an unaligned allocation set: one read.

        The same live, uncancelled items as :meth:`flagged` lists, with its ``tracker`` and ``text``;
        an item counts its whole effort under each flag it carries, as the list shows it.
        """
        i, r = t.items.c, t.resolutions.c
        effort = r[measure]
        flags: dict[str, ColumnElement[bool]] = {kind: r[kind].is_(True) for kind in FLAG_COLUMNS}
        if unaligned:
            flags["unaligned"] = r.alloc_key.in_(unaligned_sets())
        columns = []
        for flagged in flags.values():
            columns += [
                func.coalesce(func.sum(case((flagged, 1), else_=0)), 0),
                func.coalesce(func.sum(case((flagged, effort), else_=0.0)), 0.0),
            ]
        stmt = (
            select(*columns)
            .select_from(t.items.join(t.resolutions, r.item_pk == i.pk))
            .where(*_flag_scope(tracker, text), or_(*flags.values()))
        )
        with self._tx.read() as conn:
            row = conn.execute(stmt).one()
        return {kind: (int(row[2 * n]), float(row[2 * n + 1])) for n, kind in enumerate(flags)}

    def value_items(
        self,
        *,
        value_id: str,
        measure: str,
        limit: int,
        after: tuple[float, int] | None = None,
        method_id: str | None = None,
        state: StateFilter = "all",
        tracker: str | None = None,
        date_from: date | None = None,
        date_to: date | None = None,
    ) -> list[ValueItemRow]:
        """Up to ``limit`` live items counted under ``value_id`` (through ``method_id`` when given),
        biggest share of effort first, with the report's filters; ``after`` as in :meth:`flagged`."""
        i, r, s = t.items.c, t.resolutions.c, t.allocation_sets.c
        effort = func.sum(r[measure] * s.weight)
        conditions = [s.value_id == value_id, ~i.deleted, i.state != State.CANCELED.value]
        conditions += _conditions(t.resolutions, state, tracker, date_from, date_to)
        if method_id is not None:
            conditions.append(s.method_id == method_id)
        grouped = (
            select(
                i.pk,
                i.tracker,
                i.key,
                i.title,
                i.url,
                effort.label("effort"),
                func.min(s.method_id).label("method_id"),
                func.count(func.distinct(s.method_id)).label("methods"),
            )
            .select_from(
                t.items.join(t.resolutions, r.item_pk == i.pk).join(
                    t.allocation_sets, s.alloc_key == r.alloc_key
                )
            )
            .where(*conditions)
            .group_by(i.pk, i.tracker, i.key, i.title, i.url)
            .subquery("value_items")
        )
        g = grouped.c
        stmt = select(g.pk, g.tracker, g.key, g.title, g.url, g.effort, g.method_id, g.methods)
        if after is not None:
            after_effort, after_pk = after
            stmt = stmt.where(or_(g.effort < after_effort, and_(g.effort == after_effort, g.pk > after_pk)))
        stmt = stmt.order_by(g.effort.desc(), g.pk).limit(limit)
        with self._tx.read() as conn:
            return [
                ValueItemRow(pk, tracker_, key, title, url, float(e or 0.0), m, int(n))
                for pk, tracker_, key, title, url, e, m, n in conn.execute(stmt)
            ]

    def obstacle_facts(
        self, *, measure: str, methods: Sequence[str], tracker: str | None = None
    ) -> ObstacleFacts:
        """Blocked open items' shares through ``methods``, and each method's open effort (one read)."""
        if not methods:
            return ObstacleFacts(blocked=[], open_effort={})
        i, res, s, r = t.items.c, t.resolutions.c, t.allocation_sets.c, shares().c
        blocked_stmt = (
            select(
                i.pk, i.tracker, i.key, i.title, i.url, i.status_name, s.method_id, res[measure] * s.weight
            )
            .select_from(
                t.items.join(t.resolutions, res.item_pk == i.pk).join(
                    t.allocation_sets, s.alloc_key == res.alloc_key
                )
            )
            .where(i.blocked, ~i.deleted, res.state.in_(OPEN_STATES), s.method_id.in_(methods))
        )
        open_stmt = (
            select(r.method_id, func.sum(r[measure]))
            .where(r.state.in_(OPEN_STATES), r.method_id.in_(methods))
            .group_by(r.method_id)
        )
        if tracker:
            blocked_stmt = blocked_stmt.where(res.tracker == tracker)
            open_stmt = open_stmt.where(r.tracker == tracker)
        with self._tx.read() as conn:
            blocked = [BlockedShare(*row) for row in conn.execute(blocked_stmt)]
            open_effort = {m: float(e or 0.0) for m, e in conn.execute(open_stmt)}
        return ObstacleFacts(blocked=blocked, open_effort=open_effort)
