"""Effort counted once, at the most detailed level that carries it.

An item contributes its own effort only when none of its counted descendants has non-zero own
effort in the measure. Canceled items count nothing and do not hide their ancestors' effort;
deleted items never reach these functions. For ``count`` every counted item's own effort is 1, so
leaves are counted. O(n), iterative: no recursion limit on deep trees, no hang on a parent cycle.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from v2mom.models import State, WorkItem

Measure = Literal["points", "hours", "count"]


def own_effort(item: WorkItem, measure: Measure) -> float:
    """The item's own effort in ``measure`` (missing counts as 0; ``count`` is always 1)."""
    if measure == "count":
        return 1.0
    value = item.points if measure == "points" else item.hours
    return float(value) if value else 0.0


def counts(item: WorkItem) -> bool:
    """False for items that count nothing (Linear canceled / duplicate)."""
    return item.state is not State.CANCELED


def counted_effort(items: Iterable[WorkItem], measure: Measure) -> dict[str, float]:
    """Each item's counted effort, keyed by item id (one tracker's items at a time)."""
    by_id = {item.id: item for item in items}
    pending_children: dict[str, int] = dict.fromkeys(by_id, 0)
    for item in by_id.values():
        if item.parent_id in by_id:
            pending_children[item.parent_id] += 1
    # A descendant "carries effort" when it counts and has non-zero own effort, at any depth.
    below: dict[str, bool] = dict.fromkeys(by_id, False)
    ready = [item_id for item_id, n in pending_children.items() if n == 0]
    while ready:
        item_id = ready.pop()
        item = by_id[item_id]
        parent_id = item.parent_id
        if parent_id in by_id:
            carries = counts(item) and own_effort(item, measure) > 0
            if carries or below[item_id]:
                below[parent_id] = True
            pending_children[parent_id] -= 1
            if pending_children[parent_id] == 0:
                ready.append(parent_id)
    # Items left unvisited sit on a parent cycle (a tracker never makes one, but out-of-order
    # updates can for a moment): they keep what their acyclic descendants told them.
    return {
        item_id: (own_effort(item, measure) if counts(item) and not below[item_id] else 0.0)
        for item_id, item in by_id.items()
    }
