"""Set-based re-resolution after a plan change: a million items in a few SQL statements.

A plan change (rules, values, methods, weights) changes no item and no counted effort, only which
tags each item ends up with and how its effort is split. So this path:

1. resolves each distinct *tag signature* once in Python (``mapping.signature``: everything a plan
   reads off an item except its key), plus the few items a ``key``/``epic`` rule or a project rule
   names, into a small table of tag sets; the allocation sets they yield are stored (content-
   addressed, see ``v2mom.rollup``);
2. lets the database do the per-item work in one transaction: find each item's stored parent,
   carry own tags down the trees with a recursive CTE (the nearest ancestor with own tags wins;
   items without one take their container rules), attach each item's tag set and flags;
3. compares every item's new allocation fingerprint and orphaned flag with the stored one and
   rewrites only the items that moved: one UPDATE of their resolution rows (flags and set key)
   between two rollup deltas.

It gives exactly what :func:`sync.remap.remap` (the Python resolver, the oracle) gives; a test
proves it on random forests and plans on SQLite and PostgreSQL. It relies on every live item
having a current resolution (the sync and webhook paths keep it so); when one does not, it falls
back to the full Python re-resolution.

Known difference: on a parent *cycle* (which trackers never produce for long) the oracle breaks
the cycle at an arbitrary item; here items of a cycle without own tags take their container rules.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Connection,
    Select,
    bindparam,
    column,
    func,
    insert,
    literal,
    select,
    table,
    text,
    union_all,
)

from v2mom.clock import utcnow
from v2mom.mapping.plan import Plan
from v2mom.mapping.resolver import Resolver, Share, Tags, as_shares
from v2mom.mapping.signature import tag_signature
from v2mom.models import Level, WorkItem
from v2mom.store import schema as t
from v2mom.store.database import Database
from v2mom.store.items import item_from_row
from v2mom.store.remap import RESOLUTIONS_LOCK, RemapStats, remap_while_locked
from v2mom.store.rollup import SUM_COLUMNS, add_to_rollup, drop_empty_groups, store_allocation_sets
from v2mom.store.types import UTCDateTime

CHUNK = 5_000
TEMP_TABLES = ("rm_sig", "rm_special", "rm_ts", "rm_node", "rm_changed")


@dataclass
class _TagSets:
    """Distinct (values, methods) tag sets, numbered; 0 is the empty set."""

    ids: dict[tuple[tuple[str, ...], tuple[str, ...]], int]

    def id_of(self, tags: Tags) -> int:
        key = (tags.values, tags.methods)
        if key not in self.ids:
            self.ids[key] = len(self.ids)
        return self.ids[key]


@dataclass(frozen=True)
class PlanApplied:
    """The outcome of :func:`apply_plan`: the new plan version and the re-resolution's counts."""

    version: int
    stats: RemapStats


def apply_plan(store: Database, plan: Plan, *, actor: str) -> PlanApplied:
    """Store ``plan`` as a new version and re-resolve every item, in one transaction.

    Readers see the old plan with the old figures or the new plan with the new figures, never a
    mix. When stored resolutions are not current (see the module's docstring), the plan is saved
    and the full Python re-resolution runs after it instead.
    """
    with store.locks.hold(RESOLUTIONS_LOCK):  # one re-resolution at a time (store.remap)
        with store.unit_of_work() as uow:
            version = uow.plans.save(plan, actor=actor)
            current = _reresolve(uow.connection, store.dialect, plan)
        if not current:
            return PlanApplied(version, remap_while_locked(store, plan))
    return PlanApplied(version, _stats(store))


def remap_plan(store: Database, plan: Plan | None = None) -> RemapStats:
    """Re-resolve every live item against ``plan`` (default: the stored one), set-based."""
    plan = plan if plan is not None else (store.plans.current() or Plan())
    with store.locks.hold(RESOLUTIONS_LOCK):
        with store.unit_of_work() as uow:
            current = _reresolve(uow.connection, store.dialect, plan)
        if not current:
            return remap_while_locked(store, plan)
    return _stats(store)


def _reresolve(conn: Connection, dialect: str, plan: Plan) -> bool:
    """Re-resolve set-based inside the caller's transaction; False (nothing written) when not current."""
    if not prepared_changes(conn, plan):
        return False
    _rewrite_changes(conn, dialect)
    drop_temp_tables(conn)
    return True


def _fill_signatures(conn: Connection) -> None:
    """Give items stored before signatures existed (migration 0003) their tag signature."""
    after = 0
    while True:
        rows = conn.execute(
            select(t.items)
            .where(t.items.c.tag_sig.is_(None), t.items.c.pk > after)
            .order_by(t.items.c.pk)
            .limit(CHUNK)
        ).all()
        if not rows:
            return
        after = rows[-1].pk
        conn.execute(
            t.items.update().where(t.items.c.pk == bindparam("row_pk")).values(tag_sig=bindparam("sig")),
            [{"row_pk": row.pk, "sig": tag_signature(item_from_row(row))} for row in rows],
        )


def _items(conn: Connection, where: ColumnElement[bool]) -> Iterator[tuple[int, int, WorkItem]]:
    """(pk, tag_sig, WorkItem) of live items matching ``where``."""
    for row in conn.execute(select(t.items).where(~t.items.c.deleted, where)):
        yield row.pk, row.tag_sig, item_from_row(row)


def _prepare(conn: Connection, resolver: Resolver) -> None:
    """Resolve each tag signature and each key- or project-named item; load the temp tables."""
    i = t.items.c
    tag_sets = _TagSets({((), ()): 0})
    sig_rows: list[dict[str, object]] = []
    representatives = dict(
        conn.execute(select(i.tag_sig, func.min(i.pk)).where(~i.deleted).group_by(i.tag_sig)).all()
    )
    pks = list(representatives.values())
    for start in range(0, len(pks), CHUNK):
        for _pk, sig, item in _items(conn, i.pk.in_(pks[start : start + CHUNK])):
            own = resolver.signature_tags(item)
            container = resolver.container_tags(item)
            sig_rows.append(
                {
                    "sig": sig,
                    "own_ts": tag_sets.id_of(own),
                    "cont_ts": tag_sets.id_of(container),
                    "unknown": bool(own.unknown),
                }
            )

    special: dict[int, int] = {}
    specific_filters: list[ColumnElement[bool]] = []
    if resolver.has_keyed_rules:
        specific_filters.append(func.lower(i.key).in_(sorted(resolver.rule_keys)))
    if resolver.has_project_rules:
        specific_filters.append(i.level == int(Level.CONTAINER))
    for where in specific_filters:
        for pk, _sig, item in _items(conn, where):
            if resolver.specific_tags(item).found:
                special[pk] = tag_sets.id_of(resolver.own_tags(item))  # the signature's part and its own

    ts_rows: list[dict[str, object]] = []
    sets: dict[int, list[Share]] = {}
    for (values, methods), ts in tag_sets.ids.items():
        outcome = resolver.outcome(Tags(values, methods))
        ts_rows.append(
            {
                "ts": ts,
                "alloc_key": outcome.key,
                "untagged": outcome.untagged,
                "conflict": outcome.conflict is not None,
                "orphan": bool(outcome.method_orphans),
            }
        )
        sets[outcome.key] = as_shares(outcome.allocations)

    _create_temp_tables(conn)
    _insert(conn, "rm_sig", sig_rows)
    _insert(conn, "rm_special", [{"pk": pk, "own_ts": ts} for pk, ts in special.items()])
    _insert(conn, "rm_ts", ts_rows)
    store_allocation_sets(conn, conn.dialect.name, sets)
    _analyze(conn, "rm_sig", "rm_special", "rm_ts")


def _create_temp_tables(conn: Connection) -> None:
    drop_temp_tables(conn)
    if conn.dialect.name == "postgresql":
        # Million-row hash joins and sorts: give this transaction room so they stay in memory.
        conn.execute(text("SET LOCAL work_mem = '256MB'"))  # temp_buffers: see v2mom.store.engine
        # The recursive CTE's estimates are wild (billions of rows): JIT would compile for half a
        # second and the planner would pick per-row index probes where one hash join is cheaper.
        conn.execute(text("SET LOCAL jit = off"))
    for ddl in (
        "CREATE TEMPORARY TABLE rm_sig (sig BIGINT PRIMARY KEY, own_ts INTEGER NOT NULL,"
        " cont_ts INTEGER NOT NULL, unknown BOOLEAN NOT NULL)",
        "CREATE TEMPORARY TABLE rm_special (pk BIGINT PRIMARY KEY, own_ts INTEGER NOT NULL)",
        "CREATE TEMPORARY TABLE rm_ts (ts INTEGER PRIMARY KEY, alloc_key BIGINT NOT NULL,"
        " untagged BOOLEAN NOT NULL, conflict BOOLEAN NOT NULL, orphan BOOLEAN NOT NULL)",
        "CREATE TEMPORARY TABLE rm_node (pk BIGINT PRIMARY KEY, parent_pk BIGINT,"
        " missing BOOLEAN NOT NULL, own_ts INTEGER NOT NULL, cont_ts INTEGER NOT NULL,"
        " unknown BOOLEAN NOT NULL)",
        "CREATE TEMPORARY TABLE rm_changed (pk BIGINT PRIMARY KEY, ts INTEGER NOT NULL,"
        " untagged BOOLEAN NOT NULL, orphaned BOOLEAN NOT NULL, conflict BOOLEAN NOT NULL,"
        " alloc_key BIGINT NOT NULL, unresolved BOOLEAN NOT NULL,"
        # What the rollup counts the item under now: the move takes it away without re-reading it.
        " old_orphaned BOOLEAN, old_key BIGINT, tracker VARCHAR(16), state VARCHAR(16), completed_on DATE,"
        ' points FLOAT, hours FLOAT, "count" FLOAT)',
    ):
        conn.execute(text(ddl))


def drop_temp_tables(conn: Connection) -> None:
    """Drop the temp tables of a set-based re-resolution (also before creating them afresh)."""
    for name in TEMP_TABLES:
        conn.execute(text(f"DROP TABLE IF EXISTS {name}"))


def _insert(conn: Connection, name: str, rows: list[dict[str, object]]) -> None:
    if rows:
        conn.execute(insert(table(name, *(column(c) for c in rows[0]))), rows)


def prepared_changes(conn: Connection, plan: Plan) -> bool:
    """Leave in the temp table ``rm_changed`` (and its helpers) what ``plan`` would move; write nothing.

    False, with the temp tables dropped, when stored resolutions are not current: some live item
    has no resolution row, or some resolution belongs to a deleted item (then there are more rows
    than live items). For a preview, the caller runs it in a transaction it rolls back.
    """
    i = t.items.c
    live = conn.execute(select(func.count()).select_from(t.items).where(~i.deleted)).scalar_one()
    resolved = conn.execute(select(func.count()).select_from(t.resolutions)).scalar_one()
    if live != resolved:
        return False
    _fill_signatures(conn)
    _prepare(conn, Resolver(plan))
    _find_changes(conn)
    if conn.execute(text("SELECT 1 FROM rm_changed WHERE unresolved")).first() is not None:
        drop_temp_tables(conn)
        return False
    return True


NODES = (
    "SELECT c.pk AS pk, p.pk AS parent_pk, (c.parent_id IS NOT NULL AND p.pk IS NULL) AS missing,"
    " COALESCE(x.own_ts, s.own_ts) AS own_ts, s.cont_ts AS cont_ts, s.unknown AS unknown"
    " FROM items c JOIN rm_sig s ON s.sig = c.tag_sig"
    " LEFT JOIN rm_special x ON x.pk = c.pk"
    " LEFT JOIN items p ON p.tracker = c.tracker AND p.item_id = c.parent_id AND NOT p.deleted"
    " WHERE NOT c.deleted"
)
# Own tags flow down until a descendant has own tags of its own; then compare with what is stored.
INHERITED_AND_CHANGED = (
    " inh(pk, ts) AS ("
    "  SELECT pk, own_ts FROM rm_node WHERE own_ts <> 0"
    "  UNION ALL"
    "  SELECT n.pk, inh.ts FROM rm_node n JOIN inh ON n.parent_pk = inh.pk WHERE n.own_ts = 0"
    ") INSERT INTO rm_changed (pk, ts, untagged, orphaned, conflict, alloc_key, unresolved,"
    '  old_orphaned, old_key, tracker, state, completed_on, points, hours, "count")'
    " SELECT n.pk, f.ts, f.untagged, (n.missing OR n.unknown OR f.orphan), f.conflict, f.alloc_key,"
    "  r.item_pk IS NULL, r.orphaned, r.alloc_key,"
    '  r.tracker, r.state, r.completed_on, r.points, r.hours, r."count"'
    " FROM rm_node n LEFT JOIN inh h ON h.pk = n.pk"
    " JOIN rm_ts f ON f.ts = COALESCE(h.ts, n.cont_ts)"
    " LEFT JOIN resolutions r ON r.item_pk = n.pk"
    " WHERE r.item_pk IS NULL OR r.alloc_key <> f.alloc_key"
    "  OR r.orphaned <> (n.missing OR n.unknown OR f.orphan)"
)


def _find_changes(conn: Connection) -> None:
    """Fill ``rm_changed`` with the items whose allocations or orphaned flag the plan moves.

    Each live item's node (stored parent, own and container tag sets) feeds a recursive CTE. On
    PostgreSQL the nodes are a materialized CTE of the same statement (hash joins need no index);
    SQLite joins by nested loops, so there they go to a temp table indexed by parent first.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SET LOCAL enable_nestloop = off"))
        conn.execute(text(f"WITH RECURSIVE rm_node AS MATERIALIZED ({NODES}),{INHERITED_AND_CHANGED}"))
        conn.execute(text("SET LOCAL enable_nestloop = on"))
    else:
        conn.execute(text(f"INSERT INTO rm_node (pk, parent_pk, missing, own_ts, cont_ts, unknown) {NODES}"))
        conn.execute(text("CREATE INDEX rm_node_parent ON rm_node (parent_pk)"))
        conn.execute(text(f"WITH RECURSIVE{INHERITED_AND_CHANGED}"))
    _analyze(conn, "rm_changed")


def _analyze(conn: Connection, *names: str) -> None:
    """PostgreSQL never analyzes temp tables by itself; without statistics it plans joins blind."""
    if conn.dialect.name == "postgresql":
        for name in names:
            conn.execute(text(f"ANALYZE {name}"))


def _rewrite_changes(conn: Connection, dialect: str) -> None:
    """Point the resolutions of the items in ``rm_changed`` at their new sets; move their rollup share."""
    add_to_rollup(conn, dialect, _moves())
    conn.execute(
        text(
            "UPDATE resolutions SET untagged = c.untagged, orphaned = c.orphaned, conflict = c.conflict,"
            " alloc_key = c.alloc_key, resolved_at = :now FROM rm_changed c WHERE resolutions.item_pk = c.pk"
        ).bindparams(bindparam("now", utcnow(), type_=UTCDateTime()))
    )
    drop_empty_groups(conn)


def _moves() -> CompoundSelect[Any]:
    """Each changed item twice, as a rollup source: its stored group taken away, its new one added.

    Reads only ``rm_changed``, which kept each item's stored rollup columns when it was found.
    """
    names = ("orphaned", "alloc_key", "old_orphaned", "old_key", "tracker", "state", "completed_on")
    c = table("rm_changed", *(column(name) for name in (*names, *SUM_COLUMNS))).c

    def side(orphaned: Any, alloc_key: Any, sign: int) -> Select[Any]:
        return select(
            c.tracker,
            c.state,
            c.completed_on,
            orphaned.label("orphaned"),
            alloc_key.label("alloc_key"),
            *(c[name] for name in SUM_COLUMNS),
            literal(sign).label("sign"),
        )

    return union_all(side(c.old_orphaned, c.old_key, -1), side(c.orphaned, c.alloc_key, 1))


def _stats(store: Database) -> RemapStats:
    counts = store.resolutions.flag_counts()
    return RemapStats(
        items=counts.items, untagged=counts.untagged, orphaned=counts.orphaned, conflict=counts.conflict
    )
