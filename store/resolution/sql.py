"""The SQL half of the resolution engine (:mod:`store.remap`): temp tables, scope, trees, effort, moves.

Everything per item happens here, in the database, inside the caller's transaction:

- ``rm_scope``: the live items to re-resolve when only some changed — the whole trees touching the
  changed ids (tags flow down a tree and effort up it, so a tree is the unit), found by two
  recursive CTEs (up to the top-most live ancestors, then down to every live descendant; a deleted
  item's children are roots of trees of their own). Without a scope, every live item.
- ``rm_node``: each item's stored parent, its own and container tag sets (``rm_sig`` /
  ``rm_special``, filled by :mod:`store.remap_signatures`), and its own effort per measure.
- one statement then carries own tags down the trees (the nearest ancestor with own tags wins),
  marks every item below which some counted descendant carries effort, per measure (``counted
  effort``: an item counts its own effort only when no descendant at any depth does; canceled
  items count nothing and do not hide their ancestors' effort), and keeps in ``rm_changed`` the
  items whose outcome differs from their stored resolution, with the stored columns beside the new.
- ``rm_gone``: resolutions of deleted items, which leave.

A plan change that moves few items takes a shorter way to ``rm_changed`` (:func:`find_plan_changes`):
only tags can move, so it visits the items of dirty signatures and their inheriting descendants,
by index probes, and copies everything else from their stored resolutions.

:func:`rewrite_changes` then moves the rollup by one signed delta, updates the changed resolutions,
inserts the new ones and deletes the gone ones. A first resolution (none stored) writes straight
into ``resolutions`` instead.

Known difference from the Python resolver (the oracle in tests): on a parent *cycle*, which
trackers never produce for long, items of the cycle without own tags take their container rules,
and effort carried inside the cycle hides every member's own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    Connection,
    Select,
    TextClause,
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
from v2mom.models import State
from v2mom.store import schema as t
from v2mom.store.resolution.rollup import SUM_COLUMNS, add_to_rollup, drop_empty_groups, resolution_facts
from v2mom.store.types import UTCDateTime

TEMP_TABLES = (
    *("rm_dirty", "rm_seed", "rm_start", "rm_scope", "rm_gone"),
    *("rm_sig", "rm_special", "rm_ts", "rm_node", "rm_changed"),
)
CANCELED = State.CANCELED.value
NEW_COLUMNS = (
    "parent_pk",
    "untagged",
    "orphaned",
    "conflict",
    "alloc_key",
    "tracker",
    "state",
    "completed_on",
    "points",
    "hours",
    "count",
)
OLD_COLUMNS = ("orphaned", "alloc_key", "tracker", "state", "completed_on", "points", "hours", "count")
NEW_LIST = ", ".join('"count"' if c == "count" else c for c in NEW_COLUMNS)
# rm_changed's columns in order: the item, its new resolution, whether it had one, the stored one.
INTO_CHANGED = (" INSERT INTO rm_changed (pk, {new}, had, {old})".replace("{new}", NEW_LIST)).replace(
    "{old}", ", ".join(f"old_{c}" for c in OLD_COLUMNS)
)
# New resolutions, read from ``{source}`` (rows with rm_changed's new columns).
NEW_RESOLUTIONS = (
    "INSERT INTO resolutions (item_pk, {new}, resolved_at) SELECT pk, {new}, :now FROM {source}"
).replace("{new}", NEW_LIST)
COMPLETED_ON = {
    "postgresql": "CAST((c.completed_at AT TIME ZONE 'UTC') AS DATE)",
    "sqlite": "substr(c.completed_at, 1, 10)",
}
DISTINCT = {"postgresql": "IS DISTINCT FROM", "sqlite": "IS NOT"}


def create_temp_tables(conn: Connection) -> None:
    """Create the engine's temp tables afresh (dropping leftovers) and tune PostgreSQL for them."""
    drop_temp_tables(conn)
    if conn.dialect.name == "postgresql":
        # Million-row hash joins and sorts: give this transaction room so they stay in memory.
        conn.execute(text("SET LOCAL work_mem = '256MB'"))  # temp_buffers: see v2mom.store.engine
        # The recursive CTEs' estimates are wild (billions of rows): JIT would compile for half a
        # second and the planner would pick per-row index probes where one hash join is cheaper.
        conn.execute(text("SET LOCAL jit = off"))
    for ddl in (
        "CREATE TEMPORARY TABLE rm_dirty (sig BIGINT PRIMARY KEY)",
        "CREATE TEMPORARY TABLE rm_seed (tracker VARCHAR(16) NOT NULL, item_id VARCHAR(128) NOT NULL,"
        " PRIMARY KEY (tracker, item_id))",
        "CREATE TEMPORARY TABLE rm_start (pk BIGINT PRIMARY KEY)",
        "CREATE TEMPORARY TABLE rm_scope (pk BIGINT PRIMARY KEY)",
        "CREATE TEMPORARY TABLE rm_gone (pk BIGINT PRIMARY KEY)",
        "CREATE TEMPORARY TABLE rm_sig (sig BIGINT PRIMARY KEY, own_ts INTEGER NOT NULL,"
        " cont_ts INTEGER NOT NULL, unknown BOOLEAN NOT NULL)",
        "CREATE TEMPORARY TABLE rm_special (pk BIGINT PRIMARY KEY, own_ts INTEGER NOT NULL)",
        "CREATE TEMPORARY TABLE rm_ts (ts INTEGER PRIMARY KEY, alloc_key BIGINT NOT NULL,"
        " untagged BOOLEAN NOT NULL, conflict BOOLEAN NOT NULL, orphan BOOLEAN NOT NULL)",
        "CREATE TEMPORARY TABLE rm_node (pk BIGINT PRIMARY KEY, parent_pk BIGINT,"
        " missing BOOLEAN NOT NULL, own_ts INTEGER NOT NULL, cont_ts INTEGER NOT NULL,"
        " unknown BOOLEAN NOT NULL, tracker VARCHAR(16) NOT NULL, state VARCHAR(16) NOT NULL,"
        " completed_on DATE, points FLOAT NOT NULL, hours FLOAT NOT NULL, counts INTEGER NOT NULL,"
        " cp INTEGER NOT NULL, ch INTEGER NOT NULL)",
        "CREATE TEMPORARY TABLE rm_changed (pk BIGINT PRIMARY KEY, parent_pk BIGINT,"
        " untagged BOOLEAN NOT NULL, orphaned BOOLEAN NOT NULL, conflict BOOLEAN NOT NULL,"
        " alloc_key BIGINT NOT NULL, tracker VARCHAR(16) NOT NULL, state VARCHAR(16) NOT NULL,"
        " completed_on DATE,"
        ' points FLOAT NOT NULL, hours FLOAT NOT NULL, "count" FLOAT NOT NULL, had BOOLEAN NOT NULL,'
        # What the rollup counts the item under now: the move takes it away without re-reading it.
        " old_orphaned BOOLEAN, old_alloc_key BIGINT, old_tracker VARCHAR(16), old_state VARCHAR(16),"
        " old_completed_on DATE, old_points FLOAT, old_hours FLOAT, old_count FLOAT)",
    ):
        conn.execute(text(ddl))


def drop_temp_tables(conn: Connection) -> None:
    """Drop the engine's temp tables (also before creating them afresh)."""
    for name in TEMP_TABLES:
        conn.execute(text(f"DROP TABLE IF EXISTS {name}"))


def pks_in(name: str) -> Select[Any]:
    """``SELECT pk FROM <name>``: the pks a temp table of the engine holds (rm_scope, rm_gone)."""
    return select(column("pk")).select_from(table(name))


def insert_rows(conn: Connection, name: str, rows: list[dict[str, object]]) -> None:
    """Insert ``rows`` (dicts of one shape) into temp table ``name``."""
    if rows:
        conn.execute(insert(table(name, *(column(c) for c in rows[0]))), rows)


@contextmanager
def planner(conn: Connection, **enabled: bool) -> Iterator[None]:
    """On PostgreSQL, turn the planner's ``enable_*`` settings as given for the statements inside,
    then back on (their default) for the rest of the transaction; elsewhere nothing."""
    postgres = conn.dialect.name == "postgresql"
    for name, on in enabled.items() if postgres else ():
        conn.execute(text(f"SET LOCAL {name} = {'on' if on else 'off'}"))
    yield
    for name in enabled if postgres else ():
        conn.execute(text(f"SET LOCAL {name} = on"))


def analyze(conn: Connection, *names: str) -> None:
    """PostgreSQL never analyzes temp tables by itself; without statistics it plans joins blind."""
    if conn.dialect.name == "postgresql":
        for name in names:
            conn.execute(text(f"ANALYZE {name}"))


SCOPE = (
    "INSERT INTO rm_scope (pk)"
    " WITH RECURSIVE seed AS ("
    "  SELECT i.pk, i.tracker, i.item_id, i.parent_id, i.deleted FROM items i"
    "  JOIN rm_seed s ON s.tracker = i.tracker AND s.item_id = i.item_id"
    " ), up(pk, tracker, item_id, parent_id) AS ("
    "  SELECT pk, tracker, item_id, parent_id FROM seed"
    "  UNION"
    "  SELECT o.pk, o.tracker, o.item_id, o.parent_id FROM seed"
    "  JOIN resolutions r ON r.item_pk = seed.pk JOIN items o ON o.pk = r.parent_pk AND NOT o.deleted"
    "  UNION"
    "  SELECT p.pk, p.tracker, p.item_id, p.parent_id FROM up"
    "  JOIN items p ON p.tracker = up.tracker AND p.item_id = up.parent_id AND NOT p.deleted"
    " ), starts AS ("
    "  SELECT tracker, item_id FROM up UNION SELECT tracker, item_id FROM seed WHERE deleted"
    " ), down(pk, tracker, item_id) AS ("
    "  SELECT CAST(NULL AS BIGINT), tracker, item_id FROM starts"
    "  UNION"
    "  SELECT c.pk, c.tracker, c.item_id FROM down"
    "  JOIN items c ON c.tracker = down.tracker AND c.parent_id = down.item_id AND NOT c.deleted"
    " )"
    " SELECT DISTINCT i.pk FROM items i JOIN starts s ON s.tracker = i.tracker AND s.item_id = i.item_id"
    " WHERE NOT i.deleted"
    " UNION SELECT pk FROM down WHERE pk IS NOT NULL"
)
GONE = (
    "INSERT INTO rm_gone (pk) SELECT r.item_pk FROM resolutions r JOIN items i ON i.pk = r.item_pk{seed}"
    " WHERE i.deleted"
)
SEEDED = " JOIN rm_seed s ON s.tracker = i.tracker AND s.item_id = i.item_id"


def seed_changes(conn: Connection, changes: dict[str, set[str]]) -> None:
    """Fill ``rm_seed`` with ``changes`` (tracker -> changed or deleted ids)."""
    insert_rows(conn, "rm_seed", [{"tracker": k, "item_id": i} for k, ids in changes.items() for i in ids])


def fill_scope(conn: Connection) -> int:
    """Fill ``rm_scope`` with the live items of every tree touching an item of ``rm_seed``, and
    ``rm_gone`` with the resolutions of the seeds that are deleted now; returns the scope's size."""
    analyze(conn, "rm_seed")
    conn.execute(text(SCOPE))
    conn.execute(text(GONE.replace("{seed}", SEEDED)))
    analyze(conn, "rm_scope", "rm_gone")
    return _count(conn, "rm_scope")


def _count(conn: Connection, name: str) -> int:
    return int(conn.execute(select(func.count()).select_from(table(name))).scalar_one())


def fill_gone(conn: Connection) -> None:
    """Fill ``rm_gone`` with every resolution of a deleted item (a run over all items)."""
    conn.execute(text(GONE.replace("{seed}", "")))


NODES = (
    "SELECT c.pk AS pk, p.pk AS parent_pk, (c.parent_id IS NOT NULL AND p.pk IS NULL) AS missing,"
    " COALESCE(x.own_ts, s.own_ts) AS own_ts, s.cont_ts AS cont_ts, s.unknown AS unknown,"
    " c.tracker AS tracker, c.state AS state, {completed_on} AS completed_on,"
    " CAST(COALESCE(c.points, 0) AS DOUBLE PRECISION) AS points,"
    " CAST(COALESCE(c.hours, 0) AS DOUBLE PRECISION) AS hours,"
    " CASE WHEN c.state <> '{canceled}' THEN 1 ELSE 0 END AS counts,"
    " CASE WHEN c.state <> '{canceled}' AND c.points > 0 THEN 1 ELSE 0 END AS cp,"
    " CASE WHEN c.state <> '{canceled}' AND c.hours > 0 THEN 1 ELSE 0 END AS ch"
    " FROM items c JOIN rm_sig s ON s.sig = c.tag_sig{scope}"
    " LEFT JOIN rm_special x ON x.pk = c.pk"
    " LEFT JOIN items p ON p.tracker = c.tracker AND p.item_id = c.parent_id AND NOT p.deleted"
    " WHERE NOT c.deleted"
)


def _nodes(dialect: str, scoped: bool) -> str:
    """Each live item (in scope) as a node: parent, tag sets, state, own effort and what it carries."""
    scope = " JOIN rm_scope sc ON sc.pk = c.pk" if scoped else ""
    return (
        NODES.replace("{completed_on}", COMPLETED_ON[dialect])
        .replace("{scope}", scope)
        .replace("{canceled}", CANCELED)
    )


# Own tags flow down until a descendant has own tags of its own; what a node carries flows up to
# every ancestor (UNION: each (ancestor, flags) once, which also ends a cycle); then each node's
# outcome is compared with its stored resolution.
OUTCOMES = (
    " inh(pk, ts) AS ("
    "  SELECT pk, own_ts FROM rm_node WHERE own_ts <> 0"
    "  UNION ALL"
    "  SELECT n.pk, inh.ts FROM rm_node n JOIN inh ON n.parent_pk = inh.pk WHERE n.own_ts = 0"
    " ), up(pk, cp, ch, cc) AS ("
    "  SELECT parent_pk, cp, ch, counts FROM rm_node WHERE parent_pk IS NOT NULL AND counts = 1"
    "  UNION"
    "  SELECT n.parent_pk, up.cp, up.ch, up.cc FROM up JOIN rm_node n ON n.pk = up.pk"
    "  WHERE n.parent_pk IS NOT NULL"
    " ), below AS ("
    "  SELECT pk, MAX(cp) AS bp, MAX(ch) AS bh, MAX(cc) AS bc FROM up GROUP BY pk"
    " ), fresh AS ("
    "  SELECT n.pk AS pk, n.parent_pk AS parent_pk, f.untagged AS untagged,"
    "   (n.missing OR n.unknown OR f.orphan) AS orphaned,"
    "   f.conflict AS conflict, f.alloc_key AS alloc_key, n.tracker AS tracker, n.state AS state,"
    "   n.completed_on AS completed_on,"
    "   CASE WHEN n.counts = 1 AND COALESCE(b.bp, 0) = 0 THEN n.points ELSE 0 END AS points,"
    "   CASE WHEN n.counts = 1 AND COALESCE(b.bh, 0) = 0 THEN n.hours ELSE 0 END AS hours,"
    "   CAST(CASE WHEN n.counts = 1 AND COALESCE(b.bc, 0) = 0 THEN 1 ELSE 0 END AS DOUBLE PRECISION)"
    '    AS "count"'
    "  FROM rm_node n LEFT JOIN inh h ON h.pk = n.pk"
    "  JOIN rm_ts f ON f.ts = COALESCE(h.ts, n.cont_ts)"
    "  LEFT JOIN below b ON b.pk = n.pk"
    " )"
)
# The items whose outcome differs from their stored resolution, with the stored columns beside.
CHANGED = (
    "{into_changed} SELECT x.pk, x.parent_pk, x.untagged, x.orphaned, x.conflict, x.alloc_key,"
    "  x.tracker, x.state, x.completed_on,"
    '  x.points, x.hours, x."count", r.item_pk IS NOT NULL, r.orphaned, r.alloc_key, r.tracker, r.state,'
    '  r.completed_on, r.points, r.hours, r."count"'
    " FROM fresh x LEFT JOIN resolutions r ON r.item_pk = x.pk"
    " WHERE r.item_pk IS NULL OR r.alloc_key <> x.alloc_key OR r.orphaned <> x.orphaned"
    '  OR r.points <> x.points OR r.hours <> x.hours OR r."count" <> x."count"'
    "  OR r.tracker <> x.tracker OR r.state <> x.state OR r.completed_on {distinct} x.completed_on"
    "  OR r.parent_pk {distinct} x.parent_pk"
).replace("{into_changed}", INTO_CHANGED)
# The first resolution of a store that holds none: every outcome goes straight to resolutions.
FIRST = NEW_RESOLUTIONS.replace("{source}", "fresh")


# A plan change moves no item, no parent and no effort: only what each item's tags yield. The items
# it can move are those of a dirty signature or named by a rule (the seeds) and, below each, the
# descendants that inherit through items without own tags. Each of them walks up to its nearest
# ancestor-or-self with own tags (at most MAX_DEPTH steps, so a parent cycle ends); its outcome is
# that tag set's, else its container tags'. Effort, parent and facts are copied from its stored
# resolution; only the items whose outcome differs go to rm_changed.
MAX_DEPTH = 64
# An item's own tag set: the one a rule naming it gives, else its signature's. Correlated lookups by
# primary key, so that no planner joins a recursive step to a whole table.
OWN_TS = (
    "COALESCE((SELECT x.own_ts FROM rm_special x WHERE x.pk = {t}.pk),"
    " (SELECT s.own_ts FROM rm_sig s WHERE s.sig = {t}.tag_sig))"
)
PLAN_STARTS = (
    "INSERT INTO rm_start (pk)"
    " SELECT i.pk FROM items i JOIN rm_dirty d ON d.sig = i.tag_sig WHERE NOT i.deleted"
    " UNION"
    " SELECT i.pk FROM items i JOIN rm_seed e ON e.tracker = i.tracker AND e.item_id = i.item_id"
    " WHERE NOT i.deleted"
)
PLAN_OUTCOMES = (
    # The starts, and below each the children of a start or of a child without own tags (a child
    # with own tags of its own is visited but leads no further; a start is one row, as a start).
    # Each row carries what the rest reads.
    "WITH RECURSIVE moved(pk, tracker, item_id, parent_id, sig, own, start) AS ("
    "  SELECT i.pk, i.tracker, i.item_id, i.parent_id, i.tag_sig, {own_i}, 1"
    "  FROM rm_start JOIN items i ON i.pk = rm_start.pk"
    "  UNION"
    "  SELECT c.pk, c.tracker, c.item_id, c.parent_id, c.tag_sig, {own_c}, 0 FROM moved m"
    "  JOIN items c ON c.tracker = m.tracker AND c.parent_id = m.item_id AND NOT c.deleted"
    "  WHERE (m.start = 1 OR m.own = 0) AND NOT EXISTS (SELECT 1 FROM rm_start WHERE rm_start.pk = c.pk)"
    # Up from each to its nearest ancestor-or-self with own tags.
    " ), walk(pk, sig, parent0, tracker, parent_id, ts, depth) AS ("
    "  SELECT pk, sig, parent_id, tracker, parent_id, own, 0 FROM moved"
    "  UNION ALL"
    "  SELECT w.pk, w.sig, w.parent0, p.tracker, p.parent_id, {own_p}, w.depth + 1 FROM walk w"
    "  JOIN items p ON p.tracker = w.tracker AND p.item_id = w.parent_id AND NOT p.deleted"
    "  WHERE w.ts = 0 AND w.depth < {max_depth}"
    " ), eff AS ("
    "  SELECT pk, MAX(sig) AS sig, MAX(parent0) AS parent_id, MAX(ts) AS ts FROM walk GROUP BY pk"
    " )"
    "{into_changed}"
    " SELECT pk, parent_pk, untagged, orphaned, conflict, alloc_key, tracker, state, completed_on, points,"
    '  hours, "count", TRUE, old_orphaned, old_alloc_key, tracker, state, completed_on, points, hours,'
    '  "count" FROM ('
    "  SELECT e.pk AS pk, r.parent_pk AS parent_pk, f.untagged AS untagged, f.conflict AS conflict,"
    "   f.alloc_key AS alloc_key,"
    "   ((e.parent_id IS NOT NULL AND r.parent_pk IS NULL) OR s.unknown OR f.orphan) AS orphaned,"
    "   r.tracker AS tracker, r.state AS state, r.completed_on AS completed_on, r.points AS points,"
    '   r.hours AS hours, r."count" AS "count", r.orphaned AS old_orphaned, r.alloc_key AS old_alloc_key'
    "  FROM eff e JOIN rm_sig s ON s.sig = e.sig JOIN resolutions r ON r.item_pk = e.pk"
    "  JOIN rm_ts f ON f.ts = CASE WHEN e.ts <> 0 THEN e.ts ELSE s.cont_ts END"
    " ) x WHERE old_alloc_key <> alloc_key OR old_orphaned <> orphaned"
).replace("{into_changed}", INTO_CHANGED)


def find_plan_changes(conn: Connection) -> None:
    """Fill ``rm_changed`` with what a plan change moves (:data:`PLAN_OUTCOMES`), from ``rm_dirty``
    and ``rm_seed`` (``remap_signatures.seed_plan_change``) and the new plan's ``rm_sig``,
    ``rm_special`` and ``rm_ts`` over every signature. It trusts the stored resolutions to be this
    engine's under the old plan: a plan change moves nothing else."""
    statement = (
        PLAN_OUTCOMES.replace("{own_i}", OWN_TS.replace("{t}", "i"))
        .replace("{own_c}", OWN_TS.replace("{t}", "c"))
        .replace("{own_p}", OWN_TS.replace("{t}", "p"))
        .replace("{max_depth}", str(MAX_DEPTH))
    )
    analyze(conn, "rm_dirty", "rm_seed")
    conn.execute(text(PLAN_STARTS))
    analyze(conn, "rm_start")
    # PostgreSQL's estimates of recursive steps are off by orders of magnitude, and a hash of every
    # item per step (or a nested loop over the whole signature table) follows; every join here has
    # an index on its inner side, and the work grows with the items moved, not the store. (A scan
    # of rm_special, cheaper on paper than its index, would run once per item visited.)
    with planner(conn, enable_hashjoin=False, enable_mergejoin=False, enable_seqscan=False):
        conn.execute(text(statement))
    analyze(conn, "rm_changed")


def find_changes(conn: Connection, *, scoped: bool, first: bool = False) -> int:
    """Fill ``rm_changed`` with the items (in scope) whose resolution is missing or would move.

    ``first`` (the store holds no resolution at all, so every outcome is new): write each outcome
    straight into ``resolutions`` instead of through ``rm_changed``, and return how many; the
    caller then builds the rollup from them. Otherwise returns 0.

    On PostgreSQL the nodes are a materialized CTE of the same statement (hash joins need no index);
    SQLite joins by nested loops, so there they go to a temp table indexed by parent first.
    """
    dialect = conn.dialect.name
    tail = FIRST if first else CHANGED.replace("{distinct}", DISTINCT[dialect])
    nodes = _nodes(dialect, scoped)
    if dialect == "postgresql":
        # Over every item one hash join beats per-row probes; a scope is small: probe the indexes.
        with planner(conn, enable_nestloop=scoped):
            written = conn.execute(_outcomes(f"WITH RECURSIVE rm_node AS MATERIALIZED ({nodes}),", tail))
    else:
        columns = "pk, parent_pk, missing, own_ts, cont_ts, unknown, tracker, state, completed_on, points,"
        conn.execute(text(f"INSERT INTO rm_node ({columns} hours, counts, cp, ch) {nodes}"))
        conn.execute(text("CREATE INDEX rm_node_parent ON rm_node (parent_pk)"))
        written = conn.execute(_outcomes("WITH RECURSIVE", tail))
    analyze(conn, "rm_changed")
    if not first:
        return 0
    # sqlite3 reports no rowcount for a statement that starts with WITH; the table was empty.
    return int(written.rowcount) if written.rowcount >= 0 else int(_count(conn, "resolutions"))


def _outcomes(head: str, tail: str) -> TextClause:
    """The outcomes statement: ``head`` (how the nodes are read), :data:`OUTCOMES`, then ``tail``."""
    statement = text(f"{head}{OUTCOMES} {tail}")
    if ":now" in tail:
        statement = statement.bindparams(bindparam("now", utcnow(), type_=UTCDateTime()))
    return statement


UPDATE_CHANGED = (
    "UPDATE resolutions SET parent_pk = c.parent_pk, untagged = c.untagged, orphaned = c.orphaned,"
    " conflict = c.conflict,"
    " alloc_key = c.alloc_key, tracker = c.tracker, state = c.state, completed_on = c.completed_on,"
    ' points = c.points, hours = c.hours, "count" = c."count", resolved_at = :now'
    " FROM rm_changed c WHERE resolutions.item_pk = c.pk"
)
INSERT_NEW = NEW_RESOLUTIONS.replace("{source}", "rm_changed WHERE NOT had")


def rewrite_changes(conn: Connection, dialect: str) -> int:
    """Write what ``rm_changed`` and ``rm_gone`` hold: rollup delta, then resolutions; returns the
    number of resolutions written or removed."""
    gone = t.resolutions.c.item_pk.in_(pks_in("rm_gone"))
    add_to_rollup(conn, dialect, union_all(*_moves(), resolution_facts(gone, sign=-1)))
    now = bindparam("now", utcnow(), type_=UTCDateTime())
    updated = conn.execute(text(UPDATE_CHANGED).bindparams(now)).rowcount
    inserted = conn.execute(text(INSERT_NEW).bindparams(now)).rowcount
    removed = conn.execute(t.resolutions.delete().where(gone)).rowcount
    drop_empty_groups(conn)
    return int(updated) + int(inserted) + int(removed)


def _moves() -> tuple[Select[Any], Select[Any]]:
    """Each changed item as rollup sources: its stored group taken away (if it had one), its new one added.

    Reads only ``rm_changed``, which kept each item's stored rollup columns when it was found.
    """
    names = ("had", *NEW_COLUMNS, *(f"old_{name}" for name in OLD_COLUMNS))
    c = table("rm_changed", *(column(name) for name in names)).c
    old = select(
        c.old_tracker.label("tracker"),
        c.old_state.label("state"),
        c.old_completed_on.label("completed_on"),
        c.old_orphaned.label("orphaned"),
        c.old_alloc_key.label("alloc_key"),
        *(c[f"old_{name}"].label(name) for name in SUM_COLUMNS),
        literal(-1).label("sign"),
    ).where(c.had)
    new = select(
        c.tracker,
        c.state,
        c.completed_on,
        c.orphaned,
        c.alloc_key,
        *(c[name] for name in SUM_COLUMNS),
        literal(1).label("sign"),
    )
    return old, new
