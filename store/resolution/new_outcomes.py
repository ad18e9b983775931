"""Strategy: a plan change that keeps every item's tags and changes only what some tag sets yield.

Re-weighting a method, or changing the values it serves, moves no tag: every item keeps the tag
set it had, inherited or its own, and only the allocation set some tag sets yield changes. When
each stored allocation set then tells which one it becomes (:func:`.signatures.new_outcomes`),
the moved items are exactly the resolutions naming a set that changes: one pass over the stored
resolutions finds them, and no tree is walked. Effort, parent, facts and the orphan flag are the
stored resolution's; the live items only (a deleted item's resolution leaves with the next pass
over every item).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Insert, func, insert, select, true

from v2mom.mapping.plan import Plan
from v2mom.store import schema as t
from v2mom.store.resolution import tables as rm
from v2mom.store.resolution.rewrite import move_rollup_by_items
from v2mom.store.resolution.rollup import SUM_COLUMNS, add_sums_to_rollup, store_allocation_sets
from v2mom.store.resolution.signatures import NewOutcome


def _into_changed() -> Insert:
    """Into ``rm_changed``: each live item's resolution naming a set in ``rm_new_outcome``, with
    the new set and its flags, and the stored columns as the old."""
    r, m, i = t.resolutions, rm.new_outcome, t.items
    new = {"untagged": m.c.untagged, "conflict": m.c.conflict, "alloc_key": m.c.new_key}
    found = (
        select(r.c.item_pk, *rm.changed_row(r, true(), new))
        .select_from(r)
        .join(m, m.c.old_key == r.c.alloc_key)
        .join(i, i.c.pk == r.c.item_pk)
        .where(~i.c.deleted)
    )
    return insert(rm.changed).from_select(rm.CHANGED_COLUMNS, found)


@dataclass(frozen=True)
class NewOutcomes:
    """Give every stored resolution naming a replaced allocation set its new one."""

    moves: list[NewOutcome]
    scoped = False  # stats count every item; allocation sets nothing names any more are dropped

    def find(self, conn: Connection, plan: Plan) -> int | None:
        """Store the new allocation sets and fill ``rm_changed``; writes nothing itself (None)."""
        store_allocation_sets(conn, conn.dialect.name, {move.new_key: move.shares for move in self.moves})
        rows = [
            {"old_key": m.old_key, "new_key": m.new_key, "untagged": m.untagged, "conflict": m.conflict}
            for m in self.moves
        ]
        rm.insert_rows(conn, rm.new_outcome, rows)
        rm.analyze(conn, rm.new_outcome)
        conn.execute(_into_changed())
        rm.analyze(conn, rm.changed)
        return None

    def move_rollup(self, conn: Connection) -> None:
        """Move whole rollup groups from each replaced set to its new one when every resolution
        naming a replaced set moves (none is a deleted item's, left for the next full pass), and
        item by item otherwise."""
        r, m = t.resolutions, rm.new_outcome
        naming = select(func.count()).select_from(r).join(m, m.c.old_key == r.c.alloc_key)
        if conn.execute(naming).scalar_one() != rm.count(conn, rm.changed):
            move_rollup_by_items(conn)
            return
        g = t.effort_rollup.c
        sums = ("items", *SUM_COLUMNS)
        moved = select(g.tracker, g.state, g.completed_on, g.orphaned, g.team_id).join_from(
            t.effort_rollup, m, m.c.old_key == g.alloc_key
        )
        taken = moved.add_columns(g.alloc_key, *((-g[name]).label(name) for name in sums))
        given = moved.add_columns(m.c.new_key.label("alloc_key"), *(g[name] for name in sums))
        add_sums_to_rollup(conn, conn.dialect.name, taken, given)
