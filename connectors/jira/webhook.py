"""Jira webhooks, pure: verify ``X-Hub-Signature`` on the raw body, parse an event.

Deliveries are deduplicated on ``X-Atlassian-Webhook-Identifier`` (the same across retries, which
can arrive ~30 minutes late and out of order). Every validly signed event is acknowledged:

- an event that names an issue — ``issue.id``/``key``, ``worklog.issueId`` (worklog events carry
  nothing else, and change ``timespent``), or an issue ``self`` URL (``comment_created`` without
  issue details) — becomes a ``refetch`` hint for it, since payloads can be partial and truth is the
  tracker; ``jira:issue_deleted`` becomes ``delete``;
- any other event (``attachment_created``, projects, sprints, users, types Jira adds later) is
  stored as ``ignored`` with the reason, and applies nothing.

A ``jira:issue_updated`` event carries the ``changelog`` entry it reports (``{id, items}``, no
date): :func:`changelog_transitions` reads its status and assignee changes with the bulkfetch
reader's own :func:`~connectors.jira.history.parse_change_group`, under the entry's id (the identity
a later history read gives the same change), dated by the webhook's ``timestamp`` (else the issue's
``updated``; with neither, nothing is read from it: the next sync reads the history). A changelog
that is not such an entry is malformed like any other field (400), checked here with the statuses'
categories unknown; the worker reads it again with the categories the connector knows.

The event time is the issue's ``updated``, else the webhook's ``timestamp`` (milliseconds). A body
that is not a JSON object, or whose known fields have the wrong shape (``timestamp: 1e20``,
``issue.fields: [1]``, a 300-character issue id …) is refused with a 400 naming the field, and so
is an issue reference the worker could not look up: ``issue.id`` and ``worklog.issueId`` are
numeric ids, ``issue.key`` a key (``ABC-123``), an issue URL names either.

Data Center (10.x) admin webhooks are read by :func:`parse_jira_dc_event` and verified by
:func:`verify_jira_dc`; neither is in the Data Center OpenAPI, which leaves webhooks out. Their
bodies differ from Cloud's where we do not read them (users carry ``name`` and ``key``, no
``accountId``; ``issue.fields.description`` is a plain string) and where we do only in values:
an assignee change's ``from``/``to`` hold user keys (``JIRAUSER10000``; names in
``fromString``/``toString``) and items carry ``field`` without ``fieldId``, both of which
:func:`changelog_transitions` reads as it reads Cloud's. The delivery id is the
``X-Atlassian-Webhook-Identifier`` header when one is sent, else the SHA-256 of the signed body
(Data Center documents no delivery id; a retry resends the same body, so it is deduplicated
alike). Data Center signs a delivery only when its webhook has a secret (Data Center 10 and later):
an unsigned delivery is refused like a forged one, with a message saying to set the secret. A Data
Center older than 10 cannot sign, so it cannot deliver to us: the scheduled reconcile pass keeps
its issues current instead.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from v2mom.connectors.jira.history import parse_change_group
from v2mom.connectors.jira.parse import ISSUE_ID, ISSUE_KEY
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
from v2mom.models import ItemTransition, State

SIGNATURE_HEADER = "x-hub-signature"
DELIVERY_HEADER = "x-atlassian-webhook-identifier"
DELETED = "jira:issue_deleted"
# ``https://site.atlassian.net/rest/api/2/issue/10010/comment/10000`` names issue 10010.
ISSUE_URL = re.compile(r"/rest/api/(?:\d+|latest)/issue/([^/?#]+)")


def verify_jira(headers: Mapping[str, str], body: bytes, secrets: Sequence[str]) -> None:
    """Raise WebhookVerificationError unless ``X-Hub-Signature: sha256=<hex>`` matches ``body``."""
    verify_hmac_sha256(body, headers.get(SIGNATURE_HEADER), secrets, prefix="sha256=")


def _object(data: Mapping[str, Any], name: str, where: str) -> Mapping[str, Any] | None:
    value = data.get(name)
    if value is not None and not isinstance(value, dict):
        raise MalformedEvent(f"{where} is not an object")
    return value


def _issue_ref(value: object, where: str, *, keys: bool) -> str:
    """``value`` as an issue reference: a numeric id, or (``keys``) also a key; else 400 naming
    ``where``."""
    ref = checked_id(value, where)
    if ISSUE_ID.fullmatch(ref) or (keys and ISSUE_KEY.fullmatch(ref)):
        return ref
    raise MalformedEvent(f"{where} is not {'an issue id or key' if keys else 'a numeric issue id'}")


def _issue_in_url(holder: Mapping[str, Any] | None, where: str) -> str | None:
    url = holder.get("self") if holder is not None else None
    if not isinstance(url, str):
        return None
    match = ISSUE_URL.search(url)
    return _issue_ref(match.group(1), f"{where}.self issue", keys=True) if match else None


def _named_issue(data: Mapping[str, Any]) -> str | None:
    """The issue the event names (see the module docstring), or None."""
    issue = _object(data, "issue", "issue")
    worklog = _object(data, "worklog", "worklog")
    comment = _object(data, "comment", "comment")
    if issue is not None:
        for name in ("id", "key"):
            if issue.get(name) not in (None, ""):
                return _issue_ref(issue[name], f"issue.{name}", keys=name == "key")
        ref = _issue_in_url(issue, "issue")
        if ref is None:
            raise MalformedEvent("issue has neither 'id' nor 'key'")
        return ref
    if worklog is not None and worklog.get("issueId") is not None:
        return _issue_ref(worklog["issueId"], "worklog.issueId", keys=False)
    return _issue_in_url(worklog, "worklog") or _issue_in_url(comment, "comment")


def _event_time(data: Mapping[str, Any]) -> datetime | None:
    stamp = millis_time(data.get("timestamp"), "timestamp")
    return _issue_updated(data) or stamp


def changelog_transitions(
    item_id: str, data: Mapping[str, Any], categories: Callable[[str], State | None]
) -> list[ItemTransition]:
    """The status and assignee changes in an event's ``changelog``, as changes of issue ``item_id``
    (its stable id: the re-fetched issue's); empty without a changelog or a time to date it.

    ``categories`` gives the category of a status id. MalformedEvent naming the problem when the
    changelog is not a changelog entry.
    """
    changelog = _object(data, "changelog", "changelog")
    if changelog is None:
        return []
    at = millis_time(data.get("timestamp"), "timestamp") or _issue_updated(data)
    if at is None:
        return []
    entry = {"id": checked_id(changelog.get("id"), "changelog.id"), "items": changelog.get("items")}
    try:
        found = list(parse_change_group(item_id, entry, categories, at=at))
    except FatalError as exc:
        raise MalformedEvent(str(exc)) from None
    for change in found:
        for value in (change.from_value, change.to_value):
            if value is not None:
                checked_id(value, f"changelog {change.field} value")
    return found


def _issue_updated(data: Mapping[str, Any]) -> datetime | None:
    issue = _object(data, "issue", "issue")
    fields = _object(issue, "fields", "issue.fields") if issue is not None else None
    return iso_time(fields.get("updated"), "issue.fields.updated") if fields is not None else None


def parse_jira_event(headers: Mapping[str, str], body: bytes) -> WebhookEvent:
    """The event in a verified delivery; MalformedEvent (naming the field) when it is not usable."""
    raw_delivery = headers.get(DELIVERY_HEADER)
    if not raw_delivery:
        raise MalformedEvent(f"missing {DELIVERY_HEADER} header")
    return _parse_body(checked_id(raw_delivery, f"{DELIVERY_HEADER} header", MAX_DELIVERY_ID), body)


def _parse_body(delivery_id: str, body: bytes) -> WebhookEvent:
    """The event in ``body`` (either deployment's), delivered as ``delivery_id``."""
    data: Any = load_body(body)
    if not isinstance(data, dict):
        raise MalformedEvent("body is not a JSON object")
    event_type = data.get("webhookEvent")
    if event_type is not None and not isinstance(event_type, str):
        raise MalformedEvent("webhookEvent is not a string")
    event_time = _event_time(data)
    ref = _named_issue(data)
    event_type = event_type or ("jira:issue_updated" if ref is not None else "")
    if ref is None:
        reason = f"{event_type or 'an event without webhookEvent'} names no issue: nothing to re-fetch"
        return WebhookEvent.ignore("jira", delivery_id, event_type, reason, event_time)
    kind: EventKind = "delete" if event_type == DELETED else "refetch"
    if kind == "refetch":
        changelog_transitions(ref, data, lambda _status: None)  # refused now, not failing the worker
    return WebhookEvent("jira", delivery_id, kind, ref, event_time, data)


# -- Data Center ---------------------------------------------------------------------------------

DC_UNSIGNED = (
    "unsigned delivery: the Jira Data Center webhook has no secret. Run v2mom webhooks register "
    "--tracker jira (it sets one), or give the webhook a secret listed in trackers.jira.webhook_secrets "
    "(Data Center 10 or later; older releases cannot sign, and the reconcile pass keeps them current)"
)


def verify_jira_dc(headers: Mapping[str, str], body: bytes, secrets: Sequence[str]) -> None:
    """As :func:`verify_jira`, for a Data Center admin webhook: ``X-Hub-Signature: sha256=<hex>``.

    Fail closed: with no secret configured every delivery is refused, and so is an unsigned one (a
    webhook an admin created without a secret, or a Data Center older than 10), saying so.
    """
    if any(secrets) and not headers.get(SIGNATURE_HEADER):
        raise WebhookVerificationError(DC_UNSIGNED)
    verify_jira(headers, body, secrets)


def dc_delivery_id(headers: Mapping[str, str], body: bytes) -> str:
    """A Data Center delivery's id: its ``X-Atlassian-Webhook-Identifier`` when sent, else
    ``sha256:`` and the hex SHA-256 of the body (a retry resends the same body)."""
    raw_delivery = headers.get(DELIVERY_HEADER)
    if raw_delivery:
        return checked_id(raw_delivery, f"{DELIVERY_HEADER} header", MAX_DELIVERY_ID)
    return "sha256:" + hashlib.sha256(body).hexdigest()


def parse_jira_dc_event(headers: Mapping[str, str], body: bytes) -> WebhookEvent:
    """The event in a verified Data Center delivery (see the module docstring); MalformedEvent
    (naming the field) when it is not usable."""
    return _parse_body(dc_delivery_id(headers, body), body)


def verification_error_is_config(exc: WebhookVerificationError) -> bool:
    """True when the failure is ours (no secret configured), for a clear log line."""
    return "no webhook secret configured" in str(exc)
