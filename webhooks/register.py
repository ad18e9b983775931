"""``v2mom webhooks register``: create Asana and Linear webhooks through their APIs.

Asana: one webhook per configured project. Asana calls the target with the ``X-Hook-Secret``
handshake while the create request is open, so a handshake window is opened in the database first
(``v2mom serve`` must be running at the URL and share the database). Linear: one webhook per
configured team, for Issue and Project events, signed with a secret chosen here and stored in the
database before the webhook exists (so even its first delivery verifies). Secrets are never printed.
"""

from __future__ import annotations

import secrets
from typing import Any

from v2mom.connectors.asana.client import AsanaClient
from v2mom.connectors.linear.client import LinearClient
from v2mom.errors import ConfigError, FatalError
from v2mom.settings import Settings
from v2mom.store.database import Database
from v2mom.webhooks.hook_secrets import StoredHookSecrets

LINEAR_RESOURCES = ["Issue", "Project"]


def register_asana(settings: Settings, store: Database, url: str) -> list[str]:
    """Create one webhook per project; returns a line per webhook."""
    asana = settings.trackers.asana
    if asana is None:
        raise ConfigError("trackers.asana: not configured")
    client = AsanaClient(asana.base_url, token=asana.token.get_secret_value())
    hooks = StoredHookSecrets(store, "asana")
    lines: list[str] = []
    try:
        for project in asana.projects:
            hooks.expect_handshake()
            data = client.create_webhook(project, url).get("data") or {}
            lines.append(f"asana\tproject {project}\twebhook {data.get('gid')}\t-> {url}")
    finally:
        client.close()
    return lines


def register_linear(settings: Settings, store: Database, url: str) -> list[str]:
    """Create one webhook per team, each with its own stored secret; returns a line per webhook."""
    linear = settings.trackers.linear
    if linear is None:
        raise ConfigError("trackers.linear: not configured")
    client = LinearClient(linear.api_url, api_key=linear.api_key.get_secret_value())
    hooks = StoredHookSecrets(store, "linear")
    lines: list[str] = []
    try:
        teams = client.execute("teams", "teams", {"teams": linear.teams})["teams"]["nodes"]
        ids = {t["key"]: t["id"] for t in teams}
        missing = [t for t in linear.teams if t not in ids]
        if missing:
            raise ConfigError(f"trackers.linear.teams: {', '.join(missing)} not found or not visible")
        for team in linear.teams:
            secret = secrets.token_hex(24)
            hooks.add(secret)
            created: dict[str, Any] = client.execute(
                "webhook",
                "webhook_create",
                {
                    "input": {
                        "url": url,
                        "teamId": ids[team],
                        "resourceTypes": LINEAR_RESOURCES,
                        "secret": secret,
                        "label": "v2mom-sync",
                    }
                },
            )["webhookCreate"]
            if not created.get("success"):
                raise FatalError(f"webhookCreate for team {team} did not succeed", tracker="linear")
            lines.append(f"linear\tteam {team}\twebhook {created['webhook']['id']}\t-> {url}")
    finally:
        client.close()
    return lines


def list_remote(settings: Settings, tracker: str) -> list[str]:
    """The webhooks the tracker itself knows (Asana, Linear), a line each."""
    if tracker == "asana" and settings.trackers.asana is not None:
        asana = settings.trackers.asana
        client = AsanaClient(asana.base_url, token=asana.token.get_secret_value())
        try:
            data = client.webhooks(asana.workspace).get("data") or []
        finally:
            client.close()
        return [
            f"asana\twebhook {h.get('gid')}\tproject {(h.get('resource') or {}).get('gid')}\t"
            f"{'active' if h.get('active') else 'inactive'}\t-> {h.get('target')}"
            for h in data
        ]
    if tracker == "linear" and settings.trackers.linear is not None:
        linear = settings.trackers.linear
        linear_client = LinearClient(linear.api_url, api_key=linear.api_key.get_secret_value())
        try:
            nodes = linear_client.execute("webhook", "webhooks", {"first": 50})["webhooks"]["nodes"]
        finally:
            linear_client.close()
        return [
            f"linear\twebhook {h.get('id')}\tteam {(h.get('team') or {}).get('key', 'all')}\t"
            f"{'enabled' if h.get('enabled') else 'disabled'}\t-> {h.get('url')}"
            for h in nodes
        ]
    return []
