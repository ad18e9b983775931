"""Each tracker's webhook receiver: where its secrets come from, how a delivery is verified and
parsed, and (Asana) the handshake that creating a webhook starts.

The HTTP route is one for every tracker (``POST /webhooks/{tracker}``); what differs between the
vendors lives here, in one table (:func:`receivers`), so that no route picks a verifier or a parser
by hand. Secrets are read per request: those of the settings (Jira, Linear; several during a
rotation) and those stored in the database (Asana's from its handshake, Linear's and Jira Data
Center's chosen by ``v2mom webhooks register``). A signature that matches none is checked once more
against freshly read stored secrets, so a secret another replica learned a moment ago is found.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from v2mom.connectors.asana.webhook import SECRET_HEADER, parse_asana_events, verify_asana
from v2mom.connectors.jira.webhook import (
    parse_jira_dc_event,
    parse_jira_event,
    verify_jira,
    verify_jira_dc,
)
from v2mom.connectors.linear.webhook import parse_linear_event, verify_linear
from v2mom.errors import WebhookVerificationError
from v2mom.events import WebhookEvent
from v2mom.settings import Settings
from v2mom.store.database import Database
from v2mom.webhooks.hook_secrets import StoredHookSecrets

Verifier = Callable[[Mapping[str, str], bytes, Sequence[str]], None]
Parser = Callable[[Mapping[str, str], bytes], list[WebhookEvent]]


@dataclass(frozen=True)
class Receiver:
    """One tracker's webhook contract: secrets, verification, parsing, and an optional handshake."""

    tracker: str
    verify_one: Verifier
    parse: Parser
    stored: StoredHookSecrets | None = None
    handshake_header: str | None = None  # Asana's X-Hook-Secret: the handshake creating a webhook starts

    def secrets(self, settings: Settings) -> list[str]:
        """Every secret a delivery may be signed with now (empty: refused, fail closed)."""
        stored = self.stored.secrets() if self.stored is not None else []
        return [*settings.trackers.webhook_secrets(self.tracker), *stored]

    def verify(self, headers: Mapping[str, str], body: bytes, settings: Settings) -> None:
        """WebhookVerificationError unless ``body`` is signed with one of the secrets; a miss is
        checked once more against freshly read stored secrets."""
        secrets = self.secrets(settings)
        try:
            self.verify_one(headers, body, secrets)
        except WebhookVerificationError:
            if self.stored is None:
                raise
            fresh = [*settings.trackers.webhook_secrets(self.tracker), *self.stored.secrets(fresh=True)]
            if fresh == secrets:
                raise
            self.verify_one(headers, body, fresh)

    def handshake(self, headers: Mapping[str, str]) -> str | None:
        """The value to echo when ``headers`` start a handshake (None: not a handshake).

        WebhookVerificationError when no registration is expected: otherwise anyone could plant a
        secret and then sign forged deliveries.
        """
        if self.handshake_header is None or self.stored is None:
            return None
        offered = headers.get(self.handshake_header.lower())
        if offered is None:
            return None
        if not self.stored.accept_handshake(offered):
            raise WebhookVerificationError(
                "no webhook registration is expected (run v2mom webhooks register)"
            )
        return offered


def jira_receiver(store: Database, settings: Settings | None) -> Receiver:
    """Jira's receiver for the configured deployment: Cloud's secrets are the settings'; Data
    Center's are the settings' and those ``v2mom webhooks register`` stored when it created the
    webhook through Data Center's REST API."""
    jira = settings.trackers.jira if settings is not None else None
    if jira is not None and jira.deployment == "datacenter":
        return Receiver(
            "jira",
            verify_jira_dc,
            lambda h, b: [parse_jira_dc_event(h, b)],
            StoredHookSecrets(store, "jira"),
        )
    return Receiver("jira", verify_jira, lambda h, b: [parse_jira_event(h, b)])


def receivers(store: Database, settings: Settings | None = None) -> dict[str, Receiver]:
    """The receiver of every tracker, keyed by its name in ``/webhooks/<tracker>`` (Jira's for the
    deployment ``settings`` name: Cloud without them)."""
    return {
        "jira": jira_receiver(store, settings),
        "linear": Receiver(
            "linear",
            verify_linear,
            parse_linear_event,
            StoredHookSecrets(store, "linear"),
        ),
        "asana": Receiver(
            "asana",
            verify_asana,
            parse_asana_events,
            stored=StoredHookSecrets(store, "asana"),
            handshake_header=SECRET_HEADER,
        ),
    }
