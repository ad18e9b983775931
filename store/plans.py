"""The V2MOM plan: every applied version is kept, with who applied it and when (the audit trail)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, insert, select

from v2mom.clock import utcnow
from v2mom.mapping.plan import Plan, plan_from_data
from v2mom.store import schema as t
from v2mom.store.transactions import Repository


class PlanRepository(Repository):
    """The ``plans`` table: the newest version is the current plan."""

    def current(self) -> Plan | None:
        """The current plan, or None before the first ``plan apply``."""
        with self._tx.read() as conn:
            doc = conn.execute(
                select(t.plans.c.document).order_by(t.plans.c.version.desc()).limit(1)
            ).scalar_one_or_none()
        return None if doc is None else plan_from_data(doc, "stored plan", stored=True)

    def versions(self, limit: int = 50) -> list[dict[str, Any]]:
        """The newest ``limit`` plan versions: version, document, created_at (ISO), created_by."""
        with self._tx.read() as conn:
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

    def save(self, plan: Plan, *, actor: str) -> int:
        """Store ``plan`` as the new current version; returns the version number.

        In a unit of work it commits with whatever else the unit writes (its re-resolution).
        """
        document = plan.model_dump(mode="json", exclude_none=True)
        with self._tx.write() as conn:
            latest = conn.execute(select(func.max(t.plans.c.version))).scalar_one_or_none() or 0
            conn.execute(
                insert(t.plans).values(
                    version=latest + 1, document=document, created_at=utcnow(), created_by=actor
                )
            )
        return int(latest + 1)
