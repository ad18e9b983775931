"""Running the resolution engine: bring every item's resolution and the rollup in step with the
stored items and the plan, in one transaction.

Every caller goes through :func:`reresolve` with what happened (:mod:`.strategy`'s ``Change``): a
full sync (:func:`remap`), a sync batch, webhooks, a reconcile pass or a tag from the dashboard
(:func:`remap_changed`), a plan change (:mod:`.plan_change`) and its preview (:mod:`.preview`).
A run:

1. holds the resolutions (:func:`one_at_a_time`) and creates its scratch tables (:mod:`.tables`);
2. chooses one strategy (:func:`.strategy.choose_strategy`) — the full pass, the changed trees or
   the plan delta — which finds, set-based, the resolutions that move: each distinct tag
   signature is resolved once in Python (:mod:`.signatures`), the per-item work runs in the
   database;
3. writes only what moved — the changed resolutions, new items' first ones, deleted items' removal
   and one signed rollup delta (:mod:`.rewrite`) — counts, and drops its scratch tables.

Python memory is bounded by the number of distinct signatures, not items. The pure Python
resolver stays as the oracle in the tests (which prove the engine equal to it on random forests,
on both databases) and for explanations (``reports.explain``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, func, select, union

from v2mom.mapping.plan import Plan
from v2mom.store import schema as t
from v2mom.store.database import Database, UnitOfWork
from v2mom.store.locks import lock_transaction
from v2mom.store.resolution import tables as rm
from v2mom.store.resolution.people_copy import copy_to_people_shares
from v2mom.store.resolution.rewrite import rewrite_changes
from v2mom.store.resolution.rollup import prune_allocation_sets, rebuild_rollup
from v2mom.store.resolution.strategy import (
    FULL_ABOVE,
    Change,
    Everything,
    ItemsChanged,
    Strategy,
    choose_strategy,
)

RESOLUTIONS_LOCK = "resolutions"


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
        return reresolve(uow.connection, plan or held_plan(uow) or Plan(), Everything())


def remap_changed(
    store: Database,
    changes: dict[str, set[str]],
    plan: Plan | None = None,
    *,
    full_above: float = FULL_ABOVE,
) -> RemapStats:
    """Re-resolve the trees that ``changes`` (tracker -> changed or deleted ids) touch; every item
    instead when they hold more than ``full_above`` of the live items (see :mod:`.strategy`). Its
    stats count the scope."""
    if not any(changes.values()):
        return NOTHING
    with store.unit_of_work() as uow:
        return remap_changed_within(uow, changes, plan, full_above=full_above)


def remap_changed_within(
    uow: UnitOfWork,
    changes: dict[str, set[str]],
    plan: Plan | None = None,
    *,
    full_above: float = FULL_ABOVE,
) -> RemapStats:
    """:func:`remap_changed` inside the caller's unit of work: the caller's other writes and the
    re-resolution commit together, or neither."""
    if not any(changes.values()):
        return NOTHING
    plan = plan or held_plan(uow) or Plan()
    return reresolve(uow.connection, plan, ItemsChanged(changes, full_above))


def held_plan(uow: UnitOfWork) -> Plan | None:
    """Hold the resolutions (:func:`one_at_a_time`), then read the stored plan: the one every
    stored resolution was made under. Read before holding them, a plan change committing in between
    would leave trees resolved under the old plan while the new one is stored — which the next plan
    change trusts no tree to be."""
    one_at_a_time(uow.connection)
    return uow.plans.current()


def reresolve(conn: Connection, plan: Plan, change: Change, *, write: bool = True) -> RemapStats:
    """Re-resolve what ``change`` can move under ``plan``, inside the caller's transaction.

    With ``write=False`` it stops once ``rm_changed`` and ``rm_gone`` hold what would move and
    leaves the scratch tables for the caller (a preview reads them, then rolls back); otherwise it
    writes, counts and drops them.
    """
    one_at_a_time(conn)
    rm.create(conn)
    strategy = choose_strategy(conn, plan, change, write=write)
    written = strategy.find(conn, plan)
    if not write:
        return NOTHING
    stats = _write(conn, strategy, written)
    rm.drop(conn)
    return stats


def _write(conn: Connection, strategy: Strategy, written: int | None) -> RemapStats:
    """Write what ``rm_changed`` and ``rm_gone`` hold (or, when the strategy wrote ``written``
    first resolutions itself, build the rollup from them), drop the allocation sets nothing names
    any more unless only a scope moved, and count (the scope, or all)."""
    if written is not None:  # the rollup is theirs, built at once
        rebuild_rollup(conn)
        copy_to_people_shares(conn, None)
        moved = written
    else:
        moved = rewrite_changes(conn, strategy.move_rollup)
        copy_to_people_shares(conn, union(rm.pks_of(rm.changed), rm.pks_of(rm.gone)))
    if not strategy.scoped:
        prune_allocation_sets(conn)
    return _stats(conn, moved, scoped=strategy.scoped)


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
        query = query.where(r.item_pk.in_(rm.pks_of(rm.scope)))
    row = conn.execute(query).one()
    return RemapStats(items=row[0], untagged=row[1], orphaned=row[2], conflict=row[3], moved=moved)
