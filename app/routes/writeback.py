"""Write-back over HTTP (admins): preview and run ``v2mom writeback``, and tag an item from the dashboard.

``GET /api/admin/writeback`` is the preview, ``POST`` runs it (409 when write-back is not enabled or
no plan is stored). ``POST /api/items/{tracker}/{key}/tags`` sets an item's own value or method in
its tracker and in the store at once and answers with the item's new resolution.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException
from pydantic import model_validator

from v2mom.app.auth import Admin, StoreDep
from v2mom.app.http_errors import require_configured, unprocessable
from v2mom.app.schemas.common import ApiModel
from v2mom.app.schemas.reports import ItemDocument
from v2mom.app.schemas.trackers import WritebackDocument
from v2mom.app.services import SettingsDep
from v2mom.errors import ConfigError
from v2mom.models import TrackerName
from v2mom.reports.flags import item_document
from v2mom.settings import Settings
from v2mom.sync.tagging import TagConflict, tag_item
from v2mom.sync.writeback import WriteBackBusy, writeback

router = APIRouter(
    responses={
        409: {
            "description": "Write-back is not enabled, no plan is stored yet, or a write-back of the tracker"
            " is already running"
        }
    }
)


def _writeback(
    settings: Settings, store: StoreDep, *, apply: bool, tracker: TrackerName | None, actor: str
) -> WritebackDocument:
    require_configured(settings, tracker)
    try:
        results = writeback(settings, store, apply=apply, tracker=tracker, actor=actor)
    except (ConfigError, WriteBackBusy) as exc:  # disabled, no plan stored, or another run under way
        raise HTTPException(409, detail=str(exc)) from None
    return WritebackDocument.of(results)


@router.get("/api/admin/writeback")
def writeback_preview(
    settings: SettingsDep, store: StoreDep, admin: Admin, tracker: TrackerName | None = None
) -> WritebackDocument:
    """What write-back would write in each enabled tracker (nothing is written)."""
    return _writeback(settings, store, apply=False, tracker=tracker, actor=f"token:{admin.name}")


@router.post("/api/admin/writeback")
def writeback_run(
    settings: SettingsDep, store: StoreDep, admin: Admin, tracker: TrackerName | None = None
) -> WritebackDocument:
    """Write inferred values, methods and links into each enabled tracker (the run is audited)."""
    return _writeback(settings, store, apply=True, tracker=tracker, actor=f"token:{admin.name}")


class TagRequest(ApiModel):
    """Exactly one of ``value`` or ``method``: the plan id to set as the item's own tag."""

    value: str | None = None
    method: str | None = None

    @model_validator(mode="after")
    def _one(self) -> TagRequest:
        if (self.value is None) == (self.method is None):
            raise ValueError("give exactly one of 'value' or 'method'")
        return self


class TagDocument(ItemDocument):
    """The tagged item as it now resolves, and whether the tracker's copy has been read back.

    ``read_back`` is ``pending`` when the tracker took the tag but reading the item back failed
    (``read_back_error`` says why): the tag is stored and audited all the same, and the webhook echo
    or the next sync brings the tracker's copy.
    """

    read_back: Literal["done", "pending"] = "done"
    read_back_error: str | None = None


@router.post("/api/items/{tracker}/{key}/tags", response_model_exclude_unset=True)
def tag(
    tracker: TrackerName, key: str, body: TagRequest, settings: SettingsDep, store: StoreDep, admin: Admin
) -> TagDocument:
    """Set the item's own value or method in its tracker and in the store; the item as it now resolves."""
    kind: Literal["value", "method"] = "value" if body.value is not None else "method"
    plan_id = body.value or body.method or ""
    try:
        tagged = tag_item(
            settings,
            store,
            tracker=tracker,
            key=key,
            kind=kind,
            plan_id=plan_id,
            actor=f"token:{admin.name}",
        )
    except TagConflict as exc:
        raise HTTPException(409, detail=str(exc)) from None
    except ConfigError as exc:
        raise unprocessable([str(exc)], location=("body", kind)) from None
    document = item_document(store, tracker, tagged.key, settings.calendar())
    if document is None:  # pragma: no cover - it was stored a moment ago
        raise HTTPException(404, detail=f"no item {tracker}:{tagged.key} in the store")
    pending = tagged.read_back_pending
    status = (
        {"read_back": "pending", "read_back_error": pending} if pending is not None else {"read_back": "done"}
    )
    return TagDocument.model_validate(document | status)
