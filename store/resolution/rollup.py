"""The report's pre-summed facts: allocation sets and the effort rollup.

An item's resolution names an *allocation set*: how its counted effort splits across (value,
method) pairs, with weights. Sets are content-addressed by their fingerprint
(:func:`mapping.resolver.shares_key`) and written once. ``effort_rollup`` sums resolutions per
(tracker, state, completion day, orphaned, set), maintained by deltas in the transaction that
writes resolutions; :func:`shares` joins it to the sets into what reports group by. So a plan
change that moves an item writes one column of its resolution and one small delta here, and a
report reads a few thousand rows however many items there are. Canceled items count nothing and
stay out of the rollup.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Connection,
    Select,
    String,
    Subquery,
    cast,
    delete,
    func,
    insert,
    literal,
    select,
    union_all,
)

from v2mom.mapping.resolver import Share
from v2mom.models import State
from v2mom.store import schema as t
from v2mom.store.engine import upsert_insert

GROUP_COLUMNS = ("tracker", "state", "completed_on", "orphaned", "alloc_key", "team_id")
SUM_COLUMNS = ("points", "hours", "count")
ROLLUP_COLUMNS = ["group_key", *GROUP_COLUMNS, "items", *SUM_COLUMNS]


def allocation_shares(allocations: Iterable[Share]) -> list[dict[str, Any]]:
    """An item's (value, method, weight) shares as allocation-set columns, with the counters' flags.

    ``first_of_item`` marks the set's first row and ``first_of_value`` its first row per value, so
    reports count items, and items per value, without counting an item twice.
    """
    shares: list[dict[str, Any]] = []
    seen_values: set[str | None] = set()
    for index, (value_id, method_id, weight) in enumerate(allocations):
        shares.append(
            {
                "position": index,
                "value_id": value_id,
                "method_id": method_id,
                "weight": weight,
                "first_of_item": 1 if index == 0 else 0,
                "first_of_value": 0 if value_id in seen_values else 1,
            }
        )
        seen_values.add(value_id)
    return shares


def store_allocation_sets(conn: Connection, dialect: str, sets: Mapping[int, Sequence[Share]]) -> None:
    """Write the sets in ``sets`` (key → shares) that are not stored yet; the caller owns the transaction."""
    rows = [
        {"alloc_key": key, **share} for key, shares in sets.items() for share in allocation_shares(shares)
    ]
    if rows:
        stmt = upsert_insert(dialect, t.allocation_sets).on_conflict_do_nothing(
            index_elements=["alloc_key", "position"]
        )
        conn.execute(stmt, rows)


def read_allocation_set(conn: Connection, key: int) -> list[Share]:
    """The (value, method, weight) shares of one stored allocation set, in order."""
    s = t.allocation_sets.c
    rows = conn.execute(
        select(s.value_id, s.method_id, s.weight).where(s.alloc_key == key).order_by(s.position)
    )
    return [(v, m, w) for v, m, w in rows]


def unaligned_sets() -> Select[Any]:
    """The keys of the allocation sets with a share through a method to no value: the part of a
    team method's effort that reaches no value. Items resolved to such a set are ``unaligned``
    (an untagged item's one share names neither a value nor a method)."""
    s = t.allocation_sets.c
    return select(s.alloc_key).where(s.value_id.is_(None), s.method_id.is_not(None)).distinct()


def prune_allocation_sets(conn: Connection) -> None:
    """Drop the sets no resolution names any more (after a full re-resolution)."""
    s, r = t.allocation_sets.c, t.resolutions.c
    conn.execute(delete(t.allocation_sets).where(s.alloc_key.not_in(select(r.alloc_key).distinct())))


def _group_key(c: Any) -> ColumnElement[str]:
    """A rollup group's key: its columns joined by ``|``."""
    sep = literal("|")
    key: ColumnElement[str] = (
        c.tracker
        + sep
        + c.state
        + sep
        + func.coalesce(cast(c.completed_on, String), "")
        + sep
        + cast(c.orphaned, String)
        + sep
        + cast(c.alloc_key, String)
        + sep
        + func.coalesce(c.team_id, "")
    )
    return key


def _grouped(source: Subquery) -> Select[Any]:
    """``source`` (signed resolution-shaped rows, see :func:`add_to_rollup`) summed per rollup group."""
    c = source.c
    return (
        select(
            _group_key(c).label("group_key"),
            *(c[name] for name in GROUP_COLUMNS),
            func.sum(c.sign).label("items"),
            *(func.sum(c[name] * c.sign).label(name) for name in SUM_COLUMNS),
        )
        .where(c.state != State.CANCELED.value)
        .group_by(*(c[name] for name in GROUP_COLUMNS))
    )


def resolution_facts(*where: Any, sign: int = 1) -> Select[Any]:
    """The stored resolutions' rollup columns, optionally filtered, with ``sign``: a rollup source."""
    r = t.resolutions.c
    return select(
        *(r[name] for name in GROUP_COLUMNS),
        *(r[name] for name in SUM_COLUMNS),
        literal(sign).label("sign"),
    ).where(*where)


def add_to_rollup(conn: Connection, dialect: str, source: Select[Any] | CompoundSelect[Any]) -> None:
    """Add the signed, resolution-shaped rows of ``source`` to the rollup.

    ``source`` selects tracker, state, completed_on, orphaned, alloc_key, points, hours, count and
    ``sign``: 1 adds the row, -1 takes it away (see :func:`resolution_facts`). One INSERT … SELECT …
    ON CONFLICT statement; groups left empty are dropped by :func:`drop_empty_groups`.
    """
    _upsert(conn, dialect, _grouped(source.subquery()))


def add_sums_to_rollup(conn: Connection, dialect: str, *sources: Select[Any]) -> None:
    """Add rows already summed per group to the rollup: each source selects the group's columns,
    then ``items``, points, hours and count, negative to take them away. Rows of one group are
    added together (PostgreSQL updates a row once per statement)."""
    c = union_all(*sources).subquery().c
    summed = select(
        _group_key(c).label("group_key"),
        *(c[name] for name in GROUP_COLUMNS),
        *(func.sum(c[name]).label(name) for name in ("items", *SUM_COLUMNS)),
    ).group_by(*(c[name] for name in GROUP_COLUMNS))
    _upsert(conn, dialect, summed)


def _upsert(conn: Connection, dialect: str, groups: Select[Any]) -> None:
    """Add ``groups`` (rollup rows, one per group key) to the rollup: one INSERT … ON CONFLICT."""
    stmt = upsert_insert(dialect, t.effort_rollup).from_select(ROLLUP_COLUMNS, groups)
    rollup = t.effort_rollup.c
    stmt = stmt.on_conflict_do_update(
        index_elements=[rollup.group_key],
        set_={name: rollup[name] + stmt.excluded[name] for name in ("items", *SUM_COLUMNS)},
    )
    conn.execute(stmt)


def drop_empty_groups(conn: Connection) -> None:
    """Remove rollup groups whose items all moved away."""
    conn.execute(delete(t.effort_rollup).where(t.effort_rollup.c["items"] == 0))


def rebuild_rollup(conn: Connection) -> None:
    """Recompute the whole rollup from the resolutions: one GROUP BY."""
    conn.execute(delete(t.effort_rollup))
    conn.execute(insert(t.effort_rollup).from_select(ROLLUP_COLUMNS, _grouped(resolution_facts().subquery())))


def shares() -> Subquery:
    """Rollup groups split by their allocation sets: what the reports group and filter.

    Columns: tracker, state, completed_on, orphaned, team_id, value_id, method_id; ``points``, ``hours`` and
    ``count`` weighted by the share; ``items`` (once per item), ``value_items`` (once per item and
    value) and ``rows`` (once per item and share).
    """
    g, s = t.effort_rollup.c, t.allocation_sets.c
    return (
        select(
            g.tracker,
            g.state,
            g.completed_on,
            g.orphaned,
            g.team_id,
            s.value_id,
            s.method_id,
            (g["items"] * s.first_of_item).label("items"),
            (g["items"] * s.first_of_value).label("value_items"),
            g["items"].label("rows"),
            *((g[name] * s.weight).label(name) for name in SUM_COLUMNS),
        )
        .select_from(t.effort_rollup.join(t.allocation_sets, s.alloc_key == g.alloc_key))
        .subquery("shares")
    )
