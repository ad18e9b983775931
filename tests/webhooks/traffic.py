"""Webhook traffic for end-to-end tests: signed Jira deliveries (Cloud's or Data Center's) sent from
threads, and a sandbox Jira of either deployment whose item fetches (the worker's) can be held, so a
test knows a batch is applying."""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import requests

from tests.webhooks.jira_signing import dc_delivery, delivery, sign
from v2mom.sandbox.generator import generate_jira_workspace
from v2mom.sandbox.jira.app import create_jira_app
from v2mom.sandbox.jira.state import Deployment, JiraState
from v2mom.sandbox.server import SandboxServer


class Deliveries:
    """Signed deliveries about the issues of ``state`` sent from a few threads; remembers which ones
    were acknowledged (202).

    Delivery ``<prefix>-N`` is about the N-th issue (round robin); each thread waits ``pause``
    seconds between its sends. To a Data Center sandbox they go as Data Center sends them: its body,
    no delivery header, so the inbox knows each by its body's hash (:meth:`stored_id`).
    """

    def __init__(self, base: str, state: JiraState, *, prefix: str = "crash", pause: float = 0.0) -> None:
        self.base, self.prefix, self.pause = base, prefix, pause
        self.issues = [state.issues[number] for number in sorted(state.issues)]
        self.datacenter = state.datacenter
        self.acknowledged: set[str] = set()
        self.unacknowledged: set[str] = set()
        self._lock = threading.Lock()
        self._next = 0
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self, threads: int = 6) -> None:
        self._stop.clear()
        self._threads = [threading.Thread(target=self._send_loop, daemon=True) for _ in range(threads)]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)

    def send(self, delivery_id: str) -> None:
        """Send delivery ``delivery_id`` (again, when it was sent before: the same body)."""
        body, headers = self._signed(delivery_id)
        try:
            answer = requests.post(f"{self.base}/webhooks/jira", data=body, headers=headers, timeout=5)
            ok = answer.status_code == 202
        except requests.RequestException:
            ok = False
        with self._lock:
            if ok:
                self.acknowledged.add(delivery_id)
                self.unacknowledged.discard(delivery_id)
            elif delivery_id not in self.acknowledged:
                self.unacknowledged.add(delivery_id)

    def stored_id(self, delivery_id: str) -> str:
        """The id the inbox stores delivery ``delivery_id`` under."""
        if not self.datacenter:
            return delivery_id
        return "sha256:" + hashlib.sha256(self._signed(delivery_id)[0]).hexdigest()

    def _signed(self, delivery_id: str) -> tuple[bytes, dict[str, str]]:
        number = int(delivery_id.rsplit("-", 1)[1])
        issue = self.issues[number % len(self.issues)]
        if self.datacenter:  # a distinct body for each delivery: its time says which it is
            body = dc_delivery(str(issue.id), issue.key, timestamp=1763900000000 + number)
            return body, {"X-Hub-Signature": sign(body)}
        body = delivery({"id": str(issue.id)})
        return body, {"X-Hub-Signature": sign(body), "X-Atlassian-Webhook-Identifier": delivery_id}

    def _send_loop(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                delivery_id = f"{self.prefix}-{self._next}"
                self._next += 1
            self.send(delivery_id)
            self._stop.wait(self.pause)


@dataclass
class GatedJira:
    """A sandbox Jira at ``url`` whose single-issue searches (the worker's fetches) wait while
    ``hold`` is set; ``waiting`` counts the ones waiting."""

    url: str
    state: JiraState
    hold: threading.Event = field(default_factory=threading.Event)
    waiting: int = 0


async def is_item_fetch(state: JiraState, request: Any) -> bool:
    """Whether ``request`` (to the sandbox ``state`` serves) is a worker's read of one issue: a
    search of the deployment's API for ``(<scope>) AND id = N``."""
    search = f"{state.api}/search" if state.datacenter else f"{state.api}/search/jql"
    return bool(request.url.path == search and b"AND id = " in await request.body())


@contextmanager
def gated_jira(
    *, seed: int = 7, epics: int = 4, issues: int = 20, deployment: Deployment = "cloud"
) -> Iterator[GatedJira]:
    """Serve a generated sandbox Jira of ``deployment`` whose item fetches can be held (see
    :class:`GatedJira`)."""
    state, _ = generate_jira_workspace(seed=seed, epics=epics, issues=issues, deployment=deployment)
    app = create_jira_app(state)
    jira = GatedJira("", state)

    @app.middleware("http")
    async def gate_item_fetches(request: Any, call_next: Any) -> Any:
        if await is_item_fetch(state, request):
            jira.waiting += 1
            while jira.hold.is_set():
                await asyncio.sleep(0.01)
            jira.waiting -= 1
        return await call_next(request)

    with SandboxServer(app) as url:
        jira.url = url
        try:
            yield jira
        finally:
            jira.hold.clear()
