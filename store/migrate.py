"""Apply Alembic migrations programmatically (on start and via ``v2mom db upgrade``).

On PostgreSQL an upgrade waits for the ``migrate`` advisory lock inside its transaction, so several
processes starting at once on an older database (``v2mom serve`` on every host after a deploy)
upgrade it one after the other: the first migrates, the others then find it at the head.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from v2mom.store.engine import make_engine, unavailable
from v2mom.store.locks import lock_transaction

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config() -> Config:
    """An Alembic Config pointing at the packaged migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


@cache
def head_revision() -> str | None:
    """The newest revision shipped with this version (read once a process: the migrations shipped
    do not change under it, and reading them took 19 ms, twice for every store opened)."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None when empty)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade_url(url: str) -> str | None:
    """:func:`upgrade` the database at ``url`` (``v2mom db upgrade``); returns the revision it is at."""
    engine = make_engine(url)
    try:
        try:
            engine.connect().close()
        except DBAPIError as exc:
            raise unavailable(url, exc) from None
        return upgrade(engine)
    finally:
        engine.dispose()


def upgrade(engine: Engine) -> str | None:
    """Bring the database to the newest revision; a no-op when it is there already."""
    if current_revision(engine) == head_revision():
        return head_revision()
    config = alembic_config()
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            lock_transaction(conn, "migrate")  # Alembic reads the revision after the wait: no-op if done
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    return head_revision()
