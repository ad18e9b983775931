"""bench.scale's cascade plan: 50 teams holding containers enough, and the company's rules matching
in every container variant what they match in the template (so the flat and cascade runs compare)."""

from __future__ import annotations

from collections import Counter

import pytest

from bench.cascade import (
    VARIANTS,
    all_containers,
    cascade_plan,
    scope_owners,
    template_containers,
    tree_roots,
    tree_variant,
    with_variant,
)
from bench.scale import Template, build_template, closable_period, copy_id
from v2mom.mapping.cascade import method_weights, team_depths
from v2mom.mapping.plan import Plan, load_plan
from v2mom.mapping.resolver import Resolver
from v2mom.models import Level, WorkItem
from v2mom.sandbox import SAMPLE_PLAN_PATH


@pytest.fixture(scope="module")
def template() -> Template:
    return build_template(600, 11)


@pytest.fixture(scope="module")
def sample() -> Plan:
    return load_plan(SAMPLE_PLAN_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def plan(sample: Plan, template: Template) -> Plan:
    return cascade_plan(sample, template.items)


def company_tags(resolver: Resolver, item: WorkItem, company: set[str]) -> tuple[set[str], set[str]]:
    """The company's values and methods the item's own rules and its container rules give it."""
    own, container = resolver.own_tags(item), resolver.container_tags(item)
    values = {v for v in (*own.values, *container.values) if v in company}
    methods = {m for m in (*own.methods, *container.methods) if m in company}
    return values, methods


def test_the_company_rules_match_in_every_container_variant_what_they_match_in_the_template(
    sample: Plan, plan: Plan, template: Template
) -> None:
    flat, cascaded = Resolver(sample), Resolver(plan)
    company = sample.value_ids() | sample.method_ids()
    matched = 0
    for stored in template.items:
        expected = company_tags(flat, stored.item, company)
        matched += bool(expected[0] or expected[1])
        for variant in range(VARIANTS):
            varied = with_variant(stored, variant).item
            assert company_tags(cascaded, varied, company) == expected, (variant, stored.item.key)
    assert matched > len(template.items) // 20  # the rules do match something


def test_fifty_teams_three_deep_hold_the_containers_and_some_methods_serve_nothing(
    plan: Plan, template: Template
) -> None:
    teams = plan.teams or ()
    assert Counter(team_depths(plan).values()) == {1: 5, 2: 20, 3: 25}
    owners = scope_owners(plan)
    assert {team.id for team in teams} == set(owners.values())  # every team holds a container
    containers = [(c.tracker, c.key.casefold()) for v in all_containers(template.items) for c in v]
    assert len(set(containers)) == VARIANTS * len(template_containers(template.items)) == 64
    assert 0 < len(containers) - len(owners) < 16  # a few stay the company's own work
    unaligned = [m for m, w in method_weights(plan).items() if w.unaligned]
    assert len(unaligned) == 5
    assert all(any(r.method == m for r in plan.rules) for m in unaligned)  # and they carry work


def test_the_cycle_has_an_ended_period_holding_the_templates_done_work(
    plan: Plan, template: Template
) -> None:
    done = [s.item.completed_at.date() for s in template.items if s.item.completed_at is not None]
    period = closable_period(plan, max(done))
    assert period.id == "q3"
    assert sum(period.start <= day <= period.end for day in done) > len(done) // 2


def test_a_tree_keeps_one_variant_and_half_the_trees_keep_the_templates_containers(
    template: Template,
) -> None:
    roots = tree_roots(template.items)
    by_id = {(s.item.tracker, s.item.id): n for n, s in enumerate(template.items)}
    for n, stored in enumerate(template.items):
        parent = by_id.get((stored.item.tracker, stored.item.parent_id or ""))
        if parent is not None:
            assert roots[n] == roots[parent]
    drawn = Counter(tree_variant(copy, root) for copy in range(40) for root in set(roots))
    assert set(drawn) == set(range(VARIANTS))
    assert 0.45 < drawn[0] / drawn.total() < 0.55


def test_no_container_variant_is_the_id_or_key_of_a_copys_project_item(template: Template) -> None:
    """A project rule names a project item by its id or key too: a team's container rule must name
    no project item of another copy (its tasks would inherit that team's method and be orphaned)."""
    variants = {c.key for v in all_containers(template.items)[1:] for c in v}
    projects = [s.item for s in template.items if s.item.level is Level.CONTAINER]
    assert projects
    for item in projects:
        for copy in range(1, 1000):
            assert copy_id(item.id, copy) not in variants
            assert f"{item.key}.{copy}" not in variants
