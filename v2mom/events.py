"""The tracker-neutral webhook event that the inbox stores and the worker applies."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

EventKind = Literal["refetch", "delete", "heartbeat"]


class MalformedEvent(ValueError):
    """A verified delivery we cannot act on (400, nothing stored)."""


@dataclass(frozen=True)
class WebhookEvent:
    """One delivery, parsed: what happened to which item, when, and the raw payload.

    ``refetch``: re-read the item from the tracker (truth is the tracker; webhooks are hints).
    ``delete``: the tracker says the item is gone. ``heartbeat``: a liveness ping, nothing to apply.
    ``item_ref`` is the stable id when the payload has one, else the key.
    """

    tracker: str
    delivery_id: str
    kind: EventKind
    item_ref: str | None
    event_time: datetime | None
    payload: dict[str, Any] = field(default_factory=dict)
