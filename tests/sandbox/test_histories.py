"""The sandboxes' generated histories fit the items they belong to, in every tracker."""

from __future__ import annotations

import dataclasses
import itertools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import pytest

from v2mom.sandbox.asana import generator as asana_generator
from v2mom.sandbox.asana.generator import generate_asana_workspace
from v2mom.sandbox.generator import generate_jira_workspace
from v2mom.sandbox.history import Recorded
from v2mom.sandbox.linear.generator import generate_linear_workspace


@dataclass(frozen=True)
class Standing:
    """Where an item stands now, as its tracker shows it."""

    created: datetime
    updated: datetime
    status: str  # the tracker's id of its status
    finished: bool
    in_progress: bool
    assignee: str | None


def jira(deployment: str = "cloud") -> tuple[set[Recorded], dict[str, Standing]]:
    size = {"epics": 12, "issues": 150} if deployment == "datacenter" else {"epics": 30, "issues": 400}
    state, truth = generate_jira_workspace(seed=5, deployment=deployment, **size)  # type: ignore[arg-type]
    return truth.transitions(), {
        str(i.id): Standing(
            i.created,
            i.updated,
            state.status_id(i.status, i.category),
            i.category == "done",
            i.category == "indeterminate",
            i.assignee,
        )
        for i in truth.live().values()
    }


def linear() -> tuple[set[Recorded], dict[str, Standing]]:
    state, truth = generate_linear_workspace(seed=5, projects=8, issues=400)
    return truth.transitions(), {
        i.id: Standing(
            i.created,
            i.updated,
            state.workflow_state_id(i.team_key, i.state_type),
            i.state_type in ("completed", "canceled", "duplicate"),
            i.state_type == "started",
            i.assignee_id,
        )
        for i in state.issues.values()
        if i.id in truth.live_ids()
    }


def asana() -> tuple[set[Recorded], dict[str, Standing]]:
    _, truth = generate_asana_workspace(seed=5, tasks=400)
    return truth.transitions(), {
        t.gid: Standing(
            t.created_at,
            t.modified_at,
            "completed" if t.completed else "incomplete",
            t.completed,
            False,  # Asana has no started status: work in progress is work assigned
            t.assignee,
        )
        for t in truth.live_tasks().values()
    }


WORKSPACES: dict[str, Callable[[], tuple[set[Recorded], dict[str, Standing]]]] = {
    "jira": jira,
    "jira-datacenter": lambda: jira("datacenter"),  # assignees are Data Center user keys
    "linear": linear,
    "asana": asana,
}


def floor_ms(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


@pytest.mark.parametrize("tracker", sorted(WORKSPACES))
def test_each_history_leads_its_item_to_where_it_stands(tracker: str) -> None:
    recorded, items = WORKSPACES[tracker]()
    by_item: dict[str, list[Recorded]] = {}
    for change in sorted(recorded, key=lambda c: (c.at, c.event_id)):
        by_item.setdefault(change.item_id, []).append(change)
    assert set(by_item) <= set(items)
    for item_id, item in items.items():
        changes = by_item.get(item_id, [])
        for change in changes:
            assert item.created < change.at <= item.updated, f"{item_id}: {change}"
        for field in ("status", "assignee"):
            chain = [c for c in changes if c.field == field]
            for before, after in itertools.pairwise(chain):
                assert after.before == before.after, f"{item_id}: {field} jumps from {before} to {after}"
        statuses = [c for c in changes if c.field == "status"]
        assignees = [c for c in changes if c.field == "assignee"]
        if statuses:
            assert statuses[-1].after == item.status, item_id
        if item.finished:
            assert statuses, f"{item_id} was finished without a change"
            assert statuses[-1].at == floor_ms(item.updated), item_id  # finished at its last update
        assert (assignees[-1].after if assignees else None) == item.assignee, item_id
    reassigned = Counter(c.item_id for c in recorded if c.field == "assignee" and c.before and c.after)
    assert reassigned  # work handed from one person to another
    assert any(c.field == "assignee" and c.after is None for c in recorded)  # and let go of
    if tracker != "asana":
        assert any(i.in_progress and i.assignee is None for i in items.values())  # nobody assigned
        assert any(c.category == "todo" for c in recorded)  # work put down again


def test_some_asana_tasks_start_between_their_creation_and_their_end() -> None:
    state, truth = generate_asana_workspace(seed=5, tasks=400)
    starts = truth.starts()
    for gid, started in starts.items():
        task = state.tasks[gid]
        if started is None:
            continue
        end = task.completed_at or task.modified_at
        assert task.created_at < started < end, gid
        assert task.start_on is None or task.start_at is None, gid  # never both, as Asana asks
    assert any(t.start_on is not None for t in truth.live_tasks().values())
    assert any(t.start_at is not None for t in truth.live_tasks().values())
    assert any(started is None for started in starts.values())
    assert any(t.completed and t.start_on is not None for t in truth.live_tasks().values())


def test_asana_starts_move_no_other_generated_value(monkeypatch: pytest.MonkeyPatch) -> None:
    """Starts draw from a source of their own: without them every task, story and gid is the same."""
    with_starts, _ = generate_asana_workspace(seed=5, tasks=400)
    monkeypatch.setattr(asana_generator, "give_starts", lambda state, seed: None)
    without, _ = generate_asana_workspace(seed=5, tasks=400)
    assert any(t.start_on or t.start_at for t in with_starts.tasks.values())
    tasks = with_starts.tasks.items()
    assert {gid: dataclasses.replace(t, start_on=None, start_at=None) for gid, t in tasks} == without.tasks
