"""The resolver, table-driven over every precedence and flag case."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.factories import make_item
from v2mom.mapping.plan import load_plan
from v2mom.mapping.resolver import Resolution, Resolver
from v2mom.models import Level, WorkItem

PLAN = load_plan(
    textwrap.dedent(
        """\
        vision: test
        values:
          - {id: customer-first, name: Customer-first thinking}
          - {id: reliability, name: Reliability}
          - {id: efficiency, name: Efficiency}
        methods:
          - {id: onboarding, name: Self-serve onboarding, values: [customer-first]}
          - {id: slo, name: SLO program, weights: {reliability: 0.7, customer-first: 0.3}}
          - {id: infra, name: Infra savings, values: [efficiency]}
          - {id: hollow, name: A method with no value}
        rules:
          - when: {tracker: jira, component: Billing}
            method: slo
          - when: {tracker: jira, epic: ONB-1}
            method: onboarding
          - when: {tracker: linear, label: Reliability}
            value: reliability
          - when: {tracker: asana, custom_field: Team Bet, equals: Onboarding}
            method: onboarding
          - when: {tracker: jira, key: ONB-77}
            value: efficiency
          - when: {tracker: jira, project: PLAT}
            method: infra
          - when: {tracker: linear, team: ENG}
            value: efficiency
          - when: {tracker: jira, label: cost}
            method: hollow
          - when: {tracker: linear, project: Checkout revamp}
            method: onboarding
          - when: {tracker: asana, project: "1201"}
            method: infra
        """
    )
)
RESOLVER = Resolver(PLAN)


@dataclass
class Case:
    item: WorkItem
    values: dict[str, float]
    flags: tuple[str, ...] = ()
    source: str = "own"
    says: str = ""  # a substring of the explanation or of a reason
    parent: Resolution | None = None
    parent_ref: str | None = None
    parent_missing: bool = False
    methods: tuple[str, ...] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def own(item: WorkItem) -> Resolution:
    return RESOLVER.resolve(item, None, parent_ref=None, parent_missing=False)


EPIC = make_item("1", key="ONB-1", level=Level.EPIC)  # tagged by the epic rule
EPIC_RES = own(EPIC)
STORY = make_item("2", key="ONB-2", parent_id="1")
STORY_RES = RESOLVER.resolve(STORY, EPIC_RES, parent_ref="jira:ONB-1", parent_missing=False)
PLAT_EPIC = make_item("3", key="PLAT-1", container="PLAT", level=Level.EPIC)
PLAT_RES = own(PLAT_EPIC)

CASES = {
    "label-value-convention": Case(
        make_item("10", labels=("value:customer-first",)),
        {"customer-first": 1.0},
        says="label 'value:customer-first'",
    ),
    "label-method-convention-by-name-any-case": Case(
        make_item("11", labels=("METHOD:Self-Serve Onboarding",)),
        {"customer-first": 1.0},
        methods=("onboarding",),
    ),
    "linear-label-group-convention": Case(
        make_item("12", tracker="linear", container="ENG", labels=("Value/Reliability",)),
        {"reliability": 1.0},
        says="label 'Value/Reliability'",
    ),
    "custom-field-convention-by-id": Case(
        make_item("13", custom_fields={"V2MOM Method": ("infra",)}),
        {"efficiency": 1.0},
        says="field 'V2MOM Method'",
    ),
    "custom-field-convention-by-name": Case(
        make_item("14", tracker="asana", custom_fields={"v2mom value": ("Reliability",)}),
        {"reliability": 1.0},
    ),
    "rule-key": Case(
        make_item("15", key="ONB-77"), {"efficiency": 1.0}, says="rule r5 (tracker=jira, key=ONB-77)"
    ),
    "rule-epic-tags-the-epic": Case(
        make_item("16", key="onb-1", level=Level.EPIC), {"customer-first": 1.0}, says="rule r2"
    ),
    "rule-label": Case(
        make_item("17", tracker="linear", container="OPS", labels=("reliability",)), {"reliability": 1.0}
    ),
    "rule-component-weighted-split": Case(
        make_item("18", components=("billing",)), {"reliability": 0.7, "customer-first": 0.3}, says="rule r1"
    ),
    "rule-custom-field-equals": Case(
        make_item("19", tracker="asana", custom_fields={"Team Bet": ("onboarding",)}), {"customer-first": 1.0}
    ),
    "convention-and-rule-unite": Case(
        make_item("20", components=("Billing",), labels=("method:infra",)),
        {"reliability": 0.35, "customer-first": 0.15, "efficiency": 0.5},
        methods=("infra", "slo"),
    ),
    "explicit-value-with-serving-method": Case(
        make_item("21", labels=("value:customer-first", "method:onboarding")), {"customer-first": 1.0}
    ),
    "inherited-from-parent": Case(
        make_item("22", parent_id="1"),
        {"customer-first": 1.0},
        source="inherited",
        says="inherited from jira:ONB-1",
        parent=EPIC_RES,
        parent_ref="jira:ONB-1",
    ),
    "inherited-from-grandparent-names-the-owner": Case(
        make_item("23", parent_id="2", level=Level.SUBTASK),
        {"customer-first": 1.0},
        source="inherited",
        says="inherited from jira:ONB-1",
        parent=STORY_RES,
        parent_ref="jira:ONB-2",
    ),
    "own-beats-inherited": Case(
        make_item("24", parent_id="1", labels=("value:reliability",)),
        {"reliability": 1.0},
        parent=EPIC_RES,
        parent_ref="jira:ONB-1",
    ),
    "container-tags-are-not-inherited-as-ancestor-tags": Case(
        make_item("25", parent_id="3", container="ONB"),
        {},
        flags=("untagged",),
        source="none",
        says="no tag, no inherited tag, no container rule",
        parent=PLAT_RES,
        parent_ref="jira:PLAT-1",
    ),
    "container-rule-project": Case(
        make_item("26", container="plat"), {"efficiency": 1.0}, source="container", says="container rule r6"
    ),
    "container-rule-team": Case(
        make_item("27", tracker="linear", container="ENG"), {"efficiency": 1.0}, source="container"
    ),
    "rule-for-another-tracker-does-not-match": Case(
        make_item("28", tracker="asana", components=("Billing",)), {}, flags=("untagged",), source="none"
    ),
    "nothing-matches-untagged": Case(
        make_item("29"), {}, flags=("untagged",), source="none", says="no value resolved"
    ),
    "unknown-value-label-orphaned-and-untagged": Case(
        make_item("30", labels=("value:speed",)),
        {},
        flags=("orphaned", "untagged"),
        source="none",
        says="label 'value:speed' names no value in the plan",
    ),
    "unknown-label-next-to-a-good-one": Case(
        make_item("31", labels=("value:speed", "value:reliability")),
        {"reliability": 1.0},
        flags=("orphaned",),
        says="names no value",
    ),
    "missing-parent-orphaned-falls-to-container": Case(
        make_item("32", parent_id="999", container="PLAT"),
        {"efficiency": 1.0},
        flags=("orphaned",),
        source="container",
        says="parent 999 is not in v2mom-sync",
        parent_missing=True,
    ),
    "missing-parent-named-by-its-key": Case(
        make_item("34", parent_id="999", parent_key="ONB-7"),
        {},
        flags=("orphaned", "untagged"),
        source="none",
        says="parent ONB-7 is not in v2mom-sync (deleted, outside the synced scope",
        parent_missing=True,
    ),
    "missing-parent-and-nothing-else": Case(
        make_item("33", parent_id="999"),
        {},
        flags=("orphaned", "untagged"),
        source="none",
        parent_missing=True,
    ),
    "method-without-value-orphaned": Case(
        make_item("34", labels=("cost",)),
        {},
        flags=("orphaned", "untagged"),
        says="method hollow serves no value",
    ),
    "conflict-explicit-value-disjoint-from-method": Case(
        make_item("35", labels=("value:efficiency", "method:onboarding")),
        {"efficiency": 1.0},
        flags=("conflict",),
        says="share nothing with the values of methods onboarding",
    ),
    "linear-project-rule-tags-the-project-by-name": Case(
        make_item(
            "p1",
            tracker="linear",
            key="project:checkout-1",
            title="Checkout revamp",
            level=Level.CONTAINER,
            container="WEB",
        ),
        {"customer-first": 1.0},
        source="own",
        says="rule",
    ),
    "asana-project-rule-tags-the-project-by-gid": Case(
        make_item(
            "1201", tracker="asana", key="1201", title="Infra", level=Level.CONTAINER, container="1201"
        ),
        {"efficiency": 1.0},
        source="own",
    ),
    "a-project-rule-does-not-tag-another-project": Case(
        make_item(
            "p2", tracker="linear", key="project:other", title="Other", level=Level.CONTAINER, container="WEB"
        ),
        {},
        flags=("untagged",),
        source="none",
    ),
    "two-explicit-values-split-equally": Case(
        make_item("36", labels=("value:efficiency", "value:reliability")),
        {"efficiency": 0.5, "reliability": 0.5},
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_resolution(case: Case) -> None:
    got = RESOLVER.resolve(
        case.item, case.parent, parent_ref=case.parent_ref, parent_missing=case.parent_missing
    )
    assert {k: round(v, 9) for k, v in got.values.items()} == case.values
    assert got.flags == tuple(sorted(case.flags))
    assert got.source == case.source
    if case.methods is not None:
        assert got.methods == case.methods
    if case.says:
        assert any(case.says in line for line in (*got.explanation, *got.reasons)), (
            got.explanation,
            got.reasons,
        )
    assert sum(a.weight for a in got.allocations) == pytest.approx(1.0)
    assert ("untagged" in got.flags) == (got.allocations[0].value_id is None)
    for flag in got.flags:
        assert got.reasons, f"flag {flag} without a reason"


def test_round_trip_through_json() -> None:
    for case in CASES.values():
        got = RESOLVER.resolve(
            case.item, case.parent, parent_ref=case.parent_ref, parent_missing=case.parent_missing
        )
        assert Resolution.from_dict(got.to_dict()) == got


def test_explicit_value_allocations_go_through_the_serving_method() -> None:
    got = own(make_item("40", labels=("value:customer-first", "method:onboarding", "method:slo")))
    by_pair = {(a.value_id, a.method_id): round(a.weight, 9) for a in got.allocations}
    assert by_pair == {("customer-first", "onboarding"): 0.5, ("customer-first", "slo"): 0.5}
