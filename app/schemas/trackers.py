"""Response models of the in-tracker setup: the vocabulary diff per tracker."""

from __future__ import annotations

from typing import Literal

from v2mom.app.schemas.common import ApiModel
from v2mom.sync.provision import TrackerProvision
from v2mom.sync.writeback import TrackerWriteback
from v2mom.vocabulary import ManualStep, VocabularyChange


class VocabularyChangeDocument(ApiModel):
    """One change to a tracker's choices, with the line the CLI prints for it."""

    kind: Literal["value", "method"]
    action: Literal["create_container", "create", "rename", "disable", "enable"]
    name: str
    plan_id: str | None
    option_id: str | None
    old_name: str | None
    description: str

    @classmethod
    def of(cls, change: VocabularyChange) -> VocabularyChangeDocument:
        """The document of ``change``."""
        return cls(
            kind=change.kind,
            action=change.action,
            name=change.name,
            plan_id=change.plan_id,
            option_id=change.option_id,
            old_name=change.old_name,
            description=change.describe(),
        )


class ManualStepDocument(ApiModel):
    """A change the tracker's API cannot make: what an administrator does, and where."""

    change: VocabularyChangeDocument
    where: str
    description: str

    @classmethod
    def of(cls, step: ManualStep) -> ManualStepDocument:
        """The document of ``step``."""
        return cls(
            change=VocabularyChangeDocument.of(step.change), where=step.where, description=step.describe()
        )


class TrackerProvisionDocument(ApiModel):
    """One tracker: its changes, whether they were made, those left to an administrator (never
    applied: the tracker's API cannot make them), and why not when it failed."""

    tracker: str
    changes: list[VocabularyChangeDocument]
    applied: bool
    manual: list[ManualStepDocument]
    error: str | None
    warnings: list[str]  # what the tracker's run went on past (a Default Screen it was refused)


class ProvisionDocument(ApiModel):
    """Every configured tracker's part; ``ok`` is false when any of them failed."""

    ok: bool
    trackers: list[TrackerProvisionDocument]

    @classmethod
    def of(cls, results: list[TrackerProvision]) -> ProvisionDocument:
        """The document of a provisioning run (or preview)."""
        return cls(
            ok=all(result.ok for result in results),
            trackers=[
                TrackerProvisionDocument(
                    tracker=result.tracker,
                    changes=[VocabularyChangeDocument.of(change) for change in result.changes],
                    applied=result.applied,
                    manual=[ManualStepDocument.of(step) for step in result.manual],
                    error=result.error,
                    warnings=result.warnings,
                )
                for result in results
            ],
        )


class TrackerWritebackDocument(ApiModel):
    """One tracker's write-back: items to write per value and method, clears, links; and what happened."""

    tracker: str
    items: int
    values: dict[str, int]
    methods: dict[str, int]
    cleared: int
    links: int
    notes: list[str]
    applied: bool
    written: int
    linked: int
    refused: list[str]
    skipped: list[str]
    error: str | None
    summary: str

    @classmethod
    def of(cls, result: TrackerWriteback) -> TrackerWritebackDocument:
        """The document of one tracker's part."""
        return cls(
            tracker=result.tracker,
            items=len(result.fields),
            values=dict(result.values),
            methods=dict(result.methods),
            cleared=result.cleared,
            links=len(result.links),
            notes=list(result.notes),
            applied=result.applied,
            written=result.written,
            linked=result.linked,
            refused=list(result.refused),
            skipped=list(result.skipped),
            error=result.error,
            summary=writeback_summary(result),
        )


class WritebackDocument(ApiModel):
    """Every selected tracker's part; ``ok`` is false when any tracker failed or refused an item."""

    ok: bool
    trackers: list[TrackerWritebackDocument]

    @classmethod
    def of(cls, results: list[TrackerWriteback]) -> WritebackDocument:
        """The document of a write-back run (or preview)."""
        return cls(ok=all(r.ok for r in results), trackers=[TrackerWritebackDocument.of(r) for r in results])


def writeback_summary(result: TrackerWriteback) -> str:
    """One line for a person: what a tracker's write-back would do, or did."""
    if result.applied and (result.written or result.linked or result.refused):
        line = f"{result.tracker}: wrote {result.written} item(s), linked {result.linked}"
        if result.skipped:
            line += f", {len(result.skipped)} skipped (they cannot be written there)"
        return line + (f", {len(result.refused)} refused" if result.refused else "")
    if not result.fields and not result.links:
        return f"{result.tracker}: nothing to write"
    per = ", ".join(f"{k} {n}" for k, n in sorted(result.values.items()))
    per_method = ", ".join(f"{k} {n}" for k, n in sorted(result.methods.items()))
    parts = [f"{len(result.fields)} item(s)"]
    if per:
        parts.append(f"values: {per}")
    if per_method:
        parts.append(f"methods: {per_method}")
    if result.cleared:
        parts.append(f"{result.cleared} cleared")
    parts.append(f"{len(result.links)} link(s)")
    if result.skipped:
        parts.append(f"{len(result.skipped)} skipped (they cannot be written there)")
    return f"{result.tracker}: would write " + "; ".join(parts)
