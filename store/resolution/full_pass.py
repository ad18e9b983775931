"""Strategy: re-resolve every live item (a full sync, a first plan, or a change touching most items).

One pass over every tree (:mod:`.outcomes`); the resolutions of deleted items leave. When the store
holds no resolution yet, every outcome is new: it is written straight into ``resolutions`` and the
rollup is built from them at once, instead of going through ``rm_changed`` and a signed delta.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from v2mom.mapping.plan import Plan
from v2mom.mapping.resolver import Resolver
from v2mom.store.resolution.changed_trees import fill_gone
from v2mom.store.resolution.outcomes import find_changes
from v2mom.store.resolution.rewrite import move_rollup_by_items
from v2mom.store.resolution.signatures import SignatureItems, fill_signatures, load_signatures
from v2mom.store.resolution.teams import fill_team_map


@dataclass(frozen=True)
class FullPass:
    """Every live item. ``first``: the store holds no resolution and the outcomes are written, so
    each goes straight into ``resolutions``. ``read``: the signature representatives and named
    items, when a plan change read them already."""

    first: bool = False
    read: SignatureItems | None = None
    scoped = False  # stats count every item; allocation sets nothing names any more are dropped

    def find(self, conn: Connection, plan: Plan) -> int | None:
        """Fill ``rm_gone`` and ``rm_changed`` (or, when ``first``, ``resolutions`` itself: then
        returns how many rows it wrote)."""
        fill_gone(conn, seeded=False)
        if self.read is None:  # a plan change filled them before reading its representatives
            fill_signatures(conn, scoped=False)
        resolver = Resolver(plan)
        load_signatures(conn, resolver, scoped=False, read=self.read)
        teams = fill_team_map(conn, resolver, scoped=False)
        written = find_changes(conn, scoped=False, first=self.first, teams=teams)
        return written if self.first else None

    def move_rollup(self, conn: Connection) -> None:
        """Move the rollup by each changed and gone item."""
        move_rollup_by_items(conn)
