"""Named locks across processes (``Database.locks``): one holder at a time, released when it dies.

``exclusive(name)`` never waits: it yields True to the one caller that got the lock (held until its
block ends) and False to everyone else, who should skip the work (the scheduled reconcile).
``hold(name)`` waits for the lock instead (re-resolution: the trees' resolutions and the rollup are
read and rewritten by one process at a time).

PostgreSQL: a transaction-scoped advisory lock (``pg_try_advisory_xact_lock``, or
``pg_advisory_xact_lock`` to wait) taken on a dedicated connection whose transaction stays open for
the block. Chosen over a session lock
(``pg_try_advisory_lock``) because PostgreSQL itself releases it when the transaction ends — on
commit, on rollback, when the connection is closed, when the process is killed — so no unlock call
can fail and leave the lock behind on a pooled connection, and because it would still hold behind a
transaction-pooling proxy (PgBouncer), where a session lock stays on a server connection that other
clients are then handed. The transaction runs nothing but the lock (it gets no transaction id and holds no
snapshot between statements, so VACUUM is not held back); it switches off
``idle_in_transaction_session_timeout`` (and ``transaction_timeout`` from PostgreSQL 17) for
itself only, so that a server setting cannot end it half-way through the block, and names itself
``v2mom lock: <name>`` in ``pg_stat_activity``. Advisory locks belong to one database: installations
in other databases of the same server never contend.

SQLite (one host): an ``flock`` on the file ``<database>.<name>.lock`` beside the database (created
0600, left in place), which the kernel releases when the holder closes it or dies; every call opens
the file anew, so threads of one process exclude each other too. An in-memory database, or a system
without ``flock`` (Windows), always acquires: there the embedded database serves one process.

Losing the lock's connection in the middle of a block (the server restarts, an operator ends that
backend) ends a PostgreSQL lock early while the block goes on; a warning is logged at its end.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, func, select, text
from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)
_NAME = re.compile(r"[a-z][a-z0-9-]{0,39}")


def advisory_key(name: str) -> int:
    """The 64-bit PostgreSQL advisory lock key of the lock ``name`` (stable across processes)."""
    digest = hashlib.sha256(f"v2mom:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def lock_transaction(connection: Connection, name: str) -> None:
    """PostgreSQL: wait for the lock ``name`` and hold it until ``connection``'s transaction ends."""
    connection.execute(select(func.pg_advisory_xact_lock(advisory_key(_checked(name)))))


def _checked(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise ValueError(f"lock name {name!r}: expected lower-case letters, digits and '-'")
    return name


class Locks:
    """Named cross-process locks on the database behind ``engine``."""

    def __init__(self, engine: Engine) -> None:
        """Lock through ``engine`` (PostgreSQL) or beside its database file (SQLite)."""
        self.engine = engine

    @contextmanager
    def exclusive(self, name: str) -> Iterator[bool]:
        """Try to take the lock ``name`` without waiting; yields whether this caller holds it."""
        with self._lock(_checked(name), wait=False) as acquired:
            yield acquired

    @contextmanager
    def hold(self, name: str) -> Iterator[None]:
        """Wait for the lock ``name`` and hold it for the block (never nest the same name: it waits
        for itself). A server's ``lock_timeout`` or ``statement_timeout`` still bounds the wait."""
        with self._lock(_checked(name), wait=True):
            yield

    def _lock(self, name: str, *, wait: bool) -> AbstractContextManager[bool]:
        if self.engine.dialect.name == "postgresql":
            return self._advisory(name, wait=wait)
        return self._file_lock(name, wait=wait)

    @contextmanager
    def _advisory(self, name: str, *, wait: bool) -> Iterator[bool]:
        with self.engine.connect() as conn:
            conn.execute(text("SET LOCAL idle_in_transaction_session_timeout = 0"))
            if (conn.dialect.server_version_info or (0,)) >= (17,):
                conn.execute(text("SET LOCAL transaction_timeout = 0"))
            conn.execute(select(func.set_config("application_name", f"v2mom lock: {name}", True)))
            key = advisory_key(name)
            if wait:
                conn.execute(select(func.pg_advisory_xact_lock(key)))
                acquired = True
            else:
                acquired = bool(conn.execute(select(func.pg_try_advisory_xact_lock(key))).scalar())
            try:
                yield acquired
            finally:
                try:
                    conn.rollback()  # ends the transaction: the lock is released with it
                except DBAPIError as exc:
                    log.warning("lock %s: the database connection was lost while it was held: %s", name, exc)
                    conn.invalidate()

    @contextmanager
    def _file_lock(self, name: str, *, wait: bool) -> Iterator[bool]:
        database = self.engine.url.database
        if sys.platform == "win32" or not database or database == ":memory:" or database.startswith("file:"):
            yield True
            return
        import fcntl

        fd = os.open(Path(f"{database}.{name}.lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            yield True
        finally:
            os.close(fd)  # closing the only descriptor of this open file releases the flock
