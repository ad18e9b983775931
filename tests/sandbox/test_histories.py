"""The sandboxes' generated histories fit the items they belong to."""

from __future__ import annotations

import itertools
from collections import Counter

from v2mom.sandbox.generator import generate_jira_workspace
from v2mom.sandbox.history import Recorded


def check_fits(recorded: set[Recorded], created: dict[str, object], updated: dict[str, object]) -> None:
    for change in recorded:
        where = f"item {change.item_id}, change {change.event_id}"
        assert created[change.item_id] < change.at <= updated[change.item_id], where  # type: ignore[operator]


def test_jira_changelogs_lead_each_issue_to_where_it_stands() -> None:
    state, truth = generate_jira_workspace(seed=5, epics=30, issues=400)
    recorded = truth.transitions()
    issues = {str(i.id): i for i in truth.live().values()}
    check_fits(recorded, {k: i.created for k, i in issues.items()}, {k: i.updated for k, i in issues.items()})
    by_item: dict[str, list[Recorded]] = {}
    for change in sorted(recorded, key=lambda c: (c.at, c.field)):
        by_item.setdefault(change.item_id, []).append(change)
    status_ids = {name: status_id for name, (status_id, _) in state.statuses.items()}
    for item_id, changes in by_item.items():
        issue = issues[item_id]
        statuses = [c for c in changes if c.field == "status"]
        assignees = [c for c in changes if c.field == "assignee"]
        if statuses:
            assert statuses[-1].after == status_ids[issue.status]
            for before, after in itertools.pairwise(statuses):
                assert after.before == before.after  # each change starts where the last one ended
        if issue.category == "done":
            assert statuses[-1].at == issue.updated.replace(
                microsecond=issue.updated.microsecond // 1000 * 1000
            )
        assert (assignees[-1].after if assignees else None) == issue.assignee
    in_progress = [i for i in issues.values() if i.category == "indeterminate"]
    assert any(i.assignee is None for i in in_progress)  # work nobody is assigned to
    assert (
        Counter(
            len([c for c in by_item.get(str(i.id), []) if c.field == "assignee"]) for i in issues.values()
        )[2]
        > 0
    )
    assert Counter((c.field, c.category) for c in recorded)[("status", "todo")] > 0  # work put down again
