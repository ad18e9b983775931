"""Review snapshots (``Database.reviews``): one row per closed (cycle, period), written once.

A snapshot is the review of a period as it was closed: its reports, measures, obstacles and flag
counts under the plan version of that day. The table is insert-only: closing a period that already
has a snapshot writes nothing and says so, so a reviewed quarter never changes afterwards. Each
snapshot stored is one ``review`` entry of the audit, in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from v2mom.store import schema as t
from v2mom.store.audit import record_event
from v2mom.store.engine import upsert_insert
from v2mom.store.transactions import Repository, Transactions


@dataclass(frozen=True)
class ReviewSummary:
    """A snapshot's key and provenance, without its document."""

    cycle_id: str
    period_id: str
    period_start: date
    period_end: date
    plan_version: int
    closed_at: datetime
    closed_by: str


@dataclass(frozen=True)
class Review(ReviewSummary):
    """A whole snapshot: its summary and the stored document."""

    document: dict[str, Any]


@dataclass(frozen=True)
class CloseResult:
    """What :meth:`ReviewRepository.close` did: ``closed`` False when the period had a snapshot
    already (nothing was written; ``review`` is the one stored before)."""

    closed: bool
    review: ReviewSummary


_SUMMARY = (
    t.review_snapshots.c.cycle_id,
    t.review_snapshots.c.period_id,
    t.review_snapshots.c.period_start,
    t.review_snapshots.c.period_end,
    t.review_snapshots.c.plan_version,
    t.review_snapshots.c.closed_at,
    t.review_snapshots.c.closed_by,
)


def _summary(row: Any) -> ReviewSummary:
    return ReviewSummary(
        cycle_id=row.cycle_id,
        period_id=row.period_id,
        period_start=row.period_start,
        period_end=row.period_end,
        plan_version=row.plan_version,
        closed_at=row.closed_at,
        closed_by=row.closed_by,
    )


class ReviewRepository(Repository):
    """The ``review_snapshots`` table: insert and read, never update or delete."""

    def __init__(self, transactions: Transactions, dialect: str) -> None:
        """Run on the database's transactions (or a unit of work's)."""
        super().__init__(transactions, dialect)
        self._insert = (
            upsert_insert(dialect, t.review_snapshots)
            .on_conflict_do_nothing(index_elements=["cycle_id", "period_id"])
            .returning(t.review_snapshots.c.cycle_id)
        )

    def close(
        self,
        *,
        cycle_id: str,
        period_id: str,
        period_start: date,
        period_end: date,
        plan_version: int,
        closed_at: datetime,
        closed_by: str,
        document: dict[str, Any],
    ) -> CloseResult:
        """Store the snapshot of (``cycle_id``, ``period_id``) unless one is stored already.

        Returns ``closed=True`` with the new row, or ``closed=False`` with the row stored before
        (also when another process closed the same period a moment earlier): never a rewrite.
        """
        summary = ReviewSummary(
            cycle_id=cycle_id,
            period_id=period_id,
            period_start=period_start,
            period_end=period_end,
            plan_version=plan_version,
            closed_at=closed_at,
            closed_by=closed_by,
        )
        with self._tx.write() as conn:
            if conn.execute(self._insert.values(**vars(summary), document=document)).first() is not None:
                cut = bool(document.get("period", {}).get("cut"))
                record_event(
                    conn,
                    kind="review",
                    actor=closed_by,
                    summary=f"closed the review of {cycle_id}/{period_id} ({period_start.isoformat()}.."
                    f"{period_end.isoformat()}{', cut short by a new cycle' if cut else ''}) "
                    f"under plan v{plan_version}",
                    details={
                        "cycle": cycle_id,
                        "period": period_id,
                        "start": period_start.isoformat(),
                        "end": period_end.isoformat(),
                        "plan_version": plan_version,
                        "cut": cut,
                    },
                )
                return CloseResult(True, summary)
            stored = conn.execute(select(*_SUMMARY).where(*self._key(cycle_id, period_id))).one()
        return CloseResult(False, _summary(stored))

    def list(self) -> list[ReviewSummary]:
        """Every snapshot, by cycle then period end (the order periods are reviewed in)."""
        c = t.review_snapshots.c
        with self._tx.read() as conn:
            rows = conn.execute(select(*_SUMMARY).order_by(c.cycle_id, c.period_end, c.period_id)).all()
        return [_summary(row) for row in rows]

    def get(self, cycle_id: str, period_id: str) -> Review | None:
        """The snapshot of (``cycle_id``, ``period_id``), or None when that period was never closed."""
        with self._tx.read() as conn:
            row = conn.execute(
                select(*_SUMMARY, t.review_snapshots.c.document).where(*self._key(cycle_id, period_id))
            ).first()
        if row is None:
            return None
        summary = _summary(row)
        return Review(**vars(summary), document=row.document)

    def summary(self, cycle_id: str, period_id: str) -> ReviewSummary | None:
        """The snapshot's key and provenance without its document, or None when never closed."""
        with self._tx.read() as conn:
            row = conn.execute(select(*_SUMMARY).where(*self._key(cycle_id, period_id))).first()
        return None if row is None else _summary(row)

    def closed_periods(self, cycle_id: str) -> set[str]:
        """The ids of the periods of ``cycle_id`` that have a snapshot."""
        c = t.review_snapshots.c
        with self._tx.read() as conn:
            return set(conn.execute(select(c.period_id).where(c.cycle_id == cycle_id)).scalars())

    @staticmethod
    def _key(cycle_id: str, period_id: str) -> tuple[Any, Any]:
        c = t.review_snapshots.c
        return c.cycle_id == cycle_id, c.period_id == period_id
