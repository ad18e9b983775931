"""Response models of the reports: effort by value (with freshness), trend, obstacles, flags, items."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from v2mom.app.schemas.common import ApiModel, Number
from v2mom.models import WebUrl, WorkItem

MeasureName = Literal["points", "hours", "count"]
ReportMeasureName = Literal["points", "hours", "count", "person_days", "fte"]  # the effort report's
StateName = Literal["done", "open", "all"]
FlagName = Literal["untagged", "orphaned", "conflict", "unaligned"]


class TrackerFreshness(ApiModel):
    """One tracker's last successful sync and webhook (ISO UTC, ``Z``), inbox backlog and parked events.

    ``interrupted_at`` is present only when a sync run of the tracker was interrupted (its process
    was killed) since its last successful one: when the latest such run started.
    """

    last_sync: str | None
    last_event: str | None
    backlog: int
    parked: int
    interrupted_at: str | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="start of the latest interrupted sync run since the last successful one (else absent)",
    )


class EffortTotal(ApiModel):
    """All effort in the report and the items it comes from."""

    effort: Number
    items: int


class MethodEffort(ApiModel):
    """One method's effort under a value; ``id`` null for work tagged with the value directly."""

    id: str | None
    name: str
    effort: Number
    items: int


class ValueEffort(ApiModel):
    """One value's effort, share of the total, target and its methods."""

    id: str
    name: str
    effort: Number
    share: Number
    items: int
    target_share: float | None
    methods: list[MethodEffort]


class EffortPart(ApiModel):
    """Untagged, unaligned or orphaned effort with its share of the total."""

    effort: Number
    share: Number
    items: int


class UnalignedMethod(ApiModel):
    """A team method's effort that reaches no value (it, or what it serves, serves nothing)."""

    id: str
    name: str
    effort: Number


class UnalignedPart(EffortPart):
    """Unaligned effort with its share, and the methods it comes through, biggest first."""

    methods: list[UnalignedMethod]


class Unattributed(ApiModel):
    """In-progress items nobody was assigned to while they were worked on: counted, with no effort."""

    items: int


class Folded(ApiModel):
    """A team whose people's time is not shown on its own — it would cover fewer than
    ``min_group_size`` people, or its figures would let a smaller group's be worked out — and the
    team (or the company: ``into`` null) whose figures answer for it instead."""

    team: str
    into: str | None
    note: str


class ReportBody(ApiModel):
    """The effort report without its freshness: what a review snapshot stores for a period.

    ``sum(values[].effort) + untagged.effort == total.effort``; with teams in the plan,
    ``unaligned`` (team work reaching no value) joins the sum; without, it is absent. In people's
    time (``person_days``, ``fte``) efforts are person-days (or FTE over ``working_days``), ``from``
    and ``to`` are the days worked, and ``people``, ``working_days`` and ``unattributed`` are added."""

    measure: ReportMeasureName
    state: StateName
    date_from: date | None = Field(alias="from")
    date_to: date | None = Field(alias="to")
    tracker: str | None
    team: str | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="the team the report narrows to, with its descendants (absent: the company)",
    )
    total: EffortTotal
    values: list[ValueEffort]
    untagged: EffortPart
    orphaned: EffortPart
    unaligned: UnalignedPart | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="team methods' effort that reaches no value (present only when the plan has teams)",
    )
    people: int | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="people's time: distinct people counted (never named)",
    )
    working_days: int | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="people's time: the working days from..to (FTE's divisor)",
    )
    unattributed: Unattributed | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="people's time: in-progress items nobody held",
    )
    folded: Folded | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="people's time: the team asked for was too small to show",
    )


class ReportPeriod(ApiModel):
    """The review period a report was asked for (``period=fy27/q2``) and where its numbers come from:
    ``snapshot`` (the review stored when the period was closed; then with its plan version and
    closing time) or ``live`` (with a ``note`` saying why)."""

    id: str = Field(description="the CYCLE/PERIOD reference")
    start: date
    end: date
    source: Literal["snapshot", "live"]
    plan_version: int | None
    closed_at: str | None
    note: str | None


class EffortReport(ReportBody):
    """``GET /api/reports/effort-by-value``: ``sum(values[].effort) + untagged.effort == total.effort``.

    With teams in the plan, ``unaligned`` (team work reaching no value) joins the sum; without, it
    is absent. ``period`` is present only when the report was asked for a period; a report read from
    a review snapshot has no ``freshness`` (``{}``): it is what was reviewed."""

    period: ReportPeriod | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="the review period asked for, and whether the numbers are its snapshot's (else absent)",
    )
    freshness: dict[str, TrackerFreshness]


class TrendWeek(ApiModel):
    """Done effort per value in one ISO week (``2026-W45``, starting on Monday ``start``)."""

    week: str
    start: date
    values: dict[str, Number]
    untagged: Number
    unaligned: Number | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="team work reaching no value (present only when the plan has teams)",
    )


class Trend(ApiModel):
    """``GET /api/reports/trend``: done effort per value and ISO week; in people's time, the time
    worked in each week (``fte``: over that week's working days), with ``people`` and
    ``working_days``, and ``folded`` when a team was too small to show."""

    measure: ReportMeasureName
    tracker: str | None
    date_from: date = Field(alias="from")
    date_to: date = Field(alias="to")
    weeks: list[TrendWeek]
    people: int | None = Field(
        default=None, exclude_if=lambda value: value is None, description="people's time: people counted"
    )
    working_days: int | None = Field(
        default=None, exclude_if=lambda value: value is None, description="people's time: in from..to"
    )
    folded: Folded | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="people's time: the team asked for was too small to show",
    )


class BlockedItem(ApiModel):
    """A blocked, unfinished item and the effort it holds up in the obstacle's methods."""

    tracker: str
    key: str
    title: str
    url: WebUrl  # http(s) only: a stored javascript: or relative link is served as null
    status: str
    effort: Number


class ObstacleEffort(ApiModel):
    """One obstacle: open and blocked effort in its methods, and its biggest blocked items."""

    id: str
    name: str
    methods: list[str]
    open_effort: Number
    blocked_effort: Number
    blocked_items: int
    items: list[BlockedItem]


class Obstacles(ApiModel):
    """``GET /api/reports/obstacles``."""

    measure: MeasureName
    tracker: str | None
    obstacles: list[ObstacleEffort]


class FlaggedItem(ApiModel):
    """An untagged, orphaned or conflicting item, with the reasons and its effort."""

    tracker: str
    key: str
    title: str
    url: WebUrl  # http(s) only: a stored javascript: or relative link is served as null
    flags: list[FlagName]
    reasons: list[str]
    effort: Number


class FlagPage(ApiModel):
    """``GET /api/reports/flags``: one page, biggest effort first; ``next_cursor`` null on the last."""

    items: list[FlaggedItem]
    next_cursor: str | None


class ValueItem(ApiModel):
    """An item counted under a value: the share of its effort the value gets, and through which method."""

    tracker: str
    key: str
    title: str
    url: WebUrl  # http(s) only: a stored javascript: or relative link is served as null
    method: str | None = Field(description="the method the share comes through (the first of several)")
    methods: int = Field(description="how many of the value's methods the item counts through")
    effort: Number


class ValueItems(ApiModel):
    """``GET /api/reports/values/{value_id}/items``: one page, biggest first; ``next_cursor`` null on
    the last."""

    value: str
    items: list[ValueItem]
    next_cursor: str | None


class FlagCount(ApiModel):
    """How many items one flag lists, and their effort in the measure asked for."""

    items: int
    effort: Number


class FlagCounts(ApiModel):
    """``GET /api/reports/flags/counts``: per flag, what ``GET /api/reports/flags`` would list in all."""

    measure: MeasureName
    tracker: str | None
    q: str | None
    untagged: FlagCount
    orphaned: FlagCount
    conflict: FlagCount
    unaligned: FlagCount | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="team work reaching no value (present only when the plan has teams)",
    )


class OwnTags(ApiModel):
    """The tags found on the item itself, and what placed them."""

    values: list[str]
    methods: list[str]
    unknown: list[str]
    because: list[str]


class CountedEffort(ApiModel):
    """The effort the item counts in the report, per measure."""

    points: Number
    hours: Number
    count: Number


class ItemResolution(ApiModel):
    """How the item resolved; a deleted item keeps only its stored ``flags`` and ``effort``."""

    values: dict[str, Number] = Field(default_factory=dict)
    methods: list[str] = Field(default_factory=list)
    explicit_values: list[str] = Field(default_factory=list)
    allocations: list[tuple[str | None, str | None, Number]] = Field(
        default_factory=list, description="[value id, method id, weight] per share of the item's effort"
    )
    source: str | None = None
    inherited_from: str | None = None
    flags: list[FlagName]
    reasons: list[str] = Field(default_factory=list)
    explanation: list[str] = Field(default_factory=list)
    own_tags: OwnTags | None = None
    effort: CountedEffort


class Ancestor(ApiModel):
    """One parent in an item's chain; ``found`` false when the store does not hold it (then only its
    tracker ``id`` is known)."""

    tracker: str
    id: str
    key: str | None
    title: str | None
    url: WebUrl
    found: bool
    deleted: bool


class ItemPeopleTime(ApiModel):
    """An item's people's time in a window of days worked: counts only, never who (or whose share)."""

    date_from: date = Field(alias="from")
    date_to: date = Field(alias="to")
    working_days: int = Field(description="the working days from 'from' to 'to'")
    person_days: float = Field(description="the item's shares of the days people worked on it")
    days_worked: int = Field(description="the working days on which it had a share")


class ItemDocument(ApiModel):
    """``GET /api/items/{tracker}/{key}``: the item, its resolution, the explanation, its parents and
    its person-days in the window (``from``/``to``, else the last 90 days)."""

    tracker: str
    key: str
    deleted: bool
    item: WorkItem
    resolution: ItemResolution | None
    explanation: list[str]
    ancestors: list[Ancestor] = Field(
        default_factory=list, description="the parent chain, nearest first, as far as the store holds it"
    )
    people_time: ItemPeopleTime


class TeamValueEffort(ApiModel):
    """A team's effort (its subtree's) reaching one value: the company's or a team's own."""

    id: str
    name: str
    effort: Number


class TeamEffort(ApiModel):
    """One team of the cascade with its subtree's effort: never broken down by person."""

    id: str
    name: str
    parent: str | None
    depth: int = Field(description="1 under the company, 2 under such a team, and so on")
    vision: str
    effort: Number
    share: Number = Field(description="of the company's total effort")
    items: int
    aligned_share: Number = Field(description="of the team's effort, the part that reaches a value")
    untagged_share: Number
    unaligned_share: Number = Field(description="team methods' effort that reaches no value")
    values: list[TeamValueEffort]
    methods: list[str] = Field(description="the ids of the team's own methods")
    people: int | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="people's time: how many people the team's figures cover (never who)",
    )


class CompanyOwnEffort(ApiModel):
    """The work in no team's scope: the company's own (in people's time, with the top-level teams
    folded into it)."""

    effort: Number
    share: Number
    items: int


class TeamsReport(ApiModel):
    """``GET /api/teams``: the tree of teams, parents before children, with each subtree's effort;
    ``total`` = the company's own effort + every top-level team's. In people's time each team says
    how many people its figures cover, and a team covering fewer than ``min_group_size`` is left
    out of ``teams`` (its time stays in its parent's figures; a top-level team's in ``company``)
    and named in ``folded`` — so is a sibling whose figures would let it be worked out."""

    measure: ReportMeasureName
    state: StateName
    date_from: date | None = Field(alias="from")
    date_to: date | None = Field(alias="to")
    tracker: str | None
    total: EffortTotal
    company: CompanyOwnEffort
    teams: list[TeamEffort]
    people: int | None = Field(
        default=None, exclude_if=lambda value: value is None, description="people's time: people counted"
    )
    working_days: int | None = Field(
        default=None, exclude_if=lambda value: value is None, description="people's time: FTE's divisor"
    )
    folded: list[Folded] | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="people's time: the teams too small to show, and where their time is shown",
    )
