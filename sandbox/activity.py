"""Simulated team activity: now and then an item moves on, gets points or a tag, in each tracker.

One step function per sandbox (also used by the chaos test); :class:`Activity` runs a list of them
in turn from a background thread for the demo.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Sequence

from v2mom.sandbox.asana.generator import AsanaGroundTruth
from v2mom.sandbox.asana.state import POINTS_FIELD, AsanaState
from v2mom.sandbox.jira.state import JiraState
from v2mom.sandbox.jira.truth import JiraGroundTruth
from v2mom.sandbox.linear.generator import LinearGroundTruth
from v2mom.sandbox.linear.state import LinearState

Step = Callable[[], None]
VALUES = ("customer-first", "reliability", "efficiency")
POINTS = (1.0, 2.0, 3.0, 5.0, 8.0)


def jira_step(state: JiraState, truth: JiraGroundTruth, rng: random.Random, *, removals: bool = True) -> Step:
    """Change (sometimes delete or move) one in-scope Jira issue."""

    def step() -> None:
        with state.lock:
            live = sorted(truth.live())
        issue_id = rng.choice(live)
        roll = rng.random()
        if removals and roll < 0.05:
            state.delete_issue(issue_id)
        elif removals and roll < 0.10:
            state.move_issue(issue_id, rng.choice(sorted(truth.scope)))
        elif roll < 0.55:
            state.update_issue(
                issue_id, points=rng.choice(POINTS), category=rng.choice(["indeterminate", "done"])
            )
        else:
            state.update_issue(issue_id, labels=[f"value:{rng.choice(VALUES)}"])

    return step


def linear_step(
    state: LinearState, truth: LinearGroundTruth, rng: random.Random, *, removals: bool = True
) -> Step:
    """Change (sometimes archive or trash) one live Linear issue."""
    value_labels = [state.label(v, group="Value") for v in VALUES]

    def step() -> None:
        issues = sorted(i for i in truth.live_ids() if i in state.issues)
        issue_id = rng.choice(issues)
        roll = rng.random()
        if removals and roll < 0.05:
            state.archive_issue(issue_id, trash=rng.random() < 0.5)
        elif roll < 0.40:
            state.update_issue(issue_id, estimate=rng.choice(POINTS))
        elif roll < 0.70:
            state.update_issue(issue_id, state_type=rng.choice(["started", "completed", "canceled"]))
        else:
            state.update_issue(
                issue_id, label_ids=[rng.choice(value_labels)], title=f"Retitled {rng.randrange(10**6)}"
            )

    return step


def asana_step(
    state: AsanaState, truth: AsanaGroundTruth, rng: random.Random, *, removals: bool = True
) -> Step:
    """Change (sometimes delete) one live Asana task."""

    def step() -> None:
        gid = rng.choice(sorted(truth.live_tasks()))
        roll = rng.random()
        if removals and roll < 0.05 and not state.children.get(gid):
            state.delete_task(gid)
        elif roll < 0.45:
            state.update_task(gid, numbers={POINTS_FIELD: rng.choice(POINTS)})
        elif roll < 0.70:
            state.update_task(gid, completed=rng.random() < 0.6)
        else:
            state.update_task(
                gid, tags=[f"value:{rng.choice(VALUES)}"], name=f"Renamed {rng.randrange(10**6)}"
            )

    return step


class Activity:
    """A thread that runs one step every ``interval`` seconds, cycling through ``steps``."""

    def __init__(self, steps: Sequence[Step], *, interval: float = 3.0) -> None:
        """Prepare; nothing changes until :meth:`start`."""
        self.steps, self.interval = list(steps), interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.changes = 0

    def step(self) -> None:
        """Make one change."""
        self.steps[self.changes % len(self.steps)]()
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
