"""Stored WorkItems: upserts keyed by the tracker's stable id, deletions and look-ups.

Upserts never let an older version of an item overwrite a newer one (compared on the tracker's
``updated`` time); a re-seen deleted item is undeleted.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import JSON, Boolean, Connection, Float, func, or_, select, update

from v2mom.clock import utcnow
from v2mom.mapping.resolver import Share
from v2mom.mapping.signature import tag_signature
from v2mom.mapping.writeback import read_by_id, settle, strip_written
from v2mom.models import Level, State, WorkItem
from v2mom.store import schema as t
from v2mom.store.engine import json_rows_insert, upsert_insert
from v2mom.store.people_changes import mark_changed, moved_items
from v2mom.store.resolution.rollup import read_allocation_set
from v2mom.store.transactions import Repository, Transactions
from v2mom.store.types import UTCDateTime, sqlite_datetime_text
from v2mom.store.vocabulary import read_offered
from v2mom.store.writeback_records import store_settled, written_records
from v2mom.vocabulary import WrittenTags

UPSERT_CHUNK = 500
ITEM_COLUMNS = [c for c in t.items.c if c.name != "pk"]
ITEM_NAMES = [c.name for c in ITEM_COLUMNS]


@dataclass(frozen=True)
class StoredItem:
    """A WorkItem as stored, with its surrogate key and deletion state."""

    pk: int
    item: WorkItem
    deleted: bool


@dataclass(frozen=True)
class ResolvedItem:
    """A live item with what its stored resolution counts: the input of a write-back plan."""

    stored: StoredItem
    shares: list[Share]
    conflict: bool
    untagged: bool


def _item_row(item: WorkItem, synced_at: Any, dialect: str) -> dict[str, Any]:
    """The ``items`` row of ``item`` as the upsert of ``dialect`` sends it: for SQLite's driver
    upsert, datetimes and JSON as text (see :class:`_DriverUpsert`); for PostgreSQL's, values that
    go into one JSON document as they are (see :func:`~v2mom.store.engine.json_rows_insert`).
    ``synced_at`` is the column's value as it goes in: the same for every row of a batch, so the
    caller encodes it once."""
    sqlite = dialect == "sqlite"
    moment = sqlite_datetime if sqlite else _as_it_is
    document = json_text if sqlite else _as_it_is
    # orjson writes tuples as arrays: no list copies on this path.
    return {
        "tracker": item.tracker,
        "item_id": item.id,
        "key": item.key,
        "title": item.title,
        "description": item.description,
        "url": item.url,
        "level": int(item.level),
        "parent_id": item.parent_id,
        "parent_key": item.parent_key,
        "container": item.container,
        "member_of": item.member_of,
        "assignee": item.assignee,
        "state": item.state.value,
        "status_name": item.status_name,
        "created_at": moment(item.created_at),
        "updated_at": moment(item.updated_at),
        "completed_at": moment(item.completed_at),
        "started_at": moment(item.started_at),
        "points": item.points,
        "hours": item.hours,
        "labels": document(item.labels),
        "components": document(item.components),
        "custom_fields": document(item.custom_fields),
        "deleted": False,
        "deleted_at": None,
        "synced_at": synced_at,
        "tag_sig": tag_signature(item),
        "blocked": item.blocked,
    }


def item_from_row(row: Any) -> WorkItem:
    """The WorkItem an ``items`` row holds."""
    return WorkItem(
        tracker=row.tracker,
        id=row.item_id,
        key=row.key,
        title=row.title,
        description=row.description or "",
        url=row.url,
        level=Level(row.level),
        parent_id=row.parent_id,
        parent_key=row.parent_key,
        container=row.container,
        member_of=row.member_of,
        assignee=row.assignee,
        state=State(row.state),
        status_name=row.status_name,
        created_at=row.created_at,
        updated_at=row.updated_at,
        completed_at=row.completed_at,
        started_at=row.started_at,
        points=row.points,
        hours=row.hours,
        labels=tuple(row.labels),
        components=tuple(row.components),
        custom_fields={k: tuple(v) for k, v in row.custom_fields.items()},
    )


def stored_from_row(row: Any, deleted: bool | None = None) -> StoredItem:
    """An ``items`` row (or a row holding its columns) as a :class:`StoredItem`."""
    return StoredItem(pk=row.pk, item=item_from_row(row), deleted=row.deleted if deleted is None else deleted)


def sqlite_datetime(value: datetime | None) -> str | None:
    """A UTC datetime as the upsert has always stored it on SQLite: naive UTC in ISO format with a
    space (``2026-11-01 09:30:00``, microseconds only when there are any), which is what the column's
    processor and then the sqlite3 module's datetime adapter made of it (a test holds them equal).

    Stored values are compared as text (``updated_at <= excluded.updated_at``), so the format must
    not drift. Refuses a naive datetime, as :class:`~v2mom.store.types.UTCDateTime` does.
    """
    return None if value is None else sqlite_datetime_text(value, "auto")


def json_text(value: Any) -> str | None:
    """A JSON column's value as text, encoded by orjson (compact; read back to the same value)."""
    return None if value is None else orjson.dumps(value).decode()


def _as_it_is(value: Any) -> Any:
    """A value as PostgreSQL's upsert takes it: into its JSON document, which checks datetimes."""
    return value


# Column types whose processors the SQLite upsert replaces: datetimes and JSON are encoded by
# ``_item_row``; the sqlite3 module stores floats and booleans as they are.
ENCODED_FOR_SQLITE = (UTCDateTime, JSON, Float, Boolean)


class _DriverUpsert:
    """The item upsert as one driver-level ``executemany`` (SQLite).

    SQLAlchemy's per-row parameter handling cost about a third of sync time on SQLite, and the
    columns' generic processors (a TypeDecorator, then the sqlite3 module's datetime adapter; JSON
    through ``json.dumps``) another third of what was left. Here the statement is compiled once, the
    rows arrive already encoded (:func:`_item_row`; a test holds the datetime text equal to what the
    processors wrote) and each becomes its parameter tuple by one ``itemgetter``. ``rowcount``
    counts rows inserted or updated: an older copy skipped by the upsert's WHERE is not counted.
    """

    def __init__(self, statement: Any, dialect: Any) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=ITEM_NAMES)
        self.sql = compiled.string
        order: list[str] = list(compiled.positiontup or [])
        columns = {c.name: c for c in ITEM_COLUMNS}
        unhandled = [
            name
            for name in order
            if columns[name].type.bind_processor(dialect) is not None
            and not isinstance(columns[name].type, ENCODED_FOR_SQLITE)
        ]
        if unhandled:  # a new column type would otherwise reach the driver unencoded
            raise TypeError(f"items columns the SQLite upsert does not encode: {unhandled}")
        self.params = operator.itemgetter(*order)

    def run(self, conn: Connection, rows: list[dict[str, Any]]) -> int:
        result = conn.exec_driver_sql(self.sql, [self.params(row) for row in rows])
        return max(0, result.rowcount)


def _newer_wins(statement: Any) -> Any:
    """``statement`` (an INSERT into ``items``) replacing the row of the same (tracker, id) unless
    that row is newer and not deleted."""
    excluded = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=[t.items.c.tracker, t.items.c.item_id],
        set_={c.name: excluded[c.name] for c in ITEM_COLUMNS if c.name not in ("tracker", "item_id")},
        where=or_(t.items.c.updated_at <= excluded.updated_at, t.items.c.deleted.is_(True)),
    )


class ItemRepository(Repository):
    """The ``items`` table: one instance per database, safe to share between threads."""

    def __init__(self, transactions: Transactions, dialect: str, sql_dialect: Any) -> None:
        """Build the upsert statement once (``sql_dialect``: the engine's SQLAlchemy dialect)."""
        super().__init__(transactions, dialect)
        upsert = _newer_wins(upsert_insert(dialect, t.items))
        self._sqlite_upsert = _DriverUpsert(upsert, sql_dialect) if dialect == "sqlite" else None

    def upsert(self, items: Sequence[WorkItem], *, synced_at: datetime | None = None) -> int:
        """Insert or update items by (tracker, id) in one transaction; returns rows written.

        A stored row whose ``updated_at`` is newer than the incoming one is left untouched, so a
        late, older copy never overwrites a newer state. A re-seen deleted item is undeleted.
        """
        if not items:
            return 0
        now = synced_at or utcnow()
        with self._tx.write() as conn:
            return self._upsert(conn, items, now)

    def _upsert(self, conn: Connection, items: Sequence[WorkItem], now: datetime) -> int:
        latest: dict[tuple[str, str], WorkItem] = {}
        for item in items:  # the same id twice in one batch: keep the newest
            known = latest.get((item.tracker, item.id))
            if known is None or known.updated_at <= item.updated_at:
                latest[(item.tracker, item.id)] = item
        for tracker in {key[0] for key in latest}:  # our own write-back, read back, is not a person's tag
            ids = [item_id for (t_, item_id) in latest if t_ == tracker]
            if any(latest[(tracker, item_id)].choice_options for item_id in ids):
                offered = read_offered(conn, tracker)  # provisioned options are read by their ids
                for item_id in ids:
                    latest[(tracker, item_id)] = read_by_id(latest[(tracker, item_id)], offered)
            settled: dict[str, WrittenTags] = {}
            for item_id, record in written_records(conn, tracker, ids).items():
                reading = latest[(tracker, item_id)]
                after = settle(reading, record)  # a pending write: what the tracker holds decides it
                if after is not None:
                    settled[item_id] = after
                latest[(tracker, item_id)] = strip_written(reading, record)
            if settled:
                store_settled(conn, tracker, settled)
        mark_changed(conn, moved_items(conn, latest.values()))  # with the write: people's time follows
        if self._sqlite_upsert is not None:
            synced = sqlite_datetime(now)
            return self._sqlite_upsert.run(conn, [_item_row(i, synced, "sqlite") for i in latest.values()])
        rows = [_item_row(item, now, "postgresql") for item in latest.values()]
        upsert = _newer_wins(json_rows_insert(t.items, ITEM_NAMES, rows))
        return max(0, conn.execute(upsert.execution_options(preserve_rowcount=True)).rowcount)

    def mark_deleted(self, tracker: str, item_ids: Iterable[str], *, at: datetime | None = None) -> int:
        """Mark items deleted (census or a delete event); returns how many changed."""
        ids = list(item_ids)
        if not ids:
            return 0
        when = at or utcnow()
        changed = 0
        with self._tx.write() as conn:
            for start in range(0, len(ids), UPSERT_CHUNK):
                chunk = ids[start : start + UPSERT_CHUNK]
                result = conn.execute(
                    update(t.items)
                    .where(t.items.c.tracker == tracker, t.items.c.item_id.in_(chunk), ~t.items.c.deleted)
                    .values(deleted=True, deleted_at=when)
                )
                changed += result.rowcount
            if changed:
                mark_changed(conn, ((tracker, item_id) for item_id in ids))
        return changed

    def live_ids(self, tracker: str, *, synced_before: datetime | None = None) -> set[str]:
        """Stable ids of every non-deleted item of ``tracker`` (last written before ``synced_before``)."""
        query = select(t.items.c.item_id).where(t.items.c.tracker == tracker, ~t.items.c.deleted)
        if synced_before is not None:
            query = query.where(t.items.c.synced_at < synced_before)
        with self._tx.read() as conn:
            return {r[0] for r in conn.execute(query)}

    def stream(self, *, include_deleted: bool = False) -> Iterator[StoredItem]:
        """Every stored item in key order, streamed."""
        query = select(t.items)
        if not include_deleted:
            query = query.where(~t.items.c.deleted)
        with self._tx.read() as conn:
            for row in conn.execution_options(yield_per=5000).execute(query.order_by(t.items.c.pk)):
                yield stored_from_row(row)

    def find(self, tracker: str, key_or_id: str) -> StoredItem | None:
        """An item by its key (case-insensitive) or stable id; deleted ones too."""
        with self._tx.read() as conn:
            row = conn.execute(
                select(t.items)
                .where(
                    t.items.c.tracker == tracker,
                    or_(t.items.c.item_id == key_or_id, func.upper(t.items.c.key) == key_or_id.upper()),
                )
                .order_by(t.items.c.deleted, t.items.c.updated_at.desc())
                .limit(1)
            ).first()
        return None if row is None else stored_from_row(row)

    def by_id(self, tracker: str, item_id: str) -> StoredItem | None:
        """An item by stable id."""
        with self._tx.read() as conn:
            row = conn.execute(
                select(t.items).where(t.items.c.tracker == tracker, t.items.c.item_id == item_id)
            ).first()
        return None if row is None else stored_from_row(row)

    def by_ids(self, tracker: str, item_ids: Iterable[str]) -> list[StoredItem]:
        """Items (deleted ones too) of ``tracker`` by stable id."""
        ids = list(item_ids)
        found: list[StoredItem] = []
        with self._tx.read() as conn:
            for start in range(0, len(ids), UPSERT_CHUNK):
                query = select(t.items).where(
                    t.items.c.tracker == tracker, t.items.c.item_id.in_(ids[start : start + UPSERT_CHUNK])
                )
                found += [stored_from_row(r) for r in conn.execute(query)]
        return found

    def by_pks(self, pks: Sequence[int]) -> list[StoredItem]:
        """Items by surrogate key, in the order given (unknown keys are left out)."""
        found: dict[int, StoredItem] = {}
        with self._tx.read() as conn:
            for start in range(0, len(pks), UPSERT_CHUNK):
                query = select(t.items).where(t.items.c.pk.in_(pks[start : start + UPSERT_CHUNK]))
                for r in conn.execute(query):
                    found[r.pk] = stored_from_row(r)
        return [found[pk] for pk in pks if pk in found]

    def children(self, tracker: str, parent_ids: Iterable[str], *, deleted: bool = False) -> list[StoredItem]:
        """Items of ``tracker`` whose parent is one of ``parent_ids``: live ones, or deleted ones."""
        ids = list(parent_ids)
        found: list[StoredItem] = []
        with self._tx.read() as conn:
            for start in range(0, len(ids), UPSERT_CHUNK):
                query = select(t.items).where(
                    t.items.c.tracker == tracker,
                    t.items.c.parent_id.in_(ids[start : start + UPSERT_CHUNK]),
                    t.items.c.deleted.is_(deleted),
                )
                found += [stored_from_row(r, deleted=deleted) for r in conn.execute(query)]
        return found

    def count(self, tracker: str | None = None, *, include_deleted: bool = False) -> int:
        """How many items are stored."""
        query = select(func.count()).select_from(t.items)
        if tracker:
            query = query.where(t.items.c.tracker == tracker)
        if not include_deleted:
            query = query.where(~t.items.c.deleted)
        with self._tx.read() as conn:
            return int(conn.execute(query).scalar_one())

    def resolved(self, tracker: str) -> Iterator[ResolvedItem]:
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
                yield ResolvedItem(
                    stored_from_row(row), sets[row.alloc_key], bool(row.conflict), bool(row.untagged)
                )
