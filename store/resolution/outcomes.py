"""Every outcome of a set of trees, worked out in the database: inheritance, counted effort, moves.

Used by the full pass (every live item) and by the changed trees (the items of ``rm_scope``). Each
item becomes a node (:func:`nodes`): its live parent, its own and container tag sets (``rm_sig``,
``rm_special``, filled by :mod:`.signatures`), and its own effort per measure. Then one statement:

- own tags flow down the trees until a descendant has own tags of its own (:func:`_inherited`);
- what each counted node carries flows up to every ancestor (:func:`_carried`): an item counts its
  own effort only when no descendant at any depth does, per measure; canceled items count nothing
  and hide none of their ancestors' effort;
- each node's outcome (:func:`_fresh`) is compared with its stored resolution, and the items that
  differ go to ``rm_changed`` with the stored columns beside the new (:func:`_into_changed`); a
  store holding no resolution yet gets every outcome written straight into ``resolutions``
  (:func:`_into_resolutions`).

Known difference from the Python resolver (the oracle in tests): on a parent *cycle*, which
trackers never produce for long, items of the cycle without own tags take their container rules,
and effort carried inside the cycle hides every member's own.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    Connection,
    Date,
    Float,
    FromClause,
    Insert,
    Select,
    and_,
    bindparam,
    case,
    cast,
    func,
    insert,
    null,
    or_,
    select,
)
from sqlalchemy.schema import CreateIndex

from v2mom.clock import utcnow
from v2mom.models import State
from v2mom.store import schema as t
from v2mom.store.resolution import tables as rm
from v2mom.store.resolution.teams import Teams, team_join, yields_for
from v2mom.store.types import UTCDateTime

CANCELED = State.CANCELED.value


def completed_on(completed_at: ColumnElement[Any], dialect: str) -> ColumnElement[Any]:
    """The UTC day an item was completed on, as each database stores a date."""
    if dialect == "postgresql":
        return cast(func.timezone("UTC", completed_at), Date)
    return func.substr(completed_at, 1, 10)  # SQLite keeps UTC datetimes as ISO text


def nodes(dialect: str, *, scoped: bool, teams: Teams = None) -> Select[Any]:
    """Each live item (of ``rm_scope`` when ``scoped``) as a node, in ``rm_node``'s columns;
    ``teams``: whether ``rm_team`` is filled and whether it keys Jira components (None: no teams)."""
    c, p = t.items.alias("c"), t.items.alias("p")
    s, x = rm.sig, rm.special
    counts = c.c.state != CANCELED
    joined = c.join(s, s.c.sig == c.c.tag_sig)
    if scoped:
        joined = joined.join(rm.scope, rm.scope.c.pk == c.c.pk)
    joined = joined.outerjoin(x, x.c.pk == c.c.pk).outerjoin(
        p, and_(p.c.tracker == c.c.tracker, p.c.item_id == c.c.parent_id, ~p.c.deleted)
    )
    team: ColumnElement[Any] = null()
    if teams is not None:
        joined = joined.outerjoin(rm.team_map, team_join(c, p, components=teams.components))
        team = rm.team_map.c.team_id
    return (
        select(
            c.c.pk,
            p.c.pk.label("parent_pk"),
            and_(c.c.parent_id.is_not(None), p.c.pk.is_(None)).label("missing"),
            func.coalesce(x.c.own_ts, s.c.own_ts).label("own_ts"),
            s.c.cont_ts,
            s.c.unknown,
            c.c.tracker,
            c.c.state,
            completed_on(c.c.completed_at, dialect).label("completed_on"),
            cast(func.coalesce(c.c.points, 0), Float).label("points"),
            cast(func.coalesce(c.c.hours, 0), Float).label("hours"),
            case((counts, 1), else_=0).label("counts"),
            case((and_(counts, c.c.points > 0), 1), else_=0).label("cp"),
            case((and_(counts, c.c.hours > 0), 1), else_=0).label("ch"),
            team.label("team_id"),
        )
        .select_from(joined)
        .where(~c.c.deleted)
    )


def _inherited(n: FromClause) -> CTE:
    """(pk, ts): each node with own tags, and below it every descendant reached through nodes
    without own tags, with those tags (the nearest ancestor's own tags win)."""
    inh = select(n.c.pk, n.c.own_ts.label("ts")).where(n.c.own_ts != 0).cte("inh", recursive=True)
    step = select(n.c.pk, inh.c.ts).join_from(n, inh, n.c.parent_pk == inh.c.pk).where(n.c.own_ts == 0)
    return inh.union_all(step)


def _carried(n: FromClause) -> CTE:
    """(pk, bp, bh, bc): per node with a counted descendant, whether one carries points, hours, or
    counts at all. UNION keeps each (ancestor, flags) once, which also ends a cycle."""
    up = (
        select(n.c.parent_pk.label("pk"), n.c.cp, n.c.ch, n.c.counts.label("cc"))
        .where(n.c.parent_pk.is_not(None), n.c.counts == 1)
        .cte("up", recursive=True)
    )
    up = up.union(
        select(n.c.parent_pk, up.c.cp, up.c.ch, up.c.cc)
        .join_from(up, n, n.c.pk == up.c.pk)
        .where(n.c.parent_pk.is_not(None))
    )
    return (
        select(
            up.c.pk,
            func.max(up.c.cp).label("bp"),
            func.max(up.c.ch).label("bh"),
            func.max(up.c.cc).label("bc"),
        )
        .group_by(up.c.pk)
        .cte("below")
    )


def _fresh(n: FromClause) -> CTE:
    """Each node's new resolution, in rm_changed's new columns (with ``pk``)."""
    inh, below, f = _inherited(n), _carried(n), rm.tag_set

    def own_effort(value: ColumnElement[Any] | int, carried_below: ColumnElement[Any]) -> ColumnElement[Any]:
        return case((and_(n.c.counts == 1, func.coalesce(carried_below, 0) == 0), value), else_=0)

    return (
        select(
            n.c.pk,
            n.c.parent_pk,
            f.c.untagged,
            or_(n.c.missing, n.c.unknown, f.c.orphan).label("orphaned"),
            f.c.conflict,
            f.c.alloc_key,
            n.c.tracker,
            n.c.state,
            n.c.completed_on,
            own_effort(n.c.points, below.c.bp).label("points"),
            own_effort(n.c.hours, below.c.bh).label("hours"),
            cast(own_effort(1, below.c.bc), Float).label("count"),
            n.c.team_id,
        )
        .select_from(
            n.outerjoin(inh, inh.c.pk == n.c.pk)
            .join(f, and_(f.c.ts == func.coalesce(inh.c.ts, n.c.cont_ts), yields_for(f, n.c.team_id)))
            .outerjoin(below, below.c.pk == n.c.pk)
        )
        .cte("fresh")
    )


def _into_changed(n: FromClause) -> Insert:
    """Into ``rm_changed``: the nodes whose outcome differs from their stored resolution (or that
    have none), with the stored rollup columns beside the new."""
    x, r = _fresh(n), t.resolutions
    differs = or_(
        r.c.item_pk.is_(None),
        r.c.alloc_key != x.c.alloc_key,
        r.c.orphaned != x.c.orphaned,
        r.c.points != x.c.points,
        r.c.hours != x.c.hours,
        r.c["count"] != x.c["count"],
        r.c.tracker != x.c.tracker,
        r.c.state != x.c.state,
        r.c.completed_on.is_distinct_from(x.c.completed_on),
        r.c.parent_pk.is_distinct_from(x.c.parent_pk),
        r.c.team_id.is_distinct_from(x.c.team_id),
    )
    found = (
        select(
            x.c.pk,
            *rm.changed_row(r, r.c.item_pk.is_not(None), {name: x.c[name] for name in rm.NEW_COLUMNS}),
        )
        .select_from(x.outerjoin(r, r.c.item_pk == x.c.pk))
        .where(differs)
    )
    return insert(rm.changed).from_select(rm.CHANGED_COLUMNS, found)


def _into_resolutions(n: FromClause) -> Insert:
    """Into ``resolutions``: every node's outcome (a store holding no resolution yet)."""
    x = _fresh(n)
    now = bindparam("now", utcnow(), type_=UTCDateTime())
    outcomes = select(x.c.pk, *(x.c[name] for name in rm.NEW_COLUMNS), now)
    into = insert(t.resolutions).from_select(["item_pk", *rm.NEW_COLUMNS, "resolved_at"], outcomes)
    return into.execution_options(preserve_rowcount=True)  # read after its cursor is closed


def find_changes(conn: Connection, *, scoped: bool, first: bool = False, teams: Teams = None) -> int:
    """Fill ``rm_changed`` with the items (of ``rm_scope`` when ``scoped``) whose resolution is
    missing or would move; with ``first`` (the store holds no resolution), write every outcome
    straight into ``resolutions`` and return how many (otherwise 0).

    On PostgreSQL the nodes are a materialized CTE of the same statement (hash joins need no index);
    SQLite joins by nested loops, so there they go to ``rm_node``, indexed by parent, first.
    """
    dialect = conn.dialect.name
    tail = _into_resolutions if first else _into_changed
    if dialect == "postgresql":
        node: FromClause = (
            nodes(dialect, scoped=scoped, teams=teams).cte("rm_node").prefix_with("MATERIALIZED")
        )
        # Over every item one hash join beats per-row probes; a scope is small: probe the indexes.
        with rm.planner(conn, enable_nestloop=scoped):
            written = conn.execute(tail(node))
    else:
        conn.execute(
            insert(rm.node).from_select(
                [c.name for c in rm.node.c], nodes(dialect, scoped=scoped, teams=teams)
            )
        )
        conn.execute(CreateIndex(rm.node_parent))
        written = conn.execute(tail(rm.node))
    rm.analyze(conn, rm.changed)
    if not first:
        return 0
    # sqlite3 reports no rowcount for a statement that starts with WITH; the table was empty.
    return int(written.rowcount) if written.rowcount >= 0 else rm.count(conn, t.resolutions)
