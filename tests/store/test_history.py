"""Items' status and assignee history in the store, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.dialects import sqlite

from tests.factories import T0, make_item
from v2mom.models import ItemTransition, State
from v2mom.store import schema as t
from v2mom.store.database import Database
from v2mom.store.types import sqlite_datetime_text


def change(item_id: str, minutes: int, field: str = "status", **fields: Any) -> ItemTransition:
    values: dict[str, Any] = {
        "tracker": "jira",
        "item_id": item_id,
        "event_id": f"{item_id}-{minutes}",
        "at": T0 + timedelta(minutes=minutes),
        "field": field,
        "from_value": None,
        "to_value": "3" if field == "status" else "acc-1",
        "to_category": State.IN_PROGRESS if field == "status" else None,
    }
    values.update(fields)
    return ItemTransition(**values)


def test_the_sqlite_history_write_encodes_times_as_the_column_stores_them() -> None:
    """Stored change times are compared as text with times SQLAlchemy binds (windows, horizons), so
    the fast encoder of a history read's rows must write exactly what the column's processors write:
    offsets, zero microseconds and far years included."""
    dialect = sqlite.dialect()
    processor = t.item_transitions.c.at.type.dialect_impl(dialect).bind_processor(dialect)
    assert processor is not None
    for value in (
        datetime(2026, 11, 1, 9, 30, tzinfo=UTC),
        datetime(2026, 11, 1, 9, 30, 0, 123456, tzinfo=UTC),
        datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        datetime(2026, 1, 5, 8, 0, 0, 500, tzinfo=timezone(timedelta(hours=-8))),
        datetime(999, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
        datetime(2026, 1, 5, 8, 0, tzinfo=timezone(timedelta(0), "Z")),
        datetime(2026, 7, 5, 8, 0, tzinfo=ZoneInfo("Europe/London")),
    ):
        assert sqlite_datetime_text(value) == processor(value)
    with pytest.raises(ValueError, match="naive"):
        sqlite_datetime_text(datetime(2026, 11, 1))


def test_recording_a_history_again_duplicates_nothing_and_takes_what_the_tracker_says_now(
    store: Database,
) -> None:
    started = change("1", 10)
    assigned = change("1", 10, "assignee")  # the same history entry changed both fields
    assert store.history.record([started, assigned, change("2", 5)]) == 3
    assert store.history.record([started, assigned]) == 2
    assert store.history.count("jira") == 3
    recategorised = started.model_copy(update={"to_category": None})  # its status was deleted since
    store.history.record([recategorised])
    assert store.history.for_items("jira", ["1"]) == [assigned, recategorised]
    assert store.history.count() == 3


def test_a_window_holds_its_changes_and_what_stood_when_it_opened(store: Database) -> None:
    history = [
        change("1", 0, "assignee", to_value="acc-1"),
        change("1", 5, "assignee", from_value="acc-1", to_value="acc-2"),  # stands at the window's start
        change("1", 8, to_value="10000", to_category=State.TODO),
        change("1", 9),  # the status that stands at the window's start
        change("1", 20, "assignee", from_value="acc-2", to_value=None),
        change("1", 30, to_value="10001", to_category=State.DONE),  # after the window
        change("2", 25),
        change("3", 15),  # not asked for
        change("1", 15, tracker="linear"),  # another tracker's item 1
    ]
    store.history.record(history)
    window = store.history.for_items(
        "jira", ["1", "2"], start=T0 + timedelta(minutes=10), end=T0 + timedelta(minutes=30)
    )
    assert [(c.item_id, c.event_id, c.field) for c in window] == [
        ("1", "1-5", "assignee"),
        ("1", "1-9", "status"),
        ("1", "1-20", "assignee"),
        ("2", "2-25", "status"),
    ]
    assert store.history.for_items("jira", ["1"], end=T0 + timedelta(minutes=9)) == history[:3]
    assert store.history.for_items("jira", ["1"]) == history[:6]


def test_many_items_are_read_in_chunks(store: Database) -> None:
    many = [change(str(n), n % 50) for n in range(1200)]
    store.history.record(many)
    assert (
        len(store.history.for_items("jira", [str(n) for n in range(1200)], start=T0 + timedelta(minutes=25)))
        == 1200
    )


def test_an_items_history_is_read_again_only_once_it_moved(store: Database) -> None:
    store.history.mark_read("jira", {"1": T0, "2": T0})
    moved = {"1": T0, "2": T0 + timedelta(seconds=1), "3": T0}
    assert store.history.unread("jira", moved) == {"2", "3"}
    assert store.history.unread("linear", {"1": T0}) == {"1"}
    store.history.mark_read("jira", moved)
    assert store.history.unread("jira", moved) == set()


def test_a_page_and_its_items_history_commit_together(store: Database) -> None:
    items = [make_item("1", minutes=40), make_item("2", minutes=40)]
    store.sync_state.commit_pages(
        "jira",
        items,
        cursor=("scope", T0 + timedelta(minutes=40)),
        transitions=[change("1", 10), change("1", 20, "assignee")],
        history_read={item.id: item.updated_at for item in items},
    )
    assert store.items.live_ids("jira") == {"1", "2"}
    assert [c.event_id for c in store.history.for_items("jira", ["1", "2"])] == ["1-10", "1-20"]
    assert store.history.unread("jira", {item.id: item.updated_at for item in items}) == set()


def test_a_history_read_replaces_what_was_stored_for_its_items_only(store: Database) -> None:
    provisional = change("1", 10, event_id="webhook:d-1")
    store.history.record([provisional, change("2", 5)])
    read = change("1", 10)  # the tracker's own entry for the same change
    assert store.history.replace("jira", ["1"], [read]) == 1
    assert store.history.for_items("jira", ["1"]) == [read]
    assert [c.event_id for c in store.history.for_items("jira", ["2"])] == ["2-5"]  # not read: kept


def test_a_webhooks_change_yields_to_a_history_read_that_holds_it(store: Database) -> None:
    read = change("1", 10)
    store.history.record([read])
    store.history.mark_read("jira", {"1": T0 + timedelta(minutes=20)})
    covered = change("1", 15, event_id="webhook:d-1")  # no later than the read: already in it
    same = read.model_copy(update={"at": T0 + timedelta(minutes=30)})  # the read's own row
    later = change("1", 25, "assignee", event_id="webhook:d-2")
    assert store.history.record_provisional("jira", "1", [covered, same, later]) == 1
    assert store.history.for_items("jira", ["1"]) == [read, later]
    assert store.history.record_provisional("jira", "2", [change("2", 1)]) == 1  # never read: kept


def test_accounts_seen_are_counted_per_tracker_with_those_the_settings_map(store: Database) -> None:
    store.items.upsert(
        [
            make_item("1", assignee="acc-1"),  # also in the history below: one account
            make_item("2", assignee="acc-9"),  # only ever seen as an item's assignee
            make_item("3"),  # nobody's
            make_item("4", tracker="linear", key="ENG-4", container="ENG", assignee="lin-1"),
        ]
    )
    store.history.record(
        [
            change("1", 0, "assignee", to_value="acc-1"),
            change("1", 5, "assignee", from_value="acc-1", to_value="acc-2"),
            change("1", 9, "assignee", from_value="acc-3", to_value=None),  # seen only as a previous one
            change("1", 12, to_value="acc-7"),  # a status id, not an account
            change("5", 1, "assignee", tracker="asana", to_value="acc-1"),  # another tracker's acc-1
        ]
    )
    mapped = [("jira", "acc-1"), ("jira", "acc-9"), ("linear", "nobody-seen"), ("asana", "acc-2")]
    counts = store.history.account_counts(mapped)
    assert {tracker: (c.accounts, c.mapped, c.unmapped) for tracker, c in counts.items()} == {
        "jira": (4, 2, 2),  # acc-1, acc-2, acc-3, acc-9
        "linear": (1, 0, 1),
        "asana": (1, 0, 1),
    }
    assert store.history.account_counts([])["jira"].mapped == 0


def test_a_webhooks_change_to_an_item_never_read_waits_for_a_sync_reading_it(
    store: Database, database_url: str
) -> None:
    """PostgreSQL: a webhook recording a change while a sync stores the same item's first history
    read: the sync's read waits for the webhook's transaction, then replaces its row, so the change
    is stored once (before, neither waited: both rows stayed and the change counted twice)."""
    if store.dialect != "postgresql":
        pytest.skip("SQLite runs one writer at a time: the two cannot interleave")
    read = change("1", 10)
    webhook = change("1", 10, event_id="webhook:d-1")  # the same change, under the delivery's id
    done: list[tuple[int, int]] = []
    sync = threading.Thread(
        target=lambda: done.append(
            store.sync_state.commit_pages(
                "jira", [make_item("1")], [], transitions=[read], history_read={"1": T0}
            )
        )
    )
    with store.unit_of_work() as unit:
        assert unit.history.record_provisional("jira", "1", [webhook]) == 1
        sync.start()
        assert _waits_on_a_lock(store), "the sync's history read did not wait for the webhook"
    sync.join(timeout=30)
    assert done, "the sync did not finish"
    assert store.history.for_items("jira", ["1"]) == [read]
    assert store.history.unread("jira", {"1": T0}) == set()


def _waits_on_a_lock(store: Database, attempts: int = 200) -> bool:
    """Whether another session of this database comes to wait on a lock (polled for a while)."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"
    )
    with store.engine.connect() as conn:
        for _ in range(attempts):
            if conn.execute(query).scalar_one():
                return True
            time.sleep(0.05)
            conn.rollback()
    return False
