"""Strategy: after a plan change, re-resolve only the items whose tags the change can move.

A plan change moves no item, no parent and no effort: only which tags each item ends up with and
what they yield. :func:`.signatures.seed_plan_change` has put in ``rm_dirty`` the signatures the two
plans read differently, and in ``rm_seed`` the items a keyed or project rule of either plan names
that read differently themselves. From them, set-based:

1. the *starts* (:func:`fill_starts`): the live items of a dirty signature or named, each marked
   ``descend`` when what it hands down to its descendants changed (its own tags, or what they
   yield), not only what it reads for itself (unknown names, its container's tags);
2. each start's effective tags (:func:`_effective_at_starts`): its own, else those of its nearest
   ancestor with own tags (at most :data:`MAX_DEPTH` steps up, so a parent cycle ends), else none:
   only the starts without own tags walk, and of those that can move only by their container's
   tags, only the ones whose stored set leaves open whether they inherit (:func:`_of_dirty`);
3. below each start that descends, the descendants without own tags of their own, which inherit
   the start's effective tags (:func:`_visited`); a descendant with own tags keeps reading them, so
   it and its subtree cannot move unless they are starts themselves;
4. each visited item's outcome is that tag set's, else its container's; its effort, parent and
   facts are its stored resolution's. Those whose allocation set or orphan flag differ go to
   ``rm_changed`` (:func:`_into_changed`).

The work grows with the items the change reads differently, not with the store; the strategy
trusts the stored resolutions to be this engine's under the old plan (a plan change is applied
holding the resolutions, see :func:`.run.held_plan`), their teams included: a change of which team
holds which work takes the full pass (:func:`.strategy.choose_strategy`).
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
    func,
    insert,
    literal,
    or_,
    select,
    true,
    union_all,
    update,
)

from v2mom.mapping.plan import Plan
from v2mom.mapping.resolver import Resolver
from v2mom.store import schema as t
from v2mom.store.resolution import tables as rm
from v2mom.store.resolution.rewrite import move_rollup_by_items
from v2mom.store.resolution.signatures import SignatureItems, load_signatures
from v2mom.store.resolution.teams import yields_for

MAX_DEPTH = 64


def own_tags(item: FromClause) -> ColumnElement[int]:
    """An item's own tag set under the new plan: the one a rule naming it gives, else its
    signature's. Lookups by primary key, so that no planner joins a recursive step to a whole table."""
    named = select(rm.special.c.own_ts).where(rm.special.c.pk == item.c.pk).scalar_subquery()
    signature = select(rm.sig.c.own_ts).where(rm.sig.c.sig == item.c.tag_sig).scalar_subquery()
    return func.coalesce(named, signature)


def _parent_of(child: FromClause, parent: FromClause) -> ColumnElement[bool]:
    """``parent`` is the item ``child`` names as its parent (``child`` read by its tracker and
    parent id, ``parent`` by its tracker and item id)."""
    return and_(parent.c.tracker == child.c.tracker, parent.c.item_id == child.c.parent_id)


def _start_columns(item: FromClause, descend: ColumnElement[bool], walks: ColumnElement[bool]) -> Select[Any]:
    """``item`` as a row of ``rm_start``."""
    i = item.c
    return select(i.pk, descend, own_tags(item), walks, i.tracker, i.item_id, i.parent_id, i.tag_sig)


def _of_dirty() -> Select[Any]:
    """The live items of a dirty signature that can move, as starts.

    An item that can move only by its container's tags (``rm_dirty.container_key``) reads them
    only when it inherits no tags; its stored set tells which: a set no inherited tag set gave
    under the old plan (``rm_inheritable``) means none, so it need not walk up; a set other than
    its container's means some, so it cannot move and is no start. Only when the stored set is
    both does it walk."""
    i, d, r = t.items, rm.dirty, t.resolutions
    by_container = d.c.container_key.is_not(None)
    may_inherit = r.c.alloc_key.in_(select(rm.inheritable.c.alloc_key))
    walks = and_(own_tags(i) == 0, or_(~by_container, may_inherit))
    can_move = or_(
        ~by_container, and_(r.c.item_pk.is_not(None), or_(~may_inherit, r.c.alloc_key == d.c.container_key))
    )
    return (
        _start_columns(i, d.c.descend, walks)
        .join_from(i, d, d.c.sig == i.c.tag_sig)
        .outerjoin(r, r.c.item_pk == i.c.pk)
        .where(~i.c.deleted, can_move)
    )


def fill_starts(conn: Connection) -> None:
    """Fill ``rm_start``: the live items of a dirty signature that can move (:func:`_of_dirty`),
    then the named items (``rm_seed``), which descend."""
    i, s, st = t.items, rm.seed, rm.start
    columns = [c.name for c in st.c]
    rm.analyze(conn, rm.dirty, rm.seed, rm.inheritable)
    conn.execute(insert(st).from_select(columns, _of_dirty()))
    # Each named item found from its seed row (a handful), never by scanning the items.
    named = (
        select(i.c.pk)
        .where(i.c.tracker == s.c.tracker, i.c.item_id == s.c.item_id, ~i.c.deleted)
        .scalar_subquery()
    )
    named_pks = select(named.label("pk")).select_from(s).subquery()
    fresh = (
        _start_columns(i, true(), own_tags(i) == 0)
        .join_from(named_pks, i, i.c.pk == named_pks.c.pk)
        .where(~select(st.c.pk).where(st.c.pk == i.c.pk).exists())
    )
    named_start = st.c.pk.in_(select(named_pks.c.pk))
    conn.execute(update(st).where(named_start).values(descend=True, walks=st.c.own_ts == 0))
    conn.execute(insert(st).from_select(columns, fresh))
    rm.analyze(conn, rm.start)


def _effective_at_starts() -> CTE:
    """(pk, ts): each start's effective own tag set, 0 for none (it then reads its container's).
    Only the starts that walk (no own tags, and may inherit some) go up, to their nearest ancestor
    with own tags; the others have their own tags, or none."""
    st, p = rm.start, t.items.alias("p")
    walk = (
        select(
            st.c.pk, st.c.tracker, st.c.parent_id, st.c.own_ts.label("ts"), literal(0, Integer).label("depth")
        )
        .where(st.c.walks)
        .cte("walk", recursive=True)
    )
    walk = walk.union_all(
        select(walk.c.pk, p.c.tracker, p.c.parent_id, own_tags(p), walk.c.depth + 1)
        .join_from(walk, p, and_(_parent_of(walk, p), ~p.c.deleted))
        .where(walk.c.ts == 0, walk.c.depth < MAX_DEPTH)
    )
    # Only a walk's last step can have tags: the largest ts is the nearest own tags, or 0.
    walked = select(walk.c.pk, func.max(walk.c.ts).label("ts")).group_by(walk.c.pk)
    return union_all(select(st.c.pk, st.c.own_ts.label("ts")).where(~st.c.walks), walked).cte("effective")


def _visited() -> Select[Any]:
    """(pk, parent_id, tag_sig, ts): the starts with their effective tags, and the descendants
    inheriting them."""
    st, c = rm.start, t.items.alias("c")
    effective = _effective_at_starts()
    visit = (
        select(
            st.c.pk, st.c.tracker, st.c.item_id, st.c.parent_id, st.c.tag_sig, effective.c.ts, st.c.descend
        )
        .join_from(st, effective, effective.c.pk == st.c.pk)
        .cte("visit", recursive=True)
    )
    # UNION: a start reached again as a descendant carries the same tags; it also ends a cycle.
    visit = visit.union(
        select(c.c.pk, c.c.tracker, c.c.item_id, c.c.parent_id, c.c.tag_sig, visit.c.ts, true())
        .join_from(visit, c, and_(_parent_of(c, visit), ~c.c.deleted))
        .where(visit.c.descend, own_tags(c) == 0)
    )
    v = visit.c
    return select(
        v.pk,
        func.max(v.parent_id).label("parent_id"),
        func.max(v.tag_sig).label("tag_sig"),
        func.max(v.ts).label("ts"),
    ).group_by(v.pk)


def _into_changed() -> Insert:
    """Into ``rm_changed``: the visited items whose allocation set or orphan flag moves, with their
    stored resolution for everything else (and as the old columns)."""
    visited = _visited().subquery("visited")
    s, r, f = rm.sig, t.resolutions, rm.tag_set
    orphaned = or_(and_(visited.c.parent_id.is_not(None), r.c.parent_pk.is_(None)), s.c.unknown, f.c.orphan)
    effective = case((visited.c.ts != 0, visited.c.ts), else_=s.c.cont_ts)
    new = {
        "parent_pk": r.c.parent_pk,
        "untagged": f.c.untagged,
        "orphaned": orphaned,
        "conflict": f.c.conflict,
        "alloc_key": f.c.alloc_key,
    }
    found = (
        select(visited.c.pk, *rm.changed_row(r, true(), new))
        .select_from(visited)
        .join(s, s.c.sig == visited.c.tag_sig)
        .join(r, r.c.item_pk == visited.c.pk)
        .join(f, and_(f.c.ts == effective, yields_for(f, r.c.team_id)))
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

    def move_rollup(self, conn: Connection) -> None:
        """Move the rollup by each changed and gone item."""
        move_rollup_by_items(conn)
