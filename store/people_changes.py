"""Which items' people's time may have changed: the ``people_changes`` marks.

Every write of what people's time is computed from (an item's parent, state, creation, completion,
assignee, start or deletion, and its status and assignee history) marks the item in
``people_changes`` on the connection of that write, so the mark commits or rolls back with it.
:mod:`v2mom.store.people_shares` computes the people's rows of the marked items again before a
report reads them, and removes exactly the marks it read.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, insert, select

from v2mom.models import WorkItem
from v2mom.store import schema as t
from v2mom.store.engine import json_rows_insert, sqlite_driver_sql

__all__ = ["mark_changed", "moved_items"]

CHUNK = 500


@functools.cache
def _sqlite_insert() -> str:
    """The insert of a mark for SQLite's driver (tracker, item id)."""
    return sqlite_driver_sql(insert(t.people_changes), ("tracker", "item_id"))


_MARKED = "v2mom.people_changes.marked"  # conn.info: (the transaction, the keys it marked)


def _marked_in(conn: Connection) -> set[tuple[str, str]] | None:
    """The keys already marked in ``conn``'s transaction (a sync's commit marks an item for its row
    and again for its history); None outside a transaction or inside a savepoint, whose marks may
    roll back without the transaction."""
    transaction = conn.get_transaction()
    if transaction is None or conn.in_nested_transaction():
        return None
    held = conn.info.get(_MARKED)
    if held is None or held[0] is not transaction:
        held = (transaction, set())
        conn.info[_MARKED] = held
    marked: set[tuple[str, str]] = held[1]
    return marked


def mark_changed(conn: Connection, keys: Iterable[tuple[str, str]]) -> int:
    """Mark each (tracker, item id) of ``keys`` changed, once per transaction; how many marks were
    written."""
    marked = _marked_in(conn)
    fresh = sorted(set(keys) if marked is None else set(keys) - marked)
    if not fresh:
        return 0
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(_sqlite_insert(), fresh)
    else:
        marks = [{"tracker": tracker, "item_id": item_id} for tracker, item_id in fresh]
        conn.execute(json_rows_insert(t.people_changes, ("tracker", "item_id"), marks))
    if marked is not None:
        marked.update(fresh)
    return len(fresh)


def _differs(stored: Any, item: WorkItem) -> bool:
    return bool(
        stored.deleted
        or stored.parent_id != item.parent_id
        or stored.state != item.state.value
        or stored.assignee != item.assignee
        or stored.created_at != item.created_at
        or stored.completed_at != item.completed_at
        or stored.started_at != item.started_at
    )


def moved_items(conn: Connection, items: Iterable[WorkItem]) -> list[tuple[str, str]]:
    """The (tracker, id) of ``items`` that are new, deleted, or whose stored parent, state, times or
    assignee differ from theirs: the ones whose writing may change people's time."""
    by_tracker: dict[str, dict[str, WorkItem]] = {}
    for item in items:
        by_tracker.setdefault(item.tracker, {})[item.id] = item
    i = t.items.c
    moved: list[tuple[str, str]] = []
    for tracker, mine in by_tracker.items():
        ids = sorted(mine)
        stored: dict[str, Any] = {}
        for start in range(0, len(ids), CHUNK):
            query = select(
                i.item_id,
                i.deleted,
                i.parent_id,
                i.state,
                i.assignee,
                i.created_at,
                i.completed_at,
                i.started_at,
            ).where(i.tracker == tracker, i.item_id.in_(ids[start : start + CHUNK]))
            stored.update((row.item_id, row) for row in conn.execute(query))
        moved.extend(
            (tracker, item_id)
            for item_id in ids
            if item_id not in stored or _differs(stored[item_id], mine[item_id])
        )
    return moved
