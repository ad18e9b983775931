"""Signed Jira webhook deliveries as Jira sends them, and the settings and command to serve them."""

from __future__ import annotations

import hashlib
import hmac
import json
import sys
from pathlib import Path
from typing import Any

from v2mom.sandbox.generator import scope_jql
from v2mom.sandbox.jira.state import JiraState

SECRET = "whsec-current"
OLD_SECRET = "whsec-previous"


def sign(body: bytes, secret: str = SECRET) -> str:
    """Jira's ``X-Hub-Signature`` value for ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def delivery(issue: dict[str, Any], event: str = "jira:issue_updated") -> bytes:
    """A webhook body about ``issue``."""
    return json.dumps({"webhookEvent": event, "timestamp": 1763900000000, "issue": issue}).encode()


def v2mom(*args: str) -> list[str]:
    """The command line running ``v2mom ARGS`` in this interpreter (for subprocess tests)."""
    return [sys.executable, "-c", "from v2mom.app.cli import main; main()", *args]


def write_jira_settings(path: Path, database_url: str, url: str, state: JiraState) -> Path:
    """A ``v2mom.yaml`` at ``path`` for the sandbox Jira at ``url``, its scope and ``SECRET``."""
    path.write_text(
        f"database_url: {database_url}\n"
        "trackers:\n  jira:\n"
        f"    url: {url}\n    email: {state.account_email}\n    api_token: {state.api_token}\n"
        f"    jql: {scope_jql(state)}\n    webhook_secrets: ['{SECRET}']\n"
    )
    return path
