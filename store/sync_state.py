"""What a sync keeps between runs: cursors, the runs themselves and per-tracker discovery state."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, update

from v2mom.clock import utcnow
from v2mom.models import ItemTransition, WorkItem
from v2mom.store import schema as t
from v2mom.store.history import HistoryRepository
from v2mom.store.items import ItemRepository
from v2mom.store.statistics import analyze_grown
from v2mom.store.transactions import ConnectionTransactions, EngineTransactions, Repository, Transactions
from v2mom.vendor_text import storable_text

# The tables a sync's transactions fill, kept analyzed on PostgreSQL as they grow.
FILLED_BY_SYNC = (t.items.name, t.item_transitions.name, t.history_reads.name)


class SyncStateRepository(Repository):
    """The ``sync_cursors``, ``sync_runs`` and ``tracker_state`` tables."""

    def __init__(self, transactions: Transactions, dialect: str, items: ItemRepository) -> None:
        """``items`` writes the pages :meth:`commit_pages` commits with their cursor."""
        super().__init__(transactions, dialect)
        self._items = items

    def get_cursor(self, tracker: str, scope: str) -> datetime | None:
        """Where the last committed incremental page of (tracker, scope) ended."""
        with self._tx.read() as conn:
            return conn.execute(
                select(t.sync_cursors.c.cursor).where(
                    t.sync_cursors.c.tracker == tracker, t.sync_cursors.c.scope == scope
                )
            ).scalar_one_or_none()

    def set_cursor(self, tracker: str, scope: str, cursor: datetime) -> None:
        """Advance (or create) the cursor; it never moves backwards."""
        with self._tx.write() as conn:
            current = conn.execute(
                select(t.sync_cursors.c.cursor)
                .where(t.sync_cursors.c.tracker == tracker, t.sync_cursors.c.scope == scope)
                .with_for_update()
            ).scalar_one_or_none()
            if current is None:
                conn.execute(
                    insert(t.sync_cursors).values(
                        tracker=tracker, scope=scope, cursor=cursor, updated_at=utcnow()
                    )
                )
            elif cursor > current:
                conn.execute(
                    update(t.sync_cursors)
                    .where(t.sync_cursors.c.tracker == tracker, t.sync_cursors.c.scope == scope)
                    .values(cursor=cursor, updated_at=utcnow())
                )

    def commit_pages(
        self,
        tracker: str,
        items: Sequence[WorkItem],
        removed: Iterable[str] = (),
        *,
        cursor: tuple[str, datetime] | None = None,
        transitions: Sequence[ItemTransition] = (),
        history_read: Mapping[str, datetime] | None = None,
    ) -> tuple[int, int]:
        """Upsert ``items``, mark ``removed`` deleted and advance the (scope, time) cursor, atomically.

        ``transitions`` (the status and assignee history read for some of the items) are recorded
        in the same transaction, and ``history_read`` (item id -> the updated time that history was
        read for) marks them read: an item's history is stored with the item, or neither is. A read
        is an item's whole history: it replaces every change stored for the items it names (what a
        webhook recorded provisionally included), and ``transitions`` name no other item.
        Returns (rows written, items newly deleted). The cursor moves only with the data it covers.
        On PostgreSQL, run on its own (not in a unit of work), a bulk transaction is followed by an
        analysis of the tables it fills that have doubled since they were last analyzed
        (:func:`~v2mom.store.statistics.analyze_grown`).
        """
        with self._tx.write() as conn:
            on_conn = ConnectionTransactions(conn)
            pages = self._items.bound_to(on_conn)
            written = pages.upsert(items)
            deleted = pages.mark_deleted(tracker, removed)
            if transitions or history_read:
                history = HistoryRepository(on_conn, self.dialect)
                read = history_read or {}
                history.mark_read(tracker, read)  # first: a webhook recording meanwhile waits for it
                history.replace(tracker, read, transitions)
            if cursor is not None:
                self.bound_to(on_conn).set_cursor(tracker, cursor[0], cursor[1])
        if self.dialect == "postgresql" and isinstance(self._tx, EngineTransactions):
            # a first sync's tables are otherwise planned as empty
            analyze_grown(self._tx.engine, FILLED_BY_SYNC, rows_written=len(items) + len(transitions))
        return written, deleted

    def clear_cursor(self, tracker: str) -> None:
        """Forget every cursor of ``tracker`` (a full resync follows)."""
        with self._tx.write() as conn:
            conn.execute(delete(t.sync_cursors).where(t.sync_cursors.c.tracker == tracker))

    def start_run(self, tracker: str, kind: str, *, owner: str | None = None) -> int:
        """Record the start of a sync run by the process whose lease is ``owner``; returns its id.

        Runs left ``running`` by a process that is gone (its lease expired, or it had none) are
        marked ``interrupted`` first, in the same transaction.
        """
        now = utcnow()
        with self._tx.write() as conn:
            self.bound_to(ConnectionTransactions(conn)).mark_interrupted(now=now)
            run_id = conn.execute(
                insert(t.sync_runs)
                .values(tracker=tracker, kind=kind, status="running", started_at=now, owner=owner)
                .returning(t.sync_runs.c.id)
            ).scalar_one()
            return int(run_id)

    def mark_interrupted(self, *, now: datetime | None = None) -> int:
        """Mark ``interrupted`` every running run whose process is gone; returns how many."""
        now = now or utcnow()
        r, w = t.sync_runs.c, t.workers.c
        live = select(w.id).where(w.lease_expires_at >= now)
        with self._tx.write() as conn:
            return int(
                conn.execute(
                    update(t.sync_runs)
                    .where(r.status == "running", or_(r.owner.is_(None), r.owner.not_in(live)))
                    .values(
                        status="interrupted",
                        finished_at=now,
                        error="interrupted: the process running it stopped before it finished",
                    )
                ).rowcount
            )

    def finish_run(
        self,
        run_id: int,
        *,
        status: str,
        upserted: int,
        deleted: int,
        api_calls: int,
        error: str | None = None,
    ) -> None:
        """Record how a run ended; ``error`` made storable (it can quote what the tracker sent)."""
        with self._tx.write() as conn:
            conn.execute(
                update(t.sync_runs)
                .where(t.sync_runs.c.id == run_id)
                .values(
                    status=status,
                    finished_at=utcnow(),
                    items_upserted=upserted,
                    items_deleted=deleted,
                    api_calls=api_calls,
                    error=storable_text(error) if error is not None else None,
                )
            )

    def last_successful_sync(self) -> dict[str, datetime]:
        """Per tracker, when the last successful run finished."""
        with self._tx.read() as conn:
            rows = conn.execute(
                select(t.sync_runs.c.tracker, func.max(t.sync_runs.c.finished_at))
                .where(t.sync_runs.c.status == "ok")
                .group_by(t.sync_runs.c.tracker)
            )
            return {tracker: when for tracker, when in rows if when is not None}

    def last_interrupted(self) -> dict[str, datetime]:
        """Per tracker with an interrupted run since its last successful one: when the latest started."""
        r = t.sync_runs.c
        runs = t.sync_runs.alias("interrupted")
        i = runs.c
        newer_ok = select(func.max(r.id)).where(r.status == "ok", r.tracker == i.tracker).scalar_subquery()
        query = (
            select(i.tracker, func.max(i.started_at))
            .where(i.status == "interrupted", func.coalesce(newer_ok, 0) < i.id)
            .group_by(i.tracker)
        )
        with self._tx.read() as conn:
            return {tracker: started for tracker, started in conn.execute(query) if started is not None}

    def get_tracker_state(self, tracker: str) -> dict[str, Any]:
        """Discovery results kept between runs (effort field, time zone)."""
        with self._tx.read() as conn:
            data = conn.execute(
                select(t.tracker_state.c.data).where(t.tracker_state.c.tracker == tracker)
            ).scalar_one_or_none()
        return dict(data) if data else {}

    def set_tracker_state(self, tracker: str, data: dict[str, Any]) -> None:
        """Replace the discovery results of ``tracker``."""
        with self._tx.write() as conn:
            conn.execute(delete(t.tracker_state).where(t.tracker_state.c.tracker == tracker))
            conn.execute(insert(t.tracker_state).values(tracker=tracker, data=data, updated_at=utcnow()))
