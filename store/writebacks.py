"""Write-back records (``Database.writebacks``): what v2mom-sync wrote into each item, and the tag audit.

A batch's records are written unconfirmed just before it is sent (its echo may arrive before the
tracker answers), then confirmed for what the tracker took and restored for what it refused. An
unconfirmed record still reads as ours; a write-back plan sends its item again, so an interrupted run
resumes with what is missing and nothing counts as written that the tracker did not take.
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
from v2mom.store.engine import upsert_insert
from v2mom.store.items import StoredItem, stored_from_row
from v2mom.store.rollup import read_allocation_set
from v2mom.store.transactions import Repository
from v2mom.store.written import CHUNK, LABEL_COLUMNS, written_records
from v2mom.vocabulary import Kind, WrittenTags


def _label_columns(kinds: Mapping[Kind, tuple[str, str] | None]) -> dict[str, Any]:
    """The columns of each kind in ``kinds``: its (plan id, label), or None and None when cleared."""
    values: dict[str, Any] = {}
    for kind, choice in kinds.items():
        id_column, label_column = LABEL_COLUMNS[kind]
        values[id_column], values[label_column] = choice if choice else (None, None)
    return values


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
        rows = {
            item_id: {"fields_at": seen, "confirmed": confirmed, **_label_columns(kinds)}
            for item_id, (kinds, seen) in written.items()
        }
        with self._tx.write() as conn:
            self._upsert(conn, tracker, rows)

    def confirm(self, tracker: str, item_ids: Iterable[str]) -> None:
        """The tracker took these items' writes."""
        ids = list(item_ids)
        w = t.writebacks.c
        with self._tx.write() as conn:
            for start in range(0, len(ids), CHUNK):
                conn.execute(
                    update(t.writebacks)
                    .where(w.tracker == tracker, w.item_id.in_(ids[start : start + CHUNK]))
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
                labels = {kind: record.labels.get(kind) for kind in LABEL_COLUMNS}
                values = {
                    "fields_at": record.fields_at,
                    "confirmed": record.confirmed,
                    **_label_columns(labels),
                }
                conn.execute(update(t.writebacks).where(*where).values(**values))

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
                    sets[row.alloc_key] = read_allocation_set(conn, row.alloc_key)
                yield Candidate(
                    stored_from_row(row), sets[row.alloc_key], bool(row.conflict), bool(row.untagged)
                )

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
