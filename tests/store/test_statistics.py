"""PostgreSQL: a sync's transactions keep the planner's statistics of the tables they fill current."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import text

from tests.factories import T0, make_item
from v2mom.models import ItemTransition, State
from v2mom.store import statistics
from v2mom.store.database import Database

pytestmark = pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)


def _rows_seen(store: Database, table: str) -> float:
    """What the last ANALYZE counted in ``table`` (-1: never analyzed)."""
    with store.engine.connect() as conn:
        return float(
            conn.execute(
                text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:t)"), {"t": table}
            ).scalar_one()
        )


def _commit(store: Database, first: int, count: int) -> None:
    items = [make_item(str(n), minutes=n) for n in range(first, first + count)]
    changes = [
        ItemTransition(
            tracker="jira",
            item_id=item.id,
            event_id="1",
            at=T0,
            field="status",
            to_value="3",
            to_category=State.IN_PROGRESS,
        )
        for item in items
    ]
    store.sync_state.commit_pages(
        "jira", items, transitions=changes, history_read={i.id: i.updated_at for i in items}
    )


def test_a_table_is_analyzed_each_time_a_sync_doubles_it(
    store: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(statistics, "ANALYZE_PAGES", 4)  # 32 KiB: some hundred items
    monkeypatch.setattr(statistics, "CHECK_ROWS", 0)  # every transaction looks
    _commit(store, 1, 10)
    assert _rows_seen(store, "items") == -1  # one page: too small to be worth it

    _commit(store, 11, 600)  # past ANALYZE_PAGES: planned from what it holds, not as empty
    assert _rows_seen(store, "items") == 610
    assert _rows_seen(store, "item_transitions") == 610

    _commit(store, 611, 30)  # grown by less than it held: the statistics still fit
    assert _rows_seen(store, "items") == 610

    _commit(store, 641, 900)  # doubled since: analyzed again
    assert _rows_seen(store, "items") == 1540


def test_an_analysis_that_fails_is_logged_and_the_commit_stands(
    store: Database, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(statistics, "_GROWN", text("SELECT name FROM no_such_catalog"))
    monkeypatch.setattr(statistics, "CHECK_ROWS", 0)
    caplog.set_level(logging.WARNING, logger=statistics.__name__)
    _commit(store, 1, 5)
    assert store.items.count("jira") == 5
    assert (
        "the planner statistics of items, item_transitions, history_reads were not refreshed" in caplog.text
    )
    assert "no_such_catalog" in caplog.text


def test_only_a_bulk_transaction_looks_at_the_tables_growth(
    store: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(statistics, "ANALYZE_PAGES", 4)
    for first in range(1, 1000, 100):  # 1,000 items, 200 rows a transaction: under CHECK_ROWS
        _commit(store, first, 100)
    assert _rows_seen(store, "items") == -1  # past ANALYZE_PAGES, but autovacuum's to see to
    _commit(store, 1001, 500)  # 1,000 rows in one transaction: a bulk write, which looks
    assert _rows_seen(store, "items") == 1500
