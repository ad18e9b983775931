"""The engine works out what each tag set yields once per plan, not once per signature or named item:
with teams, each answer is an outcome per team, so asking again per signature made a rule change on
1M items spend 34 of its 41 s on the same few hundred answers."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.factories import make_item
from tests.mapping.test_cascade import cascade
from v2mom.mapping.plan import Rule, RuleWhen, load_plan
from v2mom.mapping.resolver import Outcome, Resolver, Tags
from v2mom.store.database import Database
from v2mom.store.resolution.plan_change import apply_plan
from v2mom.store.resolution.run import remap

SIGNATURES = 30


def test_a_plan_change_works_out_each_tag_sets_outcomes_once_per_plan(
    store: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Thirty signatures (each its own label) share one tag set naming a team's method: a plan
    change reads each under both plans, yet asks each plan once per tag set and team."""
    items = [
        make_item(str(n), key=f"ONB-{n}", labels=("method:smart-retries", f"x{n}"), points=1.0)
        for n in range(SIGNATURES)
    ]
    items += [make_item(f"c{n}", key=f"CORE-{n}", container="CORE", labels=(f"y{n}",)) for n in range(5)]
    store.items.upsert(items)
    plan = load_plan(cascade())
    apply_plan(store, plan, actor="test")
    asked: Counter[tuple[int, tuple[str, ...], tuple[str, ...], str | None]] = Counter()
    resolvers: list[Resolver] = []  # kept alive, so that no two share an id
    real = Resolver.outcome

    def counted(self: Resolver, chosen: Tags, team: str | None = None) -> Outcome:
        resolvers.append(self)
        asked[(id(self), chosen.values, chosen.methods, team)] += 1
        return real(self, chosen, team)

    monkeypatch.setattr(Resolver, "outcome", counted)
    changed = plan.model_copy(
        update={
            "rules": (*plan.rules, Rule(when=RuleWhen(tracker="jira", project="CORE"), value="reliability"))
        }
    ).with_rule_ids()
    stats = apply_plan(store, changed, actor="test").stats
    assert stats.moved == 5  # the five CORE items, tagged now
    assert asked, "the plan change worked nothing out"
    repeated = {key[1:]: times for key, times in asked.items() if times > 1}
    assert not repeated, repeated
    # And the figures are the ones a full pass gives.
    monkeypatch.undo()
    after_change = sorted(store.resolutions.rollup_rows(), key=lambda row: row["group_key"])
    remap(store, changed)
    assert sorted(store.resolutions.rollup_rows(), key=lambda row: row["group_key"]) == after_change
