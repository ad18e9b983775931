"""Admin views of webhook health: parked events (never dropped, visible here)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from v2mom.app.auth import Admin
from v2mom.app.schemas.access import ParkedEvents
from v2mom.store.inbox import Inbox

router = APIRouter(prefix="/api/admin")


@router.get("/webhooks/parked")
def parked_events(
    request: Request, _admin: Admin, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> ParkedEvents:
    """Events that failed every retry, newest first, with their last error."""
    inbox: Inbox = request.app.state.inbox
    events = inbox.parked(limit)
    for event in events:
        event["received_at"] = event["received_at"].isoformat()
    return ParkedEvents.model_validate({"items": events})
