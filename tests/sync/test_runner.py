"""The sync runner's guarantees, independent of any tracker's HTTP details."""

from __future__ import annotations

from datetime import timedelta

from tests.factories import T0, make_item
from tests.sync.fake_connector import FakeConnector
from v2mom.models import WorkItem
from v2mom.store.database import Database
from v2mom.sync.runner import sync_tracker

RUN_START = T0 + timedelta(hours=1)


def items(n: int) -> list[WorkItem]:
    return [make_item(str(i), minutes=i) for i in range(1, n + 1)]


def test_full_sync_stores_everything_and_sets_cursor(store: Database) -> None:
    connector = FakeConnector(items(10))
    result = sync_tracker(store, connector, full=True, now=lambda: RUN_START)
    assert result.ok, result.error
    assert (result.seen, result.upserted, result.pages) == (10, 10, 4)
    assert result.census
    assert store.items.count() == 10
    assert store.sync_state.get_cursor("jira", "fake") == T0 + timedelta(minutes=10)


def test_cursor_never_passes_run_start(store: Database) -> None:
    future = [make_item("1", minutes=600)]
    sync_tracker(store, FakeConnector(future), full=True, now=lambda: RUN_START)
    assert store.sync_state.get_cursor("jira", "fake") == RUN_START


def test_interrupted_run_resumes_with_nothing_lost_or_duplicated(store: Database) -> None:
    all_items = items(10)
    broken = FakeConnector(all_items, fail_after_pages=2)
    first = sync_tracker(store, broken, full=True, now=lambda: RUN_START, commit_every=1)
    assert not first.ok
    assert first.error is not None
    assert "503" in first.error
    assert store.items.count() == 6
    committed_cursor = store.sync_state.get_cursor("jira", "fake")
    assert committed_cursor == T0 + timedelta(minutes=6)

    resumed = FakeConnector(all_items)
    second = sync_tracker(store, resumed, overlap=timedelta(minutes=2), now=lambda: RUN_START)
    assert second.ok
    assert second.kind == "incremental"
    assert resumed.since_seen == [committed_cursor - timedelta(minutes=2)]
    assert store.items.count() == 10
    assert store.items.live_ids("jira") == {str(i) for i in range(1, 11)}


def test_incremental_reads_only_since_cursor_minus_overlap(store: Database) -> None:
    connector = FakeConnector(items(9))
    sync_tracker(store, connector, full=True, now=lambda: RUN_START)
    changed = make_item("4", minutes=45, title="changed")
    connector.items["4"] = changed
    connector.calls.calls.clear()
    result = sync_tracker(store, connector, overlap=timedelta(minutes=1), now=lambda: RUN_START)
    assert result.ok
    assert result.seen == 3  # items 8 and 9 (cursor 9 minus 1 minute of overlap) and the changed item 4
    assert connector.calls.calls["search"] == 1
    stored = store.items.by_id("jira", "4")
    assert stored is not None
    assert stored.item.title == "changed"


def test_census_marks_deleted_items(store: Database) -> None:
    connector = FakeConnector(items(5))
    sync_tracker(store, connector, full=True, now=lambda: RUN_START)
    del connector.items["2"]
    result = sync_tracker(store, connector, census=True, now=lambda: RUN_START)
    assert result.deleted == 1
    assert store.items.live_ids("jira") == {"1", "3", "4", "5"}


def test_census_runs_hourly_on_incremental_runs(store: Database) -> None:
    connector = FakeConnector(items(3))
    sync_tracker(store, connector, full=True, now=lambda: RUN_START)
    soon = sync_tracker(store, connector, now=lambda: RUN_START + timedelta(minutes=10))
    later = sync_tracker(store, connector, now=lambda: RUN_START + timedelta(minutes=61))
    assert not soon.census
    assert later.census


def test_failed_runs_are_recorded_and_do_not_count_as_fresh(store: Database) -> None:
    sync_tracker(store, FakeConnector(items(4), fail_after_pages=0), full=True, now=lambda: RUN_START)
    assert store.sync_state.last_successful_sync() == {}
    sync_tracker(store, FakeConnector(items(4)), full=True, now=lambda: RUN_START)
    assert set(store.sync_state.last_successful_sync()) == {"jira"}
