"""Signed Jira deliveries (``X-Hub-Signature``, ``X-Atlassian-Webhook-Identifier``) on issue changes."""

from __future__ import annotations

import json
import time
import uuid

from v2mom.sandbox.jira.http import jira_time
from v2mom.sandbox.jira.state import Issue, JiraState
from v2mom.sandbox.webhooks import Chaos, Sender, hex_hmac

__all__ = ["Chaos", "WebhookSender"]


class WebhookSender(Sender):
    """Listens to a JiraState and POSTs signed deliveries to ``target_url``."""

    def __init__(self, state: JiraState, target_url: str, secret: str, chaos: Chaos | None = None) -> None:
        """Subscribe to ``state``; call :meth:`start` to begin sending."""
        super().__init__(chaos)
        self.target_url = target_url
        self.secret = secret
        state.listeners.append(self._on_change)

    def _headers(self, delivery_id: str, body: bytes) -> dict[str, str]:
        return {
            "X-Hub-Signature": "sha256=" + hex_hmac(self.secret, body),
            "X-Atlassian-Webhook-Identifier": delivery_id,
        }

    def _on_change(self, event: str, issue: Issue) -> None:
        body = json.dumps(
            {
                "timestamp": int(time.time() * 1000),
                "webhookEvent": event,
                "issue": {
                    "id": str(issue.id),
                    "key": issue.key,
                    "fields": {"updated": jira_time(issue.updated)},
                },
            }
        ).encode()
        self.enqueue(self.target_url, str(uuid.uuid4()), body, self._headers)
