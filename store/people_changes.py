"""Which items' people's time may have changed: the ``people_changes`` marks.

Every write of what people's time is computed from (an item's parent, state, creation, completion,
assignee, start or deletion, and its status and assignee history) marks the item in
``people_changes`` on the connection of that write, so the mark commits or rolls back with it.
:mod:`v2mom.store.people_shares` computes the people's rows of the marked items again before a
report reads them, and removes exactly the marks it read.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, insert, select

from v2mom.models import WorkItem
from v2mom.store import schema as t

__all__ = ["mark_changed", "moved_items"]

CHUNK = 500


def mark_changed(conn: Connection, keys: Iterable[tuple[str, str]]) -> int:
    """Mark each (tracker, item id) of ``keys`` changed; how many marks were written."""
    rows = [{"tracker": tracker, "item_id": item_id} for tracker, item_id in sorted(set(keys))]
    for start in range(0, len(rows), CHUNK):
        conn.execute(insert(t.people_changes), rows[start : start + CHUNK])
    return len(rows)


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
