"""The sandbox sends real, signed Jira webhook deliveries to the app when its issues change.

Switches make the network misbehave the way Jira's does: ``duplicate`` (the same delivery id sent
twice), ``reorder`` (held back and sent after the next one), ``drop`` (never sent), ``delay``
(seconds before sending). Deliveries go out from one background thread, in order unless reordered.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import queue
import random
import threading
import time
import uuid
from dataclasses import dataclass, field

import requests

from sandbox.jira.app import jira_time
from sandbox.jira.state import Issue, JiraState

log = logging.getLogger(__name__)


@dataclass
class Chaos:
    """Probabilities (0..1) of each misbehaviour, and a delay in seconds."""

    duplicate: float = 0.0
    reorder: float = 0.0
    drop: float = 0.0
    delay: float = 0.0
    seed: int = 1
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)


@dataclass
class DeliveryLog:
    """What was sent, dropped and duplicated, for tests to compare against."""

    sent: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


class WebhookSender:
    """Listens to a JiraState and POSTs signed deliveries to ``target_url``."""

    def __init__(self, state: JiraState, target_url: str, secret: str, chaos: Chaos | None = None) -> None:
        """Subscribe to ``state``; call :meth:`start` to begin sending."""
        self.target_url = target_url
        self.secret = secret
        self.chaos = chaos or Chaos()
        self.log = DeliveryLog()
        self._queue: queue.Queue[tuple[str, bytes] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._held: tuple[str, bytes] | None = None
        self._session = requests.Session()
        state.listeners.append(self._on_change)

    def _on_change(self, event: str, issue: Issue) -> None:
        body = json.dumps(
            {
                "timestamp": int(time.time() * 1000),
                "webhookEvent": event,
                "issue": {
                    "id": str(issue.id),
                    "key": issue.key,
                    "fields": {"updated": jira_time(issue.updated)},
                },
            }
        ).encode()
        self._queue.put((str(uuid.uuid4()), body))

    def start(self) -> None:
        """Start the sending thread."""
        self._thread = threading.Thread(target=self._run, name="sandbox-webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Send what is queued (a held-back delivery included), then stop."""
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(timeout=60)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                if self._held is not None:
                    self._send(*self._held)
                return
            self._deliver(*item)

    def _deliver(self, delivery_id: str, body: bytes) -> None:
        chaos = self.chaos
        if chaos.rng.random() < chaos.drop:
            self.log.dropped.append(delivery_id)
            return
        if self._held is None and chaos.rng.random() < chaos.reorder:
            self._held = (delivery_id, body)  # goes out after the next delivery
            return
        if chaos.delay:
            time.sleep(chaos.delay)
        self._send(delivery_id, body)
        if chaos.rng.random() < chaos.duplicate:
            self.log.duplicated.append(delivery_id)
            self._send(delivery_id, body)
        if self._held is not None:
            held, self._held = self._held, None
            self._send(*held)

    def _send(self, delivery_id: str, body: bytes) -> None:
        signature = "sha256=" + hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
        headers = {
            "Content-Type": "application/json",
            "X-Hub-Signature": signature,
            "X-Atlassian-Webhook-Identifier": delivery_id,
        }
        try:
            answer = self._session.post(self.target_url, data=body, headers=headers, timeout=10)
            ok = answer.status_code < 300
        except requests.RequestException as exc:
            log.warning("sandbox webhook to %s failed: %s", self.target_url, type(exc).__name__)
            ok = False
        (self.log.sent if ok else self.log.failed).append(delivery_id)
