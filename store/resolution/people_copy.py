"""People's stored shares carry their item's resolution: the engine copies it onto them as it writes.

Each ``people_shares`` row carries the ``alloc_key``, ``orphaned``, ``team_id``, ``state`` and
``tracker`` of its item's resolution, so a people's-time report sums the window's rows without
probing every item's resolution (:mod:`v2mom.store.people_time`). A refresh copies them as it
computes the rows (:mod:`v2mom.store.people_shares`); whenever the resolution engine writes
resolutions, :func:`copy_to_people_shares` copies them again onto the rows of the items written, in
the same transaction, so a report never sees the two disagree (as the effort rollup is moved).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import CompoundSelect, Connection, Select, select, update

from v2mom.store import schema as t
from v2mom.store.locks import lock_transaction
from v2mom.store.people_shares import COPIED
from v2mom.store.people_shares import LOCK as REFRESH_LOCK

__all__ = ["copy_to_people_shares"]


def copy_to_people_shares(conn: Connection, pks: Select[Any] | CompoundSelect[Any] | None) -> None:
    """Copy the resolution of each item of ``pks`` (a select of item pks; None: every item) onto its
    people's shares, null where the item has none (deleted since).

    On PostgreSQL it first waits for a refresh in progress to commit: that refresh's new rows copied
    the resolutions as they were before this transaction wrote them, and this update must see them.
    """
    if conn.dialect.name == "postgresql":
        lock_transaction(conn, REFRESH_LOCK)  # after the resolutions' own lock: one order, no deadlock
    s, r = t.people_shares.c, t.resolutions.c
    copied = {name: select(r[name]).where(r.item_pk == s.item_pk).scalar_subquery() for name in COPIED}
    statement = update(t.people_shares).values(copied)
    if pks is not None:
        statement = statement.where(s.item_pk.in_(pks))
    conn.execute(statement)
