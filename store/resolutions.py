"""Resolutions: each item's flags, counted effort and allocation set, with the rollup kept in step.

Every write here also moves the rollup (``v2mom.store.rollup``) in the same transaction, so a
report never sees resolutions and rollup disagree.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select

from v2mom.clock import utcnow
from v2mom.mapping.resolver import Share, shares_key
from v2mom.store import schema as t
from v2mom.store.items import UPSERT_CHUNK
from v2mom.store.rollup import (
    add_to_rollup,
    drop_empty_groups,
    prune_allocation_sets,
    read_allocation_set,
    rebuild_rollup,
    resolution_facts,
    store_allocation_sets,
)
from v2mom.store.transactions import Repository


@dataclass(frozen=True)
class ResolutionRow:
    """What the re-resolution writes for one item: flags, counted efforts and allocations.

    The allocations are stored once per distinct set; the row keeps the set's key
    (:func:`mapping.resolver.shares_key` of the allocations and the conflict and untagged flags).
    """

    item_pk: int
    untagged: bool
    orphaned: bool
    conflict: bool
    points: float
    hours: float
    count: float
    allocations: Sequence[Share]

    def set_key(self) -> int:
        """The key of this row's allocation set."""
        return shares_key(list(self.allocations), conflict=self.conflict, untagged=self.untagged)


@dataclass(frozen=True)
class FlagCounts:
    """How many resolutions there are, and how many carry each flag."""

    items: int
    untagged: int
    orphaned: int
    conflict: int


def _chunks(only: Sequence[int] | None) -> list[list[int] | None]:
    if only is None:
        return [None]
    return [list(only[i : i + UPSERT_CHUNK]) for i in range(0, len(only), UPSERT_CHUNK)]


def _states(conn: Connection, only: Sequence[int] | None) -> dict[int, tuple[str, str, date | None]]:
    query = select(t.items.c.pk, t.items.c.tracker, t.items.c.state, t.items.c.completed_at)
    out: dict[int, tuple[str, str, date | None]] = {}
    for chunk in _chunks(only):
        q = query if chunk is None else query.where(t.items.c.pk.in_(chunk))
        for pk, tracker, state, completed in conn.execute(q):
            out[pk] = (tracker, state, completed.date() if completed else None)
    return out


class ResolutionRepository(Repository):
    """The ``resolutions`` table, the allocation sets it names and the effort rollup."""

    def replace(self, rows: Iterable[ResolutionRow], *, only: Sequence[int] | None = None) -> int:
        """Replace resolutions — all of them, or those of ``only`` — atomically, with their sets.

        The rollup follows in the same transaction: rebuilt set-based after a full replace (which
        also drops the allocation sets no resolution names any more), or adjusted by subtracting
        the old resolutions of ``only`` and adding the new ones.
        """
        now = utcnow()
        with self._tx.write() as conn:
            states = _states(conn, only)
            chunks = _chunks(only)
            if only is None:
                conn.execute(delete(t.effort_rollup))
                conn.execute(delete(t.resolutions))
            else:
                for chunk in chunks:
                    assert chunk is not None
                    in_chunk = t.resolutions.c.item_pk.in_(chunk)
                    add_to_rollup(conn, self.dialect, resolution_facts(in_chunk, sign=-1))
                    conn.execute(delete(t.resolutions).where(in_chunk))
            batch: list[dict[str, Any]] = []
            keys: dict[tuple[tuple[Share, ...], bool, bool], int] = {}  # each distinct set, hashed once
            written = 0
            for row in rows:
                tracker, state, completed_on = states[row.item_pk]
                shape = (tuple(row.allocations), row.conflict, row.untagged)
                key = keys.get(shape)
                if key is None:
                    key = keys[shape] = row.set_key()
                batch.append(
                    {
                        "item_pk": row.item_pk,
                        "untagged": row.untagged,
                        "orphaned": row.orphaned,
                        "conflict": row.conflict,
                        "points": row.points,
                        "hours": row.hours,
                        "count": row.count,
                        "alloc_key": key,
                        "resolved_at": now,
                        "tracker": tracker,
                        "state": state,
                        "completed_on": completed_on,
                    }
                )
                written += 1
                if len(batch) >= 5000:
                    conn.execute(insert(t.resolutions), batch)
                    batch.clear()
            if batch:
                conn.execute(insert(t.resolutions), batch)
            store_allocation_sets(conn, self.dialect, {key: shape[0] for shape, key in keys.items()})
            if only is None:
                rebuild_rollup(conn)
                prune_allocation_sets(conn)
            else:
                for chunk in chunks:
                    assert chunk is not None
                    add_to_rollup(conn, self.dialect, resolution_facts(t.resolutions.c.item_pk.in_(chunk)))
                drop_empty_groups(conn)
        return written

    def rebuild_rollup(self) -> None:
        """Recompute the whole rollup from the resolutions (set-based, one statement)."""
        with self._tx.write() as conn:
            rebuild_rollup(conn)

    def rollup_rows(self) -> list[dict[str, Any]]:
        """Every rollup row (for consistency checks), ordered by group key."""
        with self._tx.read() as conn:
            rows = conn.execute(select(t.effort_rollup).order_by(t.effort_rollup.c.group_key))
            return [dict(r._mapping) for r in rows]

    def allocation_set(self, key: int) -> list[Share]:
        """The (value, method, weight) shares of one stored allocation set, in order."""
        with self._tx.read() as conn:
            return read_allocation_set(conn, key)

    def for_item(self, item_pk: int) -> dict[str, Any] | None:
        """The stored flags and counted effort of one item (None before its first resolution)."""
        with self._tx.read() as conn:
            row = conn.execute(select(t.resolutions).where(t.resolutions.c.item_pk == item_pk)).first()
        if row is None:
            return None
        return {
            "flags": [f for f in ("untagged", "orphaned", "conflict") if getattr(row, f)],
            "effort": {"points": row.points, "hours": row.hours, "count": row.count},
        }

    def flag_counts(self) -> FlagCounts:
        """How many items are resolved and how many carry each flag (one scan)."""
        r = t.resolutions.c
        with self._tx.read() as conn:
            row = conn.execute(
                select(
                    func.count(),
                    func.count().filter(r.untagged),
                    func.count().filter(r.orphaned),
                    func.count().filter(r.conflict),
                )
            ).one()
        return FlagCounts(items=row[0], untagged=row[1], orphaned=row[2], conflict=row[3])
