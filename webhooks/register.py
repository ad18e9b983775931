"""``v2mom webhooks register``: create Asana and Linear webhooks through their APIs; Jira's steps.

Asana: one webhook per configured project. Asana calls the target with the ``X-Hook-Secret``
handshake while the create request is open, so a handshake window is opened in the database first
(``v2mom serve`` must be running at the URL and share the database). Linear: one webhook per
configured team, for Issue and Project events, signed with a secret chosen here and stored in the
database before the webhook exists (so even its first delivery verifies). Jira Cloud admin webhooks
can only be created in its UI, so for Jira Cloud the steps are returned with a fresh secret to paste
(the one secret ever printed: the admin has to type it into both places). Other secrets are never
printed.

Jira Data Center (10 and later) creates admin webhooks through its REST API
(``/rest/jira-webhook/1.0/webhooks``, not in its OpenAPI), so there it is done here like Linear's:
a fresh secret is stored in the database first, then the webhook for issue events, filtered by the
settings' JQL and signed with that secret, is created — or, when one for the same URL exists
already, updated in place (a second run is a rotation: the secret it replaces stays accepted, the
one before is retired; see :meth:`StoredHookSecrets.rotate`). Every replica sharing the database
verifies with it, no secret is printed, and secrets listed in ``trackers.jira.webhook_secrets`` are
accepted too (a webhook an admin created in the UI with a secret of their own).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from v2mom.connectors.asana.client import AsanaClient
from v2mom.connectors.jira.client import JiraClient
from v2mom.connectors.linear.client import LinearClient
from v2mom.errors import ConfigError, FatalError
from v2mom.settings import JiraSettings, Settings
from v2mom.store.database import Database
from v2mom.webhooks.hook_secrets import StoredHookSecrets

LINEAR_RESOURCES = ["Issue", "Project"]
JIRA_DC_EVENTS = ["jira:issue_created", "jira:issue_updated", "jira:issue_deleted"]
JIRA_DC_NAME = "v2mom-sync"
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
    jira = settings.trackers.jira
    if jira is not None and jira.deployment == "datacenter":
        return register_jira_datacenter(settings, jira, open_store(), url)
    return jira_steps(settings, url)


def jira_steps(settings: Settings, url: str) -> list[str]:
    """The steps to create Jira's webhook in its UI, with a new secret to paste there and in settings."""
    jira = settings.trackers.jira
    if jira is None:
        raise ConfigError("trackers.jira: not configured")
    secret = secrets.token_hex(24)
    return JIRA_WEBHOOK_STEPS.format(url=url, secret=secret, jql=jira.jql).splitlines()


def _jira_client(settings: Settings, jira: JiraSettings) -> JiraClient:
    return JiraClient(
        jira.url,
        api_token=jira.credential(),
        deployment=jira.deployment,
        connect_timeout=settings.sync.connect_timeout_seconds,
    )


def _webhook_id(hook: dict[str, Any]) -> str | None:
    """A Data Center webhook's id: its ``id``, else the last segment of its ``self`` URL."""
    found = hook.get("id")
    if isinstance(found, int | str) and not isinstance(found, bool) and str(found):
        return str(found)
    link = hook.get("self")
    if not isinstance(link, str):
        return None
    return link.rstrip("/").rsplit("/", 1)[-1] or None


def register_jira_datacenter(settings: Settings, jira: JiraSettings, store: Database, url: str) -> list[str]:
    """Create (or update in place, for the same URL) the Data Center webhook; a line saying which.

    The webhooks are listed first, so that a refused permission stops before a secret is stored.
    """
    client = _jira_client(settings, jira)
    try:
        existing = next((h for h in client.dc_webhooks() if h.get("url") == url), None)
        secret = secrets.token_hex(24)
        StoredHookSecrets(store, "jira").rotate(url, secret)
        body: dict[str, object] = {
            "name": JIRA_DC_NAME,
            "url": url,
            "events": list(JIRA_DC_EVENTS),
            "filters": {"issue-related-events-section": jira.jql},
            "excludeBody": False,
            "enabled": True,
            "secret": secret,
        }
        hook_id = _webhook_id(existing) if existing is not None else None
        if hook_id is not None:
            done, verb = client.update_dc_webhook(hook_id, body), "updated"
        else:
            done, verb = client.create_dc_webhook(body), "created"
    finally:
        client.close()
    return [
        f"jira\twebhook {_webhook_id(done) or hook_id or '?'}\t{verb}\t-> {url}\tJQL {jira.jql}",
        "jira\tsigned with a new secret kept in the database (every v2mom sharing it verifies with it)",
    ]


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
    """The webhooks the tracker itself knows (Asana, Linear, Jira Data Center), a line each."""
    jira = settings.trackers.jira
    if tracker == "jira" and jira is not None and jira.deployment == "datacenter":
        jira_client = _jira_client(settings, jira)
        try:
            hooks = jira_client.dc_webhooks()
        finally:
            jira_client.close()
        return [
            f"jira\twebhook {_webhook_id(h) or '?'}\t{h.get('name')}\t"
            f"{'disabled' if h.get('enabled') is False else 'enabled'}\t-> {h.get('url')}"
            for h in hooks
        ]
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
