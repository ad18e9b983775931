"""The resolution engine: bring every item's resolution and the rollup in step with items and plan.

One set-based path for every caller — a full sync (:func:`remap`), webhook batches, reconcile
passes and a tag from the dashboard (:func:`remap_changed`), and plan changes
(:mod:`store.plan_remap`):

1. each distinct tag signature is resolved once in Python (:mod:`store.remap_signatures`);
2. the database does the per-item work (:mod:`store.remap_sql`): trees, inheritance, counted
   effort, comparison with what is stored;
3. only the items that moved are rewritten — their resolution rows and one signed rollup delta —
   new items get their first resolution and deleted ones lose theirs.

Python memory is bounded by the number of distinct signatures, not items. The pure Python
resolver stays as the oracle in the tests (which prove the engine equal to it on random forests,
on both databases) and for explanations (``reports.explain``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Connection, func, select

from v2mom.mapping.plan import Plan
from v2mom.mapping.resolver import Resolver
from v2mom.store import schema as t
from v2mom.store.database import Database, UnitOfWork
from v2mom.store.locks import lock_transaction
from v2mom.store.resolution.rollup import prune_allocation_sets, rebuild_rollup
from v2mom.store.resolution.signatures import (
    SignatureItems,
    fill_signatures,
    load_signatures,
    seed_plan_change,
)
from v2mom.store.resolution.sql import (
    create_temp_tables,
    drop_temp_tables,
    fill_gone,
    fill_scope,
    find_changes,
    find_plan_changes,
    pks_in,
    rewrite_changes,
    seed_changes,
)

RESOLUTIONS_LOCK = "resolutions"
FULL_ABOVE = 0.2  # a scope larger than this share of live items is re-resolved as a whole
SMALL_SCOPE = 10_000  # a scope this small stays a scope (without counting the live items)


@dataclass(frozen=True)
class RemapStats:
    """The items resolved (all, or the scope) and how many carry each flag; ``moved``: rows written."""

    items: int
    untagged: int
    orphaned: int
    conflict: int
    moved: int = field(default=0, compare=False)


NOTHING = RemapStats(items=0, untagged=0, orphaned=0, conflict=0)  # nothing resolved (or a preview)


def remap(store: Database, plan: Plan | None = None) -> RemapStats:
    """Re-resolve every live item against ``plan`` (default: the stored one), in one transaction."""
    with store.unit_of_work() as uow:
        return reresolve(uow.connection, plan or held_plan(uow) or Plan())


def remap_changed(
    store: Database, changes: dict[str, set[str]], plan: Plan | None = None, *, full_above: float = FULL_ABOVE
) -> RemapStats:
    """Re-resolve the trees that ``changes`` (tracker -> changed or deleted ids) touch.

    Runs over every item instead when the trees hold more than ``full_above`` of the live items
    and more than :data:`SMALL_SCOPE` (one pass over everything is then cheaper than following
    the trees). Its stats count the scope.
    """
    if not any(changes.values()):
        return NOTHING
    with store.unit_of_work() as uow:
        return remap_changed_within(uow, changes, plan, full_above=full_above)


def remap_changed_within(
    uow: UnitOfWork, changes: dict[str, set[str]], plan: Plan | None = None, *, full_above: float = FULL_ABOVE
) -> RemapStats:
    """:func:`remap_changed` inside the caller's unit of work: the caller's other writes and the
    re-resolution commit together, or neither."""
    if not any(changes.values()):
        return NOTHING
    plan = plan or held_plan(uow) or Plan()
    return reresolve(uow.connection, plan, changes, full_above=full_above)


def held_plan(uow: UnitOfWork) -> Plan | None:
    """Hold the resolutions (:func:`one_at_a_time`), then read the stored plan: the one every
    stored resolution was made under. Read before holding them, a plan change committing in between
    would leave trees resolved under the old plan while the new one is stored — which the next plan
    change trusts no tree to be."""
    one_at_a_time(uow.connection)
    return uow.plans.current()


def reresolve(
    conn: Connection,
    plan: Plan,
    changes: dict[str, set[str]] | None = None,
    *,
    since: Plan | None = None,
    full_above: float = FULL_ABOVE,
    write: bool = True,
) -> RemapStats:
    """The engine, inside the caller's transaction.

    ``changes`` limits it to the trees those ids touch; past ``full_above`` of the live items (and
    :data:`SMALL_SCOPE`) it runs over everything instead. ``since`` (without ``changes``): the plan
    the stored resolutions were made under. A plan change moves no item, parent or effort, so only
    the tags of the items whose signature ``plan`` reads differently (or that a keyed or project
    rule of either plan names) and of the descendants inheriting from them are re-resolved
    (``remap_sql.find_plan_changes``) — unless those items alone are past the same bar — and the
    stats still count every item.

    With ``write=False`` it stops once ``rm_changed`` and ``rm_gone`` hold what would move, and
    leaves its temp tables for the caller (a preview reads them, then rolls back); otherwise it
    writes, counts and drops them.
    """
    one_at_a_time(conn)
    create_temp_tables(conn)
    by_plan = since is not None and not changes
    scoped = False
    read: SignatureItems | None = None
    if changes:
        seed_changes(conn, changes)
        scoped = _small(fill_scope(conn), lambda: _live_items(conn), full_above)
    elif by_plan:
        fill_signatures(conn, scoped=False)  # a signature must exist to be compared
        seeds = seed_plan_change(conn, Resolver(since or plan), Resolver(plan))
        if _small(seeds.dirty, lambda: seeds.live, full_above):
            return _plan_change(conn, plan, seeds.read, write=write)
        read = seeds.read
    if (changes or by_plan) and not scoped:
        create_temp_tables(conn)
    if not scoped:
        fill_gone(conn)
    if not by_plan:
        fill_signatures(conn, scoped=scoped)
    load_signatures(conn, Resolver(plan), scoped=scoped, read=read)
    first = write and not scoped and not _any_resolution(conn)
    written = find_changes(conn, scoped=scoped, first=first)
    if not write:
        return NOTHING
    return _write(conn, first_written=written if first else None, scoped=scoped)


def _plan_change(conn: Connection, plan: Plan, read: SignatureItems, *, write: bool) -> RemapStats:
    """A plan change moving few items: their new outcomes only (``remap_sql.find_plan_changes``),
    written as any move is; the stats count every item."""
    load_signatures(conn, Resolver(plan), scoped=False, read=read)
    find_plan_changes(conn)
    return _write(conn, first_written=None, scoped=False) if write else NOTHING


def _write(conn: Connection, *, first_written: int | None, scoped: bool) -> RemapStats:
    """Write what ``rm_changed`` and ``rm_gone`` hold (or, after a first resolution that wrote
    ``first_written`` rows itself, build the rollup from them), drop the allocation sets nothing
    names any more unless only a scope moved, count (the scope, or all) and drop the temp tables."""
    if first_written is not None:  # the rollup is theirs, built at once
        rebuild_rollup(conn)
        moved = first_written
    else:
        moved = rewrite_changes(conn, conn.dialect.name)
    if not scoped:
        prune_allocation_sets(conn)
    stats = _stats(conn, moved, scoped=scoped)
    drop_temp_tables(conn)
    return stats


def one_at_a_time(conn: Connection) -> None:
    """Hold the resolutions for this transaction: one re-resolution at a time across every process
    on the database, each reading what the one before it committed: two reading the same trees at
    once would both move the rollup by the same old facts, or collide inserting the same new
    resolution.

    PostgreSQL: the ``resolutions`` advisory lock, waited for and held until this transaction ends
    (every later statement, in READ COMMITTED, sees the previous holder's commit). SQLite: the
    write lock from the start (``BEGIN IMMEDIATE``, waiting out the busy timeout) — also because a
    deferred transaction whose snapshot another writer (the webhook inbox) moved past could not
    upgrade to writing and would fail at once with "database is locked". A SQLite transaction that
    already wrote (``apply_plan`` saved the plan first) holds it already.
    """
    if conn.dialect.name == "postgresql":
        lock_transaction(conn, RESOLUTIONS_LOCK)
        return
    dbapi = conn.connection.dbapi_connection
    if dbapi is not None and not getattr(dbapi, "in_transaction", True):
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _small(scope: int, live: Callable[[], int], full_above: float) -> bool:
    """Whether a scope of ``scope`` items stays a scope (see :func:`reresolve`); ``live`` counts the
    live items only when the scope is past :data:`SMALL_SCOPE` (a count of 10M items takes 1 s)."""
    return scope <= SMALL_SCOPE or scope <= full_above * live()


def _any_resolution(conn: Connection) -> bool:
    return conn.execute(select(t.resolutions.c.item_pk).limit(1)).first() is not None


def _live_items(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(t.items).where(~t.items.c.deleted)).scalar_one())


def _stats(conn: Connection, moved: int, *, scoped: bool) -> RemapStats:
    """Resolutions (of the scope, or all) and their flags, counted in one scan."""
    r = t.resolutions.c
    query = select(
        func.count(),
        func.count().filter(r.untagged),
        func.count().filter(r.orphaned),
        func.count().filter(r.conflict),
    )
    if scoped:
        query = query.where(r.item_pk.in_(pks_in("rm_scope")))
    row = conn.execute(query).one()
    return RemapStats(items=row[0], untagged=row[1], orphaned=row[2], conflict=row[3], moved=moved)
