"""Sync state on SQLite and PostgreSQL: a tracker's cursor never moves backwards."""

from __future__ import annotations

from datetime import timedelta

from tests.factories import T0
from v2mom.store.database import Database


def test_cursor_never_moves_backwards(store: Database) -> None:
    assert store.sync_state.get_cursor("jira", "scope") is None
    store.sync_state.set_cursor("jira", "scope", T0 + timedelta(hours=2))
    store.sync_state.set_cursor("jira", "scope", T0)
    assert store.sync_state.get_cursor("jira", "scope") == T0 + timedelta(hours=2)
    store.sync_state.set_cursor("jira", "other", T0)
    assert store.sync_state.get_cursor("jira", "other") == T0
