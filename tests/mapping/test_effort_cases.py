"""Effort is counted once, at the most detailed level that carries it."""

from __future__ import annotations

import pytest

from tests.factories import make_item
from v2mom.mapping.effort import counted_effort
from v2mom.models import Level, State, WorkItem


def tree(*specs: tuple[str, str | None, float | None]) -> list[WorkItem]:
    return [make_item(i, parent_id=p, points=pts, hours=pts) for i, p, pts in specs]


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        pytest.param(
            tree(("story", None, 5.0), ("a", "story", 2.0), ("b", "story", 3.0)),
            {"story": 0.0, "a": 2.0, "b": 3.0},
            id="subtasks-carry-points-story-does-not-count",
        ),
        pytest.param(
            tree(("story", None, 5.0), ("a", "story", None), ("b", "story", 0.0)),
            {"story": 5.0, "a": 0.0, "b": 0.0},
            id="subtasks-carry-none-story-counts",
        ),
        pytest.param(
            tree(("epic", None, 40.0), ("s1", "epic", None), ("s2", "epic", None)),
            {"epic": 40.0, "s1": 0.0, "s2": 0.0},
            id="epic-estimate-counts-when-no-child-carries",
        ),
        pytest.param(
            tree(("epic", None, 40.0), ("s1", "epic", None), ("t", "s1", 1.0)),
            {"epic": 0.0, "s1": 0.0, "t": 1.0},
            id="grandchild-effort-hides-epic-estimate",
        ),
        pytest.param(
            tree(("epic", None, 40.0), ("s1", "epic", 5.0), ("s2", "epic", None)),
            {"epic": 0.0, "s1": 5.0, "s2": 0.0},
            id="one-child-carrying-is-enough",
        ),
        pytest.param(
            tree(("orphan", "missing", 3.0)),
            {"orphan": 3.0},
            id="parent-not-given-is-a-root",
        ),
    ],
)
def test_points(items: list[WorkItem], expected: dict[str, float]) -> None:
    assert counted_effort(items, "points") == expected
    assert counted_effort(items, "hours") == expected  # same numbers in hours here


def test_canceled_child_neither_counts_nor_hides_parent() -> None:
    items = [
        make_item("story", points=5.0),
        make_item("sub", parent_id="story", points=3.0, state=State.CANCELED),
    ]
    assert counted_effort(items, "points") == {"story": 5.0, "sub": 0.0}


def test_count_counts_leaves() -> None:
    items = tree(("epic", None, None), ("s1", "epic", None), ("t1", "s1", None), ("s2", "epic", None))
    assert counted_effort(items, "count") == {"epic": 0.0, "s1": 0.0, "t1": 1.0, "s2": 1.0}


def test_deep_chain_and_wide_forest_do_not_recurse() -> None:
    n = 200_000
    chain = [make_item("0", points=1.0, level=Level.EPIC)]
    chain += [make_item(str(i), parent_id=str(i - 1), points=1.0) for i in range(1, n)]
    result = counted_effort(chain, "points")
    assert result[str(n - 1)] == 1.0
    assert sum(result.values()) == 1.0


def test_parent_cycle_neither_hangs_nor_loses_effort() -> None:
    items = [make_item("a", parent_id="b", points=2.0), make_item("b", parent_id="a", points=3.0)]
    assert counted_effort(items, "points") == {"a": 2.0, "b": 3.0}
