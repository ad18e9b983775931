"""Resolving work tagged with team methods and values: effort splits by the cascade's weights, and
what reaches no company value is unaligned (flagged, with the method serving nothing named)."""

from __future__ import annotations

import math

import pytest

from tests.factories import VALID, make_item
from tests.mapping.test_cascade import cascade
from v2mom.errors import ConfigError
from v2mom.mapping.cascade import method_weights
from v2mom.mapping.plan import load_plan
from v2mom.mapping.resolver import Allocation, Resolution, Resolver

RULES = """\
rules:
  - when: {tracker: jira, label: retry}
    method: backoff
  - when: {tracker: jira, label: trust}
    value: merchant-trust
"""
PLAN = load_plan(cascade().replace("rules:\n", RULES, 1))
RESOLVER = Resolver(PLAN)


def resolve(*labels: str) -> Resolution:
    """``labels`` on work of the retry squad (a Retry component in Payments' project), which may
    name its own methods, Payments' and the company's."""
    item = make_item("X-1", labels=labels, components=("Retry",))
    return RESOLVER.resolve(item, None, parent_ref=None, parent_missing=False, team=RESOLVER.team_of(item))


def total(resolution: Resolution) -> float:
    return math.fsum(a.weight for a in resolution.allocations)


def test_a_two_level_team_method_splits_by_what_it_serves() -> None:
    resolution = resolve("method:backoff")
    assert resolution.values == pytest.approx(
        {
            "customer-first": 0.75 * 0.79,
            "reliability": 0.75 * 0.21 + 0.25 * 0.5,
            "merchant-trust": 0.25 * 0.5,
        }
    )
    assert resolution.flags == ()
    assert total(resolution) == pytest.approx(1.0)


def test_rules_may_name_team_methods_and_values() -> None:
    by_rule = resolve("retry")
    assert by_rule.methods == ("backoff",)
    assert by_rule.values == resolve("method:backoff").values
    assert resolve("trust").values == {"merchant-trust": 1.0}
    assert resolve("value:Merchant trust").values == {"merchant-trust": 1.0}  # by name, too


def test_a_rule_naming_a_method_nowhere_in_the_cascade_is_still_refused() -> None:
    text = cascade().replace("method: slo-program", "method: no-such-method", 1)
    with pytest.raises(ConfigError) as info:
        load_plan(text)
    assert any("unknown method 'no-such-method'" in problem for problem in info.value.problems)


def test_a_method_serving_nothing_is_unaligned_not_untagged() -> None:
    resolution = resolve("method:spike")
    assert resolution.flags == ("unaligned",)
    assert resolution.reasons == ("method spike serves no parent method or value",)
    assert resolution.values == {}
    assert resolution.allocations == (Allocation(None, "spike", 1.0),)


def test_a_method_serving_an_unaligned_one_names_that_method() -> None:
    resolution = resolve("method:dunning")
    assert resolution.flags == ("unaligned",)
    assert resolution.reasons == ("method spike serves no parent method or value",)
    assert resolution.allocations == (Allocation(None, "dunning", 1.0),)


def test_a_part_aligned_method_counts_its_aligned_part_only() -> None:
    resolution = resolve("method:half-aligned")
    assert resolution.flags == ("unaligned",)
    assert resolution.values == pytest.approx({"customer-first": 0.5})
    assert set(resolution.allocations) == {
        Allocation("customer-first", "half-aligned", 0.5),
        Allocation(None, "half-aligned", 0.5),
    }


def test_an_unaligned_method_takes_its_share_beside_an_aligned_one() -> None:
    resolution = resolve("method:spike", "method:smart-retries")
    assert resolution.flags == ("unaligned",)
    assert resolution.values == pytest.approx({"customer-first": 0.5 * 0.79, "reliability": 0.5 * 0.21})
    assert Allocation(None, "spike", 0.5) in resolution.allocations
    assert total(resolution) == pytest.approx(1.0)


def test_an_explicit_value_beside_an_unaligned_method_loses_nothing() -> None:
    resolution = resolve("value:reliability", "method:spike")
    assert resolution.values == {"reliability": 1.0}
    assert "unaligned" not in resolution.flags


def test_a_company_method_naming_no_value_is_still_an_orphan() -> None:
    plan = load_plan(VALID.replace("values: [customer-first]\n", "values: []\n", 1))
    item = make_item("X-1", labels=("method:self-serve-onboarding",))
    resolution = Resolver(plan).resolve(item, None, parent_ref=None, parent_missing=False)
    assert resolution.flags == ("orphaned", "untagged")
    assert resolution.allocations == (Allocation(None, None, 1.0),)


def test_method_weights_of_a_plan_without_teams_are_the_methods_own() -> None:
    plan = load_plan(VALID)
    found = method_weights(plan)
    assert {m: w.values for m, w in found.items()} == {m.id: m.value_weights() for m in plan.methods}
    assert all(w.unaligned == 0 and w.serving_nothing == () for w in found.values())


def test_every_method_of_the_cascade_splits_all_its_effort() -> None:
    for method, found in method_weights(PLAN).items():
        assert math.fsum([*found.values.values(), found.unaligned]) == pytest.approx(1.0), method


def test_a_team_method_serving_a_company_method_with_no_value_is_unaligned_by_it() -> None:
    text = cascade().replace("values: [customer-first]\n", "values: []\n", 1)
    text = text.replace("serves: {spike: 1}}", "serves: {self-serve-onboarding: 1, reliability: 1}}", 1)
    item = make_item("X-1", labels=("method:dunning",), components=("Retry",))
    resolution = Resolver(load_plan(text)).resolve(
        item, None, parent_ref=None, parent_missing=False, team="retries"
    )
    assert resolution.flags == ("unaligned",)
    assert resolution.reasons == ("method self-serve-onboarding serves no parent method or value",)
    assert resolution.values == {"reliability": 0.5}


def test_team_names_may_not_read_as_another_value_or_method() -> None:
    text = cascade().replace("name: Research spike", "name: SLO program", 1)
    text = text.replace("name: Merchant trust", "name: Reliability", 1)
    with pytest.raises(ConfigError) as info:
        load_plan(text)
    assert [problem.split(" (line")[0] for problem in info.value.problems] == [
        "plan.yaml: teams[0].values[0].name: name 'Reliability' reads as the id of value 'reliability'"
        " (ids and names of values and methods must differ, ignoring case)",
        "plan.yaml: teams[0].methods[2].name: name 'SLO program' reads as the name of method 'slo-program'"
        " (ids and names of values and methods must differ, ignoring case)",
    ]


@pytest.mark.parametrize(
    ("container", "components", "team", "visible"),
    [
        ("ONB", ("Retry",), "retries", {"backoff", "smart-retries", "merchant-trust"}),
        ("ONB", (), "payments", {"smart-retries", "merchant-trust"}),
        ("CORE", (), None, set()),
    ],
)
def test_work_may_name_its_own_teams_and_those_above_not_others(
    container: str, components: tuple[str, ...], team: str | None, visible: set[str]
) -> None:
    """The retry squad's work sees its methods, Payments' and the company's; Payments' work sees
    not the squad's below it; the company's own work sees no team's; the rest is orphaned."""
    for tag in ("method:backoff", "method:smart-retries", "value:merchant-trust", "method:referrals"):
        item = make_item("X-1", labels=(tag,), container=container, components=components)
        assert RESOLVER.team_of(item) == team
        resolution = RESOLVER.resolve(item, None, parent_ref=None, parent_missing=False, team=team)
        ref = tag.split(":")[1]
        assert ("orphaned" not in resolution.flags) == (ref in visible), (tag, team)
        if ref not in visible:
            owner = {"backoff": "retries", "smart-retries": "payments", "referrals": "growth"}.get(
                ref, "payments"
            )
            assert any(f"belongs to team {owner}" in reason for reason in resolution.reasons)
