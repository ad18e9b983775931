"""Linear webhooks, pure: verify ``Linear-Signature`` and ``webhookTimestamp``, parse an event.

The signature is the hex HMAC-SHA256 of the raw body. A ``webhookTimestamp`` (epoch milliseconds,
in the body) more than 60 s from now — or not a finite number — is refused like a bad signature: a
replayed delivery. Deliveries are deduplicated on the ``Linear-Delivery`` header (``webhookId``
names the webhook, not the delivery). Every validly signed event is acknowledged:

- ``Issue`` and ``Project`` events become ``refetch`` hints keyed by ``data.id`` (``remove``
  becomes ``delete``; an action Linear adds later re-fetches, since truth is the tracker);
- a ``Comment`` names its issue (``data.issueId``): the issue is re-fetched, as for Jira comments;
- everything else is stored as ``ignored`` with the reason: ``Reaction`` and ``ProjectUpdate``
  (status posts) change nothing v2mom reads; an ``IssueLabel`` change (a rename can change what
  the label maps to) is not fixed by re-fetching one item, nor by the incremental reconcile (the
  items' ``updatedAt`` does not move), so its reason tells admins to run ``v2mom sync --full``.

An ``Issue`` ``update`` names the fields it changed in ``updatedFrom`` (their previous values) beside
the issue as it is now (``data``): :func:`update_transitions` reads a change of ``stateId`` (the state
entered is ``data.state``, with its type) or ``assigneeId`` as the ``IssueHistory`` entry it stands
for, with the history reader's own :func:`~connectors.linear.history.parse_history`. The webhook
does not name that entry, so the change is recorded under the delivery's id (``webhook:<Linear-
Delivery>``: the same on a retried delivery), dated by the payload's ``createdAt`` (else
``data.updatedAt``), provisionally: the next history read of the issue replaces it with the entry.
A ``create`` names no previous values: the issue's history is read by the next sync. An
``updatedFrom`` that cannot be read so (not an object, a state entered without its type, a value
of the wrong shape) is malformed (400) like any other field.

An item reference (``data.id``, a comment's ``data.issueId``) is a uuid or an issue identifier
(``ENG-12``), which Linear's ``issue(id:)`` also takes; anything else is refused (400) rather than
stored for a worker that could only fail on it.
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from v2mom.connectors.linear.history import parse_history
from v2mom.connectors.signatures import verify_hmac_sha256
from v2mom.errors import FatalError, WebhookVerificationError
from v2mom.events import (
    MAX_DELIVERY_ID,
    EventKind,
    MalformedEvent,
    WebhookEvent,
    checked_id,
    iso_time,
    load_body,
    millis_time,
)
from v2mom.models import ItemTransition

SIGNATURE_HEADER = "linear-signature"
DELIVERY_HEADER = "linear-delivery"
TOLERANCE_SECONDS = 60.0
ITEM_REF = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"  # an id (uuid)
    r"|[A-Za-z][A-Za-z0-9_]*-[0-9]+"  # an issue identifier
)
ITEM_TYPES = {"Issue", "Project"}
IGNORED_REASONS = {
    "Reaction": "reactions change nothing v2mom reads",
    "ProjectUpdate": "project updates (status posts) change nothing v2mom reads",
}
WEBHOOK_EVENT = "webhook:"  # the event id of a change a delivery reported: webhook:<delivery id>
MAX_EVENT_ID = 128  # item_transitions.event_id
LABEL_REASON = (
    "label {action}: items carrying it are re-read by the next full sync (v2mom sync --full), "
    "not by re-fetching one item"
)


def verify_linear(
    headers: Mapping[str, str],
    body: bytes,
    secrets: Sequence[str],
    *,
    now: Callable[[], float] = time.time,
) -> None:
    """Raise WebhookVerificationError unless the signature matches and the timestamp is fresh.

    A body that is not (strict) JSON passes here and is refused by the parser (400).
    """
    verify_hmac_sha256(body, headers.get(SIGNATURE_HEADER), secrets)
    try:
        data = load_body(body)
    except MalformedEvent:
        return
    stamp = data.get("webhookTimestamp") if isinstance(data, dict) else None
    if not isinstance(stamp, int | float) or isinstance(stamp, bool):
        raise WebhookVerificationError("missing webhookTimestamp")
    if not math.isfinite(stamp):
        raise WebhookVerificationError("webhookTimestamp is not a finite number")
    skew = abs(now() - stamp / 1000)
    if skew > TOLERANCE_SECONDS:
        raise WebhookVerificationError(
            f"webhookTimestamp is {skew:.0f} s from now (limit {TOLERANCE_SECONDS:.0f} s)"
        )


def _item_ref(value: object, where: str) -> str:
    """``value`` as an item reference (a uuid or an identifier); else 400 naming ``where``."""
    ref = checked_id(value, where)
    if ITEM_REF.fullmatch(ref) is None:
        raise MalformedEvent(f"{where} is neither a Linear id (uuid) nor an identifier (ENG-12)")
    return ref


def parse_linear_event(headers: Mapping[str, str], body: bytes) -> list[WebhookEvent]:
    """The event in a verified delivery; MalformedEvent (naming the field) when it is not usable."""
    raw_delivery = headers.get(DELIVERY_HEADER)
    if not raw_delivery:
        raise MalformedEvent(f"missing {DELIVERY_HEADER} header")
    delivery_id = checked_id(raw_delivery, f"{DELIVERY_HEADER} header", MAX_DELIVERY_ID)
    data = load_body(body)
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise MalformedEvent("body has no 'type'")
    kind_name: str = data["type"]
    action = data.get("action")
    if action is not None and not isinstance(action, str):
        raise MalformedEvent("action is not a string")
    event_time = millis_time(data.get("webhookTimestamp"), "webhookTimestamp")
    record = data.get("data")
    if record is not None and not isinstance(record, dict):
        raise MalformedEvent("data is not an object")
    if kind_name in ITEM_TYPES:
        return [_item_event(delivery_id, kind_name, action or "", record, event_time, data)]
    if kind_name == "Comment" and record is not None and record.get("issueId") is not None:
        issue_id = _item_ref(record["issueId"], "data.issueId")
        return [WebhookEvent("linear", delivery_id, "refetch", issue_id, event_time, data)]
    if kind_name == "IssueLabel":
        reason = LABEL_REASON.format(action=(action or "changed")[:20])
    else:
        reason = IGNORED_REASONS.get(kind_name, f"{kind_name[:100]} events change nothing v2mom reads")
    return [WebhookEvent.ignore("linear", delivery_id, kind_name, reason, event_time)]


def _item_event(
    delivery_id: str,
    kind_name: str,
    action: str,
    record: Mapping[str, Any] | None,
    event_time: datetime | None,
    data: dict[str, Any],
) -> WebhookEvent:
    if record is None or record.get("id") in (None, ""):
        raise MalformedEvent(f"{kind_name} event has no data.id")
    item_id = _item_ref(record["id"], "data.id")
    updated = iso_time(record.get("updatedAt"), "data.updatedAt")
    kind: EventKind = "delete" if action == "remove" else "refetch"
    if kind_name == "Issue" and kind == "refetch":
        update_transitions(item_id, delivery_id, data)  # refused now, not failing the worker
    return WebhookEvent("linear", delivery_id, kind, item_id, updated or event_time, data)


def webhook_event_id(delivery_id: str) -> str:
    """The event id of the changes delivery ``delivery_id`` reported (hashed when too long)."""
    event_id = WEBHOOK_EVENT + delivery_id
    if len(event_id) <= MAX_EVENT_ID:
        return event_id
    return WEBHOOK_EVENT + "sha256:" + hashlib.sha256(delivery_id.encode()).hexdigest()


def _optional_id(value: object, where: str) -> str | None:
    return None if value is None else checked_id(value, where)


def update_transitions(item_id: str, delivery_id: str, payload: Mapping[str, Any]) -> list[ItemTransition]:
    """The state and assignee changes an ``Issue`` ``update`` reports, as changes of issue
    ``item_id`` (its stable id) under :func:`webhook_event_id`; empty for any other event, or one
    that changed neither. MalformedEvent naming the field when ``updatedFrom`` cannot be read."""
    if payload.get("type") != "Issue" or payload.get("action") != "update":
        return []
    before = payload.get("updatedFrom")
    record = payload.get("data")
    if before is None or not isinstance(record, Mapping):
        return []
    if not isinstance(before, Mapping):
        raise MalformedEvent("updatedFrom is not an object")
    entry: dict[str, Any] = {"id": webhook_event_id(delivery_id)}
    if "stateId" in before:
        state = record.get("state")
        if not isinstance(state, Mapping) or state.get("id") != record.get("stateId"):
            raise MalformedEvent("data.state is not the state data.stateId names")
        entry["fromStateId"] = _optional_id(before["stateId"], "updatedFrom.stateId")
        entry["toState"] = {"id": checked_id(state.get("id"), "data.state.id"), "type": state.get("type")}
    if "assigneeId" in before:
        entry["fromAssigneeId"] = _optional_id(before["assigneeId"], "updatedFrom.assigneeId")
        entry["toAssigneeId"] = _optional_id(record.get("assigneeId"), "data.assigneeId")
    if len(entry) == 1:
        return []
    created = payload.get("createdAt") or record.get("updatedAt")
    if iso_time(created, "createdAt") is None:
        return []
    entry["createdAt"] = created
    try:
        return list(parse_history(item_id, [entry]))
    except FatalError as exc:
        raise MalformedEvent(str(exc)) from None
