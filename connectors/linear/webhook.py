"""Linear webhooks, pure: verify ``Linear-Signature`` and ``webhookTimestamp``, parse an event.

The signature is the hex HMAC-SHA256 of the raw body. A ``webhookTimestamp`` (epoch milliseconds,
in the body) more than 60 s from now is refused like a bad signature: a replayed delivery.
Deliveries are deduplicated on the ``Linear-Delivery`` header (``webhookId`` names the webhook, not
the delivery). ``Issue`` and ``Project`` events become ``refetch`` hints (``remove`` becomes
``delete``) keyed by ``data.id``; other types (comments, cycles …) are recorded as ``heartbeat``
events that apply nothing but keep freshness honest.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from v2mom.connectors.signatures import verify_hmac_sha256
from v2mom.errors import WebhookVerificationError
from v2mom.events import EventKind, MalformedEvent, WebhookEvent

SIGNATURE_HEADER = "linear-signature"
DELIVERY_HEADER = "linear-delivery"
TOLERANCE_SECONDS = 60.0
ITEM_TYPES = {"Issue", "Project"}


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MalformedEvent(f"body is not JSON: {exc.__class__.__name__}") from None


def verify_linear(
    headers: Mapping[str, str],
    body: bytes,
    secrets: Sequence[str],
    *,
    now: Callable[[], float] = time.time,
) -> None:
    """Raise WebhookVerificationError unless the signature matches and the timestamp is fresh.

    A body that is not JSON passes here and is refused by the parser (400).
    """
    verify_hmac_sha256(body, headers.get(SIGNATURE_HEADER), secrets)
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return
    stamp = data.get("webhookTimestamp") if isinstance(data, dict) else None
    if not isinstance(stamp, int | float) or isinstance(stamp, bool):
        raise WebhookVerificationError("missing webhookTimestamp")
    skew = abs(now() - stamp / 1000)
    if skew > TOLERANCE_SECONDS:
        raise WebhookVerificationError(
            f"webhookTimestamp is {skew:.0f} s from now (limit {TOLERANCE_SECONDS:.0f} s)"
        )


def parse_linear_event(headers: Mapping[str, str], body: bytes) -> list[WebhookEvent]:
    """The event in a verified delivery; MalformedEvent when it is not usable."""
    delivery_id = headers.get(DELIVERY_HEADER)
    if not delivery_id:
        raise MalformedEvent(f"missing {DELIVERY_HEADER} header")
    data = _json(body)
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise MalformedEvent("body has no 'type'")
    kind_name, action = data["type"], str(data.get("action") or "")
    stamp = data.get("webhookTimestamp")
    event_time = datetime.fromtimestamp(stamp / 1000, tz=UTC) if isinstance(stamp, int | float) else None
    if kind_name not in ITEM_TYPES:
        return [WebhookEvent("linear", str(delivery_id), "heartbeat", None, event_time, {"type": kind_name})]
    record = data.get("data")
    if not isinstance(record, dict) or not isinstance(record.get("id"), str) or not record["id"]:
        raise MalformedEvent(f"{kind_name} event has no data.id")
    if action not in ("create", "update", "remove"):
        raise MalformedEvent(f"unknown action {action!r}")
    updated = record.get("updatedAt")
    if isinstance(updated, str):
        try:
            event_time = datetime.fromisoformat(updated.replace("Z", "+00:00"))
        except ValueError:
            raise MalformedEvent(f"data.updatedAt '{updated}' is not ISO 8601") from None
    kind: EventKind = "delete" if action == "remove" else "refetch"
    return [WebhookEvent("linear", str(delivery_id), kind, record["id"], event_time, data)]
