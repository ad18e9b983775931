"""Admin views of webhook health: parked events (never dropped, visible here) and ignored ones."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from v2mom.app.auth import Admin
from v2mom.app.schemas.access import IgnoredEvents, ParkedEvents
from v2mom.app.services import InboxDep

router = APIRouter(prefix="/api/admin")


@router.get("/webhooks/parked")
def parked_events(
    inbox: InboxDep, _admin: Admin, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> ParkedEvents:
    """Events that failed every retry, newest first, with their last error."""
    events = inbox.parked(limit)
    for event in events:
        event["received_at"] = event["received_at"].isoformat()
    return ParkedEvents.model_validate({"items": events})


@router.get("/webhooks/ignored")
def ignored_events(
    inbox: InboxDep, _admin: Admin, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> IgnoredEvents:
    """Acknowledged events that apply nothing (comments without an issue, reactions, labels …):
    how many per tracker, and the newest first with the reason."""
    counts = {tracker: by_status.get("ignored", 0) for tracker, by_status in inbox.counts().items()}
    events = inbox.ignored(limit)
    for event in events:
        event["received_at"] = event["received_at"].isoformat()
    return IgnoredEvents.model_validate({"counts": counts, "items": events})
