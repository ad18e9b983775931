"""The V2MOM plan: every applied version is kept, with who applied it, when, why and what changed.

A version keeps its reason (required once the stored plan has a cycle: see
:func:`v2mom.mapping.plan_changes.require_reason`) and the summary of its change
(:func:`v2mom.mapping.plan_changes.change_summary`, plus the effort its preview measured moving).
Saving a version also records it in the audit (``store.audit``), in the same transaction: kind
``plan``, or ``rule`` when a rule route made the change (then with the rule itself), with the
version, the reason, the lines of what changed and the plan before and after.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, insert, select

from v2mom.clock import utcnow
from v2mom.mapping.plan import Plan, plan_from_data
from v2mom.mapping.plan_changes import RuleChange, change_summary, require_reason
from v2mom.store import schema as t
from v2mom.store.audit import record_event
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

    def current_version(self) -> int:
        """The current plan's version (0 before the first ``plan apply``)."""
        with self._tx.read() as conn:
            return int(conn.execute(select(func.coalesce(func.max(t.plans.c.version), 0))).scalar_one())

    def versions(self, limit: int = 50) -> list[dict[str, Any]]:
        """The newest ``limit`` plan versions: version, created_at (ISO), created_by, document."""
        return self._newest(limit, t.plans.c.document)

    def history(self, limit: int = 50) -> list[dict[str, Any]]:
        """The newest ``limit`` versions, newest first: version, created_at (ISO), created_by,
        reason and changes (the summary; both None for versions saved before they were kept)."""
        return self._newest(limit, t.plans.c.reason, t.plans.c.changes)

    def _newest(self, limit: int, *columns: Any) -> list[dict[str, Any]]:
        """The newest ``limit`` versions, newest first: who saved each and when, and ``columns``."""
        p = t.plans.c
        with self._tx.read() as conn:
            rows = conn.execute(
                select(p.version, p.created_at, p.created_by, *columns)
                .order_by(p.version.desc())
                .limit(limit)
            ).all()
        return [
            {
                "version": row.version,
                "created_at": row.created_at.isoformat().replace("+00:00", "Z"),
                "created_by": row.created_by,
                **{column.name: row._mapping[column] for column in columns},
            }
            for row in rows
        ]

    def save(
        self,
        plan: Plan,
        *,
        actor: str,
        rule: RuleChange | None = None,
        reason: str | None = None,
        effort_moved: Mapping[str, Any] | None = None,
    ) -> int:
        """Store ``plan`` as the new current version and audit it; returns the version number.

        ``reason`` says why (stored trimmed; a :class:`~v2mom.errors.ConfigError` naming ``reason``,
        and nothing written, when the stored plan has a cycle and it is blank). ``effort_moved`` is
        what the change's preview measured, kept in the summary. ``rule`` says which rule route made
        the change (the audit's kind is then ``rule``). In a unit of work it commits with whatever
        else the unit writes (its re-resolution).
        """
        document = plan.model_dump(mode="json", exclude_none=True)
        why = reason.strip() if reason is not None and reason.strip() else None
        with self._tx.write() as conn:
            latest = conn.execute(
                select(t.plans.c.version, t.plans.c.document).order_by(t.plans.c.version.desc()).limit(1)
            ).first()
            before = latest.document if latest is not None else None
            previous = plan_from_data(before, "stored plan", stored=True) if before is not None else None
            require_reason(previous, why)
            version = (latest.version if latest is not None else 0) + 1
            summary_doc = change_summary(previous, plan)
            if effort_moved is not None:
                summary_doc["effort_moved"] = dict(effort_moved)
            conn.execute(
                insert(t.plans).values(
                    version=version,
                    document=document,
                    created_at=utcnow(),
                    created_by=actor,
                    reason=why,
                    changes=summary_doc,
                )
            )
            changes = summary_doc["lines"]
            details: dict[str, Any] = {
                "version": version,
                "changes": changes,
                "before": before,
                "after": document,
            }
            if rule is None:
                summary = f"plan v{version}: {'; '.join(changes)}"
            else:
                details |= rule.details()
                summary = f"{rule.describe()} (plan v{version})"
            if why is not None:  # only when given: entries without one read as they always have
                details["reason"] = why
                summary += f"; reason: {why}"
            record_event(
                conn, kind="plan" if rule is None else "rule", actor=actor, summary=summary, details=details
            )
        return version
