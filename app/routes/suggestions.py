"""Suggestions for untagged work: an item's suggestions, rejecting one, the current model, and
accepting one suggestion for many items at once.

Accepting one is tagging the item (``POST /api/items/{tracker}/{key}/tags``): the same write,
audit and re-resolution as tagging from the dashboard. A bulk acceptance previews the items whose
best suggestion it is (``GET /api/admin/suggestions/bulk``), then tags the ones the admin confirmed
(``POST``), each through that same write, re-checking each still qualifies.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from pydantic import Field, ValidationError

from v2mom.app.auth import Admin, StoreDep, Viewer
from v2mom.app.http_errors import unprocessable
from v2mom.app.routes.writeback import TagRequest
from v2mom.app.schemas.suggestions import BulkPreview, BulkResult, ModelDocument, SuggestionsDocument
from v2mom.app.services import ServicesDep, SettingsDep
from v2mom.errors import V2momError
from v2mom.mapping.plan import Plan
from v2mom.mapping.vocabulary import choice_names
from v2mom.models import TRACKERS, TrackerName
from v2mom.store.database import Database
from v2mom.store.items import StoredItem
from v2mom.suggest.corpus import Untagged
from v2mom.suggest.quality import DEFAULT_FLOOR
from v2mom.suggest.service import bulk_candidates, suggestions_for
from v2mom.sync.tagging import tag_item
from v2mom.vocabulary import Kind

router = APIRouter(tags=["suggestions"])
BULK_FLOOR = 0.8  # a bulk acceptance's default: surer than the one-by-one floor
BULK_MAX = 1_000  # items one bulk acceptance may tag


def _item(store: Database, tracker: str, key: str) -> StoredItem:
    stored = store.items.find(tracker, key)
    if stored is None:
        raise HTTPException(404, detail=f"no item {tracker}:{key} in the store")
    return stored


def _document(services: ServicesDep, store: Database, stored: StoredItem) -> SuggestionsDocument:
    plan = store.plans.current() or Plan()
    model = services.suggestion_models.current(store)
    found = suggestions_for(store, plan, model, stored)
    return SuggestionsDocument.model_validate({"suggestions": [s.as_dict() for s in found]})


@router.get("/api/items/{tracker}/{key}/suggestions")
def item_suggestions(
    tracker: TrackerName, key: str, services: ServicesDep, store: StoreDep, _viewer: Viewer
) -> SuggestionsDocument:
    """Up to three values or methods for an untagged item, best first, each with why."""
    return _document(services, store, _item(store, tracker, key))


@router.get("/api/suggestions/model")
def suggestion_model(store: StoreDep, _viewer: Viewer) -> ModelDocument:
    """The model suggestions come from now and its held-out quality (null before the first one)."""
    stored = store.suggestions.latest(store.plans.current_version(), with_model=False)
    if stored is None:
        return ModelDocument(model=None)
    quality = stored.quality
    return ModelDocument.model_validate(
        {
            "model": {
                "trained_at": stored.trained_at,
                "plan_version": stored.plan_version,
                "examples": stored.examples,
                "tags": stored.tags,
                "floor": DEFAULT_FLOOR,
                "trained_on": quality["trained_on"],
                "held_out": quality["held_out"],
                "levels": quality["levels"],
            }
        }
    )


@router.post("/api/items/{tracker}/{key}/suggestions/reject")
def reject_suggestion(
    tracker: TrackerName, key: str, body: TagRequest, services: ServicesDep, store: StoreDep, admin: Admin
) -> SuggestionsDocument:
    """Never offer this value or method for the item again; the item's suggestions now."""
    stored = _item(store, tracker, key)
    tag = f"value:{body.value}" if body.value is not None else f"method:{body.method}"
    store.suggestions.reject(tracker, stored.item.id, tag, f"token:{admin.name}")
    return _document(services, store, stored)


class BulkRequest(TagRequest):
    """The suggestion to accept (exactly one of ``value`` or ``method``), how sure at least, and the
    items the admin confirmed from the preview (``tracker:key``)."""

    min_confidence: float = Field(default=BULK_FLOOR, ge=DEFAULT_FLOOR, le=1)
    items: list[str] = Field(min_length=1, max_length=BULK_MAX)


def _bulk(
    services: ServicesDep, store: Database, body: TagRequest, min_confidence: float, tracker: str | None
) -> tuple[Kind, str, list[tuple[Untagged, float]]]:
    """The kind, the plan's name of the chosen value or method, and the items it is the best
    suggestion of; 422 for a choice the plan lacks, 409 without a model."""
    plan = store.plans.current() or Plan()
    kind: Kind = "value" if body.value is not None else "method"
    plan_id = body.value or body.method or ""
    names = choice_names(plan)[kind]
    if plan_id not in names:
        raise unprocessable([f"{kind}: '{plan_id}' is not a {kind} id of the plan"], location=("body", kind))
    model = services.suggestion_models.current(store)
    if model is None:
        raise HTTPException(409, detail="no suggestion model has been trained under the current plan yet")
    trackers = [tracker] if tracker else list(TRACKERS)
    found = bulk_candidates(store, plan, model, f"{kind}:{plan_id}", min_confidence, trackers)
    return kind, names[plan_id], found


@router.get("/api/admin/suggestions/bulk")
def bulk_preview(
    services: ServicesDep,
    store: StoreDep,
    _admin: Admin,
    value: str | None = None,
    method: str | None = None,
    min_confidence: Annotated[float, Query(ge=DEFAULT_FLOOR, le=1)] = BULK_FLOOR,
    tracker: TrackerName | None = None,
) -> BulkPreview:
    """The untagged items whose best suggestion is ``value`` (or ``method``) at ``min_confidence``
    or more, most confident first: what ``POST`` would tag. Nothing is written."""
    try:
        chosen = TagRequest(value=value, method=method)
    except ValidationError:
        raise unprocessable(["give exactly one of 'value' or 'method'"], location=("query",)) from None
    _, name, found = _bulk(services, store, chosen, min_confidence, tracker)
    items = [
        {
            "tracker": item.tracker,
            "key": item.ref.partition(":")[2],
            "title": item.text.partition("\n")[0],
            "confidence": round(confidence, 4),
        }
        for item, confidence in found
    ]
    return BulkPreview.model_validate(
        {
            "value": value,
            "method": method,
            "name": name,
            "min_confidence": min_confidence,
            "count": len(items),
            "items": items,
        }
    )


@router.post("/api/admin/suggestions/bulk")
def bulk_accept(
    body: BulkRequest, services: ServicesDep, settings: SettingsDep, store: StoreDep, admin: Admin
) -> BulkResult:
    """Tag each confirmed item with the suggestion, through the tagging write (tracker, audit,
    report), if it still qualifies (untagged, the suggestion still its best at ``min_confidence``);
    what was tagged, skipped and refused."""
    kind, _, found = _bulk(services, store, body, body.min_confidence, None)
    qualifying = {item.ref for item, _ in found}
    plan_id = body.value or body.method or ""
    actor = f"token:{admin.name}"
    tagged: list[str] = []
    skipped: list[dict[str, str]] = []
    failed: list[dict[str, str]] = []
    for ref in dict.fromkeys(body.items):
        tracker, _, key = ref.partition(":")
        if ref not in qualifying:
            skipped.append({"item": ref, "reason": "no longer untagged with this as its best suggestion"})
            continue
        try:
            tag_item(settings, store, tracker=tracker, key=key, kind=kind, plan_id=plan_id, actor=actor)
        except V2momError as exc:
            failed.append({"item": ref, "reason": str(exc)})
            continue
        tagged.append(ref)
    return BulkResult.model_validate({"tagged": tagged, "skipped": skipped, "failed": failed})
