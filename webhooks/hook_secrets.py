"""Webhook secrets kept in the database: Asana's, learned in the ``X-Hook-Secret`` handshake, and
Linear's and Jira Data Center's, chosen by ``v2mom webhooks register`` when it creates the webhook
(besides any in ``v2mom.yaml``).

Asana sends each webhook's secret once, in the handshake that creating the webhook triggers. A
handshake is accepted only while a registration is expected (``v2mom webhooks register`` opens a
short window before it asks Asana to create the webhook): otherwise anyone could plant a secret and
then sign forged deliveries. Deliveries are verified against every stored secret (Asana does not
say which webhook a delivery belongs to). Secrets are cached per process for a short while and
reloaded once when a signature does not match, so a secret learned by another replica is found.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

from v2mom.clock import utcnow
from v2mom.store.database import Database

HANDSHAKE_WINDOW = timedelta(minutes=5)
CACHE_SECONDS = 30.0


class StoredHookSecrets:
    """The stored secrets of this installation's webhooks of one tracker."""

    def __init__(self, store: Database, tracker: str = "asana") -> None:
        """Bind to ``store``; nothing is read until needed."""
        self.store = store
        self.key = f"{tracker}-webhooks"
        self._lock = threading.Lock()
        self._cached: list[str] = []
        self._loaded_at = float("-inf")

    def secrets(self, *, fresh: bool = False) -> list[str]:
        """The stored secrets (cached for a few seconds unless ``fresh``)."""
        with self._lock:
            if fresh or time.monotonic() - self._loaded_at > CACHE_SECONDS:
                stored = self.store.sync_state.get_tracker_state(self.key).get("secrets") or []
                self._cached = [s for s in stored if isinstance(s, str) and s]
                self._loaded_at = time.monotonic()
            return list(self._cached)

    def add(self, secret: str) -> None:
        """Store a secret this installation chose (Linear registration)."""
        with self._lock:
            state = self.store.sync_state.get_tracker_state(self.key)
            state["secrets"] = [*(s for s in state.get("secrets") or [] if s != secret), secret]
            self.store.sync_state.set_tracker_state(self.key, state)
            self._loaded_at = float("-inf")

    def rotate(self, name: str, secret: str) -> None:
        """Make ``secret`` the current secret of webhook ``name`` (Jira Data Center: its URL).

        The secret it replaces stays accepted (deliveries signed before the webhook changed, and
        their retries, still verify); the one before that is retired. Secrets stored by :meth:`add`
        for no webhook in particular are kept.
        """
        with self._lock:
            state = self.store.sync_state.get_tracker_state(self.key)
            raw = state.get("named")
            named: dict[str, list[str]] = dict(raw) if isinstance(raw, dict) else {}
            tied = {s for pair in named.values() for s in pair}
            free = [s for s in state.get("secrets") or [] if isinstance(s, str) and s not in tied]
            named[name] = [*named.get(name, [])[-1:], secret]
            state["named"] = named
            state["secrets"] = list(dict.fromkeys([*free, *(s for pair in named.values() for s in pair)]))
            self.store.sync_state.set_tracker_state(self.key, state)
            self._loaded_at = float("-inf")

    def expect_handshake(self, *, now: datetime | None = None) -> datetime:
        """Open the window in which one handshake is accepted; returns when it closes."""
        moment = now or utcnow()
        until = moment + HANDSHAKE_WINDOW
        state = self.store.sync_state.get_tracker_state(self.key)
        state["expect_until"] = until.isoformat()
        self.store.sync_state.set_tracker_state(self.key, state)
        return until

    def accept_handshake(self, secret: str, *, now: datetime | None = None) -> bool:
        """Store ``secret`` if a registration is expected (and close the window); False otherwise."""
        moment = now or utcnow()
        with self._lock:
            state = self.store.sync_state.get_tracker_state(self.key)
            until = state.get("expect_until")
            if not isinstance(until, str) or datetime.fromisoformat(until) < moment or not secret.strip():
                return False
            secrets = [s for s in state.get("secrets") or [] if s != secret]
            state["secrets"] = [*secrets, secret]
            state.pop("expect_until", None)
            self.store.sync_state.set_tracker_state(self.key, state)
            self._loaded_at = float("-inf")
            return True
