"""Suggestions for untagged work: an item's suggestions, and rejecting one.

Accepting one is tagging the item (``POST /api/items/{tracker}/{key}/tags``): the same write,
audit and re-resolution as tagging from the dashboard.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from v2mom.app.auth import Admin, StoreDep, Viewer
from v2mom.app.routes.writeback import TagRequest
from v2mom.app.schemas.suggestions import ModelDocument, SuggestionsDocument
from v2mom.app.services import ServicesDep
from v2mom.mapping.plan import Plan
from v2mom.models import TrackerName
from v2mom.store.database import Database
from v2mom.store.items import StoredItem
from v2mom.suggest.quality import DEFAULT_FLOOR
from v2mom.suggest.service import plan_version, suggestions_for

router = APIRouter(tags=["suggestions"])


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
    stored = store.suggestions.latest(plan_version(store), with_model=False)
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
