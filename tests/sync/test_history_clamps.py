"""History that contradicts itself is kept, clamped and counted, never a failed pass: a change dated
in the future is stored as the tracker gave it (people's time counts it as made now), an assignment
naming an account that is gone counts as unassigned, and the pass says how many of each it read."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from tests.sync.sites import asana_site, jira_datacenter_site
from v2mom.clock import utcnow
from v2mom.connectors.asana.connector import UNNAMED_ASSIGNMENTS
from v2mom.sandbox.asana.state import Story
from v2mom.store.database import Database
from v2mom.sync.runner import sync_tracker


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
