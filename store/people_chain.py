"""People's time, computed set-based from the stored histories: who worked on what, each working day.

The model (``README.md``, "People's time"), as one chain of common table expressions:

1. ``working``: when each live item was in progress. Jira and Linear: from each status change
   entering a started status (``to_category`` ``in_progress``) to the next status change; an item
   with no status change at all is in progress from its creation when its state is ``in_progress``.
   Asana has no started status: a task is in progress while incomplete (from the beginning until
   it is marked complete, and again after it is marked incomplete), and not before its
   ``started_at`` (``start_at`` / ``start_on``) when it has one; without one, only while it is
   assigned (step 3: held by nobody, it is not in progress, so not unattributed either).
2. ``held``: who held each item when. Each assignee change opens an interval held by its new
   assignee; before the first, the item was held by that change's previous assignee; an item with
   no assignee change is held by its current assignee throughout.
3. ``spans``: working ∩ held, cut to the window and to ``now`` (an Asana task with no start held
   by nobody: none). A change dated in the future counts as made ``now``, so no span is negative or
   reaches past the present.
4. ``worked``: each (person, working day, item) whose span overlaps the day (its UTC bounds come
   from :class:`~v2mom.workdays.WorkCalendar`) for a positive time; an account is the person the
   settings' ``people:`` names, else a person of its own.
5. ``leaves``: an item whose descendant (through ``parent_id``, any depth) the same person worked
   the same day yields the day to it: leaves carry the time.
6. ``shares``: each remaining item gets 1 / (the person's items that day) of the day.
7. ``unheld``: each (working day, its rank, item) with a span nobody held (``unattributed``).

:class:`Chain` builds these steps for a window of working days, optionally for some items and some
people only (:mod:`v2mom.store.people_shares` keeps its ``shares`` in a table). Person-level rows
never leave the store: only sums per value, counts of people and of items do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    Connection,
    Date,
    Float,
    Integer,
    String,
    and_,
    case,
    cast,
    column,
    exists,
    func,
    literal,
    or_,
    select,
    union_all,
    values,
)

from v2mom.models import State
from v2mom.store import schema as t
from v2mom.store.types import UTCDateTime
from v2mom.workdays import WorkCalendar, Workday

__all__ = ["MAX_DEPTH", "Chain", "TimeWindow", "tune"]

PAST = datetime(1970, 1, 1, tzinfo=UTC)  # "since the beginning": before any tracker's first item
FUTURE = datetime(2999, 12, 31, tzinfo=UTC)  # "still going"
ASANA = "asana"  # the tracker without a started status
MAX_DEPTH = 32  # ancestors followed from a worked item (a parent cycle in bad data ends here)
IN_PROGRESS, TODO = State.IN_PROGRESS.value, State.TODO.value
FINISHED = (State.DONE.value, State.CANCELED.value)


@dataclass(frozen=True)
class TimeWindow:
    """The working days a people's-time figure covers, the present, and who owns which account.

    ``accounts`` maps (tracker, account id) to a person (the settings' ``people:``). ``calendar``,
    when given, is the calendar the working days come from: the stored shares
    (:mod:`v2mom.store.people_shares`) can answer only for a known calendar; without one, the
    figures are computed from the histories.
    """

    workdays: Sequence[Workday]
    now: datetime
    accounts: Mapping[tuple[str, str], str]
    calendar: WorkCalendar | None = None


def _later(a: ColumnElement[Any], b: ColumnElement[Any]) -> ColumnElement[Any]:
    return case((a > b, a), else_=b)


def _earlier(a: ColumnElement[Any], b: ColumnElement[Any]) -> ColumnElement[Any]:
    return case((a < b, a), else_=b)


class Chain:
    """The common table expressions of one window (see the module docstring), built once."""

    def __init__(
        self,
        window: TimeWindow,
        dialect: str,
        *,
        subjects: CTE | None = None,
        persons: Sequence[str] | None = None,
    ) -> None:
        """The chain of ``window``; with ``subjects`` ((tracker, item_id) rows), only those items are
        worked (their ancestors still carry lineage), and with ``persons``, only their days count."""
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

        def chosen(tracker: ColumnElement[Any], item_id: ColumnElement[Any]) -> list[ColumnElement[bool]]:
            if subjects is None:
                return []
            return [exists().where(subjects.c.tracker == tracker, subjects.c.item_id == item_id)]

        # the live items worked (all of them, or ``subjects``); ancestors are looked up in ``items``
        subject = live_query.where(*chosen(i.tracker, i.item_id)).cte(
            "live" if subjects is None else "subject"
        )
        lv = subject.c

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
                .where(x.field == field, *chosen(x.tracker, x.item_id))
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
                lv.started_at,
            )
            .join_from(raw_work, subject, and_(lv.tracker == rw.tracker, lv.item_id == rw.item_id))
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
        # An Asana task with no start is in progress from its assignment: held by nobody, it is not.
        assigned_or_dated = or_(h.holder.is_not(None), w.tracker != ASANA, w.started_at.is_not(None))
        spans = spans_query.where(starts < ends, assigned_or_dated).cte("spans").prefix_with(*once)
        bounds = (
            values(
                column("day", Date),
                column("n", Integer),  # the working day's rank in the window
                column("starts", UTCDateTime()),
                column("ends", UTCDateTime()),
                name="bounds",
            )
            .data([(d.day, n, d.starts, d.ends) for n, d in enumerate(window.workdays)])
            .cte("bounds")
        )
        b = bounds.c
        days = select(b.day, b.n, instant(b.starts).label("starts"), instant(b.ends).label("ends")).cte(
            "days"
        )
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
        if persons is not None:
            counted = (
                values(column("person", String), name="counted")
                .data([(name,) for name in persons])
                .cte("counted")
            )
            worked_query = worked_query.where(exists().where(counted.c.person == person))
        worked = (
            worked_query.add_columns(person.label("person"))
            .where(s.holder.is_not(None))
            .distinct()
            .cte("worked")
            .prefix_with(*once)
        )
        wk = worked.c

        parent = t.items.alias("parent_item")  # through live items: a deleted parent ends the chain
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
            .where(~parent.c.deleted, parent.c.parent_id.is_not(None), up.depth < MAX_DEPTH)
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
        on_a_day = and_(spans.c.starts < days.c.ends, spans.c.ends > days.c.starts)
        self.unheld = (
            select(days.c.day, days.c.n, spans.c.pk)
            .join_from(spans, days, on_a_day)
            .where(spans.c.holder.is_(None))
            .distinct()
            .cte("unheld")
        )


def tune(conn: Connection, dialect: str) -> None:
    """PostgreSQL, for this transaction only: no JIT (the chain's row estimates are far above what it
    reads, so it compiled every statement, a second or more each even on a few hundred items) and
    room to sort the spans in memory."""
    if dialect == "postgresql":
        conn.exec_driver_sql("SET LOCAL jit = off")
        conn.exec_driver_sql("SET LOCAL work_mem = '64MB'")
