"""The sandboxes send real, signed webhook deliveries, misbehaving the way trackers' networks do.

:class:`Sender` owns one background thread and a queue of deliveries (target, id, body, headers
function); each tracker's sender subscribes to its sandbox state and renders deliveries in that
vendor's format. Switches: ``duplicate`` (the same delivery sent twice), ``reorder`` (held back and
sent after the next one), ``drop`` (never sent), ``delay`` (seconds before sending).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import queue
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import requests

log = logging.getLogger(__name__)
HeadersFor = Callable[[str, bytes], dict[str, str]]  # (delivery id, body) -> headers
Delivery = tuple[str, str, bytes, HeadersFor]  # target, delivery id, body, headers


def hex_hmac(secret: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of ``body`` (every tracker's signature, give or take a prefix)."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


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


class Sender:
    """Sends queued deliveries from one thread, in order unless chaos says otherwise."""

    def __init__(self, chaos: Chaos | None = None) -> None:
        """Nothing is sent until :meth:`start`."""
        self.chaos = chaos or Chaos()
        self.log = DeliveryLog()
        self._queue: queue.Queue[Delivery | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._held: Delivery | None = None
        self._session = requests.Session()

    def enqueue(self, target: str, delivery_id: str, body: bytes, headers_for: HeadersFor) -> None:
        """Queue one delivery (headers are computed when it is sent)."""
        self._queue.put((target, delivery_id, body, headers_for))

    def start(self) -> None:
        """Start the sending thread."""
        self._thread = threading.Thread(target=self._run, name="sandbox-webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Send what is queued (a held-back delivery included), then stop."""
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(timeout=60)

    def idle(self) -> bool:
        """True when every queued delivery has been sent (or dropped) and none is being sent."""
        return self._queue.unfinished_tasks == 0 and self._held is None

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    if self._held is not None:
                        self._send(self._held)
                    return
                self._deliver(item)
            finally:
                self._queue.task_done()

    def _deliver(self, delivery: Delivery) -> None:
        chaos = self.chaos
        delivery_id = delivery[1]
        if chaos.rng.random() < chaos.drop:
            self.log.dropped.append(delivery_id)
            return
        if self._held is None and chaos.rng.random() < chaos.reorder:
            self._held = delivery  # goes out after the next delivery
            return
        if chaos.delay:
            time.sleep(chaos.delay)
        self._send(delivery)
        if chaos.rng.random() < chaos.duplicate:
            self.log.duplicated.append(delivery_id)
            self._send(delivery)
        if self._held is not None:
            held, self._held = self._held, None
            self._send(held)

    def _send(self, delivery: Delivery) -> None:
        target, delivery_id, body, headers_for = delivery
        headers = {"Content-Type": "application/json", **headers_for(delivery_id, body)}
        try:
            answer = self._session.post(target, data=body, headers=headers, timeout=10)
            ok = answer.status_code < 300
        except requests.RequestException as exc:
            log.warning("sandbox webhook to %s failed: %s", target, type(exc).__name__)
            ok = False
        (self.log.sent if ok else self.log.failed).append(delivery_id)
