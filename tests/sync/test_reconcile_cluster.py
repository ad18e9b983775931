"""Several instances (two ``Database`` pools, as two processes have) share one reconcile schedule:
never two passes at once, and about one per interval whoever runs it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from tests.support import wait_for
from v2mom.settings import JiraSettings, Settings, SyncSettings, TrackersSettings
from v2mom.store.database import Database
from v2mom.sync.runner import SyncResult
from v2mom.sync.schedule import STARTUP_WINDOW, ReconcileThread

Run = Callable[[Settings, Database], list[SyncResult]]


class Runs:
    """Injected ``run`` callables that record which instance ran and how many ran at once."""

    def __init__(self) -> None:
        self.ran: list[str] = []
        self.running = 0
        self.most_at_once = 0
        self._lock = threading.Lock()

    def recording(
        self, name: str, *, hold: threading.Event | None = None, started: threading.Event | None = None
    ) -> Run:
        def run(_settings: Settings, _store: Database) -> list[SyncResult]:
            with self._lock:
                self.ran.append(name)
                self.running += 1
                self.most_at_once = max(self.most_at_once, self.running)
            try:
                if started is not None:
                    started.set()
                if hold is not None:
                    assert hold.wait(30), "the test never released the pass"
            finally:
                with self._lock:
                    self.running -= 1
            return [SyncResult(tracker="jira", kind="incremental")]

        return run


def test_a_pass_running_on_one_instance_makes_the_other_skip(
    two_stores: tuple[Database, Database], caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(sync=SyncSettings(reconcile_every="1h"))
    runs, release, a_running = Runs(), threading.Event(), threading.Event()
    results: list[str] = []
    a = ReconcileThread(settings, two_stores[0], run=runs.recording("a", hold=release, started=a_running))
    b = ReconcileThread(
        settings, two_stores[1], run=runs.recording("b"), on_result=lambda _r: results.append("b")
    )
    with caplog.at_level(logging.INFO, logger="v2mom.sync.schedule"):
        a.start()
        try:
            assert a_running.wait(10), "instance a should start its first pass"
            b.start()  # its first pass overlaps a's, which holds the lock
            assert wait_for(lambda: b.skipped == 1, timeout=10), "b should skip while a runs its pass"
        finally:
            release.set()
            a.stop()
            b.stop()
    assert runs.ran == ["a"]
    assert runs.most_at_once == 1
    assert (a.passes, a.skipped, b.passes, b.skipped) == (1, 0, 0, 1)
    assert results == []  # a skipped pass reports nothing
    assert "reconcile: skipped, another instance is running a pass" in caplog.text


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """The schedule's clock, standing still until a test moves ``clock[0]``."""
    now = [datetime(2026, 12, 1, 9, 0, tzinfo=UTC)]
    monkeypatch.setattr("v2mom.sync.schedule.utcnow", lambda: now[0])
    return now


def test_both_instances_together_run_one_pass_per_interval(
    two_stores: tuple[Database, Database], clock: list[datetime]
) -> None:
    settings = Settings(sync=SyncSettings(reconcile_every="0.02s"))
    runs = Runs()
    a = ReconcileThread(settings, two_stores[0], run=runs.recording("a"))
    b = ReconcileThread(settings, two_stores[1], run=runs.recording("b"))
    a.start()
    try:
        assert wait_for(lambda: a.passes == 1 and a.skipped >= 2, timeout=10)
        b.start()  # started with a: a's pass of a moment ago was its first pass too
        assert wait_for(lambda: b.skipped >= 3, timeout=10)
        assert (runs.ran, b.passes) == (["a"], 0)  # the clock stood still: every later pass was skipped
        skipped = a.skipped + b.skipped
        clock[0] += timedelta(seconds=1)  # one interval (and more) later: one of them runs the next pass
        assert wait_for(lambda: a.skipped + b.skipped >= skipped + 4, timeout=10)
    finally:
        a.stop()
        b.stop()
    assert len(runs.ran) == 2
    assert runs.most_at_once == 1
    assert a.passes + b.passes == 2


def test_an_instance_started_later_runs_its_first_pass_at_once(
    two_stores: tuple[Database, Database], clock: list[datetime]
) -> None:
    settings = Settings(sync=SyncSettings(reconcile_every="1h"))
    runs = Runs()
    a = ReconcileThread(settings, two_stores[0], run=runs.recording("a"))
    a.start()
    assert wait_for(lambda: a.passes == 1, timeout=10)
    a.stop()
    clock[0] += STARTUP_WINDOW + timedelta(seconds=1)  # a restart, well within the hour
    b = ReconcileThread(settings, two_stores[1], run=runs.recording("b"))
    b.start()
    try:
        assert wait_for(lambda: b.passes + b.skipped == 1, timeout=10)
    finally:
        b.stop()
    assert runs.ran == ["a", "b"]


def test_a_recent_pass_without_this_instances_tracker_does_not_hold_its_pass_back(
    two_stores: tuple[Database, Database], clock: list[datetime]
) -> None:
    runs = Runs()
    hourly = SyncSettings(reconcile_every="1h")
    jira = JiraSettings(
        url="https://jira.example.com", email="a@example.com", api_token="t", jql="project = X"
    )
    old = ReconcileThread(Settings(sync=hourly), two_stores[0], run=runs.recording("old"))
    new = ReconcileThread(
        Settings(sync=hourly, trackers=TrackersSettings(jira=jira)), two_stores[1], run=runs.recording("new")
    )
    same = ReconcileThread(Settings(sync=hourly), two_stores[1], run=runs.recording("same"))
    for thread in (old, new, same):  # one after the other, at the same moment
        thread.start()
        assert wait_for(lambda t=thread: t.passes + t.skipped == 1, timeout=10)
        thread.stop()
    assert runs.ran == ["old", "new"]  # "same" has nothing the last pass did not sync
