"""The embedded default's connection settings: every connection of a SQLite store has them."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from v2mom.store.database import Database
from v2mom.store.engine import WAL_CHECKPOINT_PAGES, WAL_SIZE_LIMIT


def test_a_sqlite_store_checkpoints_its_wal_seldom_and_bounds_the_file(tmp_path: Path) -> None:
    store = Database.open(f"sqlite:///{tmp_path / 'v2mom.db'}")
    with store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert conn.execute(text("PRAGMA wal_autocheckpoint")).scalar_one() == WAL_CHECKPOINT_PAGES
        assert conn.execute(text("PRAGMA journal_size_limit")).scalar_one() == WAL_SIZE_LIMIT
        assert conn.execute(text("PRAGMA synchronous")).scalar_one() == 2  # FULL: acknowledged is durable
    store.close()
