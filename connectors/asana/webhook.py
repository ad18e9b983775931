"""Asana webhooks, pure: the ``X-Hook-Secret`` handshake, ``X-Hook-Signature``, compact events.

A delivery holds a list of compact events (no event id, at-most-once); an empty list is a heartbeat.
Each task (or project) event becomes a ``refetch`` hint, ``deleted`` a ``delete``; events about
other resources (stories, sections …) apply nothing. Deduplication uses a composite key, since
Asana gives no delivery or event id: ``<resource gid>/<action>/<created_at>/<parent gid>/<changed
field>``: a retried delivery repeats it exactly; two real changes differ at least in ``created_at``
(millisecond precision) or in what changed. A heartbeat's key is the signature of its body.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from v2mom.connectors.signatures import verify_hmac_sha256
from v2mom.events import EventKind, MalformedEvent, WebhookEvent

SECRET_HEADER = "x-hook-secret"  # noqa: S105 - a header name, not a secret
SIGNATURE_HEADER = "x-hook-signature"
ITEM_TYPES = {"task", "project"}


def verify_asana(headers: Mapping[str, str], body: bytes, secrets: Sequence[str]) -> None:
    """Raise WebhookVerificationError unless ``X-Hook-Signature`` is the HMAC of ``body``."""
    verify_hmac_sha256(body, headers.get(SIGNATURE_HEADER), secrets)


def _gid(value: Any) -> str:
    return str(value.get("gid") or "") if isinstance(value, Mapping) else ""


def dedupe_key(event: Mapping[str, Any]) -> str:
    """The composite key of one compact event (see the module docstring)."""
    change = event.get("change")
    field = change.get("field") if isinstance(change, Mapping) else ""
    parts = [
        _gid(event.get("resource")),
        str(event.get("action") or ""),
        str(event.get("created_at") or ""),
        _gid(event.get("parent")),
        str(field or ""),
    ]
    return "/".join(parts)


def parse_asana_events(headers: Mapping[str, str], body: bytes) -> list[WebhookEvent]:
    """The events in a verified delivery (one heartbeat when it holds none)."""
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MalformedEvent(f"body is not JSON: {exc.__class__.__name__}") from None
    if not isinstance(data, dict) or not isinstance(data.get("events"), list):
        raise MalformedEvent("body has no 'events' list")
    if not data["events"]:
        digest = hashlib.sha256(body + headers.get(SIGNATURE_HEADER, "").encode()).hexdigest()[:32]
        return [WebhookEvent("asana", f"heartbeat/{digest}", "heartbeat", None, None, {})]
    events: list[WebhookEvent] = []
    for raw in data["events"]:
        if not isinstance(raw, dict):
            raise MalformedEvent("an event is not an object")
        resource = raw.get("resource")
        gid = _gid(resource)
        resource_type = resource.get("resource_type") if isinstance(resource, Mapping) else None
        if not gid or not isinstance(resource_type, str):
            raise MalformedEvent("an event has no resource gid and type")
        created = raw.get("created_at")
        when: datetime | None = None
        if isinstance(created, str):
            try:
                when = datetime.fromisoformat(created.replace("Z", "+00:00"))
            except ValueError:
                raise MalformedEvent(f"created_at '{created}' is not ISO 8601") from None
        kind: EventKind
        if resource_type not in ITEM_TYPES:
            kind, ref = "heartbeat", None
        else:
            kind, ref = ("delete" if raw.get("action") == "deleted" else "refetch"), gid
        events.append(WebhookEvent("asana", dedupe_key(raw), kind, ref, when, raw))
    return events
