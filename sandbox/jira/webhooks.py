"""Signed Jira deliveries (``X-Hub-Signature``, ``X-Atlassian-Webhook-Identifier``) on issue changes.

A ``jira:issue_updated`` that changed a logged field (status, resolution, assignee) carries the
changelog entry it logged, as Jira sends it: ``changelog: {id, items: [{field, fieldtype, fieldId,
from, fromString, to, toString}]}`` (nulls kept) and ``timestamp`` the moment of the change.
"""

from __future__ import annotations

import json
import time
import uuid

from v2mom.sandbox.jira.changelog import FIELD_NAMES
from v2mom.sandbox.jira.http import jira_time
from v2mom.sandbox.jira.state import ChangeGroup, ChangeItem, Issue, JiraState
from v2mom.sandbox.webhooks import Chaos, Sender, hex_hmac

__all__ = ["Chaos", "WebhookSender", "logged_change"]


def logged_change(state: JiraState, event: str, issue: Issue) -> ChangeGroup | None:
    """The changelog entry the update being notified logged (at the issue's ``updated``), if any:
    what a ``jira:issue_updated`` webhook carries as its ``changelog``, on either deployment."""
    with state.lock:
        last = issue.changelog[-1] if issue.changelog else None
        updated = issue.updated
    fresh = event == "jira:issue_updated" and last is not None and last.created == updated
    return last if fresh else None


class WebhookSender(Sender):
    """Listens to a JiraState and POSTs signed deliveries to ``target_url``."""

    def __init__(self, state: JiraState, target_url: str, secret: str, chaos: Chaos | None = None) -> None:
        """Subscribe to ``state``; call :meth:`start` to begin sending."""
        super().__init__(chaos)
        self.state = state
        self.target_url = target_url
        self.secret = secret
        state.listeners.append(self._on_change)

    def _headers(self, delivery_id: str, body: bytes) -> dict[str, str]:
        return {
            "X-Hub-Signature": "sha256=" + hex_hmac(self.secret, body),
            "X-Atlassian-Webhook-Identifier": delivery_id,
        }

    def _on_change(self, event: str, issue: Issue) -> None:
        change = logged_change(self.state, event, issue)
        payload: dict[str, object] = {
            "timestamp": int((change.created.timestamp() if change else time.time()) * 1000),
            "webhookEvent": event,
            "issue": {
                "id": str(issue.id),
                "key": issue.key,
                "fields": {"updated": jira_time(issue.updated)},
            },
        }
        if change is not None:
            payload["changelog"] = {"id": str(change.id), "items": [_item(i) for i in change.items]}
        self.enqueue(self.target_url, str(uuid.uuid4()), json.dumps(payload).encode(), self._headers)


def _item(change: ChangeItem) -> dict[str, str | None]:
    """One changed field as a webhook's changelog holds it (nulls kept, unlike bulkfetch)."""
    return {
        "field": FIELD_NAMES.get(change.field_id, change.field_id),
        "fieldtype": "jira",
        "fieldId": change.field_id,
        "from": change.before,
        "fromString": change.before_text,
        "to": change.after,
        "toString": change.after_text,
    }
