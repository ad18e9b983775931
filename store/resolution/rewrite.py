"""Writing what a strategy found: the rollup moved by one signed delta, then the resolutions.

Every strategy leaves the same two tables: ``rm_changed`` (items whose resolution moves, with the
stored rollup columns beside the new) and ``rm_gone`` (resolutions of deleted items). The rollup
takes each changed item's stored group away and adds its new one, and takes the gone ones away; the
changed resolutions are updated, the new ones inserted and the gone ones deleted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Select, bindparam, insert, literal, select, union_all, update

from v2mom.clock import utcnow
from v2mom.store import schema as t
from v2mom.store.resolution import tables as rm
from v2mom.store.resolution.rollup import SUM_COLUMNS, add_to_rollup, drop_empty_groups, resolution_facts
from v2mom.store.types import UTCDateTime


def move_rollup_by_items(conn: Connection) -> None:
    """Move the rollup by what ``rm_changed`` and ``rm_gone`` hold, item by item, in one delta."""
    gone = t.resolutions.c.item_pk.in_(rm.pks_of(rm.gone))
    add_to_rollup(conn, conn.dialect.name, union_all(*_moves(), resolution_facts(gone, sign=-1)))


def rewrite_changes(
    conn: Connection, move_rollup: Callable[[Connection], None] = move_rollup_by_items
) -> int:
    """Write what ``rm_changed`` and ``rm_gone`` hold: the rollup delta (``move_rollup``), then the
    resolutions; returns the number of resolutions written or removed."""
    move_rollup(conn)
    gone = t.resolutions.c.item_pk.in_(rm.pks_of(rm.gone))
    now = bindparam("now", utcnow(), type_=UTCDateTime())
    c = rm.changed.c
    updated = conn.execute(
        update(t.resolutions)
        .where(t.resolutions.c.item_pk == c.pk)
        .values({**{name: c[name] for name in rm.NEW_COLUMNS}, "resolved_at": now})
    ).rowcount
    new = select(c.pk, *(c[name] for name in rm.NEW_COLUMNS), now).where(~c.had)
    # An INSERT's rowcount is read once its cursor is closed unless asked to be kept.
    into = insert(t.resolutions).from_select(["item_pk", *rm.NEW_COLUMNS, "resolved_at"], new)
    inserted = conn.execute(into.execution_options(preserve_rowcount=True)).rowcount
    removed = conn.execute(t.resolutions.delete().where(gone)).rowcount
    drop_empty_groups(conn)
    return int(updated) + int(inserted) + int(removed)


def _moves() -> tuple[Select[Any], Select[Any]]:
    """Each changed item as rollup sources: its stored group taken away (if it had one), its new
    one added. Reads only ``rm_changed``."""
    c = rm.changed.c
    old = select(
        c.old_tracker.label("tracker"),
        c.old_state.label("state"),
        c.old_completed_on.label("completed_on"),
        c.old_orphaned.label("orphaned"),
        c.old_alloc_key.label("alloc_key"),
        c.old_team_id.label("team_id"),
        *(c[f"old_{name}"].label(name) for name in SUM_COLUMNS),
        literal(-1).label("sign"),
    ).where(c.had)
    new = select(
        c.tracker,
        c.state,
        c.completed_on,
        c.orphaned,
        c.alloc_key,
        c.team_id,
        *(c[name] for name in SUM_COLUMNS),
        literal(1).label("sign"),
    )
    return old, new
