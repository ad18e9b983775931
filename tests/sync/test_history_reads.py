"""Histories read on their own thread come back oldest transaction first, with the cursor they allow;
a failed read stops the taking there, and the reads ahead of the runner stay within ``depth``."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import timedelta

import pytest

from tests.factories import T0
from v2mom.errors import FatalError
from v2mom.models import ItemTransition
from v2mom.sync.history_reads import HistoryReads


def change(item_id: str) -> ItemTransition:
    return ItemTransition(
        tracker="jira", item_id=item_id, event_id=f"{item_id}-1", at=T0, field="assignee", to_value="acc-1"
    )


class Reader:
    """Reads each id's one change once its batch is let through (``gates`` by first id)."""

    def __init__(self, failing: str | None = None) -> None:
        self.gates: dict[str, threading.Event] = {}
        self.failing = failing
        self.read: list[list[str]] = []
        self.entered = threading.Event()  # a read has begun

    def gate(self, first: str) -> threading.Event:
        return self.gates.setdefault(first, threading.Event())

    def __call__(self, ids: Sequence[str]) -> list[ItemTransition]:
        self.entered.set()
        assert self.gate(ids[0]).wait(30)
        self.read.append(list(ids))
        if self.failing in ids:
            raise FatalError("history unavailable", tracker="jira")
        return [change(i) for i in ids]


def test_reads_come_back_in_order_and_the_cursor_waits_for_the_histories_it_covers() -> None:
    reader = Reader()
    reads = HistoryReads(reader, depth=5)
    try:
        reads.submit({"a": T0}, T0 + timedelta(minutes=1))
        reads.submit({}, T0 + timedelta(minutes=2))  # nothing to read: its cursor still waits for "a"
        reads.submit({"b": T0}, T0 + timedelta(minutes=3))
        taken = reads.take()
        assert (taken.read, taken.transitions, taken.cursor) == ({}, [], None)
        reader.gate("a").set()
        reader.gate("b").set()
        taken = reads.take(wait=True)
        assert taken.read == {"a": T0, "b": T0}
        assert taken.transitions == [change("a"), change("b")]
        assert taken.cursor == T0 + timedelta(minutes=3)
        assert taken.error is None
    finally:
        reads.close()


def test_an_item_read_twice_keeps_only_its_newer_read() -> None:
    reader = Reader()
    reader.gate("a").set()
    reads = HistoryReads(reader)
    try:
        reads.submit({"a": T0}, None)
        reads.submit({"a": T0 + timedelta(hours=1)}, None)
        taken = reads.take(wait=True)
        assert taken.read == {"a": T0 + timedelta(hours=1)}
        assert taken.transitions == [change("a")]  # not twice
    finally:
        reads.close()


def test_a_failed_read_hands_back_what_came_before_it_and_its_error_and_nothing_after() -> None:
    reader = Reader(failing="b")
    for first in "abc":
        reader.gate(first).set()
    reads = HistoryReads(reader, depth=5)
    try:
        reads.submit({"a": T0}, T0 + timedelta(minutes=1))
        reads.submit({"b": T0}, T0 + timedelta(minutes=2))
        reads.submit({"c": T0}, T0 + timedelta(minutes=3))
        taken = reads.take(wait=True)
        assert taken.read == {"a": T0}
        assert taken.transitions == [change("a")]
        assert taken.cursor == T0 + timedelta(minutes=1)  # not past the items whose read failed
        assert isinstance(taken.error, FatalError)
    finally:
        reads.close()


def test_taking_waits_for_the_oldest_read_once_more_than_depth_are_pending() -> None:
    reader = Reader()
    reads = HistoryReads(reader, depth=1)
    try:
        reads.submit({"a": T0}, None)
        assert reads.take().read == {}  # one pending: within depth, nothing waited for
        reads.submit({"b": T0}, None)
        reader.gate("a").set()
        taken = reads.take()  # two pending: the oldest is waited for
        assert taken.read == {"a": T0}
    finally:
        reader.gate("b").set()
        reads.close()


def test_closing_cancels_the_reads_not_started_and_stops_the_thread() -> None:
    reader = Reader()
    reads = HistoryReads(reader, join_timeout=0.01)
    reads.submit({"a": T0}, None)  # held inside its read while close() runs
    reads.submit({"b": T0}, None)
    assert reader.entered.wait(30)
    reads.close()  # cancels "b"; "a" is still running, so the join gives up and logs it
    worker = next(t for t in threading.enumerate() if t.name == "history")
    reader.gate("a").set()
    worker.join(30)
    assert not worker.is_alive()  # it ended once "a" was read
    assert reader.read == [["a"]]  # "b" never was


@pytest.mark.parametrize("depth", [1, 3])
def test_every_read_is_handed_back_once(depth: int) -> None:
    reader = Reader()
    reads = HistoryReads(reader, depth=depth)
    seen: dict[str, object] = {}
    try:
        for n in range(10):
            reader.gate(str(n)).set()
            reads.submit({str(n): T0}, None)
            seen.update(reads.take().read)
        seen.update(reads.take(wait=True).read)
    finally:
        reads.close()
    assert sorted(seen) == [str(n) for n in range(10)]
