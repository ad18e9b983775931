"""Statements compiled for SQLite's driver take their parameters in the order the caller's rows hold."""

from __future__ import annotations

import pytest
from sqlalchemy import insert

from v2mom.store import schema as t
from v2mom.store.engine import sqlite_driver_sql


def test_the_compiled_statement_takes_the_columns_in_the_order_given() -> None:
    sql = sqlite_driver_sql(insert(t.people_changes), ("tracker", "item_id"))
    assert sql == "INSERT INTO people_changes (tracker, item_id) VALUES (?, ?)"


def test_rows_in_another_order_than_the_statement_are_refused() -> None:
    with pytest.raises(TypeError, match="people_changes: parameters out of order"):
        sqlite_driver_sql(insert(t.people_changes), ("item_id", "tracker"))
