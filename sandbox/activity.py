"""Simulated team activity for the demo: now and then an issue moves on, gets points or a tag."""

from __future__ import annotations

import random
import threading

from sandbox.jira.state import JiraState


class Activity:
    """A thread that changes one in-scope issue every ``interval`` seconds."""

    def __init__(self, state: JiraState, scope: set[str], *, interval: float = 3.0, seed: int = 1) -> None:
        """Prepare; nothing changes until :meth:`start`."""
        self.state, self.scope, self.interval = state, scope, interval
        self.rng = random.Random(seed)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.changes = 0

    def step(self) -> None:
        """Make one change."""
        with self.state.lock:
            candidates = sorted(i for i, x in self.state.issues.items() if x.project in self.scope)
        issue_id = self.rng.choice(candidates)
        roll = self.rng.random()
        if roll < 0.4:
            self.state.update_issue(issue_id, category=self.rng.choice(["indeterminate", "done"]))
        elif roll < 0.8:
            self.state.update_issue(issue_id, points=float(self.rng.choice([1, 2, 3, 5, 8])))
        else:
            value = self.rng.choice(["customer-first", "reliability", "efficiency"])
            self.state.update_issue(issue_id, labels=[f"value:{value}"])
        self.changes += 1

    def start(self) -> None:
        """Start changing things."""
        self._thread = threading.Thread(target=self._run, name="sandbox-activity", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.step()
