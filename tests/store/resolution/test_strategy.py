"""How much a re-resolution re-resolves: the changed trees or the plan delta up to their bar of the
live items, the full pass past it, and no count of the live items when a scope is small anyway."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import make_item
from tests.store.resolution.spying import chosen
from v2mom.mapping.plan import Plan, Rule, RuleWhen, Value, check_plan
from v2mom.models import Level
from v2mom.store.database import Database
from v2mom.store.resolution import strategy
from v2mom.store.resolution.full_pass import FullPass
from v2mom.store.resolution.plan_change import apply_plan
from v2mom.store.resolution.plan_delta import PlanDelta
from v2mom.store.resolution.run import remap, remap_changed

TREES = 10
SIZE = 5  # an epic and four stories
PLAN = check_plan(Plan(values=(Value(id="speed", name="Speed"), Value(id="trust", name="Trust"))))


def forest(store: Database) -> None:
    """Ten live trees of five items (the first labelled ``frontend``), and as many deleted ones: the
    deleted items are stored too, and must count nowhere."""
    items = []
    for tree in (*(f"t{n}" for n in range(TREES)), *(f"gone{n}" for n in range(TREES))):
        labels = ("frontend",) if tree in ("t0", "gone0") else ()
        items.append(make_item(tree, level=Level.EPIC, labels=labels, points=1.0))
        items += [make_item(f"{tree}-{n}", parent_id=tree, labels=labels) for n in range(1, SIZE)]
    store.items.upsert(items)
    for n in range(TREES):
        store.items.mark_deleted("jira", [f"gone{n}", *(f"gone{n}-{k}" for k in range(1, SIZE))])
    store.plans.save(PLAN, actor="test")
    remap(store, PLAN)


def frontend_to(value: str) -> Plan:
    """:data:`PLAN` with one rule: ``frontend`` work serves ``value``."""
    return check_plan(
        PLAN.model_copy(update={"rules": (Rule(when=RuleWhen(label="frontend"), value=value),)})
    )


def test_changed_trees_stay_a_scope_up_to_their_share_of_the_live_items(
    store: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One tree of five items is a tenth of the 50 live items: at a bar of a tenth its trees are
    re-resolved alone, just below it every live item is. A count of the live items that took in
    deleted items, or counted one twice, would keep the scope below the bar too."""
    forest(store)
    monkeypatch.setattr(strategy, "SMALL_SCOPE", 0)  # what a store of millions of items would do
    changes = {"jira": {"t3-2"}}
    share = SIZE / (TREES * SIZE)
    assert remap_changed(store, changes, PLAN, full_above=share).items == SIZE
    assert remap_changed(store, changes, PLAN, full_above=share * 0.99).items == TREES * SIZE


def test_a_plan_change_is_a_delta_up_to_its_share_of_the_live_items(
    store: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rule on ``frontend`` reads the five live items of the first tree differently (a tenth of
    the live items; their deleted twins count nowhere): a delta at a bar of a tenth, the full pass
    just below it, and the same resolutions either way."""
    forest(store)
    monkeypatch.setattr(strategy, "SMALL_SCOPE", 0)
    strategies = chosen(monkeypatch)
    tagged = check_plan(
        PLAN.model_copy(update={"rules": (Rule(when=RuleWhen(label="frontend"), value="speed"),)})
    )
    retagged = check_plan(
        PLAN.model_copy(update={"rules": (Rule(when=RuleWhen(label="frontend"), value="trust"),)})
    )
    monkeypatch.setattr(strategy, "PLAN_DELTA_ABOVE", SIZE / (TREES * SIZE))
    assert apply_plan(store, tagged, actor="test").stats.moved == SIZE
    monkeypatch.setattr(strategy, "PLAN_DELTA_ABOVE", SIZE / (TREES * SIZE) * 0.99)
    assert apply_plan(store, retagged, actor="test").stats.moved == SIZE
    assert [type(s) for s in strategies] == [PlanDelta, FullPass]


def test_a_small_scope_never_counts_the_live_items(store: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """Counting every live item costs a second at 10M items; a webhook batch's scope is far below
    the bar, so it is never counted (it was, once, and a worker's batches took 4x as long)."""
    forest(store)

    def uncountable(*_args: Any) -> int:
        raise AssertionError("the live items were counted for a scope below SMALL_SCOPE")

    monkeypatch.setattr(strategy, "_live_items", uncountable)
    assert remap_changed(store, {"jira": {"t3-2"}}, PLAN).items == SIZE
    monkeypatch.setattr(strategy, "SMALL_SCOPE", 0)
    with pytest.raises(AssertionError, match="live items were counted"):  # past it, they are
        remap_changed(store, {"jira": {"t3-2"}}, PLAN)
