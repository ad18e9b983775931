"""PostgreSQL's planner statistics, kept current while a sync fills its tables.

PostgreSQL plans from statistics that autovacuum refreshes at most once a minute
(``autovacuum_naptime``). A table created empty and filled by a first full sync is planned as empty
until then: its ``item_id IN (…)`` lookups scan every row of the tracker instead of the index's
entries for those ids, so each transaction of a 100,000-issue sync took longer than the one before
(the last ones four times the first ones' time in those statements). After a sync's transaction
of at least :data:`CHECK_ROWS` rows (the bulk writes that outrun autovacuum; a small one is not
worth the query), each table it fills whose file has doubled since its statistics were taken (or
reached :data:`ANALYZE_PAGES` without any) is analyzed, in a transaction of its own: a few analyses while a
table grows by powers of two, each reading a sample of at most 30,000 rows. A table another session
is analyzing or vacuuming meanwhile is skipped (that session refreshes it), and an analysis that
fails is logged: the sync's data is committed by then, and only its speed depends on this.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

__all__ = ["ANALYZE_PAGES", "CHECK_ROWS", "analyze_grown"]

log = logging.getLogger(__name__)

ANALYZE_PAGES = 128  # the smallest table (in pages of 8 KiB: 1 MiB) worth analyzing before any
CHECK_ROWS = 1_000  # rows a transaction writes before its tables' growth is looked at

# The file's size is current at once (unlike the cumulative statistics, flushed at intervals);
# relpages is what the last ANALYZE or VACUUM saw (0 before any).
_GROWN = text(
    "SELECT name FROM unnest(CAST(:tables AS text[])) AS name "
    "JOIN pg_class ON pg_class.oid = to_regclass(name) "
    "WHERE pg_relation_size(pg_class.oid) >= "
    "GREATEST(:least, 2 * pg_class.relpages) * current_setting('block_size')::bigint"
)


def _analyze(conn: Connection, table: str) -> None:
    """``ANALYZE`` one table, skipping it when locked (PostgreSQL 12 and later know how)."""
    skip = " (SKIP_LOCKED)" if (conn.dialect.server_version_info or (0,)) >= (12,) else ""
    conn.execute(text(f"ANALYZE{skip} {conn.dialect.identifier_preparer.quote(table)}"))


def analyze_grown(engine: Engine, tables: Sequence[str], *, rows_written: int) -> list[str]:
    """After a transaction that wrote ``rows_written`` rows (at least :data:`CHECK_ROWS`, else
    nothing is done), ``ANALYZE`` each of ``tables`` (PostgreSQL) whose file has doubled since it was
    last analyzed or vacuumed, or has reached :data:`ANALYZE_PAGES` pages without statistics; the
    tables analyzed.

    Each runs outside any transaction, so the lock it takes holds no writer back beyond it. A
    failure is logged as a warning, never raised."""
    if rows_written < CHECK_ROWS:
        return []
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            found = conn.execute(_GROWN, {"tables": list(tables), "least": ANALYZE_PAGES}).scalars()
            grown = [str(name) for name in found]
            for name in grown:
                _analyze(conn, name)
    except DBAPIError as exc:
        log.warning("the planner statistics of %s were not refreshed: %s", ", ".join(tables), exc.orig)
        return []
    return grown
