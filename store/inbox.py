"""The durable webhook inbox: an event is committed here before its delivery is acknowledged.

Deliveries are deduplicated on (tracker, delivery id). Workers claim due events — with
``FOR UPDATE SKIP LOCKED`` on PostgreSQL so any number of them can share the inbox, inside one
write transaction on SQLite. A claim by a process whose lease expired (``store.workers``: it was
killed or froze) is taken again at once; a live process keeps its claims however slow it is, so it
must settle each one itself: complete it, ``fail`` it, or ``hand_back`` what a batch that failed
left claimed (also once the database answers again, when it was away). A claim by a process that
never registered a lease is taken again after ``CLAIM_TIMEOUT``. Failed events are retried with
exponential backoff, then parked: never dropped. Events of kind ``ignored`` (validly signed, but
nothing to apply) are stored with status ``ignored`` and their reason, counted and listed for
admins, and never claimed.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update

from v2mom.clock import utcnow
from v2mom.events import EventKind, WebhookEvent
from v2mom.store import schema as t
from v2mom.store.engine import upsert_insert
from v2mom.store.transactions import Repository, Transactions
from v2mom.vendor_text import storable_text

MAX_ATTEMPTS = 6
BASE_BACKOFF = timedelta(seconds=5)
CLAIM_TIMEOUT = timedelta(minutes=5)
MAX_ERROR = 2000


@dataclass(frozen=True)
class InboxEntry:
    """A claimed event, with its inbox id and how often it was tried before."""

    id: int
    attempts: int
    event: WebhookEvent


class Inbox(Repository):
    """The ``webhook_inbox`` table (``Database.inbox``)."""

    def __init__(self, transactions: Transactions, dialect: str) -> None:
        """Run on the database's transactions (or a unit of work's)."""
        super().__init__(transactions, dialect)
        # Built once: constructing the statement per delivery cost more than the commit itself.
        self._enqueue = (
            upsert_insert(dialect, t.webhook_inbox)
            .on_conflict_do_nothing(index_elements=["tracker", "delivery_id"])
            .returning(t.webhook_inbox.c.id)
        )

    def enqueue(self, event: WebhookEvent) -> bool:
        """Store ``event`` durably; False when this delivery was stored before (a duplicate)."""
        now = utcnow()
        row = {
            "tracker": event.tracker,
            "delivery_id": event.delivery_id,
            "kind": event.kind,
            "item_ref": event.item_ref,
            "event_time": event.event_time,
            "payload": event.payload,
            "received_at": now,
            "status": _initial_status(event),
            "attempts": 0,
            "next_attempt_at": now,
        }
        with self._tx.write() as conn:
            return conn.execute(self._enqueue, row).first() is not None

    def enqueue_many(self, events: list[WebhookEvent]) -> list[bool]:
        """Store several events in one transaction; per event, False when it was a duplicate."""
        if not events:
            return []
        now = utcnow()
        rows = [
            {
                "tracker": e.tracker,
                "delivery_id": e.delivery_id,
                "kind": e.kind,
                "item_ref": e.item_ref,
                "event_time": e.event_time,
                "payload": e.payload,
                "received_at": now,
                "status": _initial_status(e),
                "attempts": 0,
                "next_attempt_at": now,
            }
            for e in events
        ]
        statement = self._enqueue.returning(t.webhook_inbox.c.tracker, t.webhook_inbox.c.delivery_id)
        with self._tx.write() as conn:
            inserted = {(r.tracker, r.delivery_id) for r in conn.execute(statement, rows)}
        stored: list[bool] = []
        for event in events:  # the same delivery twice in one batch: the first is stored
            key = (event.tracker, event.delivery_id)
            stored.append(key in inserted)
            inserted.discard(key)
        return stored

    def claim(self, worker: str, limit: int = 50, *, now: datetime | None = None) -> list[InboxEntry]:
        """Claim up to ``limit`` due events (oldest event time first) for ``worker``.

        Due: pending events whose retry time has come, and events claimed by a process whose lease
        expired (or, for a process without a lease, claimed longer than ``CLAIM_TIMEOUT`` ago).
        """
        now = now or utcnow()
        i, w = t.webhook_inbox.c, t.workers.c
        gone = select(w.id).where(w.lease_expires_at < now)
        unleased_and_stale = and_(i.claimed_at < now - CLAIM_TIMEOUT, i.claimed_by.not_in(select(w.id)))
        due = or_(
            and_(i.status == "pending", i.next_attempt_at <= now),
            and_(i.status == "processing", or_(i.claimed_by.in_(gone), unleased_and_stale)),
        )
        query = select(i.id).where(due).order_by(i.event_time, i.id).limit(limit)
        if self.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        with self._tx.write() as conn:
            ids = [row[0] for row in conn.execute(query)]
            if not ids:
                return []
            # Still due: on SQLite the SELECT takes no lock (the transaction begins with the UPDATE),
            # so another process may have claimed some of these in between; only what this UPDATE
            # changed is ours. On PostgreSQL the rows are locked by the SELECT and all still due.
            claimed = conn.execute(
                update(t.webhook_inbox)
                .where(i.id.in_(ids), due)
                .values(status="processing", claimed_at=now, claimed_by=worker)
                .returning(i.id)
            )
            ids = [row[0] for row in claimed]
            if not ids:
                return []
            rows = conn.execute(select(t.webhook_inbox).where(i.id.in_(ids)).order_by(i.event_time, i.id))
            return [_entry(row) for row in rows]

    def complete(self, entry_id: int) -> None:
        """Mark an event applied."""
        with self._tx.write() as conn:
            conn.execute(
                update(t.webhook_inbox)
                .where(t.webhook_inbox.c.id == entry_id)
                .values(status="done", last_error=None)
            )

    def fail(self, entry: InboxEntry, error: str, *, now: datetime | None = None) -> str:
        """Record a failure: retry later with backoff, or park after MAX_ATTEMPTS; returns the status.

        ``error`` is stored made storable: a tracker's error can quote what the tracker sent.
        """
        values = _failed_attempt(entry.attempts, error, now or utcnow())
        with self._tx.write() as conn:
            conn.execute(update(t.webhook_inbox).where(t.webhook_inbox.c.id == entry.id).values(**values))
        return str(values["status"])

    def hand_back(
        self, worker: str, error: str, *, ids: Collection[int] | None = None, now: datetime | None = None
    ) -> int:
        """Record ``error`` as a failed attempt of each event ``worker`` still has claimed; how many.

        For a worker whose batch ended without settling its claims (only ``ids`` of them when
        given): each is retried with backoff like a :meth:`fail`, and parked after MAX_ATTEMPTS. One
        transaction; an event no longer ``processing`` under ``worker`` (completed, failed, or taken
        by another worker after ``worker``'s lease expired) is left alone.
        """
        now = now or utcnow()
        i = t.webhook_inbox.c
        held = and_(i.status == "processing", i.claimed_by == worker)
        if ids is not None:
            held = and_(held, i.id.in_(list(ids)))
        query = select(i.id, i.attempts).where(held)
        if self.dialect == "postgresql":
            query = query.with_for_update()
        with self._tx.write() as conn:
            by_attempts: dict[int, list[int]] = {}
            for entry_id, attempts in conn.execute(query):
                by_attempts.setdefault(attempts, []).append(entry_id)
            for attempts, entry_ids in by_attempts.items():  # one UPDATE per backoff step
                values = _failed_attempt(attempts, error, now)
                conn.execute(update(t.webhook_inbox).where(held, i.id.in_(entry_ids)).values(**values))
        return sum(len(entry_ids) for entry_ids in by_attempts.values())

    def counts(self) -> dict[str, dict[str, int]]:
        """Per tracker, how many events are in each status."""
        i = t.webhook_inbox.c
        with self._tx.read() as conn:
            rows = conn.execute(select(i.tracker, i.status, func.count()).group_by(i.tracker, i.status))
            out: dict[str, dict[str, int]] = {}
            for tracker, status, n in rows:
                out.setdefault(tracker, {})[status] = int(n)
            return out

    def last_event(self) -> dict[str, datetime]:
        """Per tracker, when the newest delivery was received."""
        i = t.webhook_inbox.c
        with self._tx.read() as conn:
            rows = conn.execute(select(i.tracker, func.max(i.received_at)).group_by(i.tracker))
            return {tracker: when for tracker, when in rows if when is not None}

    def parked(self, limit: int = 100) -> list[dict[str, Any]]:
        """Parked events, newest first, for admins."""
        i = t.webhook_inbox.c
        query = (
            select(
                i.id, i.tracker, i.delivery_id, i.kind, i.item_ref, i.attempts, i.last_error, i.received_at
            )
            .where(i.status == "parked")
            .order_by(i.id.desc())
            .limit(limit)
        )
        with self._tx.read() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]

    def ignored(self, limit: int = 100) -> list[dict[str, Any]]:
        """Ignored events (acknowledged, applied nothing), newest first, with their reason.

        Type and reason are made storable on the way out too: rows received before the receivers
        cleaned them may hold a lone surrogate, which no JSON answer can carry.
        """
        i = t.webhook_inbox.c
        query = (
            select(i.id, i.tracker, i.delivery_id, i.payload, i.received_at)
            .where(i.status == "ignored")
            .order_by(i.id.desc())
            .limit(limit)
        )
        with self._tx.read() as conn:
            rows = list(conn.execute(query))
        return [
            {
                "id": row.id,
                "tracker": row.tracker,
                "delivery_id": row.delivery_id,
                "event_type": storable_text(str(row.payload.get("type") or "")),
                "reason": storable_text(str(row.payload.get("reason") or "")),
                "received_at": row.received_at,
            }
            for row in rows
        ]


def _failed_attempt(attempts: int, error: str, now: datetime) -> dict[str, Any]:
    """The columns of an event tried ``attempts`` times before, whose next attempt just failed."""
    attempts += 1
    return {
        "status": "parked" if attempts >= MAX_ATTEMPTS else "pending",
        "attempts": attempts,
        "next_attempt_at": now + BASE_BACKOFF * (2 ** (attempts - 1)),
        "last_error": storable_text(error, MAX_ERROR),
        "claimed_at": None,
        "claimed_by": None,
    }


def _initial_status(event: WebhookEvent) -> str:
    return "ignored" if event.kind == "ignored" else "pending"


def _entry(row: Any) -> InboxEntry:
    kind: EventKind = row.kind
    event = WebhookEvent(row.tracker, row.delivery_id, kind, row.item_ref, row.event_time, dict(row.payload))
    return InboxEntry(id=row.id, attempts=row.attempts, event=event)
