"""Response models of the in-tracker setup: the vocabulary diff per tracker."""

from __future__ import annotations

from typing import Literal

from v2mom.app.schemas.common import ApiModel
from v2mom.sync.provision import TrackerProvision
from v2mom.vocabulary import VocabularyChange


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


class TrackerProvisionDocument(ApiModel):
    """One tracker: its changes, whether they were made, and why not when it failed."""

    tracker: str
    changes: list[VocabularyChangeDocument]
    applied: bool
    error: str | None


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
                    error=result.error,
                )
                for result in results
            ],
        )
