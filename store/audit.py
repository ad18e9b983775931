"""The audit (``Database.audit``): one insert-only log of every change, who made it, when and what.

Kinds: ``plan`` (a plan version saved), ``rule`` (a plan version saved by a rule route, with the rule
itself), ``token`` (created, revoked), ``tag`` (an item's own value or method set from the dashboard or
the API), ``provision`` and ``writeback`` (an applied run, with its counts and errors), ``review`` (a
period's review snapshot stored: closed by the scheduled reconcile, a person or a new cycle). A change that
is a store write records its event in its own transaction (:func:`record_event` on the change's
connection), so the change and its entry commit together or not at all; a run against the trackers
records one event once it has finished. Entries are read newest first, by id.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, get_args

from sqlalchemy import Connection, insert, select

from v2mom.clock import utcnow
from v2mom.store import schema as t
from v2mom.store.transactions import Repository

AuditKind = Literal["plan", "rule", "token", "tag", "provision", "writeback", "review"]
AUDIT_KINDS: tuple[AuditKind, ...] = get_args(AuditKind)
SUMMARY_CHARS = 300  # one line, cut with an ellipsis past this


@dataclass(frozen=True)
class AuditEvent:
    """One entry of the audit."""

    id: int
    at: datetime
    actor: str
    kind: AuditKind
    summary: str
    details: dict[str, Any]


def one_line(text: str, limit: int = SUMMARY_CHARS) -> str:
    """``text`` on one line (whitespace runs folded to one space), cut to ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def record_event(
    conn: Connection, *, kind: AuditKind, actor: str, summary: str, details: Mapping[str, Any]
) -> None:
    """Insert one audit entry on ``conn``, inside the caller's transaction."""
    if kind not in AUDIT_KINDS:
        raise ValueError(f"unknown audit kind '{kind}' (expected one of {', '.join(AUDIT_KINDS)})")
    conn.execute(
        insert(t.audit_events).values(
            at=utcnow(), actor=actor, kind=kind, summary=one_line(summary), details=dict(details)
        )
    )


class AuditRepository(Repository):
    """The ``audit_events`` table."""

    def record(self, kind: AuditKind, *, actor: str, summary: str, details: Mapping[str, Any]) -> None:
        """Add an entry (in a unit of work: with whatever else it writes)."""
        with self._tx.write() as conn:
            record_event(conn, kind=kind, actor=actor, summary=summary, details=details)

    def entries(
        self, *, limit: int = 50, before: int | None = None, kind: AuditKind | None = None
    ) -> list[AuditEvent]:
        """The newest ``limit`` entries (of ``kind`` only, when given) older than id ``before``."""
        a = t.audit_events.c
        query = select(t.audit_events).order_by(a.id.desc()).limit(limit)
        if before is not None:
            query = query.where(a.id < before)
        if kind is not None:
            query = query.where(a.kind == kind)
        with self._tx.read() as conn:
            rows = conn.execute(query).all()
        return [
            AuditEvent(row.id, row.at, row.actor, row.kind, row.summary, dict(row.details)) for row in rows
        ]
