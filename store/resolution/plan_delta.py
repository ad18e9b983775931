"""Strategy: after a plan change, re-resolve only the items whose tags the change can move.

A plan change moves no item, no parent and no effort: only which tags each item ends up with and
what they yield. :func:`.signatures.seed_plan_change` has put in ``rm_dirty`` the signatures the two
plans read differently, and in ``rm_seed`` the items a keyed or project rule of either plan names
that read differently themselves. From them, set-based:

1. the *starts* (:func:`fill_starts`): the live items of a dirty signature or named, each marked
   ``descend`` when what it hands down to its descendants changed (its own tags, or what they
   yield), not only what it reads for itself (unknown names, its container's tags);
2. each start's effective tags (:func:`_effective_at_starts`): its own, else those of its nearest
   ancestor with own tags (at most :data:`MAX_DEPTH` steps up, so a parent cycle ends), else none;
3. below each start that descends, the descendants without own tags of their own, which inherit
   the start's effective tags (:func:`_visited`); a descendant with own tags keeps reading them, so
   it and its subtree cannot move unless they are starts themselves;
4. each visited item's outcome is that tag set's, else its container's; its effort, parent and
   facts are its stored resolution's. Those whose allocation set or orphan flag differ go to
   ``rm_changed`` (:func:`_into_changed`).

The work grows with the items the change reads differently, not with the store; the strategy
trusts the stored resolutions to be this engine's under the old plan (a plan change is applied
holding the resolutions, see :func:`.run.held_plan`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    Connection,
    FromClause,
    Insert,
    Integer,
    Select,
    and_,
    case,
    cast,
    func,
    insert,
    literal,
    or_,
    select,
    true,
    union_all,
)

from v2mom.mapping.plan import Plan
from v2mom.mapping.resolver import Resolver
from v2mom.store import schema as t
from v2mom.store.resolution import tables as rm
from v2mom.store.resolution.signatures import SignatureItems, load_signatures

MAX_DEPTH = 64


def own_tags(item: FromClause) -> ColumnElement[int]:
    """An item's own tag set under the new plan: the one a rule naming it gives, else its
    signature's. Lookups by primary key, so that no planner joins a recursive step to a whole table."""
    named = select(rm.special.c.own_ts).where(rm.special.c.pk == item.c.pk).scalar_subquery()
    signature = select(rm.sig.c.own_ts).where(rm.sig.c.sig == item.c.tag_sig).scalar_subquery()
    return func.coalesce(named, signature)


def _parent_of(child: FromClause, parent: FromClause) -> ColumnElement[bool]:
    """``parent`` is the live item ``child`` names as its parent (``child`` read by its tracker
    and parent id, ``parent`` by its tracker and item id)."""
    return and_(parent.c.tracker == child.c.tracker, parent.c.item_id == child.c.parent_id, ~parent.c.deleted)


def _starts() -> Select[Any]:
    """(pk, descend): the live items of a dirty signature, and the named items (which descend)."""
    i, d, s = t.items, rm.dirty, rm.seed
    found = union_all(
        select(i.c.pk, cast(d.c.descend, Integer).label("descend"))
        .join(d, d.c.sig == i.c.tag_sig)
        .where(~i.c.deleted),
        select(i.c.pk, literal(1, Integer).label("descend"))
        .join(s, and_(s.c.tracker == i.c.tracker, s.c.item_id == i.c.item_id))
        .where(~i.c.deleted),
    ).subquery()
    return select(found.c.pk, func.max(found.c.descend) == 1).group_by(found.c.pk)


def fill_starts(conn: Connection) -> None:
    """Fill ``rm_start`` (:func:`_starts`)."""
    rm.analyze(conn, rm.dirty, rm.seed)
    conn.execute(insert(rm.start).from_select(["pk", "descend"], _starts()))
    rm.analyze(conn, rm.start)


def _effective_at_starts() -> CTE:
    """(pk, ts): each start's effective own tag set, 0 for none (it then reads its container's)."""
    i, p = t.items, t.items.alias("p")
    walk = (
        select(
            i.c.pk,
            i.c.tracker,
            i.c.parent_id,
            own_tags(i).label("ts"),
            literal(0, Integer).label("depth"),
        )
        .join_from(rm.start, i, i.c.pk == rm.start.c.pk)
        .cte("walk", recursive=True)
    )
    walk = walk.union_all(
        select(walk.c.pk, p.c.tracker, p.c.parent_id, own_tags(p), walk.c.depth + 1)
        .join_from(
            walk, p, and_(p.c.tracker == walk.c.tracker, p.c.item_id == walk.c.parent_id, ~p.c.deleted)
        )
        .where(walk.c.ts == 0, walk.c.depth < MAX_DEPTH)
    )
    # Only a walk's last step can have tags: the largest ts is the nearest own tags, or 0.
    return select(walk.c.pk, func.max(walk.c.ts).label("ts")).group_by(walk.c.pk).cte("effective")


def _visited() -> Select[Any]:
    """(pk, ts): the starts with their effective tags, and the descendants inheriting them."""
    i, c = t.items, t.items.alias("c")
    effective = _effective_at_starts()
    visit = (
        select(i.c.pk, i.c.tracker, i.c.item_id, effective.c.ts, rm.start.c.descend)
        .select_from(rm.start)
        .join(effective, effective.c.pk == rm.start.c.pk)
        .join(i, i.c.pk == rm.start.c.pk)
        .cte("visit", recursive=True)
    )
    # UNION: a start reached again as a descendant carries the same tags; it also ends a cycle.
    visit = visit.union(
        select(c.c.pk, c.c.tracker, c.c.item_id, visit.c.ts, true())
        .join_from(
            visit, c, and_(c.c.tracker == visit.c.tracker, c.c.parent_id == visit.c.item_id, ~c.c.deleted)
        )
        .where(visit.c.descend, own_tags(c) == 0)
    )
    return select(visit.c.pk, func.max(visit.c.ts).label("ts")).group_by(visit.c.pk)


def _into_changed() -> Insert:
    """Into ``rm_changed``: the visited items whose allocation set or orphan flag moves, with their
    stored resolution for everything else (and as the old columns)."""
    visited = _visited().subquery("visited")
    i, s, r, f = t.items, rm.sig, t.resolutions, rm.tag_set
    orphaned = or_(and_(i.c.parent_id.is_not(None), r.c.parent_pk.is_(None)), s.c.unknown, f.c.orphan)
    new = {
        "parent_pk": r.c.parent_pk,
        "untagged": f.c.untagged,
        "orphaned": orphaned,
        "conflict": f.c.conflict,
        "alloc_key": f.c.alloc_key,
    }
    found = (
        select(
            visited.c.pk,
            *(new[name] if name in new else r.c[name] for name in rm.NEW_COLUMNS),
            true(),
            *(r.c[name] for name in rm.OLD_COLUMNS),
        )
        .select_from(visited)
        .join(i, i.c.pk == visited.c.pk)
        .join(s, s.c.sig == i.c.tag_sig)
        .join(r, r.c.item_pk == visited.c.pk)
        .join(f, f.c.ts == case((visited.c.ts != 0, visited.c.ts), else_=s.c.cont_ts))
        .where(or_(r.c.alloc_key != f.c.alloc_key, r.c.orphaned != orphaned))
    )
    return insert(rm.changed).from_select(rm.CHANGED_COLUMNS, found)


@dataclass(frozen=True)
class PlanDelta:
    """Re-resolve what a plan change can move (``rm_dirty`` and ``rm_seed`` are filled)."""

    read: SignatureItems  # the representatives and named items the seeding read
    scoped = False  # stats count every item; allocation sets nothing names any more are dropped

    def find(self, conn: Connection, plan: Plan) -> int | None:
        """Fill ``rm_changed`` with what the change moves; writes nothing itself (None)."""
        load_signatures(conn, Resolver(plan), scoped=False, read=self.read)
        fill_starts(conn)
        # PostgreSQL's estimates of recursive steps are off by orders of magnitude, and a hash of
        # every item per step (or a nested loop over the whole signature table) follows; every join
        # here has an index on its inner side, and the work grows with the items visited, not the
        # store. (A scan of rm_special, cheaper on paper than its index, would run once per item.)
        with rm.planner(conn, enable_hashjoin=False, enable_mergejoin=False, enable_seqscan=False):
            conn.execute(_into_changed())
        rm.analyze(conn, rm.changed)
        return None
