"""Engine creation: one place that knows SQLite needs WAL and foreign keys switched on.

Every commit is durable before anything is acknowledged: a webhook's 202 follows the inbox commit,
an admin API 2xx or a token printed once follows theirs. SQLite therefore runs with
``synchronous=FULL`` on every connection (in WAL mode: the log is synced at each commit; NORMAL
would let a power loss take back the last commits), and PostgreSQL connections turn
``synchronous_commit`` back on where the server or database configured it ``off`` (a stronger
setting such as ``remote_apply`` is left alone). The SQLite file holds webhook secrets and token
hashes, so a new one is created readable by its owner only (0600); SQLite gives its ``-wal`` and
``-shm`` files the same mode.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import (
    JSON,
    Engine,
    Table,
    Text,
    bindparam,
    cast,
    create_engine,
    event,
    func,
    literal_column,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from v2mom.errors import ConfigError, DatabaseUnavailableError
from v2mom.redaction import mask_url, redact, url_secrets

WAL_CHECKPOINT_PAGES = 10_000  # SQLite: pages (4 KiB) the WAL grows by before a checkpoint
WAL_SIZE_LIMIT = 64 * 1024 * 1024  # SQLite: bytes the WAL file is cut back to after one


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
        database = parsed.database

        @event.listens_for(engine, "do_connect")
        def _private_file(_dialect: Any, _record: Any, _args: Any, _kwargs: Any) -> None:
            if database and database != ":memory:" and not database.startswith("file:"):
                create_private(Path(database))

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA cache_size=-65536")
            cursor.execute("PRAGMA temp_store=MEMORY")
            # Checkpoint the WAL every ~40 MB instead of every 4 MB: a sync's commits rewrite the same
            # index pages, and each checkpoint copied them to the database again (a tenth of storing
            # 100,000 issues); the file is cut back to 64 MB after a checkpoint.
            cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
            cursor.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
            cursor.close()

        return engine
    # Set-based re-resolution builds million-row temp tables; temp_buffers can only be raised before
    # a session's first temp table, so it is set at connect (allocated only as used). Every statement
    # is planned for its parameters: psycopg prepares a statement run five times, and the generic plan
    # PostgreSQL then cached was made for tables a first sync had only begun to fill (a delete of a
    # batch's changes scanned every change of the tracker, growing with the table).
    connect_args = {"options": "-c temp_buffers=256MB -c plan_cache_mode=force_custom_plan"}
    engine = create_engine(url, pool_pre_ping=True, connect_args=connect_args, **kwargs)

    @event.listens_for(engine, "connect")
    def _durable_commits(dbapi_conn: Any, _record: Any) -> None:
        with dbapi_conn.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            row = cursor.fetchone()
            if row is not None and row[0] == "off":
                cursor.execute("SET synchronous_commit = on")
        dbapi_conn.commit()  # psycopg opened a transaction for the SHOW; SET outlives it either way

    return engine


def create_private(path: Path) -> None:
    """Create ``path`` empty and readable by its owner only (0600), unless it exists already."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        return  # an existing database keeps the mode its operator gave it
    except OSError:
        return  # e.g. a missing directory: SQLite's own open reports it, naming the file


def check_url(url: str) -> None:
    """Validate a database URL without connecting (ConfigError when it is malformed or unsupported)."""
    make_engine(url).dispose()


def backend_of(url: str) -> str:
    """``sqlite`` or ``postgresql``, without connecting (ConfigError when malformed or unsupported)."""
    engine = make_engine(url)
    engine.dispose()
    return engine.dialect.name


def masked_url(url: str) -> str:
    """``url`` as the store reads it (``postgresql+psycopg://``), every password masked, for printing.

    Never fails: a URL SQLAlchemy cannot parse is masked too (:func:`v2mom.redaction.mask_url`).
    """
    return mask_url(normalise_url(url))


def upsert_insert(dialect: str, table: Table) -> Any:
    """An INSERT on ``table`` that takes ON CONFLICT clauses, for the engine's dialect."""
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def sqlite_driver_sql(statement: Any, columns: Sequence[str]) -> str:
    """``statement`` compiled for SQLite's driver, its parameters in ``columns`` order: rows then go
    to ``exec_driver_sql`` as tuples already encoded, past SQLAlchemy's per-row parameter handling
    (most of a bulk write's cost on SQLite). TypeError when the compiled order differs."""
    compiled = statement.compile(dialect=sqlite.dialect(), column_keys=list(columns))
    if tuple(compiled.positiontup or ()) != tuple(columns):
        raise TypeError(f"{statement.table.name}: parameters out of order: {compiled.positiontup}")
    return str(compiled.string)


def _json_moment(value: Any) -> str:
    """A datetime in :func:`json_rows_insert`'s document: with its offset; refused when naive, as
    :class:`~v2mom.store.types.UTCDateTime` refuses it (PostgreSQL would read it as local time)."""
    if isinstance(value, datetime):
        if value.utcoffset() is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not a value of a row")


def json_rows_insert(table: Table, columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> Any:
    """PostgreSQL: an INSERT of ``rows`` (their ``columns``) into ``table`` as one short statement
    with one parameter, the rows as a JSON array of objects that ``json_populate_recordset`` reads
    back into the table's row type (ON CONFLICT clauses may follow). A JSON column takes the value
    as it is; a datetime goes with its offset, a naive one is refused. A many-row write otherwise
    went through psycopg one row at a time, as a multi-VALUES statement psycopg parsed again at every
    call, or as arrays psycopg builds in Python: orjson writes the document in a tenth of the time."""
    try:
        document = orjson.dumps(list(rows), default=_json_moment, option=orjson.OPT_PASSTHROUGH_DATETIME)
    except orjson.JSONEncodeError as exc:  # orjson wraps what the datetime check raised: raise that
        raise (exc.__cause__ or exc) from None
    records = func.json_populate_recordset(
        literal_column(f"NULL::{table.name}"), cast(bindparam(None, document.decode(), type_=Text()), JSON)
    ).table_valued(*columns)
    return postgresql.insert(table).from_select(list(columns), select(*(records.c[name] for name in columns)))


def unavailable(url: str, exc: DBAPIError) -> DatabaseUnavailableError:
    """The one-line error for a database that cannot be reached: its URL (password masked) and why.

    The driver's reason may echo a part of the URL that holds a piece of the password (an unencoded
    ``@`` in it moves the rest into the host name): every form of it is masked there too.
    """
    text = str(exc.orig).strip()
    reason = text.splitlines()[0] if text else type(exc.orig).__name__
    reason = redact(reason, url_secrets(normalise_url(url)))
    return DatabaseUnavailableError(f"cannot connect to the database {masked_url(url)}: {reason}")
