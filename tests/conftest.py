"""Shared fixtures: a database per test on SQLite and on PostgreSQL.

PostgreSQL runs when ``V2MOM_TEST_POSTGRES_URL`` is set (``.ci/run`` starts a server and sets it).
Without it the PostgreSQL half is skipped with a reason — except under CI, where it must run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from v2mom.store.database import Database

POSTGRES_URL = os.environ.get("V2MOM_TEST_POSTGRES_URL")
IN_CI = os.environ.get("CI") == "true"


def _fresh_postgres_database() -> Iterator[str]:
    if not POSTGRES_URL:
        if IN_CI:
            pytest.fail(
                "CI must run the PostgreSQL half: V2MOM_TEST_POSTGRES_URL is not set (.ci/run sets it)"
            )
        pytest.skip(
            "PostgreSQL not configured: set V2MOM_TEST_POSTGRES_URL (as .ci/run does) to run this half"
        )
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"v2mom_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database URL, dropped afterwards (for what runs on PostgreSQL only)."""
    yield from _fresh_postgres_database()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL: SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'v2mom.db'}"
    else:
        yield from _fresh_postgres_database()


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def module_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Like ``database_url``, shared by a module's tests (for expensive set-ups such as fuzzing)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('module-db') / 'v2mom.db'}"
    else:
        yield from _fresh_postgres_database()


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
