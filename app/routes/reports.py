"""HTTP routes for reports, flags and items (all need a viewer token)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import PlainTextResponse

from v2mom.app.auth import StoreDep, Viewer
from v2mom.app.http_errors import unprocessable
from v2mom.app.schemas.reports import (
    EffortReport,
    FlagCounts,
    FlagPage,
    ItemDocument,
    Obstacles,
    TeamsReport,
    Trend,
    ValueItems,
)
from v2mom.app.services import SettingsDep
from v2mom.clock import today
from v2mom.mapping.plan import Plan
from v2mom.metrics import REPORT_SECONDS
from v2mom.models import TrackerName
from v2mom.reports.csv_export import report_csv
from v2mom.reports.effort import (
    EstimateMeasure,
    Measure,
    ReportQuery,
    StateFilter,
    build_report,
    date_range_problems,
    unknown_team_problem,
)
from v2mom.reports.flags import (
    CursorError,
    FlagKind,
    flag_counts,
    item_document,
    list_flags,
    value_items,
)
from v2mom.reports.obstacles import build_obstacles
from v2mom.reports.people_time import TIME_MEASURES
from v2mom.reports.periods import PeriodError, find_period, period_report
from v2mom.reports.teams import build_teams
from v2mom.reports.trend import TrendRangeError, build_trend
from v2mom.settings import Settings

router = APIRouter(prefix="/api")


PeriodQ = Annotated[
    str | None,
    Query(
        max_length=200,
        description="A review period, CYCLE/PERIOD (fy27/q2): its dates instead of from/to; a closed "
        "period's effort report is its review snapshot.",
    ),
]


def check_dates(date_from: date | None, date_to: date | None) -> None:
    """A 422 naming ``from`` or ``to`` for dates out of range or in the wrong order."""
    problems = date_range_problems(date_from, date_to)
    if problems:
        name, problem = problems[0]
        raise unprocessable([problem], location=("query", name))


def report_query(
    settings: SettingsDep,
    store: StoreDep,
    measure: Measure | None = None,
    state: StateFilter = "all",
    date_from: Annotated[date | None, Query(alias="from")] = None,
    date_to: Annotated[date | None, Query(alias="to")] = None,
    tracker: TrackerName | None = None,
    team: Annotated[
        str | None, Query(max_length=64, description="A team of the plan: its work and its descendants'.")
    ] = None,
    period: PeriodQ = None,
) -> ReportQuery:
    """The report filters from the query string (shared by every report route); ``period`` stands for
    its dates, and is refused beside ``from``/``to``."""
    check_dates(date_from, date_to)
    measure = measure or settings.measure
    if period is not None:
        if date_from is not None or date_to is not None:
            raise unprocessable(
                ["period: give either period or from/to, not both (a period stands for its from and to)"],
                location=("query", "period"),
            )
        try:
            found = find_period(store, store.plans.current() or Plan(), period)
        except PeriodError as exc:
            raise unprocessable([f"period: {exc}"], location=("query", "period")) from None
        date_from, date_to, period = found.start, found.end, found.reference
    return ReportQuery(
        measure=measure,
        state=state,
        date_from=date_from,
        date_to=date_to,
        tracker=tracker,
        team=team,
        period=period,
        calendar=settings.calendar(),
    )


def estimate_query(query: Annotated[ReportQuery, Depends(report_query)]) -> ReportQuery:
    """The report filters of a report counted in estimates only: people's time is a 422 naming it."""
    if query.measure in TIME_MEASURES:
        raise unprocessable(
            [f"measure: this report counts points, hours or count; {query.measure} is on the effort report"],
            location=("query", "measure"),
        )
    return query


def current_plan(store: StoreDep, query: ReportQuery) -> Plan:
    """The stored plan, once ``query``'s team is known to be one of its teams (else a 422)."""
    plan = store.plans.current() or Plan()
    if (problem := unknown_team_problem(plan, query.team)) is not None:
        raise unprocessable([problem], location=("query", "team"))
    return plan


QueryDep = Annotated[ReportQuery, Depends(report_query)]
EstimateQueryDep = Annotated[ReportQuery, Depends(estimate_query)]


def _report(settings: Settings, store: StoreDep, query: ReportQuery) -> dict[str, Any]:
    plan = current_plan(store, query)
    if query.period is not None:
        return period_report(store, plan, query, today(), settings.trackers.configured())
    return build_report(store, plan, query, settings.trackers.configured())


@router.get("/reports/effort-by-value")
def effort_by_value(settings: SettingsDep, store: StoreDep, _viewer: Viewer, query: QueryDep) -> EffortReport:
    """Effort per value against its target, plus untagged and orphaned effort.

    With ``period``, a closed period is answered from its review snapshot (done work, every tracker,
    the company or a team it holds; in people's time the time worked on work in every state, so
    ``state=all``); anything else is computed live, ``period.note`` saying why."""
    with REPORT_SECONDS.labels(report="effort-by-value").time():
        return EffortReport.model_validate(_report(settings, store, query))


class CsvResponse(PlainTextResponse):
    """``text/csv``, so the OpenAPI document declares what is really sent."""

    media_type = "text/csv"


@router.get("/reports/effort-by-value.csv", response_class=CsvResponse)
def effort_by_value_csv(
    settings: SettingsDep, store: StoreDep, _viewer: Viewer, query: QueryDep
) -> CsvResponse:
    """The same report as CSV."""
    with REPORT_SECONDS.labels(report="effort-by-value.csv").time():
        body = report_csv(_report(settings, store, query))
    return CsvResponse(body, headers={"Content-Disposition": 'attachment; filename="effort-by-value.csv"'})


@router.get("/teams")
def teams(store: StoreDep, _viewer: Viewer, query: QueryDep) -> TeamsReport:
    """The plan's teams as a tree (parents first), each with its subtree's effort, its share of the
    company's, and how much of it reaches a value, is untagged, or is unaligned (``team`` is ignored)."""
    with REPORT_SECONDS.labels(report="teams").time():
        return TeamsReport.model_validate(build_teams(store, store.plans.current() or Plan(), query))


@router.get("/reports/trend")
def trend(store: StoreDep, _viewer: Viewer, query: QueryDep) -> Trend:
    """Done effort per value and ISO week (the filters' state is ignored: a trend is of done work).

    At most ``MAX_WEEKS`` weeks (ten years): a longer ``from``..``to`` is a 422 naming ``from``.
    """
    try:
        with REPORT_SECONDS.labels(report="trend").time():
            return Trend.model_validate(build_trend(store, current_plan(store, query), query))
    except TrendRangeError as exc:
        raise unprocessable([str(exc)], location=("query", "from")) from None


@router.get("/reports/obstacles")
def obstacles(store: StoreDep, _viewer: Viewer, query: EstimateQueryDep) -> Obstacles:
    """Each obstacle's blocked, unfinished effort in its methods (with the items), and open effort."""
    with REPORT_SECONDS.labels(report="obstacles").time():
        return Obstacles.model_validate(build_obstacles(store, store.plans.current() or Plan(), query))


FlagText = Annotated[
    str | None,
    Query(max_length=200, description="Keep the items whose key or title contains this text (any case)."),
]


@router.get("/reports/flags/counts")
def flags_counts(
    settings: SettingsDep,
    store: StoreDep,
    _viewer: Viewer,
    measure: EstimateMeasure | None = None,
    tracker: TrackerName | None = None,
    q: FlagText = None,
) -> FlagCounts:
    """How many items are untagged, orphaned and in conflict (and their effort), with the list's filters."""
    measure = measure or settings.measure
    counts = flag_counts(store, measure=measure, tracker=tracker, text=q)
    return FlagCounts.model_validate({"measure": measure, "tracker": tracker, "q": q or None, **counts})


@router.get("/reports/flags")
def flags(
    settings: SettingsDep,
    store: StoreDep,
    _viewer: Viewer,
    kind: FlagKind | None = None,
    measure: EstimateMeasure | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
    tracker: TrackerName | None = None,
    q: FlagText = None,
) -> FlagPage:
    """Flagged items with reasons, biggest effort first; ``q`` keeps those whose key or title holds it."""
    try:
        page = list_flags(
            store,
            kind=kind,
            measure=measure or settings.measure,
            limit=limit,
            cursor=cursor,
            tracker=tracker,
            text=q,
        )
    except CursorError as exc:
        raise unprocessable([str(exc)], location=("query", "cursor")) from None
    return FlagPage.model_validate(page)


@router.get("/reports/values/{value_id}/items")
def value_items_page(
    value_id: str,
    store: StoreDep,
    _viewer: Viewer,
    query: EstimateQueryDep,
    method: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> ValueItems:
    """The items counted under a value (with the report's filters), biggest share of effort first;
    404 for a value the plan does not have."""
    plan = store.plans.current() or Plan()
    team_values = {value.id for team in plan.teams or () for value in team.values}
    if value_id not in {value.id for value in plan.values} | team_values:  # the report lists both
        raise HTTPException(404, detail=f"the plan has no value '{value_id}'")
    try:
        page = value_items(
            store,
            value_id=value_id,
            measure=query.measure,
            limit=limit,
            cursor=cursor,
            method_id=method,
            state=query.state,
            tracker=query.tracker,
            date_from=query.date_from,
            date_to=query.date_to,
        )
    except CursorError as exc:
        raise unprocessable([str(exc)], location=("query", "cursor")) from None
    return ValueItems.model_validate(page)


# A deleted item's resolution has only its stored flags and effort: keys not sent stay out.
@router.get("/items/{tracker}/{key}", response_model_exclude_unset=True)
def item(
    tracker: TrackerName,
    key: str,
    settings: SettingsDep,
    store: StoreDep,
    _viewer: Viewer,
    date_from: Annotated[
        date | None, Query(alias="from", description="people_time's first day worked (default: 90 days ago)")
    ] = None,
    date_to: Annotated[
        date | None, Query(alias="to", description="people_time's last day (default: today)")
    ] = None,
) -> ItemDocument:
    """One item, its resolution and why, and its person-days in ``from``..``to`` (never by whom)."""
    check_dates(date_from, date_to)
    document = item_document(store, tracker, key, settings.calendar(), date_from=date_from, date_to=date_to)
    if document is None:
        raise HTTPException(404, detail=f"no item {tracker}:{key} in the store")
    return ItemDocument.model_validate(document)
