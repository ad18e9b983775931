"""Write-back records (``Database.writebacks``): what v2mom-sync wrote into each item, and the tag audit.

A record is written only after the tracker took the write (one transaction per batch), so nothing is
recorded as written that was not, and an interrupted run resumes with what is still missing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from v2mom.clock import utcnow
from v2mom.mapping.resolver import Share
from v2mom.store import schema as t
from v2mom.store.items import StoredItem, stored_from_row
from v2mom.store.transactions import Repository
from v2mom.store.written import LABEL_COLUMNS, written_records
from v2mom.vocabulary import Kind, WrittenTags


@dataclass(frozen=True)
class Candidate:
    """A live item with what its stored resolution counts: the input of a write-back plan."""

    stored: StoredItem
    shares: list[Share]
    conflict: bool
    untagged: bool


class WritebackRepository(Repository):
    """The ``writebacks`` and ``tag_audit`` tables."""

    def records(self, tracker: str, item_ids: Iterable[str] | None = None) -> dict[str, WrittenTags]:
        """The records of ``tracker`` (of ``item_ids`` only, when given), by item id."""
        with self._tx.read() as conn:
            return written_records(conn, tracker, item_ids)

    def record_fields(
        self,
        tracker: str,
        written: Mapping[str, tuple[Mapping[Kind, tuple[str, str] | None], datetime]],
        *,
        confirmed: bool,
    ) -> None:
        """Record fields per item: each kind's (plan id, label) or None (cleared), and the item's
        ``updated_at`` as known when it was written (``WrittenTags.fields_at``).

        Recorded unconfirmed just before the write is sent (so its echo already reads as ours),
        then :meth:`confirm`-ed once the tracker took it, or :meth:`restore`-d if it refused.
        """
        with self._tx.write() as conn:
            known = written_records(conn, tracker, written)
            for item_id, (kinds, seen) in written.items():
                values: dict[str, Any] = {"fields_at": seen, "confirmed": confirmed}
                for kind, choice in kinds.items():
                    id_column, label_column = LABEL_COLUMNS[kind]
                    values[id_column], values[label_column] = choice if choice else (None, None)
                self._put(conn, tracker, item_id, values, exists=item_id in known)

    def confirm(self, tracker: str, item_ids: Iterable[str]) -> None:
        """The tracker took these items' writes."""
        ids = list(item_ids)
        w = t.writebacks.c
        with self._tx.write() as conn:
            for start in range(0, len(ids), 500):
                conn.execute(
                    update(t.writebacks)
                    .where(w.tracker == tracker, w.item_id.in_(ids[start : start + 500]))
                    .values(confirmed=True)
                )

    def restore(self, tracker: str, previous: Mapping[str, WrittenTags | None]) -> None:
        """The tracker refused these items' writes: put back what was recorded before (or nothing)."""
        w = t.writebacks.c
        with self._tx.write() as conn:
            for item_id, record in previous.items():
                where = (w.tracker == tracker, w.item_id == item_id)
                if record is None:
                    conn.execute(delete(t.writebacks).where(*where))
                    continue
                values: dict[str, Any] = {"fields_at": record.fields_at, "confirmed": record.confirmed}
                for kind, (id_column, label_column) in LABEL_COLUMNS.items():
                    values[id_column], values[label_column] = record.labels.get(kind, (None, None))
                conn.execute(update(t.writebacks).where(*where).values(**values))

    def record_links(self, tracker: str, links: Mapping[str, str], *, at: datetime | None = None) -> None:
        """Record the explanation link each item now holds."""
        when = at or utcnow()
        with self._tx.write() as conn:
            known = written_records(conn, tracker, links)
            for item_id, url in links.items():
                self._put(
                    conn, tracker, item_id, {"link_url": url, "linked_at": when}, exists=item_id in known
                )

    @staticmethod
    def _put(conn: Connection, tracker: str, item_id: str, values: dict[str, Any], *, exists: bool) -> None:
        w = t.writebacks.c
        if exists:
            conn.execute(
                update(t.writebacks).where(w.tracker == tracker, w.item_id == item_id).values(**values)
            )
        else:
            conn.execute(insert(t.writebacks).values(tracker=tracker, item_id=item_id, **values))

    def forget(self, tracker: str, item_id: str, kind: Kind) -> None:
        """Drop the record of ``kind`` for one item (a person's tag replaces it)."""
        id_column, label_column = LABEL_COLUMNS[kind]
        w = t.writebacks.c
        with self._tx.write() as conn:
            conn.execute(
                update(t.writebacks)
                .where(w.tracker == tracker, w.item_id == item_id)
                .values({id_column: None, label_column: None})
            )

    def relabel(self, tracker: str, kind: Kind, plan_id: str, label: str) -> int:
        """A renamed option: records of ``plan_id`` now read ``label`` (so the renamed field stays ours)."""
        id_column, label_column = LABEL_COLUMNS[kind]
        w = t.writebacks.c
        with self._tx.write() as conn:
            return conn.execute(
                update(t.writebacks)
                .where(w.tracker == tracker, getattr(w, id_column) == plan_id)
                .values({label_column: label})
            ).rowcount

    def candidates(self, tracker: str) -> Iterator[Candidate]:
        """Every live, resolved item of ``tracker`` with its allocations and flags (streamed)."""
        r = t.resolutions.c
        sets: dict[int, list[Share]] = {}
        query = (
            select(t.items, r.alloc_key, r.conflict, r.untagged)
            .join(t.resolutions, r.item_pk == t.items.c.pk)
            .where(t.items.c.tracker == tracker, t.items.c.deleted.is_(False))
            .order_by(t.items.c.pk)
        )
        with self._tx.read() as conn:
            rows = conn.execution_options(yield_per=5000).execute(query)
            for row in rows:
                if row.alloc_key not in sets:
                    sets[row.alloc_key] = self._allocation_set(conn, row.alloc_key)
                yield Candidate(
                    stored_from_row(row), sets[row.alloc_key], bool(row.conflict), bool(row.untagged)
                )

    @staticmethod
    def _allocation_set(conn: Connection, key: int) -> list[Share]:
        s = t.allocation_sets.c
        rows = conn.execute(
            select(s.value_id, s.method_id, s.weight).where(s.alloc_key == key).order_by(s.position)
        )
        return [(v, m, w) for v, m, w in rows]

    def audit_tag(
        self,
        *,
        actor: str,
        tracker: str,
        item_id: str,
        key: str,
        kind: Kind,
        plan_id: str,
        before: Sequence[str],
    ) -> None:
        """Log that ``actor`` tagged an item from the dashboard."""
        with self._tx.write() as conn:
            conn.execute(
                insert(t.tag_audit).values(
                    at=utcnow(),
                    actor=actor,
                    tracker=tracker,
                    item_id=item_id,
                    key=key,
                    kind=kind,
                    plan_id=plan_id,
                    before=list(before),
                )
            )

    def tag_log(self, limit: int = 50) -> list[dict[str, Any]]:
        """The latest dashboard tags, newest first."""
        a = t.tag_audit.c
        with self._tx.read() as conn:
            rows = conn.execute(select(t.tag_audit).order_by(a.id.desc()).limit(limit))
            return [
                {
                    "at": row.at,
                    "actor": row.actor,
                    "tracker": row.tracker,
                    "key": row.key,
                    "kind": row.kind,
                    "plan_id": row.plan_id,
                    "before": list(row.before),
                }
                for row in rows
            ]

    def clear(self, tracker: str) -> int:
        """Forget every record of ``tracker`` (tests and a reset tracker)."""
        with self._tx.write() as conn:
            return conn.execute(delete(t.writebacks).where(t.writebacks.c.tracker == tracker)).rowcount
