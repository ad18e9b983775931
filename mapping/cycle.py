"""A plan's cycle: the span of time it is written for (usually a fiscal year) and the periods it is
reviewed in (quarters, months, or periods the plan lists itself).

Dates are whole days and both ends count: a cycle from 2026-02-01 to 2027-01-31 is one year, and
its first quarter runs from 2026-02-01 to 2026-04-30. Quarters and months are counted from the
cycle's start, not from the calendar year, so a fiscal year starting in February has its ``q1``
from February to April. A period reference such as ``fy27/q2`` names the cycle and one of its
periods and stands for that period's dates.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator, Mapping
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Discriminator, StringConstraints, Tag, field_validator

from v2mom.yamlio import Loc

# The same shape as every other id in the plan; it also keeps "/" out of ids, which separates the
# cycle from the period in a reference.
CycleId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=64)]
PERIOD_STEPS: dict[str, tuple[int, str]] = {"quarterly": (3, "q"), "monthly": (1, "m")}
PERIODS_EXPECTED = "expected 'quarterly', 'monthly' or a list of periods [{id, end}, ...]"


class Period(BaseModel):
    """One period of an explicit list: it starts the day after the previous one ends (the first on
    the cycle's start) and ends on ``end``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: CycleId
    end: date


class Cycle(BaseModel):
    """The span a plan is written for and how it is divided into review periods."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: CycleId
    name: str
    start: date
    end: date
    # Text is a kind of period, anything else the explicit list: only that branch's errors are
    # reported (its path reads ``cycle.periods.list[0].end``), not both branches' at once.
    periods: Annotated[
        Annotated[Literal["quarterly", "monthly"], Tag("kind")] | Annotated[tuple[Period, ...], Tag("list")],
        Discriminator(lambda value: "kind" if isinstance(value, str) else "list"),
    ] = "quarterly"

    @field_validator("periods", mode="before")
    @classmethod
    def _known_kind(cls, value: Any) -> Any:
        if (isinstance(value, str) and value not in PERIOD_STEPS) or not isinstance(
            value, str | list | tuple
        ):
            raise ValueError(PERIODS_EXPECTED)
        return value


class CyclePeriod(NamedTuple):
    """A period with its dates, both days included."""

    id: str
    start: date
    end: date


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, on the month's last day when that month is shorter."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def cycle_periods(cycle: Cycle) -> list[CyclePeriod]:
    """The cycle's periods in order: ``q1``, ``q2`` … or ``m1``, ``m2`` … counted from its start (the
    last one cut at the cycle's end when the cycle is not a whole number of them), or the listed ones."""
    if isinstance(cycle.periods, str):
        step, prefix = PERIOD_STEPS[cycle.periods]
        generated = []
        number = 0
        while (start := add_months(cycle.start, number * step)) <= cycle.end:
            end = min(add_months(cycle.start, (number + 1) * step) - timedelta(days=1), cycle.end)
            number += 1
            generated.append(CyclePeriod(f"{prefix}{number}", start, end))
        return generated
    listed = []
    start = cycle.start
    for period in cycle.periods:
        listed.append(CyclePeriod(period.id, start, period.end))
        start = period.end + timedelta(days=1)
    return listed


def split_reference(reference: str) -> tuple[str, str]:
    """The (cycle id, period id) a ``CYCLE/PERIOD`` reference names; the period is "" without a slash."""
    cycle_id, _slash, period_id = reference.strip().partition("/")
    return cycle_id, period_id


def resolve_period(cycle: Cycle | None, reference: str) -> CyclePeriod:
    """The period a ``CYCLE/PERIOD`` reference (e.g. ``fy27/q2``) names, with its dates.

    Raises ValueError saying what is wrong: no cycle in the plan, a reference without the slash,
    another cycle's id, or a period the cycle does not have (listing those it has).
    """
    if cycle is None:
        raise ValueError(f"'{reference}' names a period, but the plan has no cycle")
    cycle_id, period_id = split_reference(reference)
    if "/" not in reference:
        raise ValueError(
            f"'{reference}' is not a period reference (expected CYCLE/PERIOD, e.g. {cycle.id}/q1)"
        )
    if cycle_id != cycle.id:
        raise ValueError(f"unknown cycle '{cycle_id}' (the plan's cycle is '{cycle.id}')")
    periods = cycle_periods(cycle)
    for period in periods:
        if period.id == period_id:
            return period
    known = ", ".join(p.id for p in periods)
    raise ValueError(f"cycle '{cycle.id}' has no period '{period_id}' (it has {known})")


def _date(value: Any) -> date | None:
    """A date as the plan may hold it: parsed by YAML, or ISO text from JSON; None otherwise (the
    schema reports it)."""
    if isinstance(value, datetime):  # YAML reads a timestamp as one; it cannot be compared to a date
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def cycle_problems(document: Any) -> Iterator[tuple[Loc, str]]:
    """What is wrong with the plan's cycle beyond its schema: an end not after the start, and an
    explicit period list that is empty, out of order, outside the cycle, not ending with the cycle,
    or with an id twice. ``document`` is the plan as data, validated or raw (what does not parse is
    the schema's problem and skipped here)."""
    cycle = document.get("cycle") if isinstance(document, Mapping) else None
    if not isinstance(cycle, Mapping):
        return
    start, end = _date(cycle.get("start")), _date(cycle.get("end"))
    if start is not None and end is not None and end <= start:
        yield ("cycle", "end"), f"the cycle ends on {end}, not after its start {start}"
        return
    periods = cycle.get("periods")
    if not isinstance(periods, list | tuple):
        return
    if not periods:
        yield ("cycle", "periods"), "an explicit period list needs at least one period"
        return
    seen: set[str] = set()
    previous: date | None = None  # the latest end so far
    for index, period in enumerate(periods):
        if not isinstance(period, Mapping):
            continue
        period_id = period.get("id")
        if isinstance(period_id, str):
            if period_id in seen:
                yield ("cycle", "periods", index, "id"), f"duplicate period id '{period_id}'"
            seen.add(period_id)
        period_end = _date(period.get("end"))
        if period_end is None:
            continue
        if start is not None and end is not None and not start <= period_end <= end:
            yield (
                ("cycle", "periods", index, "end"),
                f"ends on {period_end}, outside the cycle ({start} to {end})",
            )
        elif previous is not None and period_end <= previous:
            yield (
                ("cycle", "periods", index, "end"),
                (
                    f"ends on {period_end}, not after the previous period's end {previous}"
                    " (list periods in order)"
                ),
            )
        previous = period_end if previous is None else max(previous, period_end)
    # Judged on the latest end, so a list out of order is reported once, as out of order; and only
    # when the last period's own end parses (else the schema has said what is wrong with it).
    final = periods[-1]
    final_end = _date(final.get("end")) if isinstance(final, Mapping) else None
    if final_end is not None and previous is not None and end is not None and previous < end:
        yield (
            ("cycle", "periods", len(periods) - 1, "end"),
            f"the last period ends on {previous}, before the cycle's end {end}",
        )
