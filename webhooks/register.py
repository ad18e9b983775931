"""``v2mom webhooks register``: create Asana and Linear webhooks through their APIs; Jira's steps.

Asana: one webhook per configured project. Asana calls the target with the ``X-Hook-Secret``
handshake while the create request is open, so a handshake window is opened in the database first
(``v2mom serve`` must be running at the URL and share the database). Linear: one webhook per
configured team, for Issue and Project events, signed with a secret chosen here and stored in the
database before the webhook exists (so even its first delivery verifies). Jira Cloud admin webhooks
can only be created in its UI, so for Jira the steps are returned with a fresh secret to paste (the
one secret ever printed: the admin has to type it into both places). Other secrets are never printed.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from v2mom.connectors.asana.client import AsanaClient
from v2mom.connectors.linear.client import LinearClient
from v2mom.errors import ConfigError, FatalError
from v2mom.settings import Settings
from v2mom.store.database import Database
from v2mom.webhooks.hook_secrets import StoredHookSecrets

LINEAR_RESOURCES = ["Issue", "Project"]
JIRA_WEBHOOK_STEPS = """\
Jira Cloud admin webhooks are created in the UI (the REST API only registers app webhooks):
  1. Jira settings > System > WebHooks > Create a WebHook
  2. URL: {url}
  3. Secret: {secret}
  4. Events: Issue created, Issue updated, Issue deleted
  5. JQL filter: {jql}
  6. Add the secret to v2mom.yaml under trackers.jira.webhook_secrets (keep the old one during a
     rotation: every listed secret is accepted), then restart v2mom serve."""


def check_registration(settings: Settings, tracker: str, url: str) -> None:
    """Refuse (ConfigError) an unconfigured tracker or a URL that is not http(s)."""
    if tracker not in settings.trackers.configured():
        raise ConfigError(f"--tracker: '{tracker}' is not configured")
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"--url: '{url}' is not an http(s) URL")


def register_webhook(
    settings: Settings, tracker: str, url: str, open_store: Callable[[], Database]
) -> list[str]:
    """Register ``tracker``'s webhook(s) at ``url``; the lines to show (Jira: the steps to follow).

    The store is opened (``open_store``) only for the trackers whose secrets live in it.
    """
    check_registration(settings, tracker, url)
    if tracker == "asana":
        return register_asana(settings, open_store(), url)
    if tracker == "linear":
        return register_linear(settings, open_store(), url)
    return jira_steps(settings, url)


def jira_steps(settings: Settings, url: str) -> list[str]:
    """The steps to create Jira's webhook in its UI, with a new secret to paste there and in settings."""
    jira = settings.trackers.jira
    if jira is None:
        raise ConfigError("trackers.jira: not configured")
    secret = secrets.token_hex(24)
    return JIRA_WEBHOOK_STEPS.format(url=url, secret=secret, jql=jira.jql).splitlines()


def register_asana(settings: Settings, store: Database, url: str) -> list[str]:
    """Create one webhook per project; returns a line per webhook."""
    asana = settings.trackers.asana
    if asana is None:
        raise ConfigError("trackers.asana: not configured")
    client = AsanaClient(
        asana.base_url,
        token=asana.token.get_secret_value(),
        connect_timeout=settings.sync.connect_timeout_seconds,
    )
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
    client = LinearClient(
        linear.api_url,
        api_key=linear.api_key.get_secret_value(),
        connect_timeout=settings.sync.connect_timeout_seconds,
    )
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
        client = AsanaClient(
            asana.base_url,
            token=asana.token.get_secret_value(),
            connect_timeout=settings.sync.connect_timeout_seconds,
        )
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
        linear_client = LinearClient(
            linear.api_url,
            api_key=linear.api_key.get_secret_value(),
            connect_timeout=settings.sync.connect_timeout_seconds,
        )
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
