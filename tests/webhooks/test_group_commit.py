"""Group commit: concurrent deliveries share a transaction; each learns its own outcome."""

from __future__ import annotations

import asyncio

import pytest

from v2mom.events import WebhookEvent
from v2mom.store.database import Database
from v2mom.webhooks.ingest import GroupCommitter


def event(delivery: str) -> WebhookEvent:
    return WebhookEvent("jira", delivery, "refetch", "10001", None, {"n": delivery})


def test_concurrent_submits_each_get_their_outcome(store: Database) -> None:
    inbox = store.inbox
    committer = GroupCommitter(inbox, max_batch=16)
    committer.start()

    async def burst() -> list[bool]:
        deliveries = [f"d{i}" for i in range(60)] + ["d1", "d2", "d3"]  # three duplicates
        return list(await asyncio.gather(*(committer.submit(event(d)) for d in deliveries)))

    try:
        outcomes = asyncio.run(burst())
    finally:
        committer.stop()
    assert outcomes.count(True) == 60
    assert outcomes.count(False) == 3
    assert inbox.counts() == {"jira": {"pending": 60}}


def test_duplicates_inside_one_batch(store: Database) -> None:
    inbox = store.inbox
    assert inbox.enqueue_many([event("a"), event("a"), event("b")]) == [True, False, True]
    assert inbox.enqueue_many([event("b")]) == [False]


def broken_enqueue_many(events: list[WebhookEvent]) -> list[bool]:
    raise RuntimeError("disk full")


def test_a_failed_commit_is_an_error_for_every_waiter_never_an_ack(
    store: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store.inbox, "enqueue_many", broken_enqueue_many)
    committer = GroupCommitter(store.inbox)
    committer.start()

    async def submit() -> bool:
        return await committer.submit(event("x"))

    try:
        with pytest.raises(RuntimeError, match="disk full"):
            asyncio.run(submit())
    finally:
        committer.stop()
