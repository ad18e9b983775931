"""The reconcile schedule and its duration setting."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, date, datetime, timedelta

import pytest

from tests.reviews_world import reviews_world
from tests.support import wait_for
from v2mom.errors import TrackerError
from v2mom.reports.reviews import close_due_periods
from v2mom.settings import Settings, SyncSettings, parse_duration
from v2mom.store.database import Database
from v2mom.sync.runner import SyncResult
from v2mom.sync.schedule import ReconcileThread


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90), ("15m", 900), ("2h", 7200), ("1d", 86400), ("0.5s", 0.5)]
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["15", "m", "-5m", "0s", "15 minutes"])
def test_bad_durations_are_config_errors(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        SyncSettings(reconcile_every=text)


def test_reconcile_runs_immediately_and_then_every_interval(store: Database) -> None:
    settings = Settings(sync=SyncSettings(reconcile_every="0.05s"))
    calls: list[int] = []
    three = threading.Event()

    def fake_sync(_settings: Settings, _store: Database) -> list[SyncResult]:
        calls.append(1)
        if len(calls) >= 3:
            three.set()
        return [SyncResult(tracker="jira", kind="incremental")]

    thread = ReconcileThread(settings, store, run=fake_sync)
    thread.start()
    assert three.wait(5), "three passes should run within five seconds at a 50 ms interval"
    thread.stop()
    assert thread.passes >= 3


def test_a_failing_pass_is_logged_and_the_schedule_goes_on(
    store: Database, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(sync=SyncSettings(reconcile_every="0.01s"))
    errors = [TrackerError("unreachable", tracker="jira"), RuntimeError("database went away")]
    recovered = threading.Event()

    def flaky_sync(_settings: Settings, _store: Database) -> list[SyncResult]:
        if errors:
            raise errors.pop(0)
        recovered.set()
        return []

    thread = ReconcileThread(settings, store, run=flaky_sync)
    with caplog.at_level(logging.WARNING, logger="v2mom.sync.schedule"):
        thread.start()
        try:
            assert recovered.wait(5), "a pass should run after a tracker error and an unexpected one"
        finally:
            thread.stop()
    assert thread.passes >= 3
    assert "reconcile: step failed: TrackerError: jira: unreachable" in caplog.text
    assert "RuntimeError: database went away" in caplog.text


def test_a_tracker_s_failed_pass_is_a_warning_of_the_reconcile(
    store: Database, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(sync=SyncSettings(reconcile_every="1h"))
    done = threading.Event()

    def one_failing(_settings: Settings, _store: Database) -> list[SyncResult]:
        done.set()
        return [
            SyncResult(
                tracker="jira", kind="incremental", error="jira: cannot connect to http://127.0.0.1:9"
            ),
            SyncResult(tracker="linear", kind="incremental"),
        ]

    thread = ReconcileThread(settings, store, run=one_failing)
    with caplog.at_level(logging.INFO, logger="v2mom.sync"):
        thread.start()
        try:
            assert done.wait(5)
        finally:
            thread.stop()
    levels = {
        r.getMessage().split(" — ")[0]: r.levelname for r in caplog.records if "reconcile: " in r.getMessage()
    }
    assert levels == {
        "reconcile: jira: FAILED: jira: cannot connect to http://127.0.0.1:9": "WARNING",
        "reconcile: linear: ok": "INFO",
    }


@pytest.fixture
def august(monkeypatch: pytest.MonkeyPatch) -> None:
    """The schedule's clock on 2026-08-15: the plan's q1 and q2 have ended."""
    monkeypatch.setattr("v2mom.sync.schedule.utcnow", lambda: datetime(2026, 8, 15, 9, 0, tzinfo=UTC))


def test_a_reconcile_pass_closes_the_ended_review_periods(store: Database, august: None) -> None:
    reviews_world(store)
    settings = Settings(sync=SyncSettings(reconcile_every="1h"))
    thread = ReconcileThread(
        settings,
        store,
        run=lambda _settings, _store: [SyncResult(tracker="jira", kind="incremental")],
        after_pass=lambda day: close_due_periods(store, day),
    )
    thread.start()
    try:
        assert wait_for(lambda: thread.passes == 1, timeout=10)
    finally:
        thread.stop()
    closed = store.reviews.list()
    assert [(r.period_id, r.closed_by) for r in closed] == [("q1", "reconcile"), ("q2", "reconcile")]


def test_closing_after_a_pass_fails_loudly_but_the_schedule_goes_on(
    store: Database, august: None, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(sync=SyncSettings(reconcile_every="0.01s"))
    days: list[date] = []

    def close(day: date) -> None:
        days.append(day)
        raise RuntimeError("database went away")

    thread = ReconcileThread(
        settings, store, run=lambda _s, _d: [SyncResult(tracker="jira", kind="incremental")], after_pass=close
    )
    with caplog.at_level(logging.INFO, logger="v2mom.sync.schedule"):
        thread.start()
        try:
            # The clock stands still, so later passes skip as recent: the loop is still going.
            assert wait_for(lambda: thread.passes == 1 and thread.skipped >= 1, timeout=10)
        finally:
            thread.stop()
    assert days == [date(2026, 8, 15)]
    assert "reconcile: closing ended review periods failed" in caplog.text
    assert "database went away" in caplog.text


def test_periods_are_not_closed_after_a_pass_in_which_a_tracker_failed(
    store: Database, august: None, caplog: pytest.LogCaptureFixture
) -> None:
    days: list[date] = []
    failed = SyncResult(tracker="jira", kind="incremental", error="unreachable")
    thread = ReconcileThread(
        Settings(sync=SyncSettings(reconcile_every="1h")),
        store,
        run=lambda _s, _d: [failed],
        after_pass=days.append,
    )
    with caplog.at_level(logging.INFO, logger="v2mom.sync.schedule"):
        thread.start()
        try:
            assert wait_for(lambda: thread.passes == 1, timeout=10)
        finally:
            thread.stop()
    assert days == []
    assert "review periods not closed after this pass: a tracker did not sync" in caplog.text
