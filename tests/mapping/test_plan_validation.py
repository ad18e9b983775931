"""Every invalid plan input gets an error naming file, path and problem."""

from __future__ import annotations

import pytest

from tests.factories import VALID
from v2mom.errors import ConfigError
from v2mom.mapping.plan import dump_plan, load_plan, plan_from_data


def test_valid_plan_loads_and_round_trips() -> None:
    plan = load_plan(VALID)
    assert [r.id for r in plan.rules] == ["r1", "r2"]
    assert plan.methods[1].value_weights() == {"customer-first": 0.3, "reliability": 0.7}
    assert load_plan(dump_plan(plan)) == plan


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(
            "values: [customer-first]\n",
            "values: [speed]\n",
            "plan.yaml: methods[0].values[0]: unknown value 'speed' (line 12)",
            id="unknown-value-in-method",
        ),
        pytest.param(
            "  - id: reliability\n",
            "  - id: customer-first\n",
            "plan.yaml: values[1].id: duplicate id 'customer-first'",
            id="duplicate-value-id",
        ),
        pytest.param(
            "target_share: 0.30",
            "target_share: 0.70",
            "plan.yaml: values: target shares sum to 1.1, more than 1",
            id="targets-over-one",
        ),
        pytest.param(
            "reliability: 0.7}",
            "reliability: 0.6}",
            "plan.yaml: methods[1].weights: weights sum to 0.9, not 1",
            id="weights-not-one",
        ),
        pytest.param(
            "{tracker: jira, component: Billing}",
            "{}",
            "plan.yaml: rules[0].when: a rule needs at least one key in 'when'",
            id="rule-without-key",
        ),
        pytest.param(
            "{tracker: jira, component: Billing}",
            "{tracker: jora, component: Billing}",
            "plan.yaml: rules[0].when: unknown tracker 'jora'",
            id="unknown-tracker",
        ),
        pytest.param(
            "{tracker: jira, component: Billing}",
            "{tracker: jira, colour: red}",
            "plan.yaml: rules[0].when.colour: unknown key",
            id="unknown-rule-key",
        ),
        pytest.param(
            "    method: slo-program\n",
            "    method: nope\n",
            "plan.yaml: rules[0].method: unknown method 'nope'",
            id="unknown-method-in-rule",
        ),
        pytest.param(
            "methods: [self-serve-onboarding]",
            "methods: [ghost]",
            "plan.yaml: obstacles[0].methods[0]: unknown method 'ghost'",
            id="unknown-method-in-obstacle",
        ),
        pytest.param(
            "    value: customer-first\n    kind",
            "    value: nobody\n    kind",
            "plan.yaml: measures[0].value: unknown value 'nobody'",
            id="unknown-value-in-measure",
        ),
        pytest.param(
            "target_share: 0.40\n  - id: rel",
            "target_share: 1.5\n  - id: rel",
            "plan.yaml: values[0].target_share: Input should be less than or equal to 1",
            id="share-out-of-range",
        ),
        pytest.param(
            "custom_field: Team Bet, equals: Onboarding",
            "custom_field: Team Bet",
            "plan.yaml: rules[1].when: 'custom_field' and 'equals' go together",
            id="custom-field-without-equals",
        ),
        pytest.param(
            "name: Customer-first thinking",
            "name: RELIABILITY",
            "plan.yaml: values[1].id: id 'reliability' reads as the name of value 'customer-first'"
            " (ids and names of values and methods must differ, ignoring case)",
            id="value-named-like-another-value",
        ),
        pytest.param(
            "name: SLO program",
            "name: Reliability",
            "plan.yaml: methods[1].name: name 'Reliability' reads as the id of value 'reliability'",
            id="method-named-like-a-value",
        ),
        pytest.param(
            "  - id: slo-program\n",
            "  - id: customer-first\n",
            "plan.yaml: methods[1].id: id 'customer-first' reads as the id of value 'customer-first'",
            id="method-id-of-a-value",
        ),
    ],
)
def test_invalid_plan_names_place_and_problem(old: str, new: str, expected: str) -> None:
    assert old in VALID, "test table out of date"
    with pytest.raises(ConfigError) as caught:
        load_plan(VALID.replace(old, new, 1))
    assert any(expected in problem for problem in caught.value.problems), caught.value.problems


def test_bad_yaml_reports_line_and_column() -> None:
    with pytest.raises(ConfigError) as caught:
        load_plan("vision: x\nvalues: [a\nmethods: []\n", "my-plan.yaml")
    message = str(caught.value)
    assert message.startswith("my-plan.yaml: line 3, column")
    assert "invalid YAML" in message


def test_every_problem_reported_at_once() -> None:
    broken = VALID.replace("values: [customer-first]", "values: [speed]").replace(
        "methods: [self-serve-onboarding]", "methods: [ghost]"
    )
    with pytest.raises(ConfigError) as caught:
        load_plan(broken)
    assert len(caught.value.problems) == 2


def test_a_stored_plan_with_colliding_names_still_loads() -> None:
    """Plans saved before the naming checks must still be read (reports, history), just not saved anew."""
    colliding = VALID.replace("name: SLO program", "name: Reliability")
    with pytest.raises(ConfigError):
        load_plan(colliding)
    document = load_plan(VALID).model_dump(mode="json", exclude_none=True)
    document["methods"][1]["name"] = "Reliability"
    assert plan_from_data(document, "stored plan", stored=True).methods[1].name == "Reliability"
    with pytest.raises(ConfigError, match=r"methods\[1\]\.name"):
        plan_from_data(document, "plan")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "vision: x\nvalues: []\n", "plan.yaml: values: a plan needs at least one value", id="empty"
        ),
        pytest.param("vision: x\n", "plan.yaml: values: a plan needs at least one value", id="no-values"),
        pytest.param("", "plan.yaml: values: a plan needs at least one value", id="empty-file"),
    ],
)
def test_a_plan_needs_a_value(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_plan(text)
    assert any(problem.startswith(expected) for problem in caught.value.problems), caught.value.problems


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(
            "{tracker: jira, component: Billing}",
            '{tracker: jira, label: ""}',
            "plan.yaml: rules[0].when.label: a rule's condition needs a text to match, not an empty one",
            id="empty-label",
        ),
        pytest.param(
            "{tracker: jira, component: Billing}",
            "{component: '   '}",
            "plan.yaml: rules[0].when.component: a rule's condition needs a text to match",
            id="blank-component",
        ),
        pytest.param(
            "custom_field: Team Bet, equals: Onboarding",
            "custom_field: Team Bet, equals: ''",
            "plan.yaml: rules[1].when.equals: a rule's condition needs a text to match",
            id="empty-equals",
        ),
    ],
)
def test_every_rule_condition_needs_a_text(old: str, new: str, expected: str) -> None:
    assert old in VALID, "test table out of date"
    with pytest.raises(ConfigError) as caught:
        load_plan(VALID.replace(old, new, 1))
    assert any(expected in problem for problem in caught.value.problems), caught.value.problems


def test_schema_and_reference_problems_are_reported_in_one_pass() -> None:
    """A value out of range (the schema) and an unknown method (a reference) and an empty label: all
    three at once, so fixing the first does not reveal the next."""
    broken = (
        VALID.replace("target_share: 0.40", "target_share: 1.5")
        .replace("methods: [self-serve-onboarding]", "methods: [ghost]")
        .replace("{tracker: jira, component: Billing}", '{tracker: jira, label: ""}')
    )
    with pytest.raises(ConfigError) as caught:
        load_plan(broken)
    problems = caught.value.problems
    assert any("values[0].target_share: Input should be less than or equal to 1" in p for p in problems)
    assert any("obstacles[0].methods[0]: unknown method 'ghost'" in p for p in problems)
    assert any("rules[0].when.label:" in p for p in problems)
    assert len(problems) == 3, problems


def test_a_broken_section_does_not_cascade_into_false_references() -> None:
    """Values that do not parse leave their ids unknown: no method is said to name an unknown value."""
    broken = VALID.replace("  - id: reliability\n", "  - reliability\n  - id: rel2\n")
    with pytest.raises(ConfigError) as caught:
        load_plan(broken)
    assert not any("unknown value" in p for p in caught.value.problems), caught.value.problems


def test_a_stored_plan_without_values_or_with_an_empty_rule_still_loads() -> None:
    """Plans saved before these checks are read as they are (reports, history), just not saved anew."""
    document = load_plan(VALID).model_dump(mode="json", exclude_none=True)
    document["rules"][0]["when"] = {"label": ""}
    assert plan_from_data(document, "stored plan", stored=True).rules[0].when.label == ""
    assert plan_from_data({"vision": "x"}, "stored plan", stored=True).values == ()
    with pytest.raises(ConfigError, match=r"rules\[0\]\.when\.label"):
        plan_from_data(document, "plan")
    with pytest.raises(ConfigError, match=r"plan: values: a plan needs at least one value"):
        plan_from_data({"vision": "x"}, "plan")
