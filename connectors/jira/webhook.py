"""Jira webhooks, pure: verify ``X-Hub-Signature`` on the raw body, parse an event.

Deliveries are deduplicated on ``X-Atlassian-Webhook-Identifier`` (the same across retries, which
can arrive ~30 minutes late and out of order). Issue events become ``refetch`` hints keyed by the
issue id (else its key) — payloads can be partial, so the worker reads the issue back — and
``jira:issue_deleted`` becomes ``delete``. The event time is the issue's ``updated``, else the
webhook's ``timestamp`` (milliseconds).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from v2mom.connectors.jira.parse import parse_datetime
from v2mom.connectors.signatures import verify_hmac_sha256
from v2mom.errors import FatalError, WebhookVerificationError
from v2mom.events import EventKind, MalformedEvent, WebhookEvent

SIGNATURE_HEADER = "x-hub-signature"
DELIVERY_HEADER = "x-atlassian-webhook-identifier"


def verify_jira(headers: Mapping[str, str], body: bytes, secrets: Sequence[str]) -> None:
    """Raise WebhookVerificationError unless ``X-Hub-Signature: sha256=<hex>`` matches ``body``."""
    verify_hmac_sha256(body, headers.get(SIGNATURE_HEADER), secrets, prefix="sha256=")


def parse_jira_event(headers: Mapping[str, str], body: bytes) -> WebhookEvent:
    """The event in a verified delivery; MalformedEvent when it is not usable."""
    delivery_id = headers.get(DELIVERY_HEADER)
    if not delivery_id:
        raise MalformedEvent(f"missing {DELIVERY_HEADER} header")
    try:
        data: Any = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MalformedEvent(f"body is not JSON: {exc.__class__.__name__}") from None
    if not isinstance(data, dict) or not isinstance(data.get("issue"), dict):
        raise MalformedEvent("body has no 'issue' object")
    issue = data["issue"]
    ref = issue.get("id") or issue.get("key")
    if not isinstance(ref, str | int) or not str(ref):
        raise MalformedEvent("issue has neither 'id' nor 'key'")
    event_type = str(data.get("webhookEvent") or "jira:issue_updated")
    updated = (issue.get("fields") or {}).get("updated")
    event_time: datetime | None = None
    if isinstance(updated, str):
        try:
            event_time = parse_datetime(updated, where=f"webhook {delivery_id}", field="updated")
        except FatalError as exc:
            raise MalformedEvent(str(exc)) from None
    elif isinstance(data.get("timestamp"), int | float):
        event_time = datetime.fromtimestamp(data["timestamp"] / 1000, tz=UTC)
    kind: EventKind = "delete" if event_type == "jira:issue_deleted" else "refetch"
    return WebhookEvent("jira", str(delivery_id), kind, str(ref), event_time, data)


def verification_error_is_config(exc: WebhookVerificationError) -> bool:
    """True when the failure is ours (no secret configured), for a clear log line."""
    return "no webhook secret configured" in str(exc)
