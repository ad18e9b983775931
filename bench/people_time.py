"""People's time at scale: the person-day computation and the fte report, against a scan floor.

    python -m bench.people_time [--items 1000000] [--people N] [--database-url URL] [--runs 7]

Builds a store of ``--items`` items in three trackers (half Jira, 3/10 Linear, 1/5 Asana) in trees
of 25 (an epic, stories, sub-tasks), tagged as the sample plan reads them, inserted in chunks in
the rows the item upsert and ``store.history.record`` write. Most items are old and done, with no
history. The newest are worked by ``--people`` people (default: 1 per 625 items, about 1,600 at
1,000,000) in two lanes each: one story after another (1 to 7 days each), assigned a minute before
it starts, started (``in_progress``), finished at its end (Asana: ``started_at`` and completed),
one in ten reassigned half way; about half the stories that have a sub-task have it worked by the
same person on the story's first day (the leaf carries that day). The recent epics stay in progress
with nobody assigned (the report's ``unattributed``). Every person works every working day, so the
default window (the last 90 days: about 64 working days) holds about ``people`` x 64 person-days:
about 100,000 at 1,000,000 items. Then ``remap(store, plan)`` resolves everything under the sample
plan, and PostgreSQL is vacuumed and analyzed as autovacuum would have by then.

Measured, in the same run:

- **floor**: a plain aggregate over the same tables: the transitions joined to their items, counted
  per field (``SELECT x.field, count(*) ... JOIN items ... GROUP BY x.field``), median of runs;
- **computation**: one ``store.people_time.facts(window)`` for the default window (all states, every
  tracker), vs the floor. Target: <= 30 s at 1,000,000 items and 100,000 person-days;
- **refresh**: the stored shares (``store.people_shares``) computed in full for the days they
  cover, then again incrementally after one person's item changes hands (a new assignee change),
  and (last) for a new day;
- **report**: ``build_report(..., ReportQuery(measure="fte"))`` p50 / p95 over ``--runs`` runs, read
  from the stored shares, vs a second floor: the window's stored shares summed
  (``SELECT count(*), sum(share) FROM people_shares WHERE day BETWEEN ...``), median of runs.
  Target: p95 <= 250 ms, stated at 10,000,000 items: run ``--items 10000000 --people 1600`` for
  the same ~100,000 person-days among ten times the items (printed, not scaled).
- **trend**: ``store.people_time.by_day(window)``, the people's-time trend's one statement, median
  of 3 (printed; no target).

Give ``--database-url`` an empty database (PostgreSQL: ``CREATE DATABASE ...``; drop it when done);
the default is a SQLite file in a temporary directory.
"""

from __future__ import annotations

import argparse
import functools
import math
import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, text

from bench.common import judged, median_seconds, peak_rss_mb
from v2mom.clock import utcnow
from v2mom.mapping.plan import load_plan
from v2mom.mapping.signature import tag_signature
from v2mom.models import ItemTransition, Level, State, WorkItem
from v2mom.reports.effort import ReportQuery, build_report
from v2mom.reports.people_time import time_window
from v2mom.sandbox import SAMPLE_PLAN_PATH
from v2mom.store import schema as t
from v2mom.store.database import Database
from v2mom.store.people_time import TimeWindow
from v2mom.store.resolution.run import remap
from v2mom.workdays import WorkCalendar

BATCH = 20_000
TREE = 25  # items per tree: an epic, then stories, every fifth item a sub-task of the one before
ITEMS_PER_PERSON = 625  # the default --people: about 1,600 at 1,000,000 items
TARGET_SECONDS = 30.0  # the computation at 1,000,000 items and 100,000 person-days
P95_TARGET_MS = 250.0  # the fte report's p95 (stated at 10,000,000 items)
COMPUTATION_AT = 1_000_000  # the items the computation's target is stated at
P95_AT = 10_000_000  # and the report's
LEAD_DAYS = 14  # work starts this long before the window, so the window opens mid-task
CONTAINERS = {"jira": ("ONB", "PLAT", "MOB"), "linear": ("WEB", "API"), "asana": ("1202000000017",)}
LABELS = {
    "jira": ((), (), ("checkout",), ("app-store",), ("method:slo-program",)),
    "linear": ((), ("Reliability",), ("error-budget",)),
    "asana": ((), ("value:reliability",)),
}


def tracker_of(tree: int) -> str:
    """Half the trees are Jira's, three in ten Linear's, one in five Asana's."""
    slot = tree % 10
    return "jira" if slot < 5 else "linear" if slot < 8 else "asana"


@functools.cache
def _signature(tracker: str, container: str, labels: tuple[str, ...]) -> int:
    """The tag signature a sync would store for an item with these tags."""
    item = WorkItem(
        tracker=tracker,
        id="x",
        key="x",
        title="x",
        level=Level.STANDARD,
        container=container,
        state=State.TODO,
        updated_at=datetime(2026, 1, 1, tzinfo=UTC),
        labels=labels,
    )
    return tag_signature(item)


@dataclass
class Work:
    """One item's work: who held it from when to when (end None: still going), reassigned at ``handover``."""

    person: str
    starts: datetime
    ends: datetime | None
    handover: str | None = None


@dataclass
class WorkPlan:
    """Which items the people worked, and how many transitions that makes."""

    work: dict[int, Work] = field(default_factory=dict)
    first_recent: int = 0  # the first pk of the recent trees (its epics stay in progress, nobody's)


def is_subtask(pk: int) -> bool:
    return pk % 5 == 0


def is_epic(pk: int) -> bool:
    return pk % TREE == 1


def stories_of(tracker: str, first: int, last: int) -> Iterator[int]:
    """The stories of ``tracker`` from pk ``first`` to ``last``, in order."""
    for pk in range(first, last + 1):
        if tracker_of((pk - 1) // TREE) == tracker and not is_epic(pk) and not is_subtask(pk):
            yield pk


def plan_work(n: int, people: int, now: datetime, rng: random.Random) -> WorkPlan:
    """Give each person two lanes of consecutive stories from ``LEAD_DAYS`` before the window to now."""
    window_start = now - timedelta(days=90 + LEAD_DAYS)
    # Each person works in one tracker (an account is a person of its tracker), in its share.
    lanes = [
        (p, tracker_of(p), window_start + timedelta(hours=rng.uniform(0, 48)))
        for p in range(people)
        for _ in (0, 1)
    ]
    # Enough recent trees for every lane's stories (about 4 days each, 19 stories per tree of 25).
    stories_needed = int(len(lanes) * (90 + LEAD_DAYS) / 4.0 * 1.3) + 10 * TREE
    first_recent = max(1, n - stories_needed * TREE // 19)
    first_recent -= (first_recent - 1) % TREE  # a tree's first item
    plan = WorkPlan(first_recent=first_recent)
    stories = {tracker: stories_of(tracker, first_recent, n) for tracker in CONTAINERS}
    for index, tracker, cursor in lanes:
        person = f"u{index:05d}"
        while cursor < now:
            pk = next(stories[tracker], None)
            if pk is None:
                break  # the store is too small for that many people: they work less
            ends: datetime | None = cursor + timedelta(hours=rng.uniform(20, 7 * 24))
            if ends is not None and ends >= now:
                ends = None
            other = rng.randrange(index % 10, people, 10)  # a person of the same tracker
            handover = f"u{other:05d}" if ends is not None and rng.random() < 0.1 else None
            plan.work[pk] = Work(person, cursor, ends, handover)
            child = pk + 1
            if child <= n and is_subtask(child) and rng.random() < 0.5:
                # Worked on the story's first hours, same person: the sub-task carries that day.
                plan.work[child] = Work(person, cursor + timedelta(hours=1), cursor + timedelta(hours=5))
            if ends is None:
                break
            cursor = ends + timedelta(minutes=rng.uniform(5, 90))
    return plan


def transitions(tracker: str, item_id: str, work: Work) -> list[dict[str, Any]]:
    """The ``item_transitions`` rows of one item's work (what ``store.history.record`` writes)."""
    rows: list[dict[str, Any]] = []

    def change(at: datetime, name: str, before: str | None, after: str | None, category: str | None) -> None:
        rows.append(
            {
                "tracker": tracker,
                "item_id": item_id,
                "event_id": str(len(rows) + 1),
                "field": name,
                "at": at,
                "from_value": before,
                "to_value": after,
                "to_category": category,
            }
        )

    change(work.starts - timedelta(minutes=1), "assignee", None, work.person, None)
    if tracker != "asana":  # Asana has no started status: its started_at says when
        change(work.starts, "status", "1", "3", State.IN_PROGRESS.value)
    if work.handover is not None and work.ends is not None:
        change(work.starts + (work.ends - work.starts) / 2, "assignee", work.person, work.handover, None)
    if work.ends is not None:
        done = ("completed" if tracker == "asana" else "5", State.DONE.value)
        change(work.ends, "status", "incomplete" if tracker == "asana" else "3", *done)
    return rows


def rows_of(
    n: int, plan: WorkPlan, now: datetime, rng: random.Random
) -> Iterator[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    """(items, transitions) rows in batches of ``BATCH`` items, parents first."""
    old = now - timedelta(days=3 * 365)
    items: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    for pk in range(1, n + 1):
        tree = (pk - 1) // TREE
        tracker = tracker_of(tree)
        container = CONTAINERS[tracker][tree % len(CONTAINERS[tracker])]
        labels = rng.choice(LABELS[tracker])
        epic = tree * TREE + 1
        if is_epic(pk):
            level, parent = 1, None
        elif is_subtask(pk):
            level, parent = -1, str(pk - 1)
        else:
            level, parent = 0, str(epic)
        work = plan.work.get(pk)
        assignee: str | None = f"old{pk % 5000:04d}"
        started_at = None
        if work is not None:
            created = work.starts - timedelta(days=rng.uniform(0, 30))
            state = State.DONE if work.ends is not None else State.IN_PROGRESS
            completed = work.ends
            assignee = work.handover or work.person
            if tracker == "asana":
                started_at = work.starts
            changes.extend(transitions(tracker, str(pk), work))
        elif pk >= plan.first_recent and is_epic(pk):  # in progress, nobody's: unattributed
            created = now - timedelta(days=120)
            state, completed, assignee = State.IN_PROGRESS, None, None
        elif pk >= plan.first_recent:  # recent, not picked up yet
            created = now - timedelta(days=rng.uniform(0, 120))
            state, completed, assignee = State.TODO, None, None
        else:  # old and done, no history
            created = old - timedelta(days=rng.uniform(0, 3 * 365))
            state, completed = State.DONE, created + timedelta(days=rng.uniform(0.5, 20))
        items.append(
            {
                "pk": pk,
                "tracker": tracker,
                "item_id": str(pk),
                "key": f"{container}-{pk}",
                "title": "x",
                "url": None,
                "level": level,
                "parent_id": parent,
                "container": container,
                "assignee": assignee,
                "state": state.value,
                "status_name": "",
                "created_at": created,
                "updated_at": completed or created,
                "completed_at": completed,
                "started_at": started_at,
                "points": float(rng.choice([0, 1, 2, 3, 5, 8])),
                "hours": None,
                "labels": list(labels),
                "components": [],
                "custom_fields": {},
                "deleted": False,
                "deleted_at": None,
                "synced_at": now,
                "tag_sig": _signature(tracker, container, labels),
            }
        )
        if len(items) == BATCH:
            yield items, changes
            items, changes = [], []
    if items:
        yield items, changes


def build(store: Database, n: int, people: int, now: datetime, seed: int) -> tuple[int, int]:
    """Insert the items and their histories; (items with history, transitions)."""
    rng = random.Random(seed)
    plan = plan_work(n, people, now, rng)
    written = 0
    for items, changes in rows_of(n, plan, now, rng):
        with store.unit_of_work() as uow:
            uow.connection.execute(insert(t.items), items)
            if changes:
                uow.connection.execute(insert(t.item_transitions), changes)
        written += len(changes)
    return len(plan.work), written


def settle(store: Database) -> None:
    """PostgreSQL: vacuum and analyze after the bulk load, as autovacuum would have by then."""
    tables = (
        "items",
        "item_transitions",
        "resolutions",
        "allocation_sets",
        "effort_rollup",
        "people_shares",
        "people_unheld",
    )
    if store.dialect == "postgresql":
        store.vacuum_analyze(*tables)
    else:
        with store.unit_of_work() as uow:
            uow.connection.execute(text("ANALYZE"))


FLOOR = (
    "SELECT x.field, count(*) FROM item_transitions x "
    "JOIN items i ON i.tracker = x.tracker AND i.item_id = x.item_id GROUP BY x.field"
)


def floor(store: Database) -> None:
    """The floor: every transition joined to its item, counted per field, read to the end."""
    with store.unit_of_work(commit=False) as uow:
        uow.connection.execute(text(FLOOR)).all()


def rows_floor(store: Database, first: date, last: date) -> None:
    """The report's floor: the window's stored shares, counted and summed."""
    with store.unit_of_work(commit=False) as uow:
        uow.connection.execute(
            text("SELECT count(*), sum(share) FROM people_shares WHERE day BETWEEN :first AND :last"),
            {"first": first, "last": last},
        ).all()


def handed_over(store: Database, now: datetime) -> None:
    """One worked item changes hands now: a change of one person's (and another's) days."""
    x = t.item_transitions.c
    with store.engine.connect() as conn:
        tracker, item_id = conn.execute(
            select(x.tracker, x.item_id).where(x.field == "assignee", x.to_value.is_not(None)).limit(1)
        ).one()
    store.history.record(
        [
            ItemTransition(
                tracker=tracker,
                item_id=item_id,
                event_id="bench:handed-over",
                at=now - timedelta(days=3),
                field="assignee",
                to_value="bench-newcomer",
            )
        ]
    )


def percentile(times: list[float], share: float) -> float:
    """The nearest-rank percentile of ``times``."""
    ordered = sorted(times)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def main() -> None:
    """Build, resolve, time the computation, the report and the floor; print the RESULT line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--people", type=int, default=None, help=f"default: 1 per {ITEMS_PER_PERSON} items")
    parser.add_argument(
        "--database-url", default=None, help="an empty database (default: a temporary SQLite file)"
    )
    parser.add_argument("--runs", type=int, default=7, help="timed runs of the fte report")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    people = args.people or max(1, args.items // ITEMS_PER_PERSON)
    with tempfile.TemporaryDirectory() as tmp:
        store = Database.open(args.database_url or f"sqlite:///{tmp}/people.db")
        if store.items.count(include_deleted=True):
            raise SystemExit("the database already holds items: give an empty one (CREATE DATABASE ...)")
        plan = load_plan(SAMPLE_PLAN_PATH.read_text(encoding="utf-8"), str(SAMPLE_PLAN_PATH))
        store.plans.save(plan, actor="bench")
        now = utcnow()
        started = time.perf_counter()
        worked, written = build(store, args.items, people, now, args.seed)
        seeded = time.perf_counter() - started
        print(
            f"seeded {args.items:,} items ({worked:,} worked by {people:,} people, {written:,} transitions) "
            f"on {store.dialect} in {seeded:.1f} s; peak RSS {peak_rss_mb():,.0f} MB"
        )
        started = time.perf_counter()
        resolved = remap(store, plan)
        settle(store)
        print(
            f"resolved {resolved.items:,} items under the sample plan and analyzed: "
            f"{time.perf_counter() - started:.1f} s"
        )

        calendar = WorkCalendar()
        first, last = calendar.window(None, None, now)
        window = TimeWindow(calendar.workdays(first, last), now, calendar.accounts)
        bare = median_seconds(functools.partial(floor, store), repeat=5)
        print(f"floor  transitions joined to items, counted per field: {bare * 1000:.1f} ms")

        started = time.perf_counter()
        facts = store.people_time.facts(window)
        seconds = time.perf_counter() - started
        person_days = math.fsum(float(row[3] or 0.0) for row in facts.groups)
        print(
            f"computation facts({first}..{last}): {seconds:.2f} s; {person_days:,.1f} person-days, "
            f"{facts.people:,} people, {len(window.workdays)} working days, {len(facts.groups)} group rows, "
            f"{facts.unattributed:,} unattributed items"
        )

        started = time.perf_counter()
        store.people_shares.refresh(calendar, now, full=True)
        full_refresh = time.perf_counter() - started
        with store.engine.connect() as conn:
            stored = conn.execute(select(func.count()).select_from(t.people_shares)).scalar_one()
        print(f"refresh full ({stored:,} share rows stored): {full_refresh:.2f} s")
        handed_over(store, now)
        started = time.perf_counter()
        done = store.people_shares.refresh(calendar, now + timedelta(seconds=1))
        incremental = time.perf_counter() - started
        print(
            f"refresh incremental ({done.kind}: {done.persons} people's rows, one item changed): "
            f"{incremental:.2f} s"
        )
        settle(store)
        floor_rows = median_seconds(functools.partial(rows_floor, store, first, last), repeat=5)
        print(f"floor  the window's stored shares, counted and summed: {floor_rows * 1000:.1f} ms")

        query = ReportQuery(measure="fte")
        build_report(store, plan, query)  # warm-up
        times = []
        for _ in range(args.runs):
            began = time.perf_counter()
            report = build_report(store, plan, query)
            times.append(time.perf_counter() - began)
        p50, p95 = statistics.median(times) * 1000, percentile(times, 0.95) * 1000
        print(
            f"report fte (default window, {args.runs} runs): p50 {p50:.0f} ms, p95 {p95:.0f} ms; "
            f"total {report['total']['effort']:,.1f} FTE, {report['people']:,} people"
        )
        _, _, shared = time_window(calendar, None, None, utcnow())  # as the trend asks: the stored shares
        by_day = median_seconds(functools.partial(store.people_time.by_day, shared), repeat=3)
        print(f"trend  person-days per working day and value (by_day), median of 3: {by_day * 1000:.0f} ms")
        started = time.perf_counter()
        store.people_shares.refresh(calendar, utcnow() + timedelta(days=1))  # last: reports now fall back
        new_day = time.perf_counter() - started
        print(f"refresh a new day (today and tomorrow for everyone): {new_day:.2f} s")
        ratio = seconds / bare
        print(
            f"RESULT people-time/{store.dialect}: ratio {ratio:.1f} of the computation to the floor; "
            f"computation {seconds:.2f} s at {args.items:,} items and {person_days:,.0f} person-days "
            f"(target <= {TARGET_SECONDS:g} s at 1,000,000 and 100,000: "
            f"{judged(seconds <= TARGET_SECONDS, args.items == COMPUTATION_AT)}); "
            f"fte report p95 {p95:.0f} ms from the stored shares, "
            f"ratio {p95 / 1000 / floor_rows:.1f} to their floor "
            f"(target <= {P95_TARGET_MS:g} ms at 10,000,000: "
            f"{judged(p95 <= P95_TARGET_MS, args.items == P95_AT)}); "
            f"refresh full {full_refresh:.2f} s, incremental {incremental:.2f} s, new day {new_day:.2f} s; "
            f"floors {bare * 1000:.1f} ms and {floor_rows * 1000:.1f} ms"
        )
        store.close()


if __name__ == "__main__":
    main()
