"""Items' status and assignee history (``Database.history``): the rows people's time is counted from.

:meth:`HistoryRepository.record` stores :class:`~v2mom.models.ItemTransition` records keyed by
(tracker, item id, history entry id, field): recording a history read again rewrites the same rows
(what the tracker says now wins), so a re-fetch duplicates nothing. A sync reads an item's whole
history, so :meth:`~HistoryRepository.replace` makes that read the item's only record: whatever a
webhook recorded for it before (:meth:`~HistoryRepository.record_provisional`, a Linear change under
an id of the delivery's, not of the ``IssueHistory`` entry) cannot count twice beside the entry for
the same change. :meth:`~HistoryRepository.for_items`
reads the changes of some items in a window of time, with the change that stood when it opened.
``history_reads`` remembers the updated time each item's history was read for:
:meth:`~HistoryRepository.unread` names the items whose history must be read again.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, case, delete, func, literal, select, tuple_, union

from v2mom.models import ItemTransition, State
from v2mom.store import schema as t
from v2mom.store.engine import json_rows_insert, sqlite_driver_sql, upsert_insert
from v2mom.store.people_changes import mark_changed
from v2mom.store.transactions import ConnectionTransactions, Repository
from v2mom.store.types import sqlite_datetime_text

__all__ = ["AccountCounts", "HistoryRepository"]

CHUNK = 500
NEVER = datetime(1970, 1, 1, tzinfo=UTC)  # "read for" an item whose history no sync has read yet
_VALUES = ("at", "from_value", "to_value", "to_category")


def _row(change: ItemTransition) -> dict[str, Any]:
    return {
        "tracker": change.tracker,
        "item_id": change.item_id,
        "event_id": change.event_id,
        "field": change.field,
        "at": change.at,
        "from_value": change.from_value,
        "to_value": change.to_value,
        "to_category": change.to_category.value if change.to_category is not None else None,
    }


_COLUMNS = ("tracker", "item_id", "event_id", "field", *_VALUES)
_READ_COLUMNS = ("tracker", "item_id", "updated_at")


def _replacing(statement: Any) -> Any:
    """``statement`` (an INSERT into ``item_transitions``) replacing the row of the same identity."""
    return statement.on_conflict_do_update(
        index_elements=["tracker", "item_id", "event_id", "field"],
        set_={name: getattr(statement.excluded, name) for name in _VALUES},
    )


@functools.cache
def _sqlite_upsert() -> str:
    """:func:`_upsert` for SQLite's driver (its parameters in :data:`_COLUMNS` order)."""
    return sqlite_driver_sql(_replacing(upsert_insert("sqlite", t.item_transitions)), _COLUMNS)


@functools.cache
def _sqlite_mark_read() -> str:
    """:meth:`HistoryRepository.mark_read`'s upsert for SQLite's driver (tracker, item id, updated)."""
    return sqlite_driver_sql(_read_for(upsert_insert("sqlite", t.history_reads)), _READ_COLUMNS)


def _read_for(statement: Any) -> Any:
    """``statement`` (an INSERT into ``history_reads``) replacing the row of the same item."""
    return statement.on_conflict_do_update(
        index_elements=["tracker", "item_id"], set_={"updated_at": statement.excluded.updated_at}
    )


def _sqlite_rows(changes: list[ItemTransition]) -> list[tuple[Any, ...]]:
    """The changes' parameters for :func:`_sqlite_upsert`, ``at`` as the column's processors would
    store it (:func:`~v2mom.store.types.sqlite_datetime_text`); the other columns are text, which
    the driver stores as it is."""
    return [
        (
            change.tracker,
            change.item_id,
            change.event_id,
            change.field,
            sqlite_datetime_text(change.at),
            change.from_value,
            change.to_value,
            change.to_category.value if change.to_category is not None else None,
        )
        for change in changes
    ]


def _transition(row: Any) -> ItemTransition:
    return ItemTransition(
        tracker=row.tracker,
        item_id=row.item_id,
        event_id=row.event_id,
        at=row.at,
        field=row.field,
        from_value=row.from_value,
        to_value=row.to_value,
        to_category=State(row.to_category) if row.to_category is not None else None,
    )


@dataclass(frozen=True)
class AccountCounts:
    """How many distinct accounts of one tracker the store has seen, and how many of them are mapped
    to a person by the settings' ``people:``. Counts only: the accounts themselves stay here."""

    accounts: int
    mapped: int

    @property
    def unmapped(self) -> int:
        """The accounts seen that no ``people:`` entry names (each counted as a person of its own)."""
        return self.accounts - self.mapped


class HistoryRepository(Repository):
    """The ``item_transitions`` and ``history_reads`` tables."""

    def record(self, transitions: Iterable[ItemTransition]) -> int:
        """Store ``transitions``, each replacing the row of the same identity; how many were given.

        On SQLite the rows go to the driver already encoded, in one ``executemany`` (as the items'
        upsert does: SQLAlchemy's per-row parameter handling was most of the cost of a history
        read's tens of thousands of rows).
        """
        changes = list({change.identity: change for change in transitions}.values())
        if not changes:
            return 0
        with self._tx.write() as conn:
            if self.dialect == "sqlite":
                conn.exec_driver_sql(_sqlite_upsert(), _sqlite_rows(changes))
            else:
                rows = [_row(change) for change in changes]
                conn.execute(_replacing(json_rows_insert(t.item_transitions, _COLUMNS, rows)))
            mark_changed(conn, {(change.tracker, change.item_id) for change in changes})
        return len(changes)

    def replace(self, tracker: str, item_ids: Iterable[str], transitions: Iterable[ItemTransition]) -> int:
        """Make ``transitions`` the whole stored history of ``item_ids`` (a history read for them all):
        their other rows are deleted, then these recorded, in one transaction; how many were given."""
        ids = sorted(set(item_ids))
        c = t.item_transitions.c
        with self._tx.write() as conn:
            for first in range(0, len(ids), CHUNK):
                chunk = ids[first : first + CHUNK]
                conn.execute(delete(t.item_transitions).where(c.tracker == tracker, c.item_id.in_(chunk)))
            mark_changed(conn, ((tracker, item_id) for item_id in ids))  # a history may lose every row
            return self.bound_to(ConnectionTransactions(conn)).record(transitions)

    def record_provisional(self, tracker: str, item_id: str, transitions: Iterable[ItemTransition]) -> int:
        """Store what a webhook said of item ``item_id``'s changes until a history read replaces it;
        how many rows were added.

        A change no later than the updated time the item's history was last read for is already in
        that read, and a row of the same identity is the read's: neither is touched. The item's
        ``history_reads`` row is locked (PostgreSQL) so a sync committing that item's history
        meanwhile is waited for (:meth:`SyncStateRepository.commit_pages` marks it read before it
        replaces the item's rows, so a row added first is deleted by that replace). An item never
        read has no row to lock: one is inserted first, read for :data:`NEVER` (so the item stays
        unread), and a sync marking it read meanwhile waits for this transaction, or this one for it.
        """
        mine = [change for change in transitions if change.tracker == tracker and change.item_id == item_id]
        if not mine:
            return 0
        c = t.history_reads.c
        query = select(c.updated_at).where(c.tracker == tracker, c.item_id == item_id)
        if self.dialect == "postgresql":
            query = query.with_for_update()
        placeholder = upsert_insert(self.dialect, t.history_reads).on_conflict_do_nothing(
            index_elements=["tracker", "item_id"]
        )
        with self._tx.write() as conn:
            conn.execute(placeholder, {"tracker": tracker, "item_id": item_id, "updated_at": NEVER})
            read_for = conn.execute(query).scalar_one()
            rows = [_row(change) for change in mine if change.at > read_for]
            if not rows:
                return 0
            statement = (
                upsert_insert(self.dialect, t.item_transitions)
                .on_conflict_do_nothing(index_elements=["tracker", "item_id", "event_id", "field"])
                .returning(t.item_transitions.c.event_id)
            )
            added = sum(len(conn.execute(statement, row).all()) for row in rows)
            if added:
                mark_changed(conn, [(tracker, item_id)])
            return added

    def for_items(
        self,
        tracker: str,
        item_ids: Iterable[str],
        *,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> list[ItemTransition]:
        """The changes of ``item_ids`` in ``[start, end)``, ordered by item, time and field.

        With ``start``, each item's last change of each field before it comes too: what stood when
        the window opened (an item assigned last month and still assigned counts from ``start``).
        """
        c = t.item_transitions.c
        ids = sorted(set(item_ids))
        found: list[ItemTransition] = []
        with self._tx.read() as conn:
            for first in range(0, len(ids), CHUNK):
                chunk = ids[first : first + CHUNK]
                mine = and_(c.tracker == tracker, c.item_id.in_(chunk))
                if end is not None:
                    mine = and_(mine, c.at < end)
                query: Any
                if start is None:
                    query = select(t.item_transitions).where(mine)
                else:
                    latest = (
                        func.row_number()
                        .over(partition_by=(c.item_id, c.field), order_by=(c.at.desc(), c.event_id.desc()))
                        .label("latest")
                    )
                    ranked = select(*t.item_transitions.c, latest).where(mine, c.at < start).subquery()
                    before = select(*(ranked.c[col.name] for col in t.item_transitions.c)).where(
                        ranked.c.latest == 1
                    )
                    query = select(t.item_transitions).where(mine, c.at >= start).union_all(before)
                found.extend(_transition(row) for row in conn.execute(query))
        return sorted(found, key=lambda change: (change.item_id, change.at, change.field, change.event_id))

    def count(self, tracker: str | None = None) -> int:
        """Changes stored (of ``tracker``, or of every tracker)."""
        query = select(func.count()).select_from(t.item_transitions)
        if tracker is not None:
            query = query.where(t.item_transitions.c.tracker == tracker)
        with self._tx.read() as conn:
            return int(conn.execute(query).scalar_one())

    def account_counts(self, mapped: Iterable[tuple[str, str]]) -> dict[str, AccountCounts]:
        """Per tracker, the distinct accounts seen (items' assignees now, and every assignee change's
        previous and new one) and how many are among ``mapped`` (tracker, account) pairs; trackers
        with no account seen are left out."""
        i, x = t.items.c, t.item_transitions.c
        assignee = x.field == "assignee"
        seen = union(
            select(i.tracker, i.assignee.label("account")).where(i.assignee.is_not(None)),
            select(x.tracker, x.from_value).where(assignee, x.from_value.is_not(None)),
            select(x.tracker, x.to_value).where(assignee, x.to_value.is_not(None)),
        ).subquery("seen")
        pairs = sorted(set(mapped))
        is_mapped = tuple_(seen.c.tracker, seen.c.account).in_(pairs) if pairs else literal(False)
        query = select(
            seen.c.tracker, func.count(), func.coalesce(func.sum(case((is_mapped, 1), else_=0)), 0)
        ).group_by(seen.c.tracker)
        with self._tx.read() as conn:
            return {
                tracker: AccountCounts(accounts=int(accounts), mapped=int(known))
                for tracker, accounts, known in conn.execute(query)
            }

    def unread(self, tracker: str, updated: Mapping[str, datetime]) -> set[str]:
        """The ids among ``updated`` (item id -> its updated time now) whose history was never read,
        or was read for another updated time."""
        c = t.history_reads.c
        ids = sorted(updated)
        read: dict[str, datetime] = {}
        with self._tx.read() as conn:
            for first in range(0, len(ids), CHUNK):
                chunk = ids[first : first + CHUNK]
                query = select(c.item_id, c.updated_at).where(c.tracker == tracker, c.item_id.in_(chunk))
                read.update((row.item_id, row.updated_at) for row in conn.execute(query))
        return {item_id for item_id, moment in updated.items() if read.get(item_id) != moment}

    def mark_read(self, tracker: str, updated: Mapping[str, datetime]) -> None:
        """Record that each item's history was read for its updated time in ``updated``."""
        if not updated:
            return
        with self._tx.write() as conn:
            if self.dialect == "sqlite":
                rows = [(tracker, i, sqlite_datetime_text(moment)) for i, moment in updated.items()]
                conn.exec_driver_sql(_sqlite_mark_read(), rows)
                return
            marks = [{"tracker": tracker, "item_id": i, "updated_at": m} for i, m in updated.items()]
            conn.execute(_read_for(json_rows_insert(t.history_reads, _READ_COLUMNS, marks)))
