"""A plan's cycle: its periods' dates, period references, and every invalid cycle named by path."""

from __future__ import annotations

import itertools
from datetime import date

import pytest

from tests.factories import VALID
from v2mom.errors import ConfigError
from v2mom.mapping.cycle import Cycle, CyclePeriod, cycle_periods, resolve_period
from v2mom.mapping.plan import dump_plan, load_plan

FY27 = "cycle: {id: fy27, name: FY2027, start: 2026-02-01, end: 2027-01-31, periods: PERIODS}\n"


def cycle(periods: str) -> Cycle:
    plan = load_plan(VALID + FY27.replace("PERIODS", periods))
    assert plan.cycle is not None
    return plan.cycle


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_plan(VALID + text)
    return info.value.problems


def test_quarters_count_from_the_cycle_start() -> None:
    assert cycle_periods(cycle("quarterly")) == [
        CyclePeriod("q1", date(2026, 2, 1), date(2026, 4, 30)),
        CyclePeriod("q2", date(2026, 5, 1), date(2026, 7, 31)),
        CyclePeriod("q3", date(2026, 8, 1), date(2026, 10, 31)),
        CyclePeriod("q4", date(2026, 11, 1), date(2027, 1, 31)),
    ]


def test_months_cover_the_cycle_day_by_day() -> None:
    months = cycle_periods(cycle("monthly"))
    assert [m.id for m in months] == [f"m{n}" for n in range(1, 13)]
    assert months[0] == CyclePeriod("m1", date(2026, 2, 1), date(2026, 2, 28))
    assert months[-1] == CyclePeriod("m12", date(2027, 1, 1), date(2027, 1, 31))
    assert all(b.start.toordinal() == a.end.toordinal() + 1 for a, b in itertools.pairwise(months))


def test_a_month_end_start_keeps_to_the_shorter_months() -> None:
    short = Cycle(id="c", name="C", start=date(2026, 1, 31), end=date(2026, 4, 29), periods="monthly")
    assert cycle_periods(short) == [
        CyclePeriod("m1", date(2026, 1, 31), date(2026, 2, 27)),
        CyclePeriod("m2", date(2026, 2, 28), date(2026, 3, 30)),
        CyclePeriod("m3", date(2026, 3, 31), date(2026, 4, 29)),
    ]


def test_a_cycle_shorter_than_a_whole_number_of_quarters_cuts_the_last() -> None:
    odd = Cycle(id="c", name="C", start=date(2026, 1, 1), end=date(2026, 5, 15), periods="quarterly")
    assert cycle_periods(odd) == [
        CyclePeriod("q1", date(2026, 1, 1), date(2026, 3, 31)),
        CyclePeriod("q2", date(2026, 4, 1), date(2026, 5, 15)),
    ]


def test_explicit_periods_start_after_the_previous_one() -> None:
    halves = cycle("[{id: h1, end: 2026-07-31}, {id: h2, end: 2027-01-31}]")
    assert cycle_periods(halves) == [
        CyclePeriod("h1", date(2026, 2, 1), date(2026, 7, 31)),
        CyclePeriod("h2", date(2026, 8, 1), date(2027, 1, 31)),
    ]
    assert resolve_period(halves, "fy27/h2") == CyclePeriod("h2", date(2026, 8, 1), date(2027, 1, 31))


def test_a_reference_resolves_to_its_period_dates() -> None:
    assert resolve_period(cycle("quarterly"), "fy27/q2") == CyclePeriod(
        "q2", date(2026, 5, 1), date(2026, 7, 31)
    )
    assert resolve_period(cycle("monthly"), "fy27/m12").end == date(2027, 1, 31)


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("fy26/q2", "unknown cycle 'fy26' (the plan's cycle is 'fy27')"),
        ("fy27/q5", "cycle 'fy27' has no period 'q5' (it has q1, q2, q3, q4)"),
        ("q2", "'q2' is not a period reference (expected CYCLE/PERIOD, e.g. fy27/q1)"),
    ],
)
def test_a_wrong_reference_says_what_is_wrong(reference: str, message: str) -> None:
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace(")", r"\)") + "$"):
        resolve_period(cycle("quarterly"), reference)


def test_a_reference_without_a_cycle_is_refused() -> None:
    with pytest.raises(ValueError, match="the plan has no cycle"):
        resolve_period(None, "fy27/q1")


def test_a_plan_with_a_cycle_round_trips() -> None:
    plan = load_plan(
        VALID + FY27.replace("PERIODS", "[{id: h1, end: 2026-07-31}, {id: h2, end: 2027-01-31}]")
    )
    assert load_plan(dump_plan(plan)) == plan


def test_a_plan_without_a_cycle_dumps_as_before() -> None:
    plan = load_plan(VALID)
    assert plan.cycle is None
    assert "cycle" not in dump_plan(plan)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "cycle: {id: fy27, name: FY, start: 2026-02-01, end: 2026-02-01}\n",
            ["plan.yaml: cycle.end: the cycle ends on 2026-02-01, not after its start 2026-02-01 (line 31)"],
            id="end-not-after-start",
        ),
        pytest.param(
            "cycle: {id: fy27, name: FY, start: 2026-02-01, end: 2027-01-31, periods: yearly}\n",
            ["plan.yaml: cycle.periods: expected 'quarterly', 'monthly' or a list of periods"],
            id="unknown-period-kind",
        ),
        pytest.param(
            "cycle: {id: fy27, name: FY, start: 2026-02-01, end: 2027-01-31, periods: [{id: h1}]}\n",
            ["plan.yaml: cycle.periods.list[0].end: Field required (line 31)"],
            id="period-without-end",
        ),
        pytest.param(
            "cycle: {id: fy27, name: FY, start: 2026-02-01, end: 2027-01-31, periods: []}\n",
            ["plan.yaml: cycle.periods: an explicit period list needs at least one period (line 31)"],
            id="empty-period-list",
        ),
        pytest.param(
            "cycle:\n  id: fy27\n  name: FY\n  start: 2026-02-01\n  end: 2027-01-31\n  periods:\n"
            "    - {id: h2, end: 2027-01-31}\n    - {id: h1, end: 2026-07-31}\n",
            [
                "plan.yaml: cycle.periods[1].end: ends on 2026-07-31, not after the previous period's end"
                " 2027-01-31 (list periods in order) (line 38)",
            ],
            id="periods-out-of-order",
        ),
        pytest.param(
            "cycle:\n  id: fy27\n  name: FY\n  start: 2026-02-01\n  end: 2027-01-31\n  periods:\n"
            "    - {id: h0, end: 2025-12-31}\n    - {id: h1, end: 2026-07-31}\n"
            "    - {id: h1, end: 2027-03-31}\n",
            [
                "plan.yaml: cycle.periods[0].end: ends on 2025-12-31,"
                " outside the cycle (2026-02-01 to 2027-01-31)"
                " (line 37)",
                "plan.yaml: cycle.periods[2].id: duplicate period id 'h1' (line 39)",
                "plan.yaml: cycle.periods[2].end: ends on 2027-03-31,"
                " outside the cycle (2026-02-01 to 2027-01-31)"
                " (line 39)",
            ],
            id="outside-and-duplicate",
        ),
        pytest.param(
            "cycle: {id: fy27, name: FY, start: 2026-02-01, end: 2027-01-31,"
            " periods: [{id: h1, end: 2026-07-31}]}\n",
            [
                "plan.yaml: cycle.periods[0].end: the last period ends on 2026-07-31,"
                " before the cycle's end 2027-01-31"
            ],
            id="last-period-short-of-the-end",
        ),
    ],
)
def test_an_invalid_cycle_is_named_by_path(text: str, expected: list[str]) -> None:
    found = problems(text)
    for line in expected:
        assert any(p.startswith(line) for p in found), found
    assert len(found) == len(expected), found


def test_a_broken_period_end_is_reported_once_by_the_schema() -> None:
    found = problems(
        "cycle: {id: fy27, name: FY, start: 2026-02-01 10:00:00, end: 2027-01-31,"
        " periods: [{id: h1, end: 2026-07-31 10:00:00}, {id: h2, end: soon}]}\n"
    )
    assert [p.split(": ")[1] for p in found] == [
        "cycle.start",
        "cycle.periods.list[0].end",
        "cycle.periods.list[1].end",
    ]
