"""Named locks across processes: one holder at a time, released when the holder ends or is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.layout import ROOT
from tests.support import wait_for
from v2mom.store.database import Database
from v2mom.store.locks import advisory_key
from v2mom.store.migrate import current_revision, head_revision

HOLD = """
import sys, time
from v2mom.store.database import Database
store = Database.open(sys.argv[1])
with store.locks.exclusive("reconcile") as acquired:
    print("held" if acquired else "refused", flush=True)
    time.sleep(600)
"""


def test_one_holder_at_a_time_and_the_next_one_after_it(two_stores: tuple[Database, Database]) -> None:
    first, second = two_stores
    with first.locks.exclusive("reconcile") as held:
        assert held
        with second.locks.exclusive("reconcile") as also:
            assert not also
        with first.locks.exclusive("reconcile") as same_process_again:
            assert not same_process_again  # another thread of the same process is refused too
        with second.locks.exclusive("other-job") as other:
            assert other  # names are independent
    with second.locks.exclusive("reconcile") as after:
        assert after


def test_a_block_that_raises_releases_the_lock(two_stores: tuple[Database, Database]) -> None:
    first, second = two_stores

    def failing_pass() -> None:
        with first.locks.exclusive("reconcile") as held:
            assert held
            raise RuntimeError("pass failed")

    with pytest.raises(RuntimeError, match="pass failed"):
        failing_pass()
    with second.locks.exclusive("reconcile") as after:
        assert after


def test_a_killed_holder_releases_the_lock(database_url: str, two_stores: tuple[Database, Database]) -> None:
    first, _ = two_stores
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, database_url], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        with first.locks.exclusive("reconcile") as while_alive:
            assert not while_alive
        holder.send_signal(signal.SIGKILL)  # no unlock, no rollback: the database or kernel frees it
        holder.wait(timeout=10)
        with first.locks.exclusive("reconcile") as after_death:
            assert after_death
    finally:
        holder.kill()
        holder.wait(timeout=10)
        if holder.stdout is not None:
            holder.stdout.close()


def test_lock_names_are_checked_and_keys_are_stable() -> None:
    assert advisory_key("reconcile") == advisory_key("reconcile")
    assert advisory_key("reconcile") != advisory_key("migrate")
    assert -(2**63) <= advisory_key("reconcile") < 2**63


def test_an_unsafe_lock_name_is_refused(tmp_path: Path) -> None:
    store = Database.open(f"sqlite:///{tmp_path / 'v2mom.db'}")
    try:
        with pytest.raises(ValueError, match="lock name"), store.locks.exclusive("../escape"):
            pass
    finally:
        store.close()
    assert not list(tmp_path.glob("*escape*"))


def test_the_sqlite_lock_file_is_private(tmp_path: Path) -> None:
    store = Database.open(f"sqlite:///{tmp_path / 'v2mom.db'}")
    try:
        with store.locks.exclusive("reconcile") as held:
            assert held
    finally:
        store.close()
    assert (tmp_path / "v2mom.db.reconcile.lock").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    "empty_database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_processes_starting_at_once_on_an_empty_database_migrate_it_once(empty_database_url: str) -> None:
    opened: list[Database] = []
    failures: list[BaseException] = []
    start = threading.Barrier(3)

    def open_store() -> None:
        start.wait(timeout=10)
        try:
            opened.append(Database.open(empty_database_url))
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    try:
        assert failures == []
        assert len(opened) == 3
        assert current_revision(opened[0].engine) == head_revision()
    finally:
        for store in opened:
            store.close()


def _someone_waits(store: Database, name: str) -> bool:
    """Whether someone is blocked waiting for the lock ``name`` (pg_locks, or /proc/locks for SQLite)."""
    if store.dialect == "postgresql":
        with store.engine.connect() as conn:
            waiting = conn.exec_driver_sql(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            ).scalar_one()
        return bool(waiting)
    inode = Path(f"{store.engine.url.database}.{name}.lock").stat().st_ino
    return any(
        "-> FLOCK" in line and f":{inode} " in line for line in Path("/proc/locks").read_text().splitlines()
    )


def test_hold_waits_for_the_holder_and_then_gets_the_lock(two_stores: tuple[Database, Database]) -> None:
    first, second = two_stores
    events: list[str] = []
    entered = threading.Event()

    def waiter() -> None:
        with second.locks.hold("resolutions"):
            events.append("second holds")
            entered.set()

    with first.locks.hold("resolutions"):
        events.append("first holds")
        thread = threading.Thread(target=waiter)
        thread.start()
        assert wait_for(lambda: _someone_waits(first, "resolutions"), timeout=10)
        assert not entered.is_set()
        events.append("first releases")
    assert entered.wait(10)
    thread.join(timeout=10)
    assert events == ["first holds", "first releases", "second holds"]
    with first.locks.exclusive("resolutions") as free_again:
        assert free_again
