"""Batches read on a few threads at once: in order, each thread with its own client, failing cleanly."""

from __future__ import annotations

import contextvars
import threading
import time

import pytest

from v2mom.connectors.reader_pool import ReaderPool, in_turn

LISTENER: contextvars.ContextVar[str] = contextvars.ContextVar("listener", default="unset")


class Client:
    """A client that knows whether it was closed."""

    made = 0

    def __init__(self) -> None:
        Client.made += 1
        self.number = Client.made
        self.closed = False

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def pool() -> ReaderPool[Client]:
    Client.made = 0
    return ReaderPool(Client, 2, "test-readers")


def test_what_each_batch_read_comes_back_in_the_batches_order(pool: ReaderPool[Client]) -> None:
    def work(batch: list[int]) -> list[int]:
        time.sleep(0.05 if batch[0] == 0 else 0)  # the first batch ends last
        return [n * 10 for n in batch]

    try:
        assert pool.run(work, [[0, 1], [2], [3, 4]]) == [0, 10, 20, 30, 40]
        assert in_turn(work, [[0, 1], [2], [3, 4]]) == [0, 10, 20, 30, 40]
    finally:
        pool.close()


def test_batches_overlap_up_to_the_pools_size_each_thread_with_a_client_of_its_own(
    pool: ReaderPool[Client],
) -> None:
    lock = threading.Lock()
    running = peak = 0
    used: dict[int, set[int]] = {}

    def work(batch: int) -> list[int]:
        nonlocal running, peak
        client = pool.client()
        with lock:
            running += 1
            peak = max(peak, running)
            used.setdefault(threading.get_ident(), set()).add(client.number)
        time.sleep(0.03)
        with lock:
            running -= 1
        return [batch]

    assert pool.run(work, range(6)) == list(range(6))
    assert peak == 2
    assert len(used) == 2
    assert all(len(clients) == 1 for clients in used.values())
    assert set().union(*used.values()) == {1, 2}  # two clients made, one a thread
    pool.close()
    assert Client.made == 2


def test_close_closes_every_readers_client() -> None:
    made: list[Client] = []

    def new_client() -> Client:
        made.append(Client())
        return made[-1]

    pool = ReaderPool(new_client, 2, "test-readers")

    def work(batch: int) -> list[int]:
        number = pool.client().number
        time.sleep(0.02)  # both threads busy at once, so each makes its client
        return [number]

    pool.run(work, range(4))
    assert len(made) == 2
    assert not any(client.closed for client in made)
    pool.close()
    assert all(client.closed for client in made)


def test_the_first_failure_is_raised_and_batches_not_started_are_not_run() -> None:
    pool: ReaderPool[Client] = ReaderPool(Client, 1, "test-readers")
    ran: list[int] = []

    def work(batch: int) -> list[int]:
        ran.append(batch)
        time.sleep(0.01)
        if batch in (1, 2):
            raise RuntimeError(f"batch {batch} refused")
        return [batch]

    try:
        with pytest.raises(RuntimeError, match="batch 1 refused"):
            pool.run(work, range(8))
        time.sleep(0.15)  # long enough for the other six batches, had they been left queued
    finally:
        pool.close()
    assert ran[:2] == [0, 1]
    assert len(ran) < 8  # what was still queued when batch 1 failed never ran


def test_each_batch_sees_the_callers_context(pool: ReaderPool[Client]) -> None:
    token = LISTENER.set("the caller's")
    try:
        assert pool.run(lambda batch: [LISTENER.get()], range(3)) == ["the caller's"] * 3
    finally:
        LISTENER.reset(token)
        pool.close()


def test_a_pool_needs_a_reader() -> None:
    with pytest.raises(ValueError, match="at least one reader"):
        ReaderPool(Client, 0, "none")
