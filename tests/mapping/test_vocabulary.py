"""The vocabulary diff: what a tracker must change to offer the plan's values and methods."""

from __future__ import annotations

from tests.factories import VALID
from v2mom.mapping.plan import Method, Plan, Team, TeamMethod, Value, load_plan
from v2mom.mapping.vocabulary import choices, vocabulary_diff
from v2mom.vocabulary import TrackerOption, TrackerVocabulary

PLAN = load_plan(VALID)


def offering(values: list[TrackerOption], methods: list[TrackerOption]) -> TrackerVocabulary:
    return TrackerVocabulary(
        containers={"value": "f1", "method": "f2"}, options={"value": tuple(values), "method": tuple(methods)}
    )


def exact(plan: Plan) -> TrackerVocabulary:
    return offering(
        [TrackerOption(f"v-{v.id}", v.name) for v in plan.values],
        [TrackerOption(f"m-{m.id}", m.name) for m in plan.methods],
    )


def test_an_empty_tracker_gets_both_fields_and_every_option() -> None:
    diff = vocabulary_diff(PLAN, TrackerVocabulary())
    lines = [change.describe() for change in diff.changes]
    assert lines[0] == "create the value field 'V2MOM Value'"
    assert [c.plan_id for c in diff.changes if c.kind == "value" and c.action == "create"] == [
        v.id for v in PLAN.values
    ]
    assert [c.plan_id for c in diff.changes if c.kind == "method" and c.action == "create"] == [
        m.id for m in PLAN.methods
    ]
    assert diff.matched == {"value": {}, "method": {}}


def test_a_tracker_that_offers_the_plan_needs_nothing() -> None:
    diff = vocabulary_diff(PLAN, exact(PLAN))
    assert diff.changes == []
    assert diff.matched["value"] == {v.id: f"v-{v.id}" for v in PLAN.values}


def test_a_renamed_value_renames_its_option_by_recorded_id() -> None:
    first = PLAN.values[0]
    renamed = PLAN.model_copy(
        update={"values": (Value(id=first.id, name="Customers first"), *PLAN.values[1:])}
    )
    known = {"value": {first.id: f"v-{first.id}"}}
    diff = vocabulary_diff(renamed, exact(PLAN), known)
    assert [(c.action, c.option_id, c.old_name, c.name) for c in diff.changes] == [
        ("rename", f"v-{first.id}", first.name, "Customers first")
    ]


def test_a_removed_value_disables_its_option_and_a_returning_one_is_enabled() -> None:
    gone = PLAN.values[-1]
    smaller = PLAN.model_copy(
        update={
            "values": PLAN.values[:-1],
            "methods": tuple(
                Method(id=m.id, name=m.name, values=tuple(v for v in m.values if v != gone.id) or ())
                for m in PLAN.methods
            ),
        }
    )
    diff = vocabulary_diff(smaller, exact(PLAN))
    assert [(c.kind, c.action, c.option_id) for c in diff.changes] == [("value", "disable", f"v-{gone.id}")]
    current = exact(PLAN)
    disabled = offering(
        [
            TrackerOption(o.option_id, o.name, enabled=o.option_id != f"v-{gone.id}")
            for o in current.options["value"]
        ],
        list(current.options["method"]),
    )
    back = vocabulary_diff(PLAN, disabled)
    assert [(c.action, c.plan_id) for c in back.changes] == [("enable", gone.id)]


def test_options_named_by_id_are_adopted_not_duplicated() -> None:
    by_id = offering(
        [TrackerOption(f"x{i}", v.id.upper()) for i, v in enumerate(PLAN.values)],
        [TrackerOption(f"y{i}", m.name) for i, m in enumerate(PLAN.methods)],
    )
    diff = vocabulary_diff(PLAN, by_id)
    assert {c.action for c in diff.changes} == {"rename"}
    assert diff.matched["value"] == {v.id: f"x{i}" for i, v in enumerate(PLAN.values)}


def with_teams(plan: Plan) -> Plan:
    """``plan`` with two teams, the second listed before its own child would be."""
    return plan.model_copy(
        update={
            "teams": (
                Team(
                    id="payments",
                    name="Payments",
                    values=(Value(id="merchant-trust", name="Merchant trust"),),
                    methods=(TeamMethod(id="smart-retries", name="Smart retries", serves={}),),
                ),
                Team(
                    id="growth",
                    name="Growth",
                    methods=(TeamMethod(id="referrals", name="Referrals", serves={}),),
                ),
            )
        }
    )


def test_teams_are_offered_after_the_company_in_plan_order() -> None:
    plan = with_teams(PLAN)
    assert choices(plan) == {
        "value": [*((v.id, v.name) for v in PLAN.values), ("merchant-trust", "Merchant trust")],
        "method": [
            *((m.id, m.name) for m in PLAN.methods),
            ("smart-retries", "Smart retries"),
            ("referrals", "Referrals"),
        ],
    }
    diff = vocabulary_diff(plan, exact(PLAN))
    assert [(c.kind, c.action, c.plan_id) for c in diff.changes] == [
        ("value", "create", "merchant-trust"),
        ("method", "create", "smart-retries"),
        ("method", "create", "referrals"),
    ]


def test_a_team_method_dropped_from_the_plan_disables_its_option() -> None:
    offered = exact(PLAN)
    current = offering(
        list(offered.options["value"]),
        [*offered.options["method"], TrackerOption("m-smart", "Smart retries")],
    )
    assert [
        c.describe() for c in vocabulary_diff(with_teams(PLAN), current).changes if c.kind == "method"
    ] == ["create method option 'Referrals'"]
    dropped = [(c.action, c.option_id) for c in vocabulary_diff(PLAN, current).changes]
    assert dropped == [("disable", "m-smart")]
