"""Transactions commit on a thread of their own, one at a time and in order; a failure reaches the
runner at its next hand-over, with the history reads of the transaction that did not commit."""

from __future__ import annotations

import threading

import pytest

from v2mom.errors import FatalError
from v2mom.sync.commits_behind import CommitsBehind


def test_commits_run_in_order_one_at_a_time_off_the_callers_thread() -> None:
    order: list[int] = []
    running = threading.Semaphore(1)  # a second commit running at once would find it taken
    threads: set[str] = set()
    committed: list[tuple[int, str]] = []
    behind = CommitsBehind(on_committed=lambda n: committed.append((n, threading.current_thread().name)))

    def commit(n: int) -> None:
        assert running.acquire(blocking=False), "two commits ran at once"
        threads.add(threading.current_thread().name)
        order.append(n)
        running.release()

    for n in range(20):
        behind.submit(lambda n=n: commit(n), items=n, reads=1)
    behind.wait()
    behind.close()
    assert order == list(range(20))
    assert threading.current_thread().name not in threads
    assert committed == [(n, threading.current_thread().name) for n in range(20)]


def test_the_caller_reads_on_while_a_commit_runs_and_waits_for_it_at_the_next_hand_over() -> None:
    release = threading.Event()
    behind = CommitsBehind()
    behind.submit(lambda: release.wait(5) or None, items=1, reads=0)
    handed_over = threading.Event()

    def next_transaction() -> None:
        behind.submit(lambda: None, items=1, reads=0)
        handed_over.set()

    reader = threading.Thread(target=next_transaction)
    reader.start()
    assert not handed_over.wait(0.2)  # the second waits for the first to commit
    release.set()
    assert handed_over.wait(5)
    reader.join()
    behind.wait()
    behind.close()


def test_a_failed_commit_is_raised_at_the_next_hand_over_with_its_reads_unsettled() -> None:
    ran: list[str] = []
    committed: list[int] = []
    behind = CommitsBehind(on_committed=committed.append)

    def failing() -> None:
        raise FatalError("disk full", tracker="jira")

    behind.submit(lambda: ran.append("first"), items=5, reads=2)
    behind.submit(failing, items=7, reads=3)
    with pytest.raises(FatalError, match="disk full"):
        behind.submit(lambda: ran.append("third"), items=9, reads=4)
    behind.wait()  # nothing in flight any more
    behind.close()
    assert ran == ["first"]
    assert committed == [5]
    assert behind.unsettled_reads == 3


def test_close_waits_for_a_commit_still_running() -> None:
    finished: list[bool] = []
    started = threading.Event()

    def slow() -> None:
        started.set()
        threading.Event().wait(0.2)
        finished.append(True)

    behind = CommitsBehind()
    behind.submit(slow, items=1, reads=0)
    assert started.wait(5)
    behind.close()
    assert finished == [True]
