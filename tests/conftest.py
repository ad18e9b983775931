"""Shared fixtures: a database per test on SQLite and on PostgreSQL.

A SQLite test database is a copy of one migrated once per session; ``empty_database_url`` gives an
empty one, for the migrations themselves and for what must create its database.

PostgreSQL runs when ``V2MOM_TEST_POSTGRES_URL`` is set (``.ci/run`` starts a server and sets it).
Without it the PostgreSQL half is skipped with a reason — except under CI, where it must run.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from tests.databases import PostgresPool
from tests.factories import T0, VALID, make_item
from v2mom.mapping.plan import load_plan
from v2mom.models import Level, State
from v2mom.store.database import Database
from v2mom.store.resolution.run import remap

pytest_plugins = ["tests.skip_summary"]  # the closing summary counts skips by reason

POSTGRES_URL = os.environ.get("V2MOM_TEST_POSTGRES_URL")
IN_CI = os.environ.get("CI") == "true"


def _postgres_admin() -> Engine:
    if not POSTGRES_URL:
        if IN_CI:
            pytest.fail(
                "CI must run the PostgreSQL half: V2MOM_TEST_POSTGRES_URL is not set (.ci/run sets it)"
            )
        pytest.skip(
            "PostgreSQL not configured: set V2MOM_TEST_POSTGRES_URL (as .ci/run does) to run this half"
        )
    return create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")


def _fresh_postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped afterwards."""
    admin = _postgres_admin()
    name = f"v2mom_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        assert POSTGRES_URL is not None
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database file migrated once per session, which each test's database copies."""
    path = tmp_path_factory.mktemp("template") / "v2mom.db"
    Database.open(f"sqlite:///{path}").close()
    return path


@pytest.fixture(scope="session")
def postgres_pool() -> Iterator[PostgresPool]:
    """This test process's migrated PostgreSQL databases, emptied between tests, dropped at the end."""
    admin = _postgres_admin()
    assert POSTGRES_URL is not None
    pool = PostgresPool(admin, POSTGRES_URL)
    try:
        yield pool
    finally:
        pool.close()
        admin.dispose()


def _migrated(request: pytest.FixtureRequest, folder: Path) -> Iterator[str]:
    """A migrated database holding nothing: on SQLite a copy of the session's migrated one (migrating
    took about 0.2 s a test, the copy a millisecond); on PostgreSQL one of the process's migrated
    databases, emptied by the test before (creating and migrating one cost 0.2 s, emptying 0.03 s)."""
    if request.param == "sqlite":
        path = folder / "v2mom.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        path.chmod(0o600)  # as the store creates it: it holds webhook secrets and token hashes
        yield f"sqlite:///{path}"
    else:
        pool: PostgresPool = request.getfixturevalue("postgres_pool")
        yield from pool.migrated()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database URL, dropped afterwards (for what runs on PostgreSQL only)."""
    yield from _fresh_postgres_database()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database URL: SQLite file (already migrated), then a PostgreSQL database."""
    yield from _migrated(request, tmp_path)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL (no table yet): for migrations themselves."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'v2mom.db'}"
    else:
        yield from _fresh_postgres_database()


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def module_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Like ``database_url``, shared by a module's tests (for expensive set-ups such as fuzzing)."""
    yield from _migrated(request, tmp_path_factory.mktemp("module-db"))


@pytest.fixture
def two_stores(database_url: str) -> Iterator[tuple[Database, Database]]:
    """Two Database instances (two pools, as two processes or instances have) on one database."""
    first, second = Database.open(database_url), Database.open(database_url)
    try:
        yield first, second
    finally:
        first.close()
        second.close()


@pytest.fixture
def store(database_url: str) -> Iterator[Database]:
    """A migrated Database on each backend."""
    opened = Database.open(database_url)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def seeded(store: Database) -> Database:
    """An epic tagged by label with three stories; one untagged story; one orphaned subtask."""
    store.items.upsert(
        [
            make_item(
                "10", key="ONB-1", level=Level.EPIC, labels=("method:self-serve-onboarding",), points=40.0
            ),
            make_item("11", key="ONB-2", parent_id="10", points=5.0, state=State.DONE, completed_at=T0),
            make_item("12", key="ONB-3", parent_id="10", points=3.0),
            make_item("13", key="ONB-4", parent_id="10", labels=("value:reliability",), points=2.0),
            make_item("14", key="ONB-5", points=8.0, state=State.DONE, completed_at=T0 + timedelta(days=20)),
            make_item("15", key="ONB-6", level=Level.SUBTASK, parent_id="999", points=1.0),
        ]
    )
    plan = load_plan(VALID)
    store.plans.save(plan, actor="test")
    remap(store, plan)
    return store
