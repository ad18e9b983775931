"""History that contradicts itself is kept, clamped and counted, never a failed pass: a change dated
in the future is stored as the tracker gave it (people's time counts it as made now), an assignment
naming an account that is gone counts as unassigned, a task completed before its own start date
counts no day of work, and the pass says how many of each it read."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from tests.sync.sites import asana_site, jira_datacenter_site
from v2mom.clock import utcnow
from v2mom.connectors.asana.connector import UNNAMED_ASSIGNMENTS
from v2mom.sandbox.asana.state import Story
from v2mom.store.database import Database
from v2mom.sync.runner import completed_before_start_warning, sync_tracker


def test_changes_dated_in_the_future_are_stored_and_counted_in_a_warning(store: Database) -> None:
    with jira_datacenter_site() as site:
        ahead = utcnow() + timedelta(days=3)
        live = sorted(int(i) for i in site.live_ids())
        dated = [i for i in live if site.state.issues[i].changelog][:2]
        with site.state.lock:
            for issue_id in dated:  # the latest change of two issues, three days ahead of us
                issue = site.state.issues[issue_id]
                issue.changelog[-1] = replace(issue.changelog[-1], created=ahead)
        result = sync_tracker(store, site.connector(), full=True)
    assert result.ok, result.error
    assert result.future_changes >= 2  # each group holds a status or an assignee change, or both
    assert any(
        w.startswith(f"{result.future_changes} status or assignee change(s) dated in the future")
        for w in result.warnings
    ), result.warnings
    stored = store.history.for_items("jira", [str(i) for i in dated])
    assert sum(1 for c in stored if c.at > utcnow()) == result.future_changes


def test_a_pass_whose_history_is_on_time_warns_of_nothing(store: Database) -> None:
    with jira_datacenter_site() as site:
        result = sync_tracker(store, site.connector(), full=True)
    assert result.ok, result.error
    assert result.transitions > 0
    assert result.future_changes == 0
    assert not any("dated in the future" in w for w in result.warnings)


def test_an_asana_assignment_naming_nobody_is_stored_as_unassigned_and_counted(store: Database) -> None:
    """An account removed from the workspace: its ``assigned`` story comes without an ``assignee``."""
    with asana_site() as site:
        state = site.state
        gid = next(g for g in sorted(site.live_ids()) if g in state.tasks and state.tasks[g].stories)
        task = state.tasks[gid]
        moment = task.stories[-1].created_at + timedelta(minutes=1)
        with state.lock:
            task.stories.append(Story("990001", moment, "assigned", "assigned to a former member", "u-gone"))
        result = sync_tracker(store, site.connector(), full=True)
    assert result.ok, result.error
    assert f"1{UNNAMED_ASSIGNMENTS}" in result.warnings
    last = [c for c in store.history.for_items("asana", [gid]) if c.field == "assignee"][-1]
    assert (last.event_id, last.to_value) == ("990001", None)


def test_an_asana_task_completed_before_its_start_is_stored_and_counted(store: Database) -> None:
    """A start date set after the task was completed (moved by hand, or imported): the task is stored
    as Asana holds it, and the pass counts it; people's time clamps its span to nothing."""
    with asana_site() as site:
        state = site.state
        done = sorted(g for g in site.live_ids() if g in state.tasks and state.tasks[g].completed_at)
        with state.lock:
            for gid in done[:2]:  # two tasks whose start is set three days after their completion
                task = state.tasks[gid]
                assert task.completed_at is not None
                task.start_at, task.start_on = None, (task.completed_at + timedelta(days=3)).date()
        result = sync_tracker(store, site.connector(), full=True)
    assert result.ok, result.error
    assert result.completed_before_start == 2
    assert completed_before_start_warning(2) in result.warnings
    stored = store.items.by_id("asana", done[0])
    assert stored is not None
    assert stored.item.completed_at is not None
    assert stored.item.started_at is not None
    assert stored.item.started_at > stored.item.completed_at


def test_a_pass_whose_tasks_start_before_they_complete_counts_none(store: Database) -> None:
    with asana_site() as site:
        started = [t for t in site.state.tasks.values() if t.start_on or t.start_at]
        result = sync_tracker(store, site.connector(), full=True)
    assert result.ok, result.error
    assert started, "the sandbox generates tasks with a start"
    assert result.completed_before_start == 0
    assert not any("before their own start" in w for w in result.warnings)
