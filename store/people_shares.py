"""People's time, materialized: each person's share of each working day per item, kept current.

``people_shares`` holds exactly the rows of the computation's ``shares`` step
(:class:`~v2mom.store.people_chain.Chain`) and ``people_unheld`` the in-progress items nobody held,
for every working day from ``COVERED_DAYS`` before the day of the last full refresh to today in the
settings' zone. ``people_state`` records what they were computed for: the calendar's and the
``people:`` accounts' fingerprint, the days covered, the moment (``computed_at``) and the earliest
stored moment after it (``horizon``: a change dated in the future, counted as made ``now``).

Shares depend on the items (parent, state, times, assignee, deletion), their history, the calendar,
the accounts and now, never on the plan: value weights are joined at report time. Each row also
carries what its item's resolution counts it under (``COPIED``), copied as it is computed and again by
the resolution engine whenever it writes that resolution (``store.resolution.people_copy``), so a
report reads the window's rows alone.
:meth:`PeopleShares.refresh` brings them up to date in one transaction:

- **full** when nothing is stored or the fingerprint changed: every row computed again;
- **by person** for the items marked in ``people_changes`` (every write of an item or its history
  marks it, in that write's transaction): a person's day depends only on that person's items and
  their ancestors, so the rows of every person who held a changed item or one of its descendants
  (through its history and its current assignee, or by a stored share) are replaced, and the
  unheld rows of the changed items; once the horizon has passed, the items whose stored moments
  came since ``computed_at`` count as changed too;
- **by day** from the last day covered when a new day began: only days from the one
  ``computed_at`` fell on can differ, for everyone.

:meth:`PeopleShares.covers` refreshes first when anything of that is pending, so no report reads rows
that ignore a stored change; a window starting before the days covered, or a ``now`` before the
rows' own, is not covered (the reports then compute from the histories).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    Connection,
    Select,
    String,
    and_,
    column,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    union,
    update,
    values,
)

from v2mom.store import schema as t
from v2mom.store.locks import lock_transaction
from v2mom.store.people_chain import Chain, TimeWindow, tune
from v2mom.store.transactions import Repository
from v2mom.store.types import UTCDateTime
from v2mom.workdays import WorkCalendar

__all__ = ["COPIED", "COVERED_DAYS", "LOCK", "PeopleShares", "Refreshed", "fingerprint"]

COVERED_DAYS = 400  # a year and a quarter: the default 90 days, a quarter and a year's trend
FULL_AFTER = 5000  # changed items beyond which recomputing everyone is cheaper than finding whom they touch
LOCK = "people-shares"
# What each row copies of its item's resolution (see ``schema.people_shares``), kept current by the
# resolution engine (``store.resolution.people_copy``).
COPIED = ("alloc_key", "orphaned", "team_id", "state", "tracker")
CHUNK = 500
STATE_ID = 1
JULIAN_UNIX_EPOCH = 2440587.5  # SQLite's julianday() of 1970-01-01 00:00 UTC


@dataclass(frozen=True)
class Refreshed:
    """What a refresh did: ``kind`` is ``none``, ``full`` or ``incremental``; how many people's rows
    were replaced, from which day everyone's were (a new day), and how many changed items it took."""

    kind: str
    persons: int = 0
    redone_from: date | None = None
    changes: int = 0


def fingerprint(calendar: WorkCalendar) -> str:
    """What the shares depend on in the settings: the time zone, the working week and who owns
    which account."""
    document = {
        "timezone": calendar.timezone,
        "work_week": sorted(calendar.work_week),
        "accounts": sorted(
            [tracker, account, person] for (tracker, account), person in calendar.accounts.items()
        ),
    }
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


def _keys_cte(name: str, keys: Iterable[tuple[str, str]], first: str, second: str) -> CTE:
    return (
        values(column(first, String), column(second, String), name=name)
        .data(sorted(set(keys)) or [("", "")])  # VALUES needs a row: nothing matches the empty key
        .cte(name)
    )


def _held_by(accounts: CTE) -> CTE:
    """Every item ever held by one of ``accounts`` (tracker, account): in a change's previous or new
    assignee, or as its current assignee."""
    x, i, a = t.item_transitions.c, t.items.c, accounts.c
    in_history = select(x.tracker, x.item_id).where(
        x.field == "assignee",
        exists().where(a.tracker == x.tracker, or_(a.account == x.from_value, a.account == x.to_value)),
    )
    current = select(i.tracker, i.item_id).where(
        exists().where(a.tracker == i.tracker, a.account == i.assignee)
    )
    return union(in_history, current).cte("held_by")


def _family(changed: CTE) -> CTE:
    """The changed items and all their descendants (through ``parent_id``, deleted items included):
    the items whose lineage a change can move."""
    i = t.items.c
    family = select(changed.c.tracker, changed.c.item_id).cte("family", recursive=True)
    return family.union(
        select(i.tracker, i.item_id).join_from(
            family, t.items, and_(i.tracker == family.c.tracker, i.parent_id == family.c.item_id)
        )
    )


class PeopleShares(Repository):
    """The ``people_shares``, ``people_unheld``, ``people_changes`` and ``people_state`` tables."""

    def covers(self, window: TimeWindow) -> bool:
        """Whether the stored rows answer ``window`` exactly, refreshing them first when a change,
        a new day, a passed horizon or another calendar is pending. A window without a calendar,
        starting before the days covered, or whose ``now`` is before the rows' own, is not covered."""
        calendar = window.calendar
        if calendar is None or not window.workdays:
            return False
        with self._tx.read() as conn:
            state = self._state(conn)
            pending = conn.execute(select(exists().select_from(t.people_changes))).scalar_one()
        if state is None or pending or self._stale(state, calendar, window.now):
            if state is not None and window.now < state.computed_at:
                return False
            self.refresh(calendar, window.now)
            with self._tx.read() as conn:
                state = self._state(conn)
        return (
            state is not None
            and state.fingerprint == fingerprint(calendar)
            and state.computed_at <= window.now
            and state.last_day == calendar.today(window.now)
            and state.first_day <= window.workdays[0].day
        )

    def refresh(self, calendar: WorkCalendar, now: datetime, *, full: bool = False) -> Refreshed:
        """Bring the rows up to ``now`` under ``calendar`` (all of them with ``full``), in one
        transaction; nothing when they were computed for a later moment."""
        today = calendar.today(now)
        with self._tx.write() as conn:
            tune(conn, self.dialect)
            if self.dialect == "postgresql":
                lock_transaction(conn, LOCK)  # one refresh at a time; reports read meanwhile
            state = self._state(conn)
            if state is not None and now < state.computed_at:
                return Refreshed("none")
            c = t.people_changes.c
            taken = {
                (row.tracker, row.item_id)
                for row in conn.execute(delete(t.people_changes).returning(c.tracker, c.item_id))
            }
            if state is not None and state.horizon is not None and state.horizon <= now:
                taken |= self._due(conn, state.computed_at, now)  # their future-dated moments came
            if full or state is None or state.fingerprint != fingerprint(calendar) or len(taken) > FULL_AFTER:
                first = today - timedelta(days=COVERED_DAYS - 1)
                conn.execute(delete(t.people_shares))
                conn.execute(delete(t.people_unheld))
                self._compute(conn, calendar, now, first, today)
                done = Refreshed("full", changes=len(taken))
            else:
                first = state.first_day
                redo = state.last_day if today > state.last_day else None
                if not taken and redo is None:
                    return Refreshed("none")
                settled = redo - timedelta(days=1) if redo is not None else today
                if redo is not None:  # first, so what follows replaces rows up to ``settled`` only
                    self._cut(conn, calendar, first, redo)
                persons = self._touched(conn, calendar, taken) if taken else set()
                if persons and first <= settled:
                    self._redo_persons(conn, calendar, now, first, settled, persons)
                if taken and first <= settled:
                    self._redo_unheld(conn, calendar, now, first, settled, taken)
                if redo is not None:
                    self._compute(conn, calendar, now, redo, today)
                done = Refreshed("incremental", persons=len(persons), redone_from=redo, changes=len(taken))
            conn.execute(delete(t.people_state))
            conn.execute(
                insert(t.people_state).values(
                    id=STATE_ID,
                    fingerprint=fingerprint(calendar),
                    first_day=first,
                    last_day=today,
                    computed_at=now,
                    horizon=self._horizon(conn, now),
                )
            )
            return done

    def _stale(self, state: Any, calendar: WorkCalendar, now: datetime) -> bool:
        """A new day began since the rows were computed, or a moment stored as future has passed."""
        passed = state.horizon is not None and state.horizon <= now
        return bool(
            state.fingerprint != fingerprint(calendar) or calendar.today(now) > state.last_day or passed
        )

    def _cut(self, conn: Connection, calendar: WorkCalendar, first: date, redo: date) -> None:
        """Remove every row of ``redo`` and after: runs of unheld days that reach it end the working
        day before."""
        s, u = t.people_shares.c, t.people_unheld.c
        conn.execute(delete(t.people_shares).where(s.day >= redo))
        conn.execute(delete(t.people_unheld).where(u.first_day >= redo))
        before = calendar.workdays(first, redo - timedelta(days=1))
        if before:
            conn.execute(update(t.people_unheld).where(u.last_day >= redo).values(last_day=before[-1].day))

    def _state(self, conn: Connection) -> Any:
        return conn.execute(select(t.people_state).where(t.people_state.c.id == STATE_ID)).one_or_none()

    def _window(self, calendar: WorkCalendar, now: datetime, first: date, last: date) -> TimeWindow:
        return TimeWindow(calendar.workdays(first, last), now, calendar.accounts, calendar)

    def _compute(
        self,
        conn: Connection,
        calendar: WorkCalendar,
        now: datetime,
        first: date,
        last: date,
        *,
        subjects: CTE | None = None,
        persons: Collection[str] | None = None,
        shares: bool = True,
        unheld: bool = True,
    ) -> None:
        """Insert the rows of the days ``first`` to ``last`` (of ``subjects`` and ``persons`` only when
        given); the caller has deleted what they replace."""
        window = self._window(calendar, now, first, last)
        if not window.workdays:
            return
        if shares:
            found = Chain(
                window, self.dialect, subjects=subjects, persons=sorted(persons) if persons else None
            ).shares
            sh, r = found.c, t.resolutions.c
            rows = select(sh.day, sh.person, sh.pk, sh.share, *(r[name] for name in COPIED)).select_from(
                found.outerjoin(t.resolutions, r.item_pk == sh.pk)
            )
            conn.execute(
                insert(t.people_shares).from_select(["day", "person", "item_pk", "share", *COPIED], rows)
            )
        if unheld:  # consecutive working days in one row: rank minus rank among the item's days is constant
            nobody = Chain(window, self.dialect, subjects=subjects).unheld.c
            run = (nobody.n - func.row_number().over(partition_by=nobody.pk, order_by=nobody.n)).label("run")
            days = select(nobody.pk, nobody.day, run).subquery("unheld_days")
            d = days.c
            runs = select(d.pk, func.min(d.day), func.max(d.day)).group_by(d.pk, d.run)
            conn.execute(insert(t.people_unheld).from_select(["item_pk", "first_day", "last_day"], runs))

    def _touched(
        self, conn: Connection, calendar: WorkCalendar, changed: Iterable[tuple[str, str]]
    ) -> set[str]:
        """The persons whose days the ``changed`` items can move: everyone who held one of them or of
        their descendants (in their history or now), and everyone with a stored share of one."""
        family = _family(_keys_cte("changed", changed, "tracker", "item_id"))
        f, x, i, s = family.c, t.item_transitions.c, t.items.c, t.people_shares.c
        mine = and_(x.tracker == f.tracker, x.item_id == f.item_id, x.field == "assignee")
        accounts = union(
            select(x.tracker, x.from_value.label("account")).join_from(family, t.item_transitions, mine),
            select(x.tracker, x.to_value).join_from(family, t.item_transitions, mine),
            select(i.tracker, i.assignee).join_from(
                family, t.items, and_(i.tracker == f.tracker, i.item_id == f.item_id)
            ),
        )
        persons = {
            calendar.person(tracker, account)
            for tracker, account in conn.execute(accounts)
            if account is not None
        }
        stored = (
            select(s.person)
            .distinct()
            .join_from(family, t.items, and_(i.tracker == f.tracker, i.item_id == f.item_id))
            .join(t.people_shares, s.item_pk == i.pk)
        )
        persons.update(conn.execute(stored).scalars())
        return persons

    def _redo_persons(
        self,
        conn: Connection,
        calendar: WorkCalendar,
        now: datetime,
        first: date,
        last: date,
        persons: set[str],
    ) -> None:
        """Replace the rows of ``persons`` from ``first`` to ``last``."""
        s = t.people_shares.c
        names = sorted(persons)
        for start in range(0, len(names), CHUNK):
            conn.execute(
                delete(t.people_shares).where(
                    s.person.in_(names[start : start + CHUNK]), s.day.between(first, last)
                )
            )
        accounts = {
            (tracker, account) for (tracker, account), name in calendar.accounts.items() if name in persons
        }
        for name in names:
            tracker, colon, account = name.partition(":")
            if colon and (tracker, account) not in calendar.accounts:
                accounts.add((tracker, account))
        subjects = _held_by(_keys_cte("accounts", accounts, "tracker", "account"))
        self._compute(conn, calendar, now, first, last, subjects=subjects, persons=persons, unheld=False)

    def _redo_unheld(
        self,
        conn: Connection,
        calendar: WorkCalendar,
        now: datetime,
        first: date,
        last: date,
        changed: set[tuple[str, str]],
    ) -> None:
        """Replace the unheld rows of the ``changed`` items, from ``first`` to ``last`` (no row of theirs
        goes past ``last``)."""
        keys = _keys_cte("changed", changed, "tracker", "item_id")
        i, u = t.items.c, t.people_unheld.c
        pks = select(i.pk).join_from(
            keys, t.items, and_(i.tracker == keys.c.tracker, i.item_id == keys.c.item_id)
        )
        conn.execute(delete(t.people_unheld).where(u.item_pk.in_(pks)))
        self._compute(conn, calendar, now, first, last, subjects=keys, shares=False)

    def _due(self, conn: Connection, since: datetime, now: datetime) -> set[tuple[str, str]]:
        """The items with a stored moment after ``since`` and no later than ``now``: a change, a
        creation or a start the rows computed at ``since`` counted as not yet come."""
        instant = self._instant
        after, until = instant(literal(since, UTCDateTime())), instant(literal(now, UTCDateTime()))
        x, i = t.item_transitions.c, t.items.c

        def came(moment: ColumnElement[Any]) -> ColumnElement[bool]:
            return and_(instant(moment) > after, instant(moment) <= until)

        query = union(
            select(x.tracker, x.item_id).where(came(x.at)),
            select(i.tracker, i.item_id).where(or_(came(i.created_at), came(i.started_at))),
        )
        return {(row.tracker, row.item_id) for row in conn.execute(query)}

    def _instant(self, moment: ColumnElement[Any]) -> ColumnElement[Any]:
        """``moment`` as the database orders times (SQLite: a Julian day; its text has two formats)."""
        return func.julianday(moment) if self.dialect == "sqlite" else moment

    def _horizon(self, conn: Connection, now: datetime) -> datetime | None:
        """The earliest stored moment after ``now`` from which work can start: a change, an item's
        creation or its start."""
        sqlite, instant = self.dialect == "sqlite", self._instant
        present = instant(literal(now, UTCDateTime()))
        x, i = t.item_transitions.c, t.items.c
        found: list[Any] = []
        moments: list[Select[Any]] = [
            select(func.min(instant(x.at))).where(instant(x.at) > present),
            select(func.min(instant(i.created_at))).where(~i.deleted, instant(i.created_at) > present),
            select(func.min(instant(i.started_at))).where(~i.deleted, instant(i.started_at) > present),
        ]
        for query in moments:
            moment = conn.execute(query).scalar_one()
            if moment is not None:
                if sqlite:  # a Julian day holds about a millisecond: err early, never late
                    moment = datetime.fromtimestamp((float(moment) - JULIAN_UNIX_EPOCH) * 86400, UTC)
                    moment -= timedelta(seconds=1)
                found.append(moment)
        return min(found) if found else None
