"""Signed Jira webhook deliveries, as Jira sends them (shared by the webhook tests)."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

SECRET = "whsec-current"
OLD_SECRET = "whsec-previous"


def sign(body: bytes, secret: str = SECRET) -> str:
    """Jira's ``X-Hub-Signature`` value for ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def delivery(issue: dict[str, Any], event: str = "jira:issue_updated") -> bytes:
    """A webhook body about ``issue``."""
    return json.dumps({"webhookEvent": event, "timestamp": 1763900000000, "issue": issue}).encode()
