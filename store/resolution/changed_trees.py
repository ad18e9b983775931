"""Strategy: re-resolve only the trees that changed items touch (a sync batch, webhooks, a tag).

Tags flow down a tree and effort up it, so a tree is the unit: the scope is every live item of
each tree holding a changed id, and of the tree it left when it moved or was deleted (its stored
resolution names the parent it was resolved under). :func:`fill_scope` finds it by two recursive
walks — up to the top-most live ancestors, then down to every live descendant; a deleted item's
children are roots of trees of their own — before the strategy is chosen, since its size decides
between this and the full pass.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, CompoundSelect, Connection, and_, cast, insert, null, select, union

from v2mom.mapping.plan import Plan
from v2mom.mapping.resolver import Resolver
from v2mom.store import schema as t
from v2mom.store.resolution import tables as rm
from v2mom.store.resolution.outcomes import find_changes
from v2mom.store.resolution.rewrite import move_rollup_by_items
from v2mom.store.resolution.signatures import fill_signatures, load_signatures
from v2mom.store.resolution.teams import fill_team_map


def seed_changes(conn: Connection, changes: Mapping[str, Set[str]]) -> None:
    """Fill ``rm_seed`` with ``changes`` (tracker -> changed or deleted ids)."""
    rows = [{"tracker": tracker, "item_id": item_id} for tracker, ids in changes.items() for item_id in ids]
    rm.insert_rows(conn, rm.seed, rows)


def _trees() -> CompoundSelect[Any]:
    """The pks of the live items of every tree touching an item of ``rm_seed``."""
    i, r, s = t.items, t.resolutions, rm.seed
    seeds = (
        select(i.c.pk, i.c.tracker, i.c.item_id, i.c.parent_id, i.c.deleted)
        .join(s, and_(s.c.tracker == i.c.tracker, s.c.item_id == i.c.item_id))
        .cte("seed")
    )
    old = t.items.alias("o")  # the live parent each seed was last resolved under
    origins = union(
        select(seeds.c.pk, seeds.c.tracker, seeds.c.item_id, seeds.c.parent_id),
        select(old.c.pk, old.c.tracker, old.c.item_id, old.c.parent_id)
        .select_from(seeds)
        .join(r, r.c.item_pk == seeds.c.pk)
        .join(old, and_(old.c.pk == r.c.parent_pk, ~old.c.deleted)),
    ).cte("origins")
    up = select(origins).cte("up", recursive=True)
    p = t.items.alias("p")
    up = up.union(
        select(p.c.pk, p.c.tracker, p.c.item_id, p.c.parent_id).join_from(
            up, p, and_(p.c.tracker == up.c.tracker, p.c.item_id == up.c.parent_id, ~p.c.deleted)
        )
    )
    tops = union(
        select(up.c.tracker, up.c.item_id), select(seeds.c.tracker, seeds.c.item_id).where(seeds.c.deleted)
    ).cte("starts")
    down = select(cast(null(), BigInteger).label("pk"), tops.c.tracker, tops.c.item_id).cte(
        "down", recursive=True
    )
    c = t.items.alias("c")
    down = down.union(
        select(c.c.pk, c.c.tracker, c.c.item_id).join_from(
            down, c, and_(c.c.tracker == down.c.tracker, c.c.parent_id == down.c.item_id, ~c.c.deleted)
        )
    )
    return union(
        select(i.c.pk)
        .join(tops, and_(tops.c.tracker == i.c.tracker, tops.c.item_id == i.c.item_id))
        .where(~i.c.deleted),
        select(down.c.pk).where(down.c.pk.is_not(None)),
    )


def fill_scope(conn: Connection, changes: Mapping[str, Set[str]]) -> int:
    """Fill ``rm_seed`` with ``changes`` and ``rm_scope`` with the live items of every tree they
    touch; returns the scope's size."""
    seed_changes(conn, changes)
    rm.analyze(conn, rm.seed)
    conn.execute(insert(rm.scope).from_select(["pk"], _trees()))
    rm.analyze(conn, rm.scope)
    return rm.count(conn, rm.scope)


def fill_gone(conn: Connection, *, seeded: bool) -> None:
    """Fill ``rm_gone`` with the resolutions of deleted items (of ``rm_seed`` when ``seeded``)."""
    i, r = t.items, t.resolutions
    query = select(r.c.item_pk).join(i, i.c.pk == r.c.item_pk).where(i.c.deleted)
    if seeded:
        query = query.join(rm.seed, and_(rm.seed.c.tracker == i.c.tracker, rm.seed.c.item_id == i.c.item_id))
    conn.execute(insert(rm.gone).from_select(["pk"], query))
    rm.analyze(conn, rm.gone)


@dataclass(frozen=True)
class ChangedTrees:
    """Re-resolve the items of ``rm_scope`` (filled by :func:`fill_scope`)."""

    scoped = True  # stats count the scope; allocation sets other trees name are left alone

    def find(self, conn: Connection, plan: Plan) -> int | None:
        """Fill ``rm_gone`` with the changed ids now deleted and ``rm_changed`` with the scope's
        moves; writes nothing itself (None)."""
        fill_gone(conn, seeded=True)
        fill_signatures(conn, scoped=True)
        resolver = Resolver(plan)
        load_signatures(conn, resolver, scoped=True)
        find_changes(conn, scoped=True, teams=fill_team_map(conn, resolver, scoped=True))
        return None

    def move_rollup(self, conn: Connection) -> None:
        """Move the rollup by each changed and gone item."""
        move_rollup_by_items(conn)
