"""Response models of the audit (``GET /api/admin/audit``): one entry per change, typed per kind.

Every entry has the same head (``id``, ``at`` in UTC to the second with a ``Z``, ``actor``, ``kind``,
a one-line ``summary``) and ``details`` whose shape its ``kind`` names: a plan version (``plan``),
the same plus the rule itself (``rule``), a token (``token``), an item and its tag (``tag``), or a
run per tracker (``provision``, ``writeback``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from v2mom.app.schemas.common import ApiModel
from v2mom.app.schemas.plan import RuleDocument
from v2mom.clock import iso_seconds
from v2mom.mapping.plan import Plan
from v2mom.store.audit import AuditEvent


class PlanAuditDetails(ApiModel):
    """A plan version: its number, the lines of what changed, why (only when a reason was given),
    and the plan before (None for the first version) and after."""

    version: int
    changes: list[str]
    reason: str | None = None
    before: Plan | None
    after: Plan


class RuleAuditDetails(PlanAuditDetails):
    """A plan version a rule route made, with the rule: ``rule`` is the one added, the new one of a
    replacement (``replaced`` the old one) or the one removed; ``order`` the old positions in their
    new order."""

    action: Literal["added", "replaced", "removed", "reordered"]
    rule: RuleDocument | None = None
    replaced: RuleDocument | None = None
    position: int | None = None
    order: list[int] | None = None


class AuditedToken(ApiModel):
    """Which token (never its secret)."""

    id: int
    name: str
    role: Literal["viewer", "admin"]


class TokenAuditDetails(ApiModel):
    """A token created or revoked."""

    action: Literal["created", "revoked"]
    token: AuditedToken


class AuditedItem(ApiModel):
    """The item tagged: its tracker, tracker id and key."""

    tracker: str
    id: str
    key: str


class AuditedTag(ApiModel):
    """The tag set: a value or a method, by plan id and name (None for tags audited before names were)."""

    kind: Literal["value", "method"]
    id: str
    name: str | None


class TagAuditDetails(ApiModel):
    """A tag set from the dashboard or the API, and the item's own tags of that kind before it."""

    item: AuditedItem
    tag: AuditedTag
    before: list[str]


class ProvisionedTracker(ApiModel):
    """One tracker's part of a provisioning run: the changes made, those left to an administrator
    (the tracker's API cannot make them), what it went on past, or its error."""

    tracker: str
    applied: bool
    changes: list[str]
    manual: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    error: str | None


class ProvisionAuditDetails(ApiModel):
    """An applied provisioning run."""

    trackers: list[ProvisionedTracker]


class WrittenTracker(ApiModel):
    """One tracker's part of a write-back run: its counts, the first refusals, notes and error."""

    tracker: str
    applied: bool
    written: int
    linked: int
    cleared: int
    settled: int
    unsettled: int
    skipped: int
    refused_count: int
    refused: list[str]
    notes: list[str]
    error: str | None


class WritebackAuditDetails(ApiModel):
    """A write-back run."""

    trackers: list[WrittenTracker]


class ReviewAuditDetails(ApiModel):
    """A period's review snapshot stored."""

    cycle: str
    period: str
    start: str = Field(description="The period's first day (ISO date).")
    end: str = Field(
        description="Its last day; for a period cut short by a new cycle, the day of the switch."
    )
    plan_version: int = Field(description="The plan version the review was computed under.")
    cut: bool = Field(description="Cut short: closed when a plan for a new cycle replaced this one.")


class _Head(ApiModel):
    id: str
    at: str = Field(description="UTC, to the second: 2026-12-04T16:00:00Z")
    actor: str = Field(description="token:<name> over HTTP, cli:<os user> from the CLI, system otherwise")
    kind: str  # each entry model narrows it to its own
    summary: str = Field(description="One line.")


class PlanAuditEntry(_Head):
    """A plan version saved (``PUT /api/plan``, ``PUT /api/admin/plan``, ``v2mom plan apply``)."""

    kind: Literal["plan"]
    details: PlanAuditDetails


class RuleAuditEntry(_Head):
    """A plan version saved by a rule route."""

    kind: Literal["rule"]
    details: RuleAuditDetails


class TokenAuditEntry(_Head):
    """A token created or revoked."""

    kind: Literal["token"]
    details: TokenAuditDetails


class TagAuditEntry(_Head):
    """A tag set from the dashboard or the API."""

    kind: Literal["tag"]
    details: TagAuditDetails


class ProvisionAuditEntry(_Head):
    """An applied provisioning run."""

    kind: Literal["provision"]
    details: ProvisionAuditDetails


class WritebackAuditEntry(_Head):
    """A write-back run."""

    kind: Literal["writeback"]
    details: WritebackAuditDetails


class ReviewAuditEntry(_Head):
    """A period closed: its review snapshot stored (by the reconcile, ``v2mom review close``,
    ``POST /api/reviews/close`` or a plan for a new cycle)."""

    kind: Literal["review"]
    details: ReviewAuditDetails


AuditEntry = Annotated[
    PlanAuditEntry
    | RuleAuditEntry
    | TokenAuditEntry
    | TagAuditEntry
    | ProvisionAuditEntry
    | WritebackAuditEntry
    | ReviewAuditEntry,
    Field(discriminator="kind"),
]


class AuditLog(ApiModel):
    """``GET /api/admin/audit``: entries newest first; ``next_cursor`` fetches the older ones (None:
    there are no more)."""

    entries: list[AuditEntry]
    next_cursor: str | None


def entry_document(event: AuditEvent) -> dict[str, object]:
    """An audit event as its JSON entry (the time as ``2026-12-04T16:00:00Z``)."""
    return {
        "id": str(event.id),
        "at": iso_seconds(event.at),
        "actor": event.actor,
        "kind": event.kind,
        "summary": event.summary,
        "details": event.details,
    }
