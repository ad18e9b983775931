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


DC_SITE = "https://jira.example.com"


def dc_user(key: str, name: str) -> dict[str, Any]:
    """A Data Center UserJsonBean as a webhook carries it: ``name`` and ``key``, no ``accountId``."""
    return {
        "self": f"{DC_SITE}/rest/api/2/user?username={name}",
        "name": name,
        "key": key,
        "emailAddress": f"{name}@example.com",
        "avatarUrls": {"48x48": f"{DC_SITE}/secure/useravatar?ownerId={name}"},
        "displayName": name.title(),
        "active": True,
        "timeZone": "Europe/Berlin",
    }


def dc_delivery(
    issue_id: str = "10003",
    key: str = "ONB-4",
    event: str = "jira:issue_updated",
    *,
    changelog: dict[str, Any] | None = None,
    timestamp: int = 1763900000000,
    updated: str = "2026-11-23T10:00:00.000+0000",
    summary: str = "Plain text summary",
) -> bytes:
    """A Data Center admin webhook body, shaped as Data Center's documented examples: the actor as
    a UserJsonBean, the whole issue (``excludeBody: false``) with a plain-text description, and
    changelog items with ``field`` but no ``fieldId``."""
    payload: dict[str, Any] = {
        "timestamp": timestamp,
        "webhookEvent": event,
        "issue_event_type_name": "issue_generic",
        "user": dc_user("JIRAUSER10000", "admin"),
        "issue": {
            "id": issue_id,
            "self": f"{DC_SITE}/rest/api/2/issue/{issue_id}",
            "key": key,
            "fields": {
                "summary": summary,
                "description": "A plain string, not an ADF document.",
                "assignee": dc_user("JIRAUSER10100", "fred"),
                "updated": updated,
            },
        },
    }
    if changelog is not None:
        payload["changelog"] = changelog
    return json.dumps(payload).encode()


DC_CHANGELOG = {
    "id": "10103",
    "items": [
        {
            "field": "status",
            "fieldtype": "jira",
            "from": "10000",
            "fromString": "To Do",
            "to": "3",
            "toString": "In Progress",
        },
        {
            "field": "assignee",
            "fieldtype": "jira",
            "from": None,
            "fromString": None,
            "to": "JIRAUSER10100",
            "toString": "Fred",
        },
    ],
}


def v2mom(*args: str) -> list[str]:
    """The command line running ``v2mom ARGS`` in this interpreter (for subprocess tests)."""
    return [sys.executable, "-c", "from v2mom.app.cli import main; main()", *args]


def write_jira_settings(path: Path, database_url: str, url: str, state: JiraState) -> Path:
    """A ``v2mom.yaml`` at ``path`` for the sandbox Jira at ``url``, its scope and ``SECRET``: email
    and API token on Cloud, the personal access token on a Data Center sandbox."""
    if state.datacenter:
        credentials = f"    deployment: datacenter\n    token: {state.api_token}\n"
    else:
        credentials = f"    email: {state.account_email}\n    api_token: {state.api_token}\n"
    path.write_text(
        f"database_url: {database_url}\n"
        "trackers:\n  jira:\n"
        f"    url: {url}\n{credentials}"
        f"    jql: {scope_jql(state)}\n    webhook_secrets: ['{SECRET}']\n"
    )
    return path
