"""People's time, computed set-based from the stored histories: who worked on what, each working day.

The model (``README.md``, "People's time"), as one chain of common table expressions:

1. ``working``: when each live item was in progress. Jira and Linear: from each status change
   entering a started status (``to_category`` ``in_progress``) to the next status change; an item
   with no status change at all is in progress from its creation when its state is ``in_progress``.
   Asana has no started status: a task is in progress while incomplete (from the beginning until
   it is marked complete, and again after it is marked incomplete), and not before its
   ``started_at`` (``start_at`` / ``start_on``) when it has one.
2. ``held``: who held each item when. Each assignee change opens an interval held by its new
   assignee; before the first, the item was held by that change's previous assignee; an item with
   no assignee change is held by its current assignee throughout.
3. ``spans``: working ∩ held, cut to the window and to ``now``. A change dated in the future counts
   as made ``now``, so no span is negative or reaches past the present.
4. ``worked``: each (person, working day, item) whose span overlaps the day (its UTC bounds come
   from :class:`~v2mom.workdays.WorkCalendar`) for a positive time; an account is the person the
   settings' ``people:`` names, else a person of its own.
5. ``leaves``: an item whose descendant (through ``parent_id``, any depth) the same person worked
   the same day yields the day to it: leaves carry the time.
6. ``shares``: each remaining item gets 1 / (the person's items that day) of the day.

Reports group the shares by the items' allocation sets exactly as the other measures group effort.
Person-level rows never leave this module: only sums per value, counts of people and of items do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    Connection,
    Date,
    Float,
    Select,
    String,
    and_,
    case,
    cast,
    column,
    exists,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
    values,
)

from v2mom.models import State
from v2mom.store import schema as t
from v2mom.store.transactions import Repository
from v2mom.store.types import UTCDateTime
from v2mom.workdays import Workday

__all__ = ["DayFacts", "PeopleFacts", "PeopleTimeQueries", "TeamFacts", "TimeWindow"]

PAST = datetime(1970, 1, 1, tzinfo=UTC)  # "since the beginning": before any tracker's first item
FUTURE = datetime(2999, 12, 31, tzinfo=UTC)  # "still going"
ASANA = "asana"  # the tracker without a started status
MAX_DEPTH = 32  # ancestors followed from a worked item (a parent cycle in bad data ends here)
IN_PROGRESS, TODO = State.IN_PROGRESS.value, State.TODO.value
FINISHED = (State.DONE.value, State.CANCELED.value)


@dataclass(frozen=True)
class TimeWindow:
    """The working days a people's-time figure covers, the present, and who owns which account.

    ``accounts`` maps (tracker, account id) to a person (the settings' ``people:``).
    """

    workdays: Sequence[Workday]
    now: datetime
    accounts: Mapping[tuple[str, str], str]


@dataclass(frozen=True)
class PeopleFacts:
    """What a people's-time report is made of: person-days per (value, method, orphaned) group in
    the shape of :meth:`~v2mom.store.report_queries.ReportQueries.effort_groups`, the distinct
    people counted, and the in-progress items nobody held (``unattributed``)."""

    groups: list[tuple[Any, ...]]
    people: int
    unattributed: int


def _later(a: ColumnElement[Any], b: ColumnElement[Any]) -> ColumnElement[Any]:
    return case((a > b, a), else_=b)


def _earlier(a: ColumnElement[Any], b: ColumnElement[Any]) -> ColumnElement[Any]:
    return case((a < b, a), else_=b)


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


class _Chain:
    """The common table expressions of one window (see the module docstring), built once."""

    def __init__(self, window: TimeWindow, trackers: Sequence[str] | None, dialect: str) -> None:
        self.window = window
        sqlite = dialect == "sqlite"

        def instant(moment: ColumnElement[Any]) -> ColumnElement[Any]:
            # SQLite keeps times as text in more than one format (the items' upsert writes
            # microseconds only when there are some): compared as Julian days, they order as times.
            return func.julianday(moment) if sqlite else moment

        def _moment(value: datetime) -> ColumnElement[Any]:
            return instant(literal(value, UTCDateTime()))

        # PostgreSQL inlines a CTE read once; on tables without statistics yet (just synced) it then
        # re-ran whole unions inside nested loops (seconds on a few hundred items): computed once.
        once = ("MATERIALIZED",) if not sqlite else ()
        i, x = t.items.c, t.item_transitions.c
        now = _moment(window.now)
        live_query = select(
            i.pk,
            i.tracker,
            i.item_id,
            i.parent_id,
            i.state,
            instant(i.created_at).label("created_at"),
            instant(i.completed_at).label("completed_at"),
            i.assignee,
            instant(i.started_at).label("started_at"),
        ).where(~i.deleted)
        if trackers is not None:
            live_query = live_query.where(i.tracker.in_(trackers))
        live = live_query.cte("live")
        lv = live.c

        def changes(field: str) -> CTE:
            at = _earlier(instant(x.at), now)
            item, order = (x.tracker, x.item_id), (at, x.event_id)  # as clamped: a future change sits at now
            return (
                select(
                    x.tracker,
                    x.item_id,
                    at.label("at"),
                    x.from_value,
                    x.to_value,
                    x.to_category,
                    func.lead(at).over(partition_by=item, order_by=order).label("next_at"),
                    func.row_number().over(partition_by=item, order_by=order).label("n"),
                )
                .where(x.field == field)
                .cte(f"{field}_changes")
                .prefix_with(*once)
            )

        def has_changes(field: str) -> ColumnElement[bool]:
            return exists().where(x.tracker == lv.tracker, x.item_id == lv.item_id, x.field == field)

        status = changes("status").c
        asana = status.tracker == ASANA
        entered_work = or_(
            and_(asana, status.to_category.in_((TODO, IN_PROGRESS))),
            and_(status.tracker != ASANA, status.to_category == IN_PROGRESS),
        )
        quiet = ~has_changes("status")
        raw_work = (
            union_all(
                select(
                    status.tracker,
                    status.item_id,
                    status.at.label("starts"),
                    func.coalesce(status.next_at, _moment(FUTURE)).label("ends"),
                ).where(entered_work),
                select(status.tracker, status.item_id, _moment(PAST), status.at).where(asana, status.n == 1),
                select(
                    lv.tracker, lv.item_id, func.coalesce(lv.created_at, _moment(PAST)), _moment(FUTURE)
                ).where(quiet, lv.tracker != ASANA, lv.state == IN_PROGRESS),
                select(lv.tracker, lv.item_id, _moment(PAST), _moment(FUTURE)).where(
                    quiet, lv.tracker == ASANA, lv.state.not_in(FINISHED)
                ),
                select(lv.tracker, lv.item_id, _moment(PAST), lv.completed_at).where(
                    quiet, lv.tracker == ASANA, lv.state.in_(FINISHED), lv.completed_at.is_not(None)
                ),
            )
            .cte("raw_working")
            .prefix_with(*once)
        )
        rw = raw_work.c
        started = and_(lv.tracker == ASANA, lv.started_at.is_not(None), lv.started_at > rw.starts)
        first, last = window.workdays[0].starts, window.workdays[-1].ends
        # Only what can reach the window: a span is cut to it, and one ending before it or starting
        # after it is dropped anyway (most stored work is long done: this keeps it out of the joins).
        working = (
            select(
                lv.pk,
                rw.tracker,
                rw.item_id,
                case((started, lv.started_at), else_=rw.starts).label("starts"),
                rw.ends,
            )
            .join_from(raw_work, live, and_(lv.tracker == rw.tracker, lv.item_id == rw.item_id))
            .where(rw.ends > _moment(first), rw.starts < _moment(last))
            .cte("working")
            .prefix_with(*once)
        )

        owner = changes("assignee").c
        held = (
            union_all(
                select(
                    owner.tracker,
                    owner.item_id,
                    owner.at.label("starts"),
                    func.coalesce(owner.next_at, _moment(FUTURE)).label("ends"),
                    owner.to_value.label("holder"),
                ),
                select(owner.tracker, owner.item_id, _moment(PAST), owner.at, owner.from_value).where(
                    owner.n == 1
                ),
                select(lv.tracker, lv.item_id, _moment(PAST), _moment(FUTURE), lv.assignee).where(
                    ~has_changes("assignee"),
                    # held matters only joined to working: the items never worked in the window need none
                    exists().where(working.c.tracker == lv.tracker, working.c.item_id == lv.item_id),
                ),
            )
            .cte("held")
            .prefix_with(*once)
        )

        w, h = working.c, held.c
        starts = _later(_later(w.starts, h.starts), _moment(first))
        ends = _earlier(_earlier(_earlier(w.ends, h.ends), _moment(last)), now)
        spans_query = select(
            w.pk, w.tracker, w.item_id, h.holder, starts.label("starts"), ends.label("ends")
        ).join_from(working, held, and_(h.tracker == w.tracker, h.item_id == w.item_id))
        spans = spans_query.where(starts < ends).cte("spans").prefix_with(*once)
        bounds = (
            values(
                column("day", Date),
                column("starts", UTCDateTime()),
                column("ends", UTCDateTime()),
                name="bounds",
            )
            .data([(d.day, d.starts, d.ends) for d in window.workdays])
            .cte("bounds")
        )
        b = bounds.c
        days = select(b.day, instant(b.starts).label("starts"), instant(b.ends).label("ends")).cte("days")
        self.spans, self.days = spans, days
        s, d = spans.c, days.c
        on_day = and_(s.starts < d.ends, s.ends > d.starts)
        person: ColumnElement[str] = s.tracker + literal(":") + s.holder
        worked_query = select(s.pk, s.tracker, s.item_id, d.day).join_from(spans, days, on_day)
        if window.accounts:
            people = (
                values(
                    column("tracker", String),
                    column("account", String),
                    column("person", String),
                    name="people",
                )
                .data([(tracker, account, name) for (tracker, account), name in window.accounts.items()])
                .cte("people")
            )
            p = people.c
            person = func.coalesce(p.person, person)
            worked_query = worked_query.outerjoin(people, and_(p.tracker == s.tracker, p.account == s.holder))
        worked = (
            worked_query.add_columns(person.label("person"))
            .where(s.holder.is_not(None))
            .distinct()
            .cte("worked")
            .prefix_with(*once)
        )
        wk = worked.c

        parent = live.alias("parent_item")  # through live items: a deleted parent ends the chain
        lineage = (
            select(lv.tracker, lv.item_id, lv.parent_id.label("ancestor"), literal(1).label("depth"))
            .where(
                lv.parent_id.is_not(None), exists().where(wk.tracker == lv.tracker, wk.item_id == lv.item_id)
            )
            .cte("lineage", recursive=True)
        )
        up = lineage.c
        lineage = lineage.union_all(
            select(up.tracker, up.item_id, parent.c.parent_id, up.depth + 1)
            .join_from(lineage, parent, and_(parent.c.tracker == up.tracker, parent.c.item_id == up.ancestor))
            .where(parent.c.parent_id.is_not(None), up.depth < MAX_DEPTH)
        )
        other, line = worked.alias("descendant"), lineage.c
        carried = (
            exists()
            .select_from(
                other.join(lineage, and_(line.tracker == other.c.tracker, line.item_id == other.c.item_id))
            )
            .where(
                other.c.person == wk.person,
                other.c.day == wk.day,
                line.tracker == wk.tracker,
                line.ancestor == wk.item_id,
            )
        )
        per_day = func.count().over(partition_by=(wk.person, wk.day))
        self.shares = (
            select(wk.person, wk.day, wk.pk, (cast(literal(1.0), Float) / per_day).label("share"))
            .where(~carried)
            .cte("shares")
            .prefix_with(*once)
        )
        sh = self.shares.c
        self.item_days = select(sh.pk, func.sum(sh.share).label("days")).group_by(sh.pk).cte("item_days")


def _scope(state: str, tracker: str | None, teams: Sequence[str] | None) -> list[ColumnElement[bool]]:
    """The report's filters on the items' resolutions (canceled work counts nothing)."""
    r = t.resolutions.c
    conditions: list[ColumnElement[bool]] = [r.state != State.CANCELED.value]
    if teams is not None:
        conditions.append(r.team_id.in_(teams))
    if state == "done":
        conditions.append(r.state == State.DONE.value)
    elif state == "open":
        conditions.append(r.state.in_((TODO, IN_PROGRESS)))
    if tracker:
        conditions.append(r.tracker == tracker)
    return conditions


def _tune(conn: Connection, dialect: str) -> None:
    """PostgreSQL, for this transaction only: no JIT (the chain's row estimates are far above what it
    reads, so it compiled every statement, a second or more each even on a few hundred items) and
    room to sort the spans in memory."""
    if dialect == "postgresql":
        conn.exec_driver_sql("SET LOCAL jit = off")
        conn.exec_driver_sql("SET LOCAL work_mem = '64MB'")


def _allocated(source: CTE, pk: ColumnElement[int]) -> Any:
    """``source`` (rows naming an item by ``pk``) joined to the items' resolutions and allocation sets."""
    r, a = t.resolutions.c, t.allocation_sets.c
    return source.join(t.resolutions, r.item_pk == pk).join(t.allocation_sets, a.alloc_key == r.alloc_key)


def _people_counted(chain: _Chain, scope: list[ColumnElement[bool]], kind: str, width: int) -> Select[Any]:
    """One row ``kind`` for a union of ``width`` + 1 columns: the distinct people with a share of an
    item in ``scope``, in the last column (the others null)."""
    sh = chain.shares.c
    columns: list[Any] = [
        literal(kind),
        *(null() for _ in range(width - 1)),
        func.count(func.distinct(sh.person)),
    ]
    return (
        select(*columns)
        .select_from(chain.shares.join(t.resolutions, t.resolutions.c.item_pk == sh.pk))
        .where(*scope)
    )


class PeopleTimeQueries(Repository):
    """Person-days per value from the stored histories (``Database.people_time``)."""

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
        chain = _Chain(window, [tracker] if tracker else None, self.dialect)
        r, a = t.resolutions.c, t.allocation_sets.c
        scope = _scope(state, tracker, teams)
        pi = chain.item_days.c
        groups = (
            select(
                literal("group").label("kind"),
                a.value_id,
                a.method_id,
                r.orphaned,
                func.sum(a.first_of_value).label("value_items"),
                func.sum(a.first_of_item).label("items"),
                func.count().label("rows"),
                func.sum(pi.days * a.weight).label("days"),
            )
            .select_from(_allocated(chain.item_days, pi.pk))
            .where(*scope)
            .group_by(a.value_id, a.method_id, r.orphaned)
        )
        people = _people_counted(chain, scope, "people", 7)
        s, d = chain.spans.c, chain.days.c
        nobody = (
            select(literal("nobody"), *(null() for _ in range(6)), func.count(func.distinct(s.pk)))
            .select_from(
                chain.spans.join(chain.days, and_(s.starts < d.ends, s.ends > d.starts)).join(
                    t.resolutions, r.item_pk == s.pk
                )
            )
            .where(s.holder.is_(None), *scope)
        )
        # One statement, so the chain is computed once for the three answers.
        found: dict[str, list[tuple[Any, ...]]] = {"group": [], "people": [], "nobody": []}
        with self._tx.read() as conn:
            _tune(conn, self.dialect)
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
        None is the company's own work) and in all: one statement, so the chain is computed once."""
        if not window.workdays:
            return TeamFacts(rows=[], people={}, everyone=0)
        chain = _Chain(window, [tracker] if tracker else None, self.dialect)
        r, a = t.resolutions.c, t.allocation_sets.c
        sh = chain.shares.c
        scope = _scope(state, tracker, None)
        pi = chain.item_days.c
        effort = (
            select(
                literal("team").label("kind"),
                r.team_id.label("team"),
                a.value_id,
                a.method_id,
                func.sum(a.first_of_item).label("items"),
                func.sum(pi.days * a.weight).label("days"),
            )
            .select_from(_allocated(chain.item_days, pi.pk))
            .where(*scope)
            .group_by(r.team_id, a.value_id, a.method_id)
        )
        everyone = _people_counted(chain, scope, "everyone", 5)
        parts: list[Any] = [effort, everyone]
        pairs = [(root, member) for root, members in subtrees.items() for member in members]
        if pairs:
            members = (
                values(column("root", String), column("member", String), name="members")
                .data(pairs)
                .cte("members")
            )
            m = members.c
            parts.append(
                select(
                    literal("people"), m.root, null(), null(), null(), func.count(func.distinct(sh.person))
                )
                .select_from(
                    chain.shares.join(t.resolutions, r.item_pk == sh.pk).join(
                        members, func.coalesce(m.member, "") == func.coalesce(r.team_id, "")
                    )
                )
                .where(*scope)
                .group_by(m.root)
            )
        rows: list[tuple[str | None, str | None, str | None, float, int]] = []
        people: dict[str, int] = {}
        counted = 0
        with self._tx.read() as conn:
            _tune(conn, self.dialect)
            for kind, team, value_id, method_id, count, days in conn.execute(union_all(*parts)):
                if kind == "team":
                    rows.append((team, value_id, method_id, float(days or 0.0), int(count or 0)))
                elif kind == "people":
                    people[team] = int(days or 0)
                else:
                    counted = int(days or 0)
        return TeamFacts(rows=rows, people=people, everyone=counted)

    def by_day(
        self, window: TimeWindow, *, tracker: str | None = None, teams: Sequence[str] | None = None
    ) -> DayFacts:
        """Person-days per (working day, value) in ``window`` (of ``teams`` when given), whatever the
        items' state (time worked is worked), and the distinct people counted: one statement."""
        if not window.workdays:
            return DayFacts(rows=[], people=0)
        chain = _Chain(window, [tracker] if tracker else None, self.dialect)
        a = t.allocation_sets.c
        sh = chain.shares.c
        scope = _scope("all", tracker, teams)
        per_day = (
            select(sh.day, sh.pk, func.sum(sh.share).label("days")).group_by(sh.day, sh.pk).cte("item_day")
        )
        pd = per_day.c
        effort = (
            select(
                literal("day").label("kind"),
                pd.day,
                a.value_id,
                a.method_id,
                func.sum(pd.days * a.weight).label("days"),
            )
            .select_from(_allocated(per_day, pd.pk))
            .where(*scope)
            .group_by(pd.day, a.value_id, a.method_id)
        )
        everyone = _people_counted(chain, scope, "people", 4)
        rows: list[tuple[date, str | None, bool, float]] = []
        people = 0
        with self._tx.read() as conn:
            _tune(conn, self.dialect)
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
        chain = _Chain(window, None, self.dialect)
        sh = chain.shares.c
        stmt = select(func.coalesce(func.sum(sh.share), 0.0), func.count(func.distinct(sh.day))).where(
            sh.pk == pk
        )
        with self._tx.read() as conn:
            _tune(conn, self.dialect)
            days, count = conn.execute(stmt).one()
        return float(days), int(count)
