"""Engine creation: one place that knows SQLite needs WAL and foreign keys switched on."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url

from v2mom.errors import ConfigError


def normalise_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` as psycopg 3 URLs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An Engine for ``url``; SQLite gets WAL, a busy timeout and enforced foreign keys."""
    url = normalise_url(url)
    try:
        parsed = make_url(url)
    except Exception as exc:  # sqlalchemy raises ArgumentError for malformed URLs
        raise ConfigError(f"database_url: not a valid database URL ({type(exc).__name__})") from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(
            f"database_url: unsupported database '{parsed.get_backend_name()}' (use sqlite or postgresql)"
        )
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA cache_size=-65536")
            cursor.execute("PRAGMA temp_store=MEMORY")
            cursor.close()

        return engine
    # Set-based re-resolution builds million-row temp tables; temp_buffers can only be raised before
    # a session's first temp table, so it is set at connect (allocated only as used).
    connect_args = {"options": "-c temp_buffers=256MB"}
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args, **kwargs)


def check_url(url: str) -> None:
    """Validate a database URL without connecting (ConfigError when it is malformed or unsupported)."""
    make_engine(url).dispose()


def masked_url(url: str) -> str:
    """``url`` with any password masked, for printing."""
    return make_engine(url).url.render_as_string(hide_password=True)


def upsert_insert(dialect: str, table: Table) -> Any:
    """An INSERT on ``table`` that takes ON CONFLICT clauses, for the engine's dialect."""
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
