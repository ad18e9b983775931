"""The sandboxes' own answer to "how many people's days go to each value", computed independently.

This is the reference implementation of the people's-time model (person-days and FTE per value,
decided 2026-12-05): the store's engine computes the same figures in SQL and is compared with this
module on every sandbox. It does not import ``mapping``, ``store`` or ``reports``: it reads
tracker-neutral :class:`PeopleItem` records and the sandboxes' :class:`Recorded` changes, and
turns item person-days into value person-days with :class:`GroundTruth`'s allocation.

The model, in the order it is computed (the numbers are the model's sections):

1. **Order.** An item's changes of one field are ordered by (at, event_id). A change dated after
   ``now`` is treated as dated ``now`` (clamped, and counted in :attr:`PeopleTime.clamped`).
2. **Working intervals.** Jira and Linear: each status change opens an interval lasting until the
   next status change (the last one: open-ended), working when it enters an ``in_progress``
   status; nothing before the first change is working; with no status change at all the item works
   from its ``created_at`` (the beginning of time when unknown) when it is in progress now, else
   never. Asana (no started status): a task works while incomplete: from the beginning of time to
   its first status change, then in each interval entering ``todo`` or ``in_progress``; with no
   status change, until its ``completed_at`` when done or canceled, open-ended otherwise; nothing
   before its ``started_at`` works, and without a ``started_at`` nothing works while nobody holds
   it (step 3): it is in progress from its assignment.
3. **Assignee intervals.** Each assignee change opens an interval (to the next) held by the account
   it names (None: nobody); before the first change, the first change's previous account holds it;
   with no assignee change, the item's current assignee holds it all along.
4. **Work spans** = working ∩ held by someone, cut to [window start, min(window end, now)). The
   account is a person: the ``people`` entry naming (tracker, account), else ``"tracker:account"``.
5. **Days.** A day is a local date in ``timezone``, from its 00:00 to the next day's 00:00.
   Working days are the window's dates whose weekday is in ``work_week``.
6. **Person-days.** For person p and working day d, the items with a work span of p overlapping
   the day for a positive length; an item with a descendant also among them is dropped (leaves
   carry the time); each remaining item gets an equal share of the day.
7. **Measures.** An item's person-days are its shares summed over the window; a value's are the
   items' person-days times their allocation weights; ``fte`` = person-days / working days.
8. **Unattributed.** Items working while held by nobody for a positive length of a working day.
9. **Window default:** to = today of ``now`` in ``timezone``, from = to − 89 days.
10. The state filter applies to items' current state, as for the other measures.

Decisions where the model says nothing (an engine compared with this one must make the same):

- *Every item of a tracker follows its tracker's rule, containers included.* Asana projects are
  under the Asana rule and Linear projects under the Jira/Linear one. No tracker records a history
  or an assignee for them, so they are nobody's work: a Linear project in progress (from its
  creation) is therefore *unattributed*, and an incomplete Asana project is not in progress at all
  unless it has a start (then *unattributed* from it).
- *The Asana rule is tracker ``"asana"``'s*; every other tracker follows the Jira/Linear rule.
- *A done or canceled Asana task with no status change and no ``completed_at`` never works*: the
  end of its work is unknown, and counting it open-ended would count finished work forever.
- *Asana's ``started_at``*: its ``start_at``, else its ``start_on`` at 00:00 UTC
  (:func:`asana_started_at`); it is ignored on other trackers.
- *Event ids compare as strings* (as stored: ``"10"`` comes before ``"9"``), and changes are ordered
  by their clamped time: changes dated after ``now`` all sit at ``now``, in event id order.
- *A change of an item that is not live is ignored*, and not counted as clamped. ``clamped`` counts
  the changes (one per field: a Jira change group moving status and assignee counts twice) of
  live items dated after ``now``.
- *Descendants are followed through live items only*: a parent absent from the live items ends the
  chain (an item under a deleted parent is no descendant of its grandparent).
- *The equal share is over the items that remain* once parents are dropped (1/|S(p, d)| with S
  the leaves), so each (person, working day) with work is shared out exactly: its shares sum to 1.
- *A day that ``now`` falls in counts whole* when worked before ``now`` (a positive overlap is all
  section 6 asks for), and ``working_days`` counts every working day of the window, future ones
  included.
- *Unattributed spans are cut like work spans*, to [window start, min(window end, now)): a working
  interval held by nobody after ``now`` is not known yet.
- *Local midnights use fold 0*: a midnight that does not exist (a DST gap at 00:00) starts the day
  at the gap's instant; a midnight that occurs twice starts it at its first occurrence.
- *A window whose start is after its end* has no working days and no work.
- *In a report* (:func:`people_report`), ``people`` counts persons with a positive share of an
  item that passes its filters (canceled items never do); ``unattributed_items`` counts the
  unattributed items that pass them; ``total_items`` counts every item that passes them, as the
  effort report does. An item the people's side knows and the ground truth does not is an error.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from v2mom.sandbox.ground_truth import (
    GroundTruth,
    StateFilter,
    close_report,
    count_into,
    counts_in,
    new_report,
)
from v2mom.sandbox.history import Recorded

__all__ = [
    "MON_FRI",
    "Category",
    "ItemKey",
    "PeopleItem",
    "PeopleTime",
    "asana_started_at",
    "default_window",
    "people_report",
    "person_days",
    "working_days",
]

Category = Literal["todo", "in_progress", "done", "canceled"]  # an item's state, a status's category
ItemKey = tuple[str, str]  # (tracker, item id)
Interval = tuple[datetime, datetime]  # [start, end), aware

MON_FRI: frozenset[int] = frozenset(range(5))  # date.weekday(): Monday 0 … Sunday 6
WINDOW_DAYS = 90  # the default window: today and the 89 days before it
ASANA = "asana"
BEGINNING = datetime.min.replace(tzinfo=UTC)  # "the beginning of time"
OPEN_END = datetime.max.replace(tzinfo=UTC)  # an interval with no end
STARTED = frozenset({"in_progress"})  # Jira, Linear: working after entering these
INCOMPLETE = frozenset({"todo", "in_progress"})  # Asana: working after entering these


@dataclass(frozen=True)
class PeopleItem:
    """One live item as the people's-time oracle sees it.

    ``state`` is its current category; ``assignee`` its current assignee's account id (None:
    nobody, or unknown); ``started_at`` when an Asana task's work may start (None: no start set).
    ``parent_id`` names its parent in the same tracker (issue, epic, task or project).
    """

    tracker: str
    id: str
    parent_id: str | None
    state: Category
    created_at: datetime | None = None
    completed_at: datetime | None = None
    assignee: str | None = None
    started_at: datetime | None = None

    @property
    def key(self) -> ItemKey:
        """(tracker, id): unique across trackers."""
        return (self.tracker, self.id)


@dataclass(frozen=True)
class PeopleTime:
    """Who spent which working days on what, in one window.

    ``shares`` maps (person, working day, item) to the part of that person's day the item got;
    ``working_days`` counts the window's working days; ``unattributed`` are the items worked on
    while held by nobody; ``clamped`` counts the changes dated after ``now``.
    """

    shares: dict[tuple[str, date, ItemKey], float] = field(default_factory=dict)
    working_days: int = 0
    unattributed: frozenset[ItemKey] = frozenset()
    clamped: int = 0

    @property
    def item_days(self) -> dict[ItemKey, float]:
        """Each worked item's person-days in the window."""
        out: dict[ItemKey, float] = defaultdict(float)
        for (_, _, item), share in self.shares.items():
            out[item] += share
        return dict(out)

    @property
    def days_worked(self) -> dict[str, int]:
        """Each person's number of working days with work."""
        days: dict[str, set[date]] = defaultdict(set)
        for person, day, _ in self.shares:
            days[person].add(day)
        return {person: len(worked) for person, worked in days.items()}

    @property
    def people(self) -> int:
        """Distinct persons with at least one share."""
        return len(self.days_worked)


def asana_started_at(start_at: datetime | None, start_on: date | None) -> datetime | None:
    """When an Asana task's work may start: ``start_at``, else ``start_on`` at 00:00 UTC."""
    if start_at is not None:
        return start_at
    return datetime.combine(start_on, time(), tzinfo=UTC) if start_on is not None else None


def default_window(now: datetime, timezone: str = "UTC") -> tuple[date, date]:
    """The default window: (today − 89 days, today), today being ``now``'s date in ``timezone``."""
    today = now.astimezone(ZoneInfo(timezone)).date()
    return today - timedelta(days=WINDOW_DAYS - 1), today


def working_days(start: date, end: date, work_week: frozenset[int] = MON_FRI) -> list[date]:
    """The dates from ``start`` to ``end`` (inclusive) whose weekday is in ``work_week``."""
    dates = (start + timedelta(days=n) for n in range((end - start).days + 1))
    return [day for day in dates if day.weekday() in work_week]


def person_days(
    items: Iterable[PeopleItem],
    changes: Mapping[str, Iterable[Recorded]],
    *,
    now: datetime,
    start: date | None = None,
    end: date | None = None,
    timezone: str = "UTC",
    work_week: frozenset[int] = MON_FRI,
    people: Mapping[tuple[str, str], str] | None = None,
) -> PeopleTime:
    """Share out people's working days among the live ``items`` of one or more trackers.

    ``changes`` are each tracker's status and assignee changes, by tracker name. The window runs
    from ``start`` to ``end``, local dates in ``timezone`` (inclusive; :func:`default_window` for
    what is not given), and no later than ``now``. ``people`` maps (tracker, account) to a person,
    so one person working in two trackers shares one day across both trackers' items.
    """
    if now.tzinfo is None:
        raise ValueError("now must carry a time zone")
    zone = ZoneInfo(timezone)
    default_start, default_end = default_window(now, timezone)
    start = start if start is not None else default_start
    end = end if end is not None else default_end
    people = people or {}
    live = {item.key: item for item in items}

    # 1. Order, clamped to now.
    status: dict[ItemKey, list[Recorded]] = defaultdict(list)
    assignee: dict[ItemKey, list[Recorded]] = defaultdict(list)
    clamped = 0
    for tracker, recorded in changes.items():
        for change in recorded:
            key = (tracker, change.item_id)
            if key not in live:
                continue  # deleted items are not counted at all
            if change.at > now:
                change = replace(change, at=now)
                clamped += 1
            (status if change.field == "status" else assignee)[key].append(change)
    for ordered in (*status.values(), *assignee.values()):
        ordered.sort(key=lambda c: (c.at, c.event_id))

    # 5. The window's working days, as [local 00:00, next local 00:00) in UTC.
    days = {day: _day_bounds(day, zone) for day in working_days(start, end, work_week)}
    bounds = (_local_midnight(start, zone), min(_local_midnight(end + timedelta(days=1), zone), now))

    # 2-4. Work spans per item and person; working while held by nobody: unattributed.
    worked: dict[tuple[str, date], set[ItemKey]] = defaultdict(set)
    unattributed: set[ItemKey] = set()
    for key, item in live.items():
        working = _working_intervals(item, status[key])
        for held, account in _assignee_intervals(item, assignee[key]):
            for span in working:
                cut = _intersection(span, held, bounds)
                if cut is None:
                    continue
                overlapping = [day for day, whole in days.items() if _intersection(cut, whole) is not None]
                if account is None:
                    if overlapping and not (item.tracker == ASANA and item.started_at is None):
                        unattributed.add(key)  # an Asana task with no start works only once assigned
                    continue
                person = people.get((item.tracker, account), f"{item.tracker}:{account}")
                for day in overlapping:
                    worked[(person, day)].add(key)

    # 6. Each person-day shared equally among the leaves of what the person worked on that day.
    parents = {
        key: (item.tracker, item.parent_id)
        for key, item in live.items()
        if item.parent_id is not None and (item.tracker, item.parent_id) in live
    }
    shares: dict[tuple[str, date, ItemKey], float] = {}
    for (person, day), keys in worked.items():
        leaves = _leaves(keys, parents)
        for key in leaves:
            shares[(person, day, key)] = 1 / len(leaves)
    return PeopleTime(shares, len(days), frozenset(unattributed), clamped)


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The first instant of ``day`` in ``zone``, in UTC (fold 0: see the module's decisions)."""
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def _day_bounds(day: date, zone: ZoneInfo) -> Interval:
    return _local_midnight(day, zone), _local_midnight(day + timedelta(days=1), zone)


def _intersection(*intervals: Interval) -> Interval | None:
    """The common part of ``intervals``, None unless it has a positive length."""
    start, end = max(i[0] for i in intervals), min(i[1] for i in intervals)
    return (start, end) if start < end else None


def _working_intervals(item: PeopleItem, changes: list[Recorded]) -> list[Interval]:
    """When the item was being worked on (section 2), from its ordered status changes."""
    opened = [(change.at, end, change.category) for change, end in _until_next(changes)]
    if item.tracker != ASANA:
        if not changes:
            started = item.state in STARTED
            return [(item.created_at or BEGINNING, OPEN_END)] if started else []
        return [(at, end) for at, end, category in opened if category in STARTED]
    if not changes:
        if item.state not in ("done", "canceled"):
            intervals = [(BEGINNING, OPEN_END)]
        else:
            intervals = [(BEGINNING, item.completed_at)] if item.completed_at is not None else []
    else:
        intervals = [(BEGINNING, changes[0].at)]
        intervals += [(at, end) for at, end, category in opened if category in INCOMPLETE]
    if item.started_at is None:
        return intervals
    after_start = (item.started_at, OPEN_END)
    return [cut for span in intervals if (cut := _intersection(span, after_start)) is not None]


def _assignee_intervals(item: PeopleItem, changes: list[Recorded]) -> list[tuple[Interval, str | None]]:
    """Who held the item when (section 3), from its ordered assignee changes."""
    if not changes:
        return [((BEGINNING, OPEN_END), item.assignee)]
    held = [((BEGINNING, changes[0].at), changes[0].before)]
    return held + [((change.at, end), change.after) for change, end in _until_next(changes)]


def _until_next(changes: list[Recorded]) -> list[tuple[Recorded, datetime]]:
    """Each of the ordered ``changes`` with the time the next one ends it (the last: never)."""
    if not changes:
        return []
    ends = [change.at for change in changes[1:]] + [OPEN_END]
    return list(zip(changes, ends, strict=True))


def _leaves(keys: set[ItemKey], parents: Mapping[ItemKey, ItemKey]) -> set[ItemKey]:
    """``keys`` without those that have a descendant among them (any depth)."""
    covered: set[ItemKey] = set()
    for key in keys:
        seen = {key}
        up = parents.get(key)
        while up is not None and up not in seen:  # a cycle ends the walk
            if up in keys:
                covered.add(up)
            seen.add(up)
            up = parents.get(up)
    return keys - covered


def people_report(
    truths: Mapping[str, GroundTruth],
    spent: PeopleTime,
    *,
    state: StateFilter = "all",
    team: str | None = None,
) -> dict[str, Any]:
    """The people's-time report expected from ``spent``, with each tracker's ground truth.

    ``truths`` by tracker name (the trackers ``spent`` was computed over). The keys are
    :meth:`GroundTruth.expected_report`'s with effort in person-days (``total_effort``, ``values``,
    ``methods``, ``untagged_effort``, ``unaligned_effort``, ``orphaned_effort`` and the item
    counts), plus ``working_days``, ``fte`` (total person-days / working days, 0 with none),
    ``values_fte``, ``people`` and ``unattributed_items``. Filters as the effort report's:
    canceled items count nothing, ``state`` applies to the current state, ``team`` keeps that team's
    work and its sub-teams'.
    """
    lives = {tracker: truth.items() for tracker, truth in truths.items()}
    item_days = spent.item_days
    unknown = set(item_days) - {(tracker, item_id) for tracker, live in lives.items() for item_id in live}
    if unknown:
        raise KeyError(f"items the ground truth does not know: {sorted(unknown)[:5]}")
    out = new_report()
    counted: set[ItemKey] = set()
    for tracker, truth in truths.items():
        live = lives[tracker]
        for item_id, item in live.items():
            if not counts_in(item, truth.plan, state, team):
                continue
            counted.add((tracker, item_id))
            count_into(out, item_days.get((tracker, item_id), 0.0), *truth.allocation(item, live))
    close_report(out)
    out["working_days"] = spent.working_days
    out["fte"] = _fte(out["total_effort"], spent.working_days)
    out["values_fte"] = {value: _fte(days, spent.working_days) for value, days in out["values"].items()}
    persons = {person for (person, _, key), share in spent.shares.items() if key in counted and share > 0}
    out["people"] = len(persons)
    out["unattributed_items"] = len(spent.unattributed & counted)
    return out


def _fte(days: float, working: int) -> float:
    return days / working if working else 0.0
