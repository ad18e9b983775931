"""Write-back records (``Database.writebacks``): what v2mom-sync wrote into each item.

A batch's records are written unconfirmed just before it is sent (its echo may arrive before the
tracker answers), keeping what each item held from v2mom-sync before (``prev_*``); then confirmed
for what the tracker took and restored for what it refused. A write that failed, was cut short or
killed stays unconfirmed: both its old and its new choice read as ours until a fresh reading of the
item settles which one the tracker holds (``mapping.writeback.settle``, applied where items are
stored), so nothing counts as written that the tracker did not take, and nothing we wrote turns
into a person's tag.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, select, update

from v2mom.clock import utcnow
from v2mom.mapping.resolver import Share
from v2mom.store import schema as t
from v2mom.store.audit import AuditRepository
from v2mom.store.engine import upsert_insert
from v2mom.store.items import StoredItem, stored_from_row
from v2mom.store.resolution.rollup import read_allocation_set
from v2mom.store.transactions import Repository
from v2mom.store.written import (
    CHUNK,
    LABEL_COLUMNS,
    PREVIOUS_COLUMNS,
    label_values,
    written_records,
)
from v2mom.vocabulary import Kind, WrittenTags

Choices = Mapping[Kind, tuple[str, str] | None]  # per kind written: (plan id, option name), None: cleared
_SETTLED = {column: None for pair in PREVIOUS_COLUMNS.values() for column in pair}


@dataclass(frozen=True)
class Candidate:
    """A live item with what its stored resolution counts: the input of a write-back plan."""

    stored: StoredItem
    shares: list[Share]
    conflict: bool
    untagged: bool


class WritebackRepository(Repository):
    """The ``writebacks`` table (and, read from the audit, the tags set from the dashboard)."""

    def records(self, tracker: str, item_ids: Iterable[str] | None = None) -> dict[str, WrittenTags]:
        """The records of ``tracker`` (of ``item_ids`` only, when given), by item id."""
        with self._tx.read() as conn:
            return written_records(conn, tracker, item_ids)

    def unconfirmed(self, tracker: str) -> list[str]:
        """The item ids of ``tracker`` whose last write is not settled yet."""
        w = t.writebacks.c
        with self._tx.read() as conn:
            query = select(w.item_id).where(w.tracker == tracker, ~w.confirmed).order_by(w.item_id)
            return [row[0] for row in conn.execute(query)]

    def begin(self, tracker: str, written: Mapping[str, tuple[Choices, datetime]]) -> None:
        """Record writes about to be sent, unconfirmed: per item each kind's (plan id, label) or None
        (cleared), and the item's ``updated_at`` as known when it was written (``fields_at``).

        What the item held from v2mom-sync before is kept beside (an item whose record was already
        unconfirmed keeps what it held before that write: a settlement found the tracker holding it),
        so both read as ours until the write is :meth:`confirm`-ed, :meth:`restore`-d, or settled.
        """
        with self._tx.write() as conn:
            known = written_records(conn, tracker, written)
            rows: dict[str, dict[str, Any]] = {}
            for item_id, (kinds, seen) in written.items():
                record = known.get(item_id, WrittenTags())
                held = record.labels if record.confirmed else record.previous
                labels = {kind: record.labels.get(kind) for kind in LABEL_COLUMNS} | dict(kinds)
                rows[item_id] = {
                    "fields_at": seen,
                    "confirmed": False,
                    **label_values(labels),
                    **label_values({kind: held.get(kind) for kind in LABEL_COLUMNS}, PREVIOUS_COLUMNS),
                }
            self._upsert(conn, tracker, rows)

    def confirm(self, tracker: str, item_ids: Iterable[str]) -> None:
        """The tracker took these items' writes: their new choices are what it holds."""
        self._settle_all(tracker, item_ids, {"confirmed": True, **_SETTLED})

    def restore(self, tracker: str, item_ids: Iterable[str]) -> None:
        """The tracker refused these items' writes: they hold what they held before (records that then
        hold nothing are dropped)."""
        w = t.writebacks.c
        back = {
            column: w[previous]
            for kind, pair in LABEL_COLUMNS.items()
            for column, previous in zip(pair, PREVIOUS_COLUMNS[kind], strict=True)
        }
        ids = self._settle_all(tracker, item_ids, {**back, "confirmed": True, **_SETTLED})
        empty = and_(*(w[c].is_(None) for pair in LABEL_COLUMNS.values() for c in pair), w.link_url.is_(None))
        with self._tx.write() as conn:
            for start in range(0, len(ids), CHUNK):
                conn.execute(
                    delete(t.writebacks).where(
                        w.tracker == tracker, w.item_id.in_(ids[start : start + CHUNK]), empty
                    )
                )

    def _settle_all(self, tracker: str, item_ids: Iterable[str], values: Mapping[str, Any]) -> list[str]:
        """Set ``values`` on the unconfirmed records of ``item_ids`` (confirmed ones are left as they
        are: a reading settled them first); returns the ids."""
        ids = list(item_ids)
        w = t.writebacks.c
        with self._tx.write() as conn:
            for start in range(0, len(ids), CHUNK):
                conn.execute(
                    update(t.writebacks)
                    .where(w.tracker == tracker, w.item_id.in_(ids[start : start + CHUNK]), ~w.confirmed)
                    .values(dict(values))
                )
        return ids

    def record_links(self, tracker: str, links: Mapping[str, str], *, at: datetime | None = None) -> None:
        """Record the explanation link each item now holds."""
        when = at or utcnow()
        with self._tx.write() as conn:
            self._upsert(
                conn,
                tracker,
                {item_id: {"link_url": url, "linked_at": when} for item_id, url in links.items()},
            )

    def _upsert(self, conn: Connection, tracker: str, rows: Mapping[str, dict[str, Any]]) -> None:
        """Insert or update each item's record with its ``rows`` columns (the others are left as they are)."""
        by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for item_id, values in rows.items():
            by_columns.setdefault(tuple(sorted(values)), []).append(
                {"tracker": tracker, "item_id": item_id, **values}
            )
        for columns, group in by_columns.items():
            statement = upsert_insert(self.dialect, t.writebacks)
            conn.execute(
                statement.on_conflict_do_update(
                    index_elements=["tracker", "item_id"], set_={c: statement.excluded[c] for c in columns}
                ),
                group,
            )

    def forget(self, tracker: str, item_id: str, kind: Kind) -> None:
        """Drop the record of ``kind`` for one item, pending or not (a person's tag replaces it)."""
        columns = (*LABEL_COLUMNS[kind], *PREVIOUS_COLUMNS[kind])
        w = t.writebacks.c
        with self._tx.write() as conn:
            conn.execute(
                update(t.writebacks)
                .where(w.tracker == tracker, w.item_id == item_id)
                .values(dict.fromkeys(columns))
            )

    def relabel(self, tracker: str, kind: Kind, plan_id: str, label: str) -> None:
        """A renamed option: records of ``plan_id`` now read ``label`` (so the renamed field stays ours),
        also where it is what an unconfirmed write replaces."""
        w = t.writebacks.c
        with self._tx.write() as conn:
            for id_column, label_column in (LABEL_COLUMNS[kind], PREVIOUS_COLUMNS[kind]):
                conn.execute(
                    update(t.writebacks)
                    .where(w.tracker == tracker, w[id_column] == plan_id)
                    .values({label_column: label})
                )

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
                    sets[row.alloc_key] = read_allocation_set(conn, row.alloc_key)
                yield Candidate(
                    stored_from_row(row), sets[row.alloc_key], bool(row.conflict), bool(row.untagged)
                )

    def tag_log(self, limit: int = 50) -> list[dict[str, Any]]:
        """The latest tags set from the dashboard or the API, newest first, from the audit (kind
        ``tag``): at, actor, tracker, key, kind (value or method), plan_id, before."""
        return [
            {
                "at": event.at,
                "actor": event.actor,
                "tracker": event.details["item"]["tracker"],
                "key": event.details["item"]["key"],
                "kind": event.details["tag"]["kind"],
                "plan_id": event.details["tag"]["id"],
                "before": list(event.details["before"]),
            }
            for event in self._audit().entries(limit=limit, kind="tag")
        ]

    def _audit(self) -> AuditRepository:
        return AuditRepository(self._tx, self.dialect)
