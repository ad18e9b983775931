"""Asana webhooks, pure: the ``X-Hook-Secret`` handshake, ``X-Hook-Signature``, compact events.

A delivery holds a list of compact events (no event id, at-most-once); an empty list is a heartbeat.
Each task (or project) event becomes a ``refetch`` hint, ``deleted`` a ``delete``; events about
other resources (stories, sections …), or without a resource, are acknowledged and stored as
``ignored`` with the reason: a task's own change arrives as its own event. A delivery that is not a
JSON object with an ``events`` list, an event that is not an object, a task gid that is not
numeric (or too long for the inbox) or an unreadable ``created_at`` is refused (400 naming it).
Deduplication uses a composite key, since Asana gives no delivery or event id: ``<resource
gid>/<action>/<created_at>/<parent gid>/<changed field>``: a retried delivery repeats it exactly;
two real changes differ at least in ``created_at`` (millisecond precision) or in what changed. A
key longer than the inbox's column is replaced by its SHA-256 (as stable across retries). A
heartbeat's key is the signature of its body.

People's time: an event names the field that changed (``change: {field: "assignee", action:
"changed"}``) but never its values, so no status or assignee change is recorded from it; the task is
re-fetched, and its history (stories) is read again by the next sync, its ``modified_at`` having
moved.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from v2mom.connectors.signatures import verify_hmac_sha256
from v2mom.events import (
    MAX_DELIVERY_ID,
    EventKind,
    MalformedEvent,
    WebhookEvent,
    checked_id,
    iso_time,
    load_body,
)

SECRET_HEADER = "x-hook-secret"  # noqa: S105 - a header name, not a secret
SIGNATURE_HEADER = "x-hook-signature"
ITEM_TYPES = {"task", "project"}


def verify_asana(headers: Mapping[str, str], body: bytes, secrets: Sequence[str]) -> None:
    """Raise WebhookVerificationError unless ``X-Hook-Signature`` is the HMAC of ``body``."""
    verify_hmac_sha256(body, headers.get(SIGNATURE_HEADER), secrets)


def _gid(value: Any) -> str:
    gid = value.get("gid") if isinstance(value, Mapping) else None
    if isinstance(gid, bool) or not isinstance(gid, str | int):
        return ""
    return str(gid)


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
    key = "/".join(parts)
    if len(key) > MAX_DELIVERY_ID or any(ord(c) < 32 or 0xD800 <= ord(c) <= 0xDFFF for c in key):
        return "sha256:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    return key


def parse_asana_events(headers: Mapping[str, str], body: bytes) -> list[WebhookEvent]:
    """The events in a verified delivery (one heartbeat when it holds none)."""
    data = load_body(body)
    if not isinstance(data, dict) or not isinstance(data.get("events"), list):
        raise MalformedEvent("body has no 'events' list")
    if not data["events"]:
        digest = hashlib.sha256(body + headers.get(SIGNATURE_HEADER, "").encode()).hexdigest()[:32]
        return [WebhookEvent("asana", f"heartbeat/{digest}", "heartbeat", None, None, {})]
    return [_event(raw) for raw in data["events"]]


def _event(raw: Any) -> WebhookEvent:
    if not isinstance(raw, dict):
        raise MalformedEvent("an event is not an object")
    resource = raw.get("resource")
    resource_type = resource.get("resource_type") if isinstance(resource, Mapping) else None
    when = iso_time(raw.get("created_at"), "events[].created_at")
    key = dedupe_key(raw)
    if not isinstance(resource_type, str) or resource_type not in ITEM_TYPES:
        named = resource_type[:50] if isinstance(resource_type, str) else "an event without a resource type"
        reason = f"{named} events apply nothing: a task's own change arrives as its own event"
        return WebhookEvent.ignore("asana", key, named, reason, when)
    gid = checked_id(_gid(resource), "events[].resource.gid")
    if not gid.isascii() or not gid.isdigit():
        raise MalformedEvent("events[].resource.gid is not a numeric gid")
    kind: EventKind = "delete" if raw.get("action") == "deleted" else "refetch"
    return WebhookEvent("asana", key, kind, gid, when, raw)
