"""The items repository on SQLite and PostgreSQL: idempotent upserts keyed by the stable id, newest
copy wins, every field round-trips, deletions and resurrection, and the SQLite encoders."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import StatementError

from tests.factories import T0, make_item
from v2mom.models import State
from v2mom.store import schema as t
from v2mom.store.database import Database
from v2mom.store.items import json_text, sqlite_datetime


def test_upsert_is_idempotent_and_keyed_by_stable_id(store: Database) -> None:
    items = [make_item(str(i), minutes=i) for i in range(1, 6)]
    store.items.upsert(items)
    store.items.upsert(items)
    assert store.items.count() == 5
    moved = make_item("3", minutes=10, key="PLAT-99", container="PLAT")
    store.items.upsert([moved])
    assert store.items.count() == 5
    found = store.items.find("jira", "plat-99")
    assert found is not None
    assert found.item.id == "3"
    assert found.item.container == "PLAT"
    assert store.items.find("jira", "ONB-3") is None


def test_older_copy_never_overwrites_newer(store: Database) -> None:
    store.items.upsert([make_item("1", minutes=30, title="new", state=State.DONE)])
    store.items.upsert([make_item("1", minutes=5, title="stale")])
    stored = store.items.by_id("jira", "1")
    assert stored is not None
    assert stored.item.title == "new"
    assert stored.item.state is State.DONE


def test_upsert_counts_the_rows_it_wrote(store: Database) -> None:
    """Inserted and updated rows count; an older copy the upsert skips does not."""
    assert store.items.upsert([make_item("1", minutes=5), make_item("2", minutes=5)]) == 2
    assert store.items.upsert([make_item("1", minutes=1), make_item("2", minutes=9)]) == 1
    assert store.items.upsert([make_item("1", minutes=5)]) == 1  # the same moment again: written


def test_a_naive_sync_time_is_refused_and_nothing_is_written(store: Database) -> None:
    """Neither backend's upsert sends its rows through the column processors one by one: a naive
    datetime (no tzinfo, or one without an offset) is still refused before any row is written."""
    with pytest.raises((ValueError, StatementError), match="naive"):
        store.items.upsert([make_item("1")], synced_at=datetime(2026, 11, 1))
    assert store.items.count() == 0
    with pytest.raises((ValueError, StatementError), match="naive"):
        store.items.upsert([make_item("1")], synced_at=datetime(2026, 11, 1, tzinfo=_NoOffset()))
    assert store.items.count() == 0


def test_same_id_twice_in_one_batch_keeps_newest(store: Database) -> None:
    store.items.upsert([make_item("1", minutes=9, title="newest"), make_item("1", minutes=1, title="older")])
    stored = store.items.by_id("jira", "1")
    assert stored is not None
    assert stored.item.title == "newest"


def test_round_trip_keeps_every_field(store: Database) -> None:
    item = make_item(
        "7",
        labels=("value:customer-first", "x"),
        components=("Billing",),
        custom_fields={"V2MOM Method": ("slo-program",)},
        points=3.5,
        hours=1.25,
        parent_id="1",
        completed_at=T0 + timedelta(days=2),
        created_at=T0 - timedelta(days=1),
        url="https://acme.atlassian.net/browse/ONB-7",
        assignee="557058:f58131cb-b67d-43c7-b30d-6b58d40bd077",
        started_at=T0 - timedelta(hours=3),
    )
    store.items.upsert([item])
    stored = store.items.by_id("jira", "7")
    assert stored is not None
    assert stored.item == item
    assert (stored.item.assignee, stored.item.started_at) == (item.assignee, item.started_at)


def test_a_change_of_assignee_or_start_alone_is_stored(store: Database) -> None:
    """An item read again with nothing changed but who holds it, or when it started, is written:
    the upsert compares updated times, not a signature of what changed."""
    east = timezone(timedelta(hours=2))
    store.items.upsert([make_item("1", assignee="acc-1")])
    store.items.upsert([make_item("1", assignee="acc-2", started_at=datetime(2026, 11, 1, 10, tzinfo=east))])
    stored = store.items.by_id("jira", "1")
    assert stored is not None
    assert (stored.item.assignee, stored.item.started_at) == ("acc-2", datetime(2026, 11, 1, 8, tzinfo=UTC))
    assert stored.item.started_at is not None
    assert stored.item.started_at.utcoffset() == timedelta(0)
    store.items.upsert([make_item("1", minutes=1)])  # unassigned, and its start removed
    stored = store.items.by_id("jira", "1")
    assert stored is not None
    assert (stored.item.assignee, stored.item.started_at) == (None, None)
    store.items.upsert([make_item("1", assignee="acc-3")])  # an older copy still changes nothing
    stored = store.items.by_id("jira", "1")
    assert stored is not None
    assert stored.item.assignee is None


def test_deletion_and_resurrection(store: Database) -> None:
    store.items.upsert([make_item("1"), make_item("2")])
    assert store.items.mark_deleted("jira", ["2", "404"]) == 1
    assert store.items.live_ids("jira") == {"1"}
    assert store.items.count(include_deleted=True) == 2
    store.items.upsert([make_item("2", minutes=1)])
    assert store.items.live_ids("jira") == {"1", "2"}


def test_the_sqlite_upsert_encodes_datetimes_as_it_always_stored_them() -> None:
    """Stored times are compared as text (an older copy never overwrites a newer one), so the fast
    encoder must write exactly what the upsert wrote before — the column's processor, then the
    sqlite3 module's datetime adapter (``isoformat(" ")``) — offsets and zero microseconds
    included; JSON may be formatted differently but must read back the same."""
    dialect = sqlite.dialect()
    column = t.items.c.updated_at.type
    generic = column.bind_processor(dialect)
    assert generic is not None
    east = timezone(timedelta(hours=5, minutes=30))
    for value in (
        datetime(2026, 11, 1, 9, 30, tzinfo=UTC),
        datetime(2026, 11, 1, 9, 30, 0, 123456, tzinfo=UTC),
        datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=east),
        datetime(2026, 1, 5, 8, 0, 0, 500, tzinfo=timezone(timedelta(hours=-8))),
        datetime(2026, 1, 5, 8, 0, tzinfo=timezone(timedelta(0), "Z")),  # UTC by another name
        datetime(2026, 1, 5, 8, 0, tzinfo=ZoneInfo("Europe/London")),  # a zone at offset zero
        datetime(2026, 7, 5, 8, 0, tzinfo=ZoneInfo("Europe/London")),  # the same zone in summer
        None,
    ):
        before = generic(value)
        assert sqlite_datetime(value) == (before.isoformat(" ") if before is not None else None)
    with pytest.raises(ValueError, match="naive"):
        sqlite_datetime(datetime(2026, 11, 1))
    with pytest.raises(ValueError, match="naive"):
        sqlite_datetime(datetime(2026, 11, 1, tzinfo=_NoOffset()))  # a tzinfo without an offset
    for value in (["a", "b é"], {"Team Bet": ["Yes"]}, []):
        assert json.loads(json_text(value) or "null") == value
    tuples = ((("a", "b é"), ["a", "b é"]), ((), []), ({"Team Bet": ("Yes",)}, {"Team Bet": ["Yes"]}))
    for held, read in tuples:  # as WorkItems hold them
        assert json.loads(json_text(held) or "null") == read


def test_the_datetime_column_refuses_a_time_zone_that_gives_no_offset() -> None:
    """Every other write of a datetime goes through the column type: a tzinfo without an offset
    makes a naive datetime, which would otherwise be stored as local time."""
    column = t.items.c.updated_at.type
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        with pytest.raises(ValueError, match="naive"):
            column.process_bind_param(datetime(2026, 11, 1, tzinfo=_NoOffset()), dialect)
        assert column.process_bind_param(datetime(2026, 11, 1, tzinfo=UTC), dialect) is not None


class _NoOffset(tzinfo):
    """A time zone that knows no offset: datetimes carrying it are naive."""

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return None
