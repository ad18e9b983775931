"""The store: WorkItems, resolutions, cursors, runs, plans and tokens in SQL.

Every write runs in one transaction. Upserts are keyed by the tracker's stable id and never let an
older version of an item overwrite a newer one (compared on the tracker's ``updated`` time).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import (
    Connection,
    Engine,
    and_,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)

from v2mom.clock import utcnow
from v2mom.mapping.plan import Plan, plan_from_data
from v2mom.mapping.resolver import Share, shares_key
from v2mom.mapping.signature import tag_signature
from v2mom.models import Level, State, WorkItem
from v2mom.store import schema as t
from v2mom.store.engine import make_engine, upsert_insert
from v2mom.store.migrate import upgrade
from v2mom.store.rollup import (
    add_to_rollup,
    drop_empty_groups,
    prune_allocation_sets,
    rebuild_rollup,
    resolution_facts,
    store_allocation_sets,
)

Role = Literal["viewer", "admin"]
ROLES: tuple[Role, ...] = ("viewer", "admin")
UPSERT_CHUNK = 500


def hash_token(token: str) -> str:
    """SHA-256 of an API token; only the hash is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class TokenInfo:
    """A stored API token, without its secret."""

    id: int
    name: str
    role: Role
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class StoredItem:
    """A WorkItem as stored, with its surrogate key and deletion state."""

    pk: int
    item: WorkItem
    deleted: bool


@dataclass(frozen=True)
class ResolutionRow:
    """What the re-resolution writes for one item: flags, counted efforts and allocations.

    The allocations are stored once per distinct set; the row keeps the set's key
    (:func:`mapping.resolver.shares_key` of the allocations and the conflict and untagged flags).
    """

    item_pk: int
    untagged: bool
    orphaned: bool
    conflict: bool
    points: float
    hours: float
    count: float
    allocations: Sequence[Share]

    def set_key(self) -> int:
        """The key of this row's allocation set."""
        return shares_key(list(self.allocations), conflict=self.conflict, untagged=self.untagged)


def _token_info(r: Any) -> TokenInfo:
    return TokenInfo(r.id, r.name, r.role, r.created_at, r.last_used_at, r.revoked_at)


def _item_row(item: WorkItem, synced_at: datetime) -> dict[str, Any]:
    return {
        "tracker": item.tracker,
        "item_id": item.id,
        "key": item.key,
        "title": item.title,
        "url": item.url,
        "level": int(item.level),
        "parent_id": item.parent_id,
        "container": item.container,
        "state": item.state.value,
        "status_name": item.status_name,
        "created_at": item.created_at,
        "updated_at": item.updated_at,
        "completed_at": item.completed_at,
        "points": item.points,
        "hours": item.hours,
        "labels": list(item.labels),
        "components": list(item.components),
        "custom_fields": {k: list(v) for k, v in item.custom_fields.items()},
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
        url=row.url,
        level=Level(row.level),
        parent_id=row.parent_id,
        container=row.container,
        state=State(row.state),
        status_name=row.status_name,
        created_at=row.created_at,
        updated_at=row.updated_at,
        completed_at=row.completed_at,
        points=row.points,
        hours=row.hours,
        labels=tuple(row.labels),
        components=tuple(row.components),
        custom_fields={k: tuple(v) for k, v in row.custom_fields.items()},
    )


ITEM_COLUMNS = [c for c in t.items.c if c.name != "pk"]


class _DriverUpsert:
    """The item upsert as one driver-level ``executemany`` (SQLite).

    SQLAlchemy's per-row parameter handling cost about a third of sync time on SQLite; here the
    statement is compiled once and each row goes through the columns' own bind processors (public
    ``TypeEngine.bind_processor``: the same JSON and datetime encoding as the ORM-less path), then
    straight to the driver. ``rowcount`` counts rows inserted or updated: an older copy skipped by
    the upsert's WHERE is not counted.
    """

    def __init__(self, statement: Any, dialect: Any) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=[c.name for c in ITEM_COLUMNS])
        self.sql = compiled.string
        self.order: list[str] = list(compiled.positiontup or [])
        columns = {c.name: c for c in ITEM_COLUMNS}
        self.processors = [columns[name].type.bind_processor(dialect) for name in self.order]

    def run(self, conn: Connection, rows: list[dict[str, Any]]) -> int:
        params = [
            tuple(
                process(row[name]) if process is not None else row[name]
                for name, process in zip(self.order, self.processors, strict=True)
            )
            for row in rows
        ]
        result = conn.exec_driver_sql(self.sql, params)
        return max(0, result.rowcount)


class Store:
    """Typed access to the database; one instance per process, safe to share between threads."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        stmt = upsert_insert(self.dialect, t.items)
        excluded = stmt.excluded
        self._upsert_statement = stmt.on_conflict_do_update(
            index_elements=[t.items.c.tracker, t.items.c.item_id],
            set_={c.name: excluded[c.name] for c in ITEM_COLUMNS if c.name not in ("tracker", "item_id")},
            where=or_(t.items.c.updated_at <= excluded.updated_at, t.items.c.deleted.is_(True)),
        )
        self._sqlite_upsert = (
            _DriverUpsert(self._upsert_statement, engine.dialect) if self.dialect == "sqlite" else None
        )
        self._upsert_statement = self._upsert_statement.returning(t.items.c.pk)

    @classmethod
    def open(cls, url: str, *, migrate: bool = True) -> Store:
        """Connect to ``url`` and (by default) apply pending migrations."""
        engine = make_engine(url)
        if migrate:
            upgrade(engine)
        return cls(engine)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    def close(self) -> None:
        """Dispose of pooled connections."""
        self.engine.dispose()

    # -- items ---------------------------------------------------------------------------------

    def upsert_items(self, items: Sequence[WorkItem], *, synced_at: datetime | None = None) -> int:
        """Insert or update items by (tracker, id) in one transaction; returns rows written.

        A stored row whose ``updated_at`` is newer than the incoming one is left untouched, so a
        late, older copy never overwrites a newer state. A re-seen deleted item is undeleted.
        """
        if not items:
            return 0
        now = synced_at or utcnow()
        written = 0
        with self.engine.begin() as conn:
            written = self._upsert(conn, items, now)
        return written

    def _upsert(self, conn: Connection, items: Sequence[WorkItem], now: datetime) -> int:
        written = 0
        latest: dict[tuple[str, str], WorkItem] = {}
        for item in items:  # the same id twice in one batch: keep the newest
            known = latest.get((item.tracker, item.id))
            if known is None or known.updated_at <= item.updated_at:
                latest[(item.tracker, item.id)] = item
        rows = [_item_row(item, now) for item in latest.values()]
        if self._sqlite_upsert is not None:
            return self._sqlite_upsert.run(conn, rows)
        # executemany on one statement: compiled once and cached, batched by SQLAlchemy's
        # "insertmanyvalues" (a fresh multi-VALUES statement per page cost 55% of sync time).
        for start in range(0, len(rows), UPSERT_CHUNK):
            chunk = rows[start : start + UPSERT_CHUNK]
            written += len(conn.execute(self._upsert_statement, chunk).all())
        return written

    def mark_deleted(self, tracker: str, item_ids: Iterable[str], *, at: datetime | None = None) -> int:
        """Mark items deleted (census or a delete event); returns how many changed."""
        ids = list(item_ids)
        if not ids:
            return 0
        with self.engine.begin() as conn:
            return self._mark_deleted(conn, tracker, ids, at or utcnow())

    @staticmethod
    def _mark_deleted(conn: Connection, tracker: str, ids: list[str], at: datetime) -> int:
        changed = 0
        for start in range(0, len(ids), UPSERT_CHUNK):
            chunk = ids[start : start + UPSERT_CHUNK]
            result = conn.execute(
                update(t.items)
                .where(t.items.c.tracker == tracker, t.items.c.item_id.in_(chunk), ~t.items.c.deleted)
                .values(deleted=True, deleted_at=at)
            )
            changed += result.rowcount
        return changed

    def live_ids(self, tracker: str, *, synced_before: datetime | None = None) -> set[str]:
        """Stable ids of every non-deleted item of ``tracker`` (last written before ``synced_before``)."""
        query = select(t.items.c.item_id).where(t.items.c.tracker == tracker, ~t.items.c.deleted)
        if synced_before is not None:
            query = query.where(t.items.c.synced_at < synced_before)
        with self.engine.connect() as conn:
            return {r[0] for r in conn.execute(query)}

    def iter_items(self, *, include_deleted: bool = False) -> Iterator[StoredItem]:
        """Every stored item, streamed."""
        query = select(t.items)
        if not include_deleted:
            query = query.where(~t.items.c.deleted)
        with self.engine.connect() as conn:
            for row in conn.execution_options(yield_per=5000).execute(query.order_by(t.items.c.pk)):
                yield StoredItem(pk=row.pk, item=item_from_row(row), deleted=row.deleted)

    def find_item(self, tracker: str, key_or_id: str) -> StoredItem | None:
        """An item by its key (case-insensitive) or stable id; deleted ones too."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(t.items)
                .where(
                    t.items.c.tracker == tracker,
                    or_(t.items.c.item_id == key_or_id, func.upper(t.items.c.key) == key_or_id.upper()),
                )
                .order_by(t.items.c.deleted, t.items.c.updated_at.desc())
                .limit(1)
            ).first()
        return None if row is None else StoredItem(pk=row.pk, item=item_from_row(row), deleted=row.deleted)

    def get_item_by_id(self, tracker: str, item_id: str) -> StoredItem | None:
        """An item by stable id."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(t.items).where(t.items.c.tracker == tracker, t.items.c.item_id == item_id)
            ).first()
        return None if row is None else StoredItem(pk=row.pk, item=item_from_row(row), deleted=row.deleted)

    def items_by_ids(self, tracker: str, item_ids: Iterable[str]) -> list[StoredItem]:
        """Items (deleted ones too) of ``tracker`` by stable id."""
        ids = list(item_ids)
        found: list[StoredItem] = []
        with self.engine.connect() as conn:
            for start in range(0, len(ids), UPSERT_CHUNK):
                query = select(t.items).where(
                    t.items.c.tracker == tracker, t.items.c.item_id.in_(ids[start : start + UPSERT_CHUNK])
                )
                found += [
                    StoredItem(pk=r.pk, item=item_from_row(r), deleted=r.deleted) for r in conn.execute(query)
                ]
        return found

    def items_by_pks(self, pks: Sequence[int]) -> list[StoredItem]:
        """Items by surrogate key, in the order given (unknown keys are left out)."""
        found: dict[int, StoredItem] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(pks), UPSERT_CHUNK):
                query = select(t.items).where(t.items.c.pk.in_(pks[start : start + UPSERT_CHUNK]))
                for r in conn.execute(query):
                    found[r.pk] = StoredItem(pk=r.pk, item=item_from_row(r), deleted=r.deleted)
        return [found[pk] for pk in pks if pk in found]

    def live_children(self, tracker: str, parent_ids: Iterable[str]) -> list[StoredItem]:
        """Non-deleted items of ``tracker`` whose parent is one of ``parent_ids``."""
        ids = list(parent_ids)
        found: list[StoredItem] = []
        with self.engine.connect() as conn:
            for start in range(0, len(ids), UPSERT_CHUNK):
                query = select(t.items).where(
                    t.items.c.tracker == tracker,
                    t.items.c.parent_id.in_(ids[start : start + UPSERT_CHUNK]),
                    ~t.items.c.deleted,
                )
                found += [
                    StoredItem(pk=r.pk, item=item_from_row(r), deleted=False) for r in conn.execute(query)
                ]
        return found

    def count_items(self, tracker: str | None = None, *, include_deleted: bool = False) -> int:
        """How many items are stored."""
        query = select(func.count()).select_from(t.items)
        if tracker:
            query = query.where(t.items.c.tracker == tracker)
        if not include_deleted:
            query = query.where(~t.items.c.deleted)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    # -- resolutions ---------------------------------------------------------------------------

    def replace_resolutions(self, rows: Iterable[ResolutionRow], *, only: Sequence[int] | None = None) -> int:
        """Replace resolutions — all of them, or those of ``only`` — atomically, with their sets.

        The rollup follows in the same transaction: rebuilt set-based after a full replace (which
        also drops the allocation sets no resolution names any more), or adjusted by subtracting
        the old resolutions of ``only`` and adding the new ones.
        """
        now = utcnow()
        with self.engine.begin() as conn:
            states = self._states(conn, only)
            chunks = self._chunks(only)
            if only is None:
                conn.execute(delete(t.effort_rollup))
                conn.execute(delete(t.resolutions))
            else:
                for chunk in chunks:
                    assert chunk is not None
                    in_chunk = t.resolutions.c.item_pk.in_(chunk)
                    add_to_rollup(conn, self.dialect, resolution_facts(in_chunk, sign=-1))
                    conn.execute(delete(t.resolutions).where(in_chunk))
            batch: list[dict[str, Any]] = []
            keys: dict[tuple[tuple[Share, ...], bool, bool], int] = {}  # each distinct set, hashed once
            written = 0
            for row in rows:
                tracker, state, completed_on = states[row.item_pk]
                shape = (tuple(row.allocations), row.conflict, row.untagged)
                key = keys.get(shape)
                if key is None:
                    key = keys[shape] = row.set_key()
                batch.append(
                    {
                        "item_pk": row.item_pk,
                        "untagged": row.untagged,
                        "orphaned": row.orphaned,
                        "conflict": row.conflict,
                        "points": row.points,
                        "hours": row.hours,
                        "count": row.count,
                        "alloc_key": key,
                        "resolved_at": now,
                        "tracker": tracker,
                        "state": state,
                        "completed_on": completed_on,
                    }
                )
                written += 1
                if len(batch) >= 5000:
                    conn.execute(insert(t.resolutions), batch)
                    batch.clear()
            if batch:
                conn.execute(insert(t.resolutions), batch)
            store_allocation_sets(conn, self.dialect, {key: shape[0] for shape, key in keys.items()})
            if only is None:
                rebuild_rollup(conn)
                prune_allocation_sets(conn)
            else:
                for chunk in chunks:
                    assert chunk is not None
                    add_to_rollup(conn, self.dialect, resolution_facts(t.resolutions.c.item_pk.in_(chunk)))
                drop_empty_groups(conn)
        return written

    def rebuild_rollup(self) -> None:
        """Recompute the whole rollup from the resolutions (set-based, one statement)."""
        with self.engine.begin() as conn:
            rebuild_rollup(conn)

    def rollup_rows(self) -> list[dict[str, Any]]:
        """Every rollup row (for consistency checks), ordered by group key."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.effort_rollup).order_by(t.effort_rollup.c.group_key))
            return [dict(r._mapping) for r in rows]

    def allocation_set(self, key: int) -> list[Share]:
        """The (value, method, weight) shares of one stored allocation set, in order."""
        s = t.allocation_sets.c
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(s.value_id, s.method_id, s.weight).where(s.alloc_key == key).order_by(s.position)
            )
            return [(v, m, w) for v, m, w in rows]

    @staticmethod
    def _chunks(only: Sequence[int] | None) -> list[list[int] | None]:
        if only is None:
            return [None]
        return [list(only[i : i + UPSERT_CHUNK]) for i in range(0, len(only), UPSERT_CHUNK)]

    def _states(
        self, conn: Connection, only: Sequence[int] | None
    ) -> dict[int, tuple[str, str, date | None]]:
        query = select(t.items.c.pk, t.items.c.tracker, t.items.c.state, t.items.c.completed_at)
        out: dict[int, tuple[str, str, date | None]] = {}
        for chunk in self._chunks(only):
            q = query if chunk is None else query.where(t.items.c.pk.in_(chunk))
            for pk, tracker, state, completed in conn.execute(q):
                out[pk] = (tracker, state, completed.date() if completed else None)
        return out

    def resolution_of(self, item_pk: int) -> dict[str, Any] | None:
        """The stored flags and counted effort of one item (None before its first resolution)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(t.resolutions).where(t.resolutions.c.item_pk == item_pk)).first()
        if row is None:
            return None
        return {
            "flags": [f for f in ("untagged", "orphaned", "conflict") if getattr(row, f)],
            "effort": {"points": row.points, "hours": row.hours, "count": row.count},
        }

    # -- cursors and runs ----------------------------------------------------------------------

    def get_cursor(self, tracker: str, scope: str) -> datetime | None:
        """Where the last committed incremental page of (tracker, scope) ended."""
        with self.engine.connect() as conn:
            return conn.execute(
                select(t.sync_cursors.c.cursor).where(
                    t.sync_cursors.c.tracker == tracker, t.sync_cursors.c.scope == scope
                )
            ).scalar_one_or_none()

    def set_cursor(self, tracker: str, scope: str, cursor: datetime) -> None:
        """Advance (or create) the cursor; it never moves backwards."""
        with self.engine.begin() as conn:
            self._set_cursor(conn, tracker, scope, cursor)

    @staticmethod
    def _set_cursor(conn: Connection, tracker: str, scope: str, cursor: datetime) -> None:
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
    ) -> tuple[int, int]:
        """Upsert ``items``, mark ``removed`` deleted and advance the (scope, time) cursor, atomically.

        Returns (rows written, items newly deleted). The cursor moves only with the data it covers.
        """
        with self.engine.begin() as conn:
            written = self._upsert(conn, items, utcnow()) if items else 0
            deleted = self._mark_deleted(conn, tracker, list(removed), utcnow())
            if cursor is not None:
                self._set_cursor(conn, tracker, cursor[0], cursor[1])
        return written, deleted

    def clear_cursor(self, tracker: str) -> None:
        """Forget every cursor of ``tracker`` (a full resync follows)."""
        with self.engine.begin() as conn:
            conn.execute(delete(t.sync_cursors).where(t.sync_cursors.c.tracker == tracker))

    def start_run(self, tracker: str, kind: str) -> int:
        """Record the start of a sync run; returns its id."""
        with self.engine.begin() as conn:
            run_id = conn.execute(
                insert(t.sync_runs)
                .values(tracker=tracker, kind=kind, status="running", started_at=utcnow())
                .returning(t.sync_runs.c.id)
            ).scalar_one()
            return int(run_id)

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
        """Record how a run ended."""
        with self.engine.begin() as conn:
            conn.execute(
                update(t.sync_runs)
                .where(t.sync_runs.c.id == run_id)
                .values(
                    status=status,
                    finished_at=utcnow(),
                    items_upserted=upserted,
                    items_deleted=deleted,
                    api_calls=api_calls,
                    error=error,
                )
            )

    def last_successful_sync(self) -> dict[str, datetime]:
        """Per tracker, when the last successful run finished."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t.sync_runs.c.tracker, func.max(t.sync_runs.c.finished_at))
                .where(t.sync_runs.c.status == "ok")
                .group_by(t.sync_runs.c.tracker)
            )
            return {tracker: when for tracker, when in rows if when is not None}

    def get_tracker_state(self, tracker: str) -> dict[str, Any]:
        """Discovery results kept between runs (effort field, time zone)."""
        with self.engine.connect() as conn:
            data = conn.execute(
                select(t.tracker_state.c.data).where(t.tracker_state.c.tracker == tracker)
            ).scalar_one_or_none()
        return dict(data) if data else {}

    def set_tracker_state(self, tracker: str, data: dict[str, Any]) -> None:
        """Replace the discovery results of ``tracker``."""
        with self.engine.begin() as conn:
            conn.execute(delete(t.tracker_state).where(t.tracker_state.c.tracker == tracker))
            conn.execute(insert(t.tracker_state).values(tracker=tracker, data=data, updated_at=utcnow()))

    # -- plan ----------------------------------------------------------------------------------

    def get_plan(self) -> Plan | None:
        """The current plan, or None before the first ``plan apply``."""
        with self.engine.connect() as conn:
            doc = conn.execute(
                select(t.plans.c.document).order_by(t.plans.c.version.desc()).limit(1)
            ).scalar_one_or_none()
        return None if doc is None else plan_from_data(doc, "stored plan")

    def plan_versions(self, limit: int = 50) -> list[dict[str, Any]]:
        """The newest ``limit`` plan versions: version, document, created_at (ISO), created_by."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t.plans.c.version, t.plans.c.document, t.plans.c.created_at, t.plans.c.created_by)
                .order_by(t.plans.c.version.desc())
                .limit(limit)
            ).all()
        return [
            {
                "version": row.version,
                "document": row.document,
                "created_at": row.created_at.isoformat().replace("+00:00", "Z"),
                "created_by": row.created_by,
            }
            for row in rows
        ]

    def save_plan(self, plan: Plan, *, actor: str) -> int:
        """Store ``plan`` as the new current version; returns the version number."""
        with self.engine.begin() as conn:
            return self.save_plan_in(conn, plan, actor=actor)

    @staticmethod
    def save_plan_in(conn: Connection, plan: Plan, *, actor: str) -> int:
        """:meth:`save_plan` inside the caller's transaction (to commit it with its re-resolution)."""
        document = plan.model_dump(mode="json", exclude_none=True)
        latest = conn.execute(select(func.max(t.plans.c.version))).scalar_one_or_none() or 0
        conn.execute(
            insert(t.plans).values(
                version=latest + 1, document=document, created_at=utcnow(), created_by=actor
            )
        )
        return int(latest + 1)

    # -- tokens --------------------------------------------------------------------------------

    def create_token(self, role: Role, name: str) -> str:
        """Create an API token; the plaintext is returned once and only its hash is stored."""
        if role not in ROLES:
            raise ValueError(f"unknown role '{role}' (expected viewer or admin)")
        token = "v2m_" + secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            conn.execute(
                insert(t.api_tokens).values(
                    name=name, role=role, token_hash=hash_token(token), created_at=utcnow()
                )
            )
        return token

    def authenticate(self, token: str) -> TokenInfo | None:
        """The live token matching ``token`` (recording its use), or None."""
        digest = hash_token(token)
        with self.engine.begin() as conn:
            row = conn.execute(
                select(t.api_tokens).where(
                    and_(t.api_tokens.c.token_hash == digest, t.api_tokens.c.revoked_at.is_(None))
                )
            ).first()
            if row is None:
                return None
            now = utcnow()
            conn.execute(update(t.api_tokens).where(t.api_tokens.c.id == row.id).values(last_used_at=now))
        return TokenInfo(row.id, row.name, row.role, row.created_at, now, None)

    def token_info(self, *, token: str | None = None, token_id: int | None = None) -> TokenInfo | None:
        """One token by its secret or its id, without recording a use (revoked ones too)."""
        query = select(t.api_tokens)
        if token is not None:
            query = query.where(t.api_tokens.c.token_hash == hash_token(token))
        if token_id is not None:
            query = query.where(t.api_tokens.c.id == token_id)
        with self.engine.connect() as conn:
            r = conn.execute(query.limit(1)).first()
        return None if r is None else _token_info(r)

    def list_tokens(self) -> list[TokenInfo]:
        """Every token, newest first, without secrets."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.api_tokens).order_by(t.api_tokens.c.id.desc()))
            return [_token_info(r) for r in rows]

    def revoke_token(self, token_id: int) -> bool:
        """Revoke a token by id; False when there is no such live token."""
        with self.engine.begin() as conn:
            result = conn.execute(
                update(t.api_tokens)
                .where(t.api_tokens.c.id == token_id, t.api_tokens.c.revoked_at.is_(None))
                .values(revoked_at=utcnow())
            )
            return result.rowcount > 0
