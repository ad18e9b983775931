"""Resolutions: each item's flags, counted effort and allocation set, and the rollup beside them.

They are written by the resolution engine (``store.resolution``), which moves the rollup
(``v2mom.store.resolution.rollup``) in the same transaction, so a report never sees the two disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from v2mom.mapping.resolver import Share
from v2mom.store import schema as t
from v2mom.store.resolution.rollup import (
    read_allocation_set,
    rebuild_rollup,
    unaligned_sets,
)
from v2mom.store.transactions import Repository


@dataclass(frozen=True)
class FlagCounts:
    """How many resolutions there are, and how many carry each flag."""

    items: int
    untagged: int
    orphaned: int
    conflict: int
    unaligned: int


class ResolutionRepository(Repository):
    """The ``resolutions`` table, the allocation sets it names and the effort rollup."""

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
        """The stored flags and counted effort of one item (None before its first resolution).

        ``unaligned`` is read off the item's allocation set, which holds the share it names."""
        r = t.resolutions.c
        with self._tx.read() as conn:
            row = conn.execute(
                select(t.resolutions, r.alloc_key.in_(unaligned_sets()).label("unaligned")).where(
                    r.item_pk == item_pk
                )
            ).first()
        if row is None:
            return None
        return {
            "flags": [f for f in ("untagged", "orphaned", "conflict", "unaligned") if getattr(row, f)],
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
                    func.count().filter(r.alloc_key.in_(unaligned_sets())),
                )
            ).one()
        return FlagCounts(items=row[0], untagged=row[1], orphaned=row[2], conflict=row[3], unaligned=row[4])
