"""The PostgreSQL databases tests reuse hand each test what a freshly migrated one holds: nothing,
with no connection of the test before still open on it."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from tests.databases import PostgresPool
from tests.factories import make_item
from v2mom.store.database import Database

pytestmark = pytest.mark.postgres


def _table_rows(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            names = conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
            ).scalars()
            return {
                n: int(conn.execute(text(f'SELECT count(*) FROM "{n}"')).scalar_one()) for n in list(names)
            }
    finally:
        engine.dispose()


def test_a_reused_database_is_empty_migrated_and_left_by_every_connection(
    postgres_pool: PostgresPool,
) -> None:
    first = postgres_pool.migrated()
    url = next(first)
    fresh = _table_rows(url)
    assert fresh["alembic_version"] == 1
    assert sum(fresh.values()) == 1  # a migrated database holds only its version
    store = Database.open(url)
    store.items.upsert([make_item("1"), make_item("2")])
    store.tokens.create("admin", "ops", actor="test")
    left_open = store.engine.connect()  # as a thread a test forgot would hold it
    left_open.execute(text("SELECT 1"))
    assert _table_rows(url)["items"] == 2
    next(first, None)  # the test ends: the database is emptied for the next one

    second = postgres_pool.migrated()
    assert next(second) == url  # the same database, reused
    assert _table_rows(url) == fresh
    reopened = Database.open(url)
    try:
        reopened.items.upsert([make_item("3")])
        assert [s.pk for s in reopened.items.stream()] == [1]  # identities restart as in a new database
    finally:
        reopened.close()
        next(second, None)
    with pytest.raises(Exception, match="terminat"):
        left_open.execute(text("SELECT 1"))
    store.close()
