"""The review snapshots table through its repository: a snapshot is written once and never rewritten."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from v2mom.store.database import Database

CLOSED_AT = datetime(2026, 8, 1, 3, 0, tzinfo=UTC)


def close(store: Database, period_id: str, end: date, **changes: Any) -> Any:
    fields: dict[str, Any] = {
        "cycle_id": "fy27",
        "period_id": period_id,
        "period_start": end - timedelta(days=89),
        "period_end": end,
        "plan_version": 3,
        "closed_at": CLOSED_AT,
        "closed_by": "cli:ana",
        "document": {"company": {"total": 12.5}, "note": "ünïcode"},
    }
    return store.reviews.close(**(fields | changes))


def test_a_snapshot_is_written_once(store: Database) -> None:
    first = close(store, "q1", date(2026, 4, 30))
    assert first.closed
    second = close(store, "q1", date(2026, 4, 30), closed_by="cli:bob", document={"company": {"total": 0}})
    assert not second.closed
    assert second.review == first.review
    stored = store.reviews.get("fy27", "q1")
    assert stored is not None
    assert stored.document == {"company": {"total": 12.5}, "note": "ünïcode"}
    assert (stored.closed_by, stored.closed_at, stored.plan_version) == ("cli:ana", CLOSED_AT, 3)


def test_snapshots_are_listed_in_period_order_and_read_by_key(store: Database) -> None:
    close(store, "q2", date(2026, 7, 31))
    close(store, "q1", date(2026, 4, 30))
    close(store, "h1", date(2026, 7, 31), cycle_id="fy26")
    assert [(r.cycle_id, r.period_id) for r in store.reviews.list()] == [
        ("fy26", "h1"),
        ("fy27", "q1"),
        ("fy27", "q2"),
    ]
    assert store.reviews.closed_periods("fy27") == {"q1", "q2"}
    assert store.reviews.get("fy27", "q3") is None
    assert store.reviews.summary("fy27", "q3") is None
    summary = store.reviews.summary("fy26", "h1")
    assert summary is not None
    assert summary.period_end == date(2026, 7, 31)
