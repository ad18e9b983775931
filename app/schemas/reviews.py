"""Response models of the review snapshots: the list, one whole snapshot, and what a close did."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from v2mom.app.schemas.common import ApiModel, Number
from v2mom.app.schemas.reports import (
    FlagCount,
    Folded,
    MeasureName,
    ObstacleEffort,
    ReportBody,
    ReportMeasureName,
)
from v2mom.clock import iso_seconds
from v2mom.mapping.plan import Plan
from v2mom.reports.periods import PlanPeriod
from v2mom.store.reviews import CloseResult, ReviewSummary


class ReviewListed(ApiModel):
    """A closed period: its cycle and period ids, dates, when and by whom it was closed, and the plan
    version its numbers were computed under."""

    cycle: str
    period: str
    start: date
    end: date
    closed_at: str
    closed_by: str
    plan_version: int


class CycleInfo(ApiModel):
    """The cycle a review belongs to, as the plan had it."""

    id: str
    name: str
    start: date
    end: date


class CyclePeriodListed(ApiModel):
    """A period of the plan's cycle: its dates, whether its last day has passed, and whether it has
    been closed (its review stored)."""

    cycle: str
    period: str
    start: date
    end: date
    ended: bool
    closed: bool


class ReviewList(ApiModel):
    """``GET /api/reviews``: every closed period, by cycle then period end; and the plan's cycle
    with each of its periods (``cycle`` null and no periods for a plan without a cycle)."""

    reviews: list[ReviewListed]
    cycle: CycleInfo | None
    periods: list[CyclePeriodListed]


class PeriodInfo(ApiModel):
    """The period reviewed; ``cut`` when it was closed before its end, at a switch to a new cycle."""

    id: str
    start: date
    end: date
    cut: bool


TimeMeasureName = Literal["person_days", "fte"]


class MeasureResult(ApiModel):
    """One effort-share measure: its target, the value's actual share of the period's done effort (in
    people's time: of the time worked in the period), and whether it was met (actual >= target)."""

    id: str
    name: str
    value: str
    target: float
    actual: Number
    met: bool


class ReviewPart(ApiModel):
    """The company's or one team's review: a report per measure and the measures met.

    In points, hours and count a report is of the work done in the period; in people's time
    (``person_days``, ``fte``) of the time worked on the period's working days, on work in every
    state (``state`` ``all``), with ``people`` and ``working_days``. A review closed before people's
    time was recorded has neither time measure. A team whose people's time covered fewer than
    ``min_group_size`` people has no report and no measures in it: ``folded`` says, per time
    measure, which team (or the company) the time is shown within."""

    reports: dict[ReportMeasureName, ReportBody]
    measures: dict[ReportMeasureName, list[MeasureResult]]
    folded: dict[TimeMeasureName, Folded] | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="people's time: the team was too small to show (absent otherwise)",
    )


class TeamReview(ReviewPart):
    """A team's review, with its name."""

    name: str


class ReviewSnapshot(ApiModel):
    """``GET /api/reviews/{cycle}/{period}``: the review as it was stored when the period was closed.

    Reports are of work done in the period (people's time: of the time worked in it), over every
    tracker, for the company and each team; obstacles and flag counts are as they stood at closing,
    in points, hours and count."""

    cycle: CycleInfo
    period: PeriodInfo
    plan_version: int
    closed_at: str
    closed_by: str
    company: ReviewPart
    teams: dict[str, TeamReview]
    obstacles: dict[MeasureName, list[ObstacleEffort]]
    flags: dict[MeasureName, dict[str, FlagCount]]


class CloseRequest(ApiModel):
    """``POST /api/reviews/close``: the period to close; without one, every ended period not closed yet."""

    period: str | None = Field(default=None, description="CYCLE/PERIOD, e.g. fy27/q1")


class ReviewsClosed(ApiModel):
    """What a close did: the periods closed now, and those that had been closed before (unchanged)."""

    closed: list[ReviewListed]
    already_closed: list[ReviewListed]


def listed(summary: ReviewSummary) -> ReviewListed:
    """A stored snapshot's summary as the API lists it."""
    return ReviewListed(
        cycle=summary.cycle_id,
        period=summary.period_id,
        start=summary.period_start,
        end=summary.period_end,
        closed_at=iso_seconds(summary.closed_at),
        closed_by=summary.closed_by,
        plan_version=summary.plan_version,
    )


def review_list(summaries: list[ReviewSummary], plan: Plan, periods: list[PlanPeriod]) -> ReviewList:
    """The closed periods, and the plan's cycle with ``periods`` (its periods, ended and closed or not)."""
    cycle = plan.cycle
    info = None
    if cycle is not None:
        info = CycleInfo(id=cycle.id, name=cycle.name, start=cycle.start, end=cycle.end)
    return ReviewList(
        reviews=[listed(summary) for summary in summaries],
        cycle=info,
        periods=[
            CyclePeriodListed(
                cycle=p.cycle_id, period=p.period_id, start=p.start, end=p.end, ended=p.ended, closed=p.closed
            )
            for p in periods
        ],
    )


def closed_document(results: list[CloseResult]) -> ReviewsClosed:
    """What a close did, split into the periods closed now and those closed before."""
    return ReviewsClosed(
        closed=[listed(r.review) for r in results if r.closed],
        already_closed=[listed(r.review) for r in results if not r.closed],
    )
