"""Asana webhook secrets: learned in the ``X-Hook-Secret`` handshake, kept in the database.

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

from v2mom.store import Store, utcnow

STATE_KEY = "asana-webhooks"
HANDSHAKE_WINDOW = timedelta(minutes=5)
CACHE_SECONDS = 30.0


class AsanaHookSecrets:
    """The stored secrets of this installation's Asana webhooks."""

    def __init__(self, store: Store) -> None:
        """Bind to ``store``; nothing is read until needed."""
        self.store = store
        self._lock = threading.Lock()
        self._cached: list[str] = []
        self._loaded_at = float("-inf")

    def secrets(self, *, fresh: bool = False) -> list[str]:
        """The stored secrets (cached for a few seconds unless ``fresh``)."""
        with self._lock:
            if fresh or time.monotonic() - self._loaded_at > CACHE_SECONDS:
                stored = self.store.get_tracker_state(STATE_KEY).get("secrets") or []
                self._cached = [s for s in stored if isinstance(s, str) and s]
                self._loaded_at = time.monotonic()
            return list(self._cached)

    def expect_handshake(self, *, now: datetime | None = None) -> datetime:
        """Open the window in which one handshake is accepted; returns when it closes."""
        moment = now or utcnow()
        until = moment + HANDSHAKE_WINDOW
        state = self.store.get_tracker_state(STATE_KEY)
        state["expect_until"] = until.isoformat()
        self.store.set_tracker_state(STATE_KEY, state)
        return until

    def accept_handshake(self, secret: str, *, now: datetime | None = None) -> bool:
        """Store ``secret`` if a registration is expected (and close the window); False otherwise."""
        moment = now or utcnow()
        with self._lock:
            state = self.store.get_tracker_state(STATE_KEY)
            until = state.get("expect_until")
            if not isinstance(until, str) or datetime.fromisoformat(until) < moment or not secret.strip():
                return False
            secrets = [s for s in state.get("secrets") or [] if s != secret]
            state["secrets"] = [*secrets, secret]
            state.pop("expect_until", None)
            self.store.set_tracker_state(STATE_KEY, state)
            self._loaded_at = float("-inf")
            return True
