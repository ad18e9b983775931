"""The engine's scratch tables, and the few session settings its statements need.

Every run creates them empty (temporary: private to the connection), fills the ones its strategy
uses, and drops them at its end. They are SQLAlchemy tables, so every statement that reads or
writes them is built from columns, never from text.

- ``rm_seed``: (tracker, id) of changed or deleted items, or of items a keyed or project rule names.
- ``rm_scope``: live items to re-resolve when only some trees changed.
- ``rm_dirty``: signatures a plan change reads differently; ``descend`` when the tags their items
  hand down to descendants changed, not only what the items themselves are.
- ``rm_inheritable``: the allocation sets an inherited tag set gave under the old plan.
- ``rm_start``: the items a plan change starts from (dirty signatures and named items), with what
  the plan delta reads of each.
- ``rm_gone``: resolutions of deleted items, which leave.
- ``rm_new_outcome``: stored allocation sets a plan change replaces, and what each becomes.
- ``rm_sig``, ``rm_special``, ``rm_ts``: each signature's own and container tag sets, each named
  item's own tag set, and what each tag set yields (filled by :mod:`.signatures`).
- ``rm_team``: the team of each distinct scope (tracker, container, components) of the items
  resolved (filled by :mod:`.teams`).
- ``rm_node``: each live item as a node of its tree (SQLite only; PostgreSQL reads a CTE).
- ``rm_changed``: the items whose resolution moves, with the stored columns beside the new.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ClauseElement,
    Column,
    ColumnElement,
    Connection,
    Date,
    Executable,
    Float,
    FromClause,
    Index,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    Text,
    func,
    insert,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.schema import CreateTable, DropTable
from sqlalchemy.sql.compiler import SQLCompiler

scratch = MetaData()
TEMPORARY = ["TEMPORARY"]


def _pk(name: str = "pk") -> Column[int]:
    return Column(name, BigInteger, primary_key=True, autoincrement=False)


seed = Table(
    "rm_seed",
    scratch,
    Column("tracker", String(16), primary_key=True),
    Column("item_id", String(128), primary_key=True),
    prefixes=TEMPORARY,
)
scope = Table("rm_scope", scratch, _pk(), prefixes=TEMPORARY)
dirty = Table(
    "rm_dirty",
    scratch,
    _pk("sig"),
    Column("descend", Boolean, nullable=False),
    # Items that read only their container's tags differently, as long as they inherit none: the
    # set those tags gave under the old plan.
    Column("container_key", BigInteger),
    prefixes=TEMPORARY,
)
inheritable = Table("rm_inheritable", scratch, _pk("alloc_key"), prefixes=TEMPORARY)
start = Table(
    "rm_start",
    scratch,
    _pk(),
    Column("descend", Boolean, nullable=False),
    Column("own_ts", Integer, nullable=False),  # under the new plan
    Column("walks", Boolean, nullable=False),  # has no own tags and may inherit some
    Column("tracker", String(16), nullable=False),
    Column("item_id", String(128), nullable=False),
    Column("parent_id", String(128)),
    Column("tag_sig", BigInteger),
    prefixes=TEMPORARY,
)
gone = Table("rm_gone", scratch, _pk(), prefixes=TEMPORARY)
new_outcome = Table(
    "rm_new_outcome",
    scratch,
    Column("old_key", BigInteger, primary_key=True, autoincrement=False),
    Column("new_key", BigInteger, nullable=False),
    Column("untagged", Boolean, nullable=False),
    Column("conflict", Boolean, nullable=False),
    prefixes=TEMPORARY,
)
sig = Table(
    "rm_sig",
    scratch,
    _pk("sig"),
    Column("own_ts", Integer, nullable=False),
    Column("cont_ts", Integer, nullable=False),
    Column("unknown", Boolean, nullable=False),
    prefixes=TEMPORARY,
)
special = Table("rm_special", scratch, _pk(), Column("own_ts", Integer, nullable=False), prefixes=TEMPORARY)
tag_set = Table(
    "rm_ts",
    scratch,
    Column("ts", Integer, primary_key=True, autoincrement=False),
    # "" when the set yields the same for every item; else one row per team and "." (the company):
    # a team's value or method is no tag on other teams' work (see :mod:`.teams`).
    Column("team_key", String(64), primary_key=True),
    Column("alloc_key", BigInteger, nullable=False),
    Column("untagged", Boolean, nullable=False),
    Column("conflict", Boolean, nullable=False),
    Column("orphan", Boolean, nullable=False),
    prefixes=TEMPORARY,
)
team_map = Table(
    "rm_team",
    scratch,
    Column("tracker", String(16), nullable=False),
    Column("container", String(128), nullable=False),
    Column("comps", Text, nullable=False),
    Column("team_id", String(64), nullable=False),
    prefixes=TEMPORARY,
)
team_map_scope = Index("rm_team_scope", team_map.c.tracker, team_map.c.container, team_map.c.comps)
node = Table(
    "rm_node",
    scratch,
    _pk(),
    Column("parent_pk", BigInteger),
    Column("missing", Boolean, nullable=False),  # names a parent that is not a live item
    Column("own_ts", Integer, nullable=False),
    Column("cont_ts", Integer, nullable=False),
    Column("unknown", Boolean, nullable=False),
    Column("tracker", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("completed_on", Date),
    Column("points", Float, nullable=False),
    Column("hours", Float, nullable=False),
    Column("counts", Integer, nullable=False),  # 1 unless canceled
    Column("cp", Integer, nullable=False),  # counts and carries points
    Column("ch", Integer, nullable=False),  # counts and carries hours
    Column("team_id", String(64)),
    prefixes=TEMPORARY,
)
# Created once rm_node is filled (SQLite joins children to parents by it).
node_parent = Index("rm_node_parent", node.c.parent_pk)
# What a resolution holds, in rm_changed's and the resolutions' insert order.
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
    "team_id",
)
# What the rollup counts an item under: a move takes it away without reading the resolution again.
OLD_COLUMNS = (
    "orphaned",
    "alloc_key",
    "tracker",
    "state",
    "completed_on",
    "points",
    "hours",
    "count",
    "team_id",
)
changed = Table(
    "rm_changed",
    scratch,
    _pk(),
    Column("parent_pk", BigInteger),
    Column("untagged", Boolean, nullable=False),
    Column("orphaned", Boolean, nullable=False),
    Column("conflict", Boolean, nullable=False),
    Column("alloc_key", BigInteger, nullable=False),
    Column("tracker", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("completed_on", Date),
    Column("points", Float, nullable=False),
    Column("hours", Float, nullable=False),
    Column("count", Float, nullable=False),
    Column("team_id", String(64)),
    Column("had", Boolean, nullable=False),  # the item had a resolution
    Column("old_orphaned", Boolean),
    Column("old_alloc_key", BigInteger),
    Column("old_tracker", String(16)),
    Column("old_state", String(16)),
    Column("old_completed_on", Date),
    Column("old_points", Float),
    Column("old_hours", Float),
    Column("old_count", Float),
    Column("old_team_id", String(64)),
    prefixes=TEMPORARY,
)
CHANGED_COLUMNS = ["pk", *NEW_COLUMNS, "had", *(f"old_{name}" for name in OLD_COLUMNS)]


def changed_row(held: FromClause, had: ColumnElement[bool], new: Mapping[str, Any]) -> list[Any]:
    """The columns of an ``rm_changed`` row after its ``pk``, in ``CHANGED_COLUMNS`` order: each new
    column from ``new`` (a name it lacks keeps ``held``'s), whether a resolution was held, and the
    held resolution's columns the rollup counted the item under."""
    return [
        *(new[name] if name in new else held.c[name] for name in NEW_COLUMNS),
        had,
        *(held.c[name] for name in OLD_COLUMNS),
    ]


class Analyze(Executable, ClauseElement):
    """``ANALYZE <table>``: PostgreSQL never analyzes temp tables by itself."""

    inherit_cache = False

    def __init__(self, table: Table) -> None:
        self.table = table


@compiles(Analyze)
def _compile_analyze(element: Analyze, compiler: SQLCompiler, **_kw: Any) -> str:
    return "ANALYZE " + compiler.preparer.format_table(element.table)


def create(conn: Connection) -> None:
    """Create the scratch tables empty (dropping any left over) and give PostgreSQL room for them."""
    drop(conn)
    if conn.dialect.name == "postgresql":
        # Million-row hash joins and sorts: give this transaction room so they stay in memory
        # (temp_buffers: see v2mom.store.engine). The recursive CTEs' estimates are wild (billions
        # of rows): JIT would compile for half a second.
        set_local(conn, {"work_mem": "256MB", "jit": "off"})
    for table in scratch.sorted_tables:
        conn.execute(CreateTable(table))


def drop(conn: Connection) -> None:
    """Drop the scratch tables (a preview, which reads them after the run, calls it itself)."""
    for table in scratch.sorted_tables:
        conn.execute(DropTable(table, if_exists=True))


def set_local(conn: Connection, settings: Mapping[str, str]) -> None:
    """PostgreSQL: set each of ``settings`` until the transaction ends (``set_config(..., true)``)."""
    for name, value in settings.items():
        conn.execute(select(func.set_config(name, value, True)))


@contextmanager
def planner(conn: Connection, **enabled: bool) -> Iterator[None]:
    """On PostgreSQL, turn the planner's ``enable_*`` settings as given for the statements inside,
    then back on (their default) for the rest of the transaction; elsewhere nothing."""
    postgres = conn.dialect.name == "postgresql"
    if postgres:
        set_local(conn, {name: "on" if on else "off" for name, on in enabled.items()})
    yield
    if postgres:
        set_local(conn, dict.fromkeys(enabled, "on"))


def analyze(conn: Connection, *tables: Table) -> None:
    """PostgreSQL plans joins blind on a temp table it has no statistics for: gather them."""
    if conn.dialect.name == "postgresql":
        for table in tables:
            conn.execute(Analyze(table))


def insert_rows(conn: Connection, table: Table, rows: Sequence[Mapping[str, object]]) -> None:
    """Insert ``rows`` (of one shape) into ``table``."""
    if rows:
        conn.execute(insert(table), list(rows))


def pks_of(table: Table) -> Select[int]:
    """The pks ``table`` (``rm_scope``, ``rm_gone``) holds, for an ``IN``."""
    return select(table.c.pk)


def count(conn: Connection, table: Table) -> int:
    """How many rows ``table`` holds."""
    return int(conn.execute(select(func.count()).select_from(table)).scalar_one())
