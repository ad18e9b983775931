"""Team V2MOMs under the company's: every invalid cascade named by path, and how team methods roll
up to values."""

from __future__ import annotations

import math

import pytest

from tests.factories import VALID
from v2mom.errors import ConfigError
from v2mom.mapping.cascade import cascade_value_weights, team_depths, team_of_scope
from v2mom.mapping.plan import dump_plan, load_plan

# Company: self-serve-onboarding -> customer-first; slo-program -> 0.3 customer-first, 0.7 reliability.
TEAMS = """\
teams:
  - id: payments
    name: Payments
    parent: null
    scope:
      jira: {projects: [ONB, PLAT]}
      linear: {teams: [ENG]}
      asana: {projects: ["1201000000000"]}
    vision: Payments that never surprise a merchant.
    values:
      - {id: merchant-trust, name: Merchant trust}
    methods:
      - {id: smart-retries, name: Smart retries, serves: {self-serve-onboarding: 0.7, slo-program: 0.3}}
      - {id: payouts, name: Same-day payouts, serves: {merchant-trust: 1, reliability: 1}}
      - {id: spike, name: Research spike}
    measures:
      - {id: trust-share, name: A fifth to trust, value: merchant-trust, target: 0.2}
    obstacles:
      - {id: old-gateway, name: Old gateway, methods: [smart-retries, slo-program]}
  - id: retries
    name: Retry squad
    parent: payments
    scope:
      jira: {components: [Retry]}
    methods:
      - {id: backoff, name: Exponential backoff, serves: {smart-retries: 3, payouts: 1}}
      - {id: dunning, name: Dunning emails, serves: {spike: 1}}
      - {id: half-aligned, name: Half aligned, serves: {spike: 1, customer-first: 1}}
  - id: growth
    name: Growth
    scope:
      linear: {teams: [GRO]}
    methods:
      - {id: referrals, name: Referrals, serves: {customer-first: 2, reliability: 0}}
"""
NOT_VISIBLE = (
    "is not visible to this team"
    " (serve a method or value of the company or an ancestor team, or one of the team's own values)"
)


def cascade(edit: tuple[str, str] = ("", "")) -> str:
    old, new = edit
    assert old in TEAMS
    return VALID + TEAMS.replace(old, new, 1)


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_plan(text)
    return info.value.problems


def test_a_valid_cascade_loads_and_round_trips() -> None:
    plan = load_plan(cascade())
    assert plan.teams is not None
    assert [t.id for t in plan.teams] == ["payments", "retries", "growth"]
    assert team_depths(plan) == {"payments": 1, "retries": 2, "growth": 1}
    assert load_plan(dump_plan(plan)) == plan


def test_a_plan_without_teams_dumps_as_before() -> None:
    plan = load_plan(VALID)
    assert plan.teams is None
    assert "teams" not in dump_plan(plan)
    assert cascade_value_weights(plan) == {
        "self-serve-onboarding": {"customer-first": 1.0},
        "slo-program": {"customer-first": 0.3, "reliability": 0.7},
    }
    assert team_of_scope(plan, "jira", "ONB") is None


def test_team_methods_roll_up_by_hand() -> None:
    weights = cascade_value_weights(load_plan(cascade()))
    # smart-retries: 0.7 of self-serve-onboarding (all customer-first) + 0.3 of slo-program.
    assert weights["smart-retries"] == pytest.approx(
        {"customer-first": 0.7 + 0.3 * 0.3, "reliability": 0.3 * 0.7}
    )
    # payouts: a team value counts as itself; weights are relative (1 and 1 are halves).
    assert weights["payouts"] == pytest.approx({"merchant-trust": 0.5, "reliability": 0.5})
    # backoff, two levels down: 3/4 of smart-retries + 1/4 of payouts.
    assert weights["backoff"] == pytest.approx(
        {
            "customer-first": 0.75 * 0.79,
            "reliability": 0.75 * 0.21 + 0.25 * 0.5,
            "merchant-trust": 0.25 * 0.5,
        }
    )
    # A zero weight carries nothing, and is left out.
    assert weights["referrals"] == pytest.approx({"customer-first": 1.0})
    assert weights["slo-program"] == {"customer-first": 0.3, "reliability": 0.7}


def test_aligned_methods_sum_to_one() -> None:
    weights = cascade_value_weights(load_plan(cascade()))
    for method in (
        "self-serve-onboarding",
        "slo-program",
        "smart-retries",
        "payouts",
        "backoff",
        "referrals",
    ):
        assert math.isclose(sum(weights[method].values()), 1.0), method


def test_an_unaligned_method_maps_to_nothing_and_passes_its_share_on_unaligned() -> None:
    weights = cascade_value_weights(load_plan(cascade()))
    assert weights["spike"] == {}
    assert weights["dunning"] == {}
    assert weights["half-aligned"] == pytest.approx({"customer-first": 0.5})


@pytest.mark.parametrize(
    ("tracker", "container", "components", "team"),
    [
        ("jira", "ONB", (), "payments"),
        ("jira", "plat", (), "payments"),
        ("jira", "ONB", ("retry",), "retries"),
        ("jira", "OPS", ("Retry",), "retries"),
        ("jira", "OPS", ("Billing",), None),
        ("linear", "ENG", (), "payments"),
        ("linear", "GRO", (), "growth"),
        ("linear", "ONB", (), None),
        ("asana", "1201000000000", (), "payments"),
        ("asana", None, (), None),
    ],
)
def test_an_item_belongs_to_the_deepest_team_whose_scope_holds_it(
    tracker: str, container: str | None, components: tuple[str, ...], team: str | None
) -> None:
    assert team_of_scope(load_plan(cascade()), tracker, container, components) == team


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        pytest.param(
            ("    parent: payments\n", "    parent: billing\n"),
            ["plan.yaml: teams[1].parent: unknown team 'billing' (line 52)"],
            id="unknown-parent",
        ),
        pytest.param(
            ("    parent: null\n", "    parent: retries\n"),
            ["plan.yaml: teams[0].parent: teams form a cycle: payments -> retries -> payments (line 34)"],
            id="parent-cycle",
        ),
        pytest.param(
            ("  - id: growth\n    name: Growth\n", "  - id: growth\n    name: Growth\n    parent: growth\n"),
            ["plan.yaml: teams[2].parent: teams form a cycle: growth -> growth (line 61)"],
            id="own-parent",
        ),
        pytest.param(
            ("  - id: growth\n", "  - id: retries\n"),
            [
                "plan.yaml: teams[1].id: duplicate team id 'retries' (line 50)",
                "plan.yaml: teams[2].id: duplicate team id 'retries' (line 59)",
            ],
            id="duplicate-team",
        ),
        pytest.param(
            ("{id: merchant-trust, name", "{id: reliability, name"),
            [
                "plan.yaml: teams[0].values[0].id: id 'reliability' is already used by values[1]"
                " (ids are unique across all teams) (line 41)",
                "plan.yaml: teams[0].methods[1].serves.merchant-trust:"
                " unknown method or value 'merchant-trust'",
                "plan.yaml: teams[0].measures[0].value: unknown value 'merchant-trust' (line 47)",
            ],
            id="team-value-reuses-company-id",
        ),
        pytest.param(
            ("{id: referrals, name", "{id: backoff, name"),
            [
                "plan.yaml: teams[2].methods[0].id: id 'backoff' is already used by teams[1].methods[0]"
                " (ids are unique across all teams) (line 64)",
            ],
            id="method-id-reused-across-teams",
        ),
        pytest.param(
            ("serves: {customer-first: 2, reliability: 0}", "serves: {customer-first: 2, ghost: 1}"),
            ["plan.yaml: teams[2].methods[0].serves.ghost: unknown method or value 'ghost' (line 64)"],
            id="serves-unknown",
        ),
        pytest.param(
            ("serves: {customer-first: 2, reliability: 0}", "serves: {smart-retries: 1}"),
            [
                "plan.yaml: teams[2].methods[0].serves.smart-retries:"
                f" 'smart-retries' {NOT_VISIBLE} (line 64)",
            ],
            id="serves-another-branch",
        ),
        pytest.param(
            ("serves: {merchant-trust: 1, reliability: 1}", "serves: {smart-retries: 1}"),
            [
                "plan.yaml: teams[0].methods[1].serves.smart-retries:"
                f" 'smart-retries' {NOT_VISIBLE} (line 44)",
            ],
            id="serves-a-sibling-method",
        ),
        pytest.param(
            ("serves: {customer-first: 2, reliability: 0}", "serves: {customer-first: 2, reliability: -1}"),
            [
                "plan.yaml: teams[2].methods[0].serves.reliability:"
                " serves weights must not be negative (line 64)"
            ],
            id="negative-weight",
        ),
        pytest.param(
            ("serves: {customer-first: 2, reliability: 0}", "serves: {customer-first: 0, reliability: 0}"),
            [
                "plan.yaml: teams[2].methods[0].serves: serves weights sum to 0 (give one a positive weight,"
                " or serve nothing to leave it unaligned) (line 64)",
            ],
            id="zero-sum-weights",
        ),
        pytest.param(
            ("      linear: {teams: [GRO]}\n", "      linear: {teams: [eng, GRO]}\n"),
            [
                "plan.yaml: teams[2].scope.linear.teams[0]:"
                " Linear team 'eng' is already in the scope of team 'payments'"
            ],
            id="linear-team-claimed-twice",
        ),
        pytest.param(
            ("      jira: {components: [Retry]}\n", "      jira: {projects: [PLAT], components: [Retry]}\n"),
            [
                "plan.yaml: teams[1].scope.jira.projects[0]:"
                " Jira project 'PLAT' is already in the scope of team 'payments'",
            ],
            id="jira-project-claimed-by-a-child",
        ),
        pytest.param(
            ("      linear: {teams: [GRO]}\n", '      asana: {projects: ["1201000000000"]}\n'),
            [
                "plan.yaml: teams[2].scope.asana.projects[0]: Asana project '1201000000000' is already in the"
                " scope of team 'payments'",
            ],
            id="asana-project-claimed-twice",
        ),
        pytest.param(
            (
                "      - {id: merchant-trust, name: Merchant trust}\n",
                "      - {id: merchant-trust, name: Merchant trust, target_share: 0.6}\n"
                "      - {id: speed, name: Speed, target_share: 0.5}\n",
            ),
            ["plan.yaml: teams[0].values: target shares sum to 1.1, more than 1 (line 41)"],
            id="team-targets-over-one",
        ),
        pytest.param(
            ("value: merchant-trust, target", "value: nobody, target"),
            ["plan.yaml: teams[0].measures[0].value: unknown value 'nobody' (line 47)"],
            id="measure-unknown-value",
        ),
        pytest.param(
            ("methods: [smart-retries, slo-program]", "methods: [smart-retries, backoff]"),
            [
                "plan.yaml: teams[0].obstacles[0].methods[1]: method 'backoff' is not visible to this team"
                " (not its own, its ancestors' or the company's) (line 49)",
            ],
            id="obstacle-names-a-child-method",
        ),
    ],
)
def test_an_invalid_cascade_is_named_by_path(edit: tuple[str, str], expected: list[str]) -> None:
    found = problems(cascade(edit))
    for line in expected:
        assert any(p.startswith(line) for p in found), found
    assert len(found) == len(expected), found


def test_every_cascade_problem_is_named_at_once() -> None:
    text = cascade(("    parent: payments\n", "    parent: billing\n")).replace(
        "serves: {customer-first: 2, reliability: 0}", "serves: {customer-first: -2, ghost: 1}"
    )
    found = problems(text)
    assert [p.split(": ")[1] for p in found] == [
        "teams[1].parent",
        "teams[2].methods[0].serves.customer-first",
        "teams[2].methods[0].serves.ghost",
    ], found


def test_a_method_serving_nothing_is_allowed() -> None:
    plan = load_plan(
        cascade(("{id: spike, name: Research spike}", "{id: spike, name: Research spike, serves: {}}"))
    )
    assert cascade_value_weights(plan)["spike"] == {}
