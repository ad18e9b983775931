"""All three webhook receivers on one app, each with a secret, and helpers that sign like the vendors.

No tracker is contacted: receiving only verifies, parses and stores (the worker is not running), so
the trackers' URLs point at a closed port on 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi.testclient import TestClient
from pydantic import SecretStr

from tests.webhooks.jira_signing import SECRET as JIRA_SECRET
from tests.webhooks.jira_signing import sign as jira_sign
from v2mom.app.factory import create_app
from v2mom.app.services import services_of
from v2mom.settings import JiraDeployment, JiraSettings, LinearSettings, Settings, TrackersSettings
from v2mom.store.database import Database
from v2mom.store.inbox import Inbox
from v2mom.webhooks.hook_secrets import StoredHookSecrets

LINEAR_SECRET = "lin-receiver-secret"
ASANA_SECRET = "asana-receiver-secret"
NOWHERE = "http://127.0.0.1:9"


def hexsign(body: bytes, secret: str) -> str:
    """Linear's and Asana's signature: hex HMAC-SHA256 of the raw body."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def now_ms() -> int:
    """Now, in epoch milliseconds (Linear's ``webhookTimestamp``)."""
    return int(time.time() * 1000)


@dataclass
class Receivers:
    """The app under test, its inbox, and one signed ``post_*`` per tracker."""

    client: TestClient
    store: Database
    inbox: Inbox

    def post_jira(self, body: bytes, delivery: str = "jd-1") -> httpx.Response:
        """A Jira delivery, signed with the configured secret."""
        headers = {"X-Atlassian-Webhook-Identifier": delivery, "X-Hub-Signature": jira_sign(body)}
        return self.client.post("/webhooks/jira", content=body, headers=headers)

    def post_jira_datacenter(self, body: bytes) -> httpx.Response:
        """A Jira Data Center delivery: signed as on Cloud, with no delivery id (its body names it)."""
        return self.client.post("/webhooks/jira", content=body, headers={"X-Hub-Signature": jira_sign(body)})

    def post_linear(self, body: bytes, delivery: str = "ld-1") -> httpx.Response:
        """A Linear delivery, signed with the configured secret."""
        headers = {"Linear-Delivery": delivery, "Linear-Signature": hexsign(body, LINEAR_SECRET)}
        return self.client.post("/webhooks/linear", content=body, headers=headers)

    def post_asana(self, body: bytes) -> httpx.Response:
        """An Asana delivery, signed with the secret learned in the handshake."""
        headers = {"X-Hook-Signature": hexsign(body, ASANA_SECRET)}
        return self.client.post("/webhooks/asana", content=body, headers=headers)

    def post(self, tracker: str, body: bytes, delivery: str = "d-1") -> httpx.Response:
        """A signed delivery to ``tracker``'s receiver (``jira-datacenter``: Jira's, as Data Center
        sends it); ``delivery`` is its id where a header carries one (Jira Cloud, Linear)."""
        if tracker == "jira":
            return self.post_jira(body, delivery)
        if tracker == "jira-datacenter":
            return self.post_jira_datacenter(body)
        if tracker == "linear":
            return self.post_linear(body, delivery)
        if tracker == "asana":
            return self.post_asana(body)
        raise ValueError(f"no receiver helper for tracker {tracker!r}")

    def stored(self, tracker: str | None = None) -> int:
        """How many events the inbox holds (for one tracker, or all)."""
        counts = self.inbox.counts()
        return sum(sum(c.values()) for t, c in counts.items() if tracker in (None, t))

    def admin(self) -> dict[str, str]:
        """Headers of an admin token."""
        return {"Authorization": f"Bearer {self.store.tokens.create('admin', 'receivers-test')}"}


def inbox_tracker(tracker: str) -> str:
    """The tracker the inbox stores ``tracker``'s deliveries under (``jira-datacenter``: ``jira``)."""
    return tracker.removesuffix("-datacenter")


def receivers(store: Database, *, jira: JiraDeployment = "cloud") -> Iterator[Receivers]:
    """Build the app on ``store`` (server errors come back as 500 answers, not exceptions), its Jira
    of the ``jira`` deployment."""
    credentials: dict[str, Any] = (
        {"token": SecretStr("pat")}
        if jira == "datacenter"
        else {"email": "a@example.com", "api_token": SecretStr("t")}
    )
    settings = Settings(
        trackers=TrackersSettings(
            jira=JiraSettings(
                deployment=jira,
                url=NOWHERE,
                jql="project = ONB",
                webhook_secrets=[SecretStr(JIRA_SECRET)],
                **credentials,
            ),
            linear=LinearSettings(
                api_url=NOWHERE, api_key=SecretStr("k"), webhook_secrets=[SecretStr(LINEAR_SECRET)]
            ),
        )
    )
    hooks = StoredHookSecrets(store, "asana")
    hooks.expect_handshake()
    assert hooks.accept_handshake(ASANA_SECRET)
    app = create_app(settings, store)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Receivers(client, store, services_of(app).inbox)


def dumps(document: Any) -> bytes:
    """``document`` as a JSON body."""
    return json.dumps(document).encode()
