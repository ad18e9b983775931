"""The marks that tell the people's shares which items changed: one per item per transaction."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.factories import T0, make_item
from v2mom.models import ItemTransition, State
from v2mom.store import schema as t
from v2mom.store.database import Database
from v2mom.store.people_changes import mark_changed


def marks(store: Database) -> list[tuple[str, str]]:
    with store.engine.connect() as conn:
        rows = conn.execute(select(t.people_changes.c.tracker, t.people_changes.c.item_id))
        return sorted((row.tracker, row.item_id) for row in rows)


def started(item_id: str) -> ItemTransition:
    return ItemTransition(
        tracker="jira",
        item_id=item_id,
        event_id=f"{item_id}-1",
        at=T0 + timedelta(minutes=1),
        field="status",
        to_value="3",
        to_category=State.IN_PROGRESS,
    )


def test_a_commit_marks_each_item_once_for_its_row_and_its_history(store: Database) -> None:
    items = [make_item("1"), make_item("2")]
    read = {item.id: item.updated_at for item in items}
    store.sync_state.commit_pages("jira", items, transitions=[started("1")], history_read=read)
    assert marks(store) == [("jira", "1"), ("jira", "2")]
    changed = [
        item.model_copy(update={"state": State.DONE, "updated_at": T0 + timedelta(hours=1)}) for item in items
    ]
    store.sync_state.commit_pages("jira", changed, transitions=[started("2")], history_read=read)
    assert marks(store) == [("jira", "1"), ("jira", "1"), ("jira", "2"), ("jira", "2")]  # a new transaction


def test_a_savepoints_marks_are_not_taken_as_made(store: Database) -> None:
    with store.engine.begin() as conn:
        savepoint = conn.begin_nested()
        assert mark_changed(conn, [("jira", "1")]) == 1
        savepoint.rollback()
        assert mark_changed(conn, [("jira", "1"), ("jira", "1")]) == 1
        assert mark_changed(conn, [("jira", "1"), ("jira", "2")]) == 1
    assert marks(store) == [("jira", "1"), ("jira", "2")]
