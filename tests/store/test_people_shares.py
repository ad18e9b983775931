"""The stored people's shares answer exactly as the computation from the histories, and follow every
change before the next report: a new or replaced history, an item written or deleted, a parent
moved, a new day, a future-dated change coming due, and another calendar or ``people:`` mapping."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.factories import VALID, make_item
from tests.store.test_people_time import MONDAY, NOW, ONBOARDING, SLO, at, worked
from v2mom.mapping.plan import load_plan
from v2mom.models import ItemTransition, State
from v2mom.store import schema as t
from v2mom.store.database import Database
from v2mom.store.people_time import TimeWindow
from v2mom.store.resolution.run import remap
from v2mom.workdays import WorkCalendar

LAST = MONDAY + timedelta(days=6)  # through the Sunday: NOW is the Monday after
MAPPED = WorkCalendar(accounts={("jira", "ada"): "Ada", ("linear", "ada-linear"): "Ada"})

ITEMS = [
    make_item("1", labels=SLO, state=State.IN_PROGRESS),
    make_item("2", labels=ONBOARDING, state=State.DONE),
    make_item("3", state=State.DONE),
    make_item("4", labels=ONBOARDING, state=State.IN_PROGRESS),
    make_item("5", labels=SLO, state=State.IN_PROGRESS),  # an epic
    make_item("6", state=State.IN_PROGRESS, parent_id="5"),  # its story
    make_item("7", state=State.IN_PROGRESS, parent_id="6"),  # and the story's sub-task
    make_item("8", tracker="linear", key="ENG-8", container="ENG", labels=SLO, state=State.DONE),
    make_item("9", state=State.CANCELED),
]
CHANGES = [
    *worked("1", "ada", at(0)),
    *worked("2", "ada", at(2), at(3, 17)),
    *worked("3", "bob", at(0), at(1, 17)),
    *worked("4", None, at(0)),  # nobody's
    *worked("5", "cy", at(0)),
    *worked("7", "cy", at(1)),  # the epic yields Cy's days to the sub-task, through the story
    *worked("8", "ada-linear", at(3, 10), at(3, 16), tracker="linear"),
    *worked("9", "bob", at(0), at(0, 17), finish=State.CANCELED),
]


def seeded(store: Database) -> None:
    store.items.upsert(ITEMS)
    store.history.record(CHANGES)
    remap(store, load_plan(VALID))


def window(calendar: WorkCalendar, now: datetime = NOW, *, stored: bool = True) -> TimeWindow:
    """The week of MONDAY and the next Monday and Tuesday; with ``stored``, answerable from the
    stored shares."""
    days = calendar.workdays(MONDAY, LAST + timedelta(days=2))
    return TimeWindow(days, now, calendar.accounts, calendar if stored else None)


def answers(store: Database, frame: TimeWindow, **filters: Any) -> dict[str, Any]:
    """Every people's-time answer for ``frame``, in a comparable form (floats rounded)."""

    def rounded(row: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(round(v, 9) if isinstance(v, float) else v for v in row)

    queries = store.people_time
    facts = queries.facts(frame, **filters)
    teams = queries.by_team(frame, {}, state=filters.get("state", "all"), tracker=filters.get("tracker"))
    days = queries.by_day(frame, tracker=filters.get("tracker"))
    pks = store.engine.connect().execute(select(t.items.c.pk)).scalars().all()
    return {
        "groups": sorted(map(rounded, facts.groups), key=repr),
        "people": facts.people,
        "unattributed": facts.unattributed,
        "teams": sorted(map(rounded, teams.rows), key=repr),
        "everyone": teams.everyone,
        "days": sorted(map(rounded, days.rows), key=repr),
        "day_people": days.people,
        "items": {pk: rounded(queries.item_days(frame, pk)) for pk in pks},
    }


def assert_same(
    store: Database, calendar: WorkCalendar, now: datetime = NOW, **filters: Any
) -> dict[str, Any]:
    """The stored shares answer ``calendar``'s window at ``now``, exactly as the computation does."""
    stored = window(calendar, now)
    from_rows = answers(store, stored, **filters)
    assert store.people_shares.covers(stored)  # the rows answered, not the fallback
    assert from_rows == answers(store, window(calendar, now, stored=False), **filters)
    return from_rows


def shares_of(store: Database) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(t.people_shares)).scalar_one())


@pytest.mark.parametrize("filters", [{}, {"state": "done"}, {"state": "open"}, {"tracker": "linear"}])
def test_the_stored_shares_answer_as_the_computation(store: Database, filters: dict[str, Any]) -> None:
    seeded(store)
    got = assert_same(store, MAPPED, **filters)
    assert shares_of(store) > 0
    if not filters:
        assert (got["people"], got["unattributed"]) == (3, 2)  # item 4, and the story nobody held


def test_a_tracker_filter_keeps_each_item_its_share_of_a_day_shared_across_trackers(store: Database) -> None:
    seeded(store)
    # Thursday: Ada held items 1 and 2 (Jira) and item 8 (Linear), mapped as one person: a third each.
    linear = assert_same(store, MAPPED, tracker="linear")
    assert sum(row[3] for row in linear["groups"]) == pytest.approx(1 / 3)


def test_a_new_history_entry_counts_in_the_next_report(store: Database) -> None:
    seeded(store)
    before = assert_same(store, MAPPED)
    store.history.record(worked("3", "bob", at(2), at(4, 17)))  # Bob took item 3 up again
    after = assert_same(store, MAPPED)
    assert after != before


def test_a_replaced_history_drops_what_it_no_longer_holds(store: Database) -> None:
    seeded(store)
    assert_same(store, MAPPED)
    store.history.replace("jira", ["2"], [])  # a history read found no change: nobody worked on it
    after = assert_same(store, MAPPED)
    pk = pk_of(store, "2")
    assert after["items"][pk] == (0.0, 0)


def test_a_change_a_webhook_recorded_counts_in_the_next_report(store: Database) -> None:
    seeded(store)
    before = assert_same(store, MAPPED)
    recorded = store.history.record_provisional(
        "jira",
        "4",
        [
            ItemTransition(
                tracker="jira", item_id="4", event_id="webhook:1", at=at(2), field="assignee", to_value="dee"
            )
        ],
    )
    assert recorded == 1
    after = assert_same(store, MAPPED)
    assert after["people"] == before["people"] + 1
    assert after["unattributed"] == before["unattributed"]  # item 4 was nobody's on Monday still


def test_an_item_written_deleted_or_moved_counts_in_the_next_report(store: Database) -> None:
    seeded(store)
    assert_same(store, MAPPED)
    store.items.upsert(
        [
            ITEMS[5].model_copy(
                update={"parent_id": None, "updated_at": ITEMS[5].updated_at + timedelta(hours=1)}
            )
        ]
    )
    moved = assert_same(store, MAPPED)
    store.items.mark_deleted("jira", ["1"], at=NOW)
    deleted = assert_same(store, MAPPED)
    assert moved != deleted
    store.items.upsert(
        [
            ITEMS[0].model_copy(
                update={"state": State.DONE, "updated_at": ITEMS[0].updated_at + timedelta(hours=1)}
            )
        ]
    )
    assert_same(store, MAPPED, state="done")


def test_a_plan_change_moves_the_stored_days_to_the_items_new_values(store: Database) -> None:
    """A plan change writes no item and no history, so no row is computed again: the rows' copy of
    each item's resolution follows the re-resolution itself."""
    seeded(store)
    before = assert_same(store, MAPPED)
    reliability_only = VALID.replace(
        "weights: {customer-first: 0.3, reliability: 0.7}", "values: [reliability]"
    )
    assert reliability_only != VALID
    remap(store, load_plan(reliability_only))
    after = assert_same(store, MAPPED)
    assert after["groups"] != before["groups"]
    assert {row[0] for row in after["groups"] if row[1] == "slo-program"} == {"reliability"}


def test_an_item_resolved_after_its_rows_were_computed_counts_as_resolved(store: Database) -> None:
    """A report between an item's write and its re-resolution computes the item's rows under its old
    resolution; the re-resolution then moves them (here: canceled, so counted nowhere)."""
    seeded(store)
    assert_same(store, MAPPED)
    canceled = ITEMS[0].model_copy(
        update={"state": State.CANCELED, "updated_at": ITEMS[0].updated_at + timedelta(hours=1)}
    )
    store.items.upsert([canceled])
    stale = assert_same(store, MAPPED)  # computed now, while item 1's resolution is still in progress
    remap(store, load_plan(VALID))
    after = assert_same(store, MAPPED)
    item = pk_of(store, "1")
    assert after["items"][item] == stale["items"][item]  # its days are still its days
    assert after["groups"] != stale["groups"]  # but no value counts them any more
    assert sum(row[3] for row in after["groups"]) < sum(row[3] for row in stale["groups"])


def test_a_deleted_middle_item_ends_its_descendants_lineage(store: Database) -> None:
    seeded(store)
    assert_same(store, MAPPED)
    store.items.mark_deleted("jira", ["6"], at=NOW)  # Cy held neither the story nor its deletion
    after = assert_same(store, MAPPED)
    epic = pk_of(store, "5")
    assert after["items"][epic][0] > 0  # the epic no longer yields to the sub-task


def test_a_new_day_and_a_future_dated_change_count_when_they_come(store: Database) -> None:
    seeded(store)
    store.history.record(worked("3", "bob", NOW + timedelta(hours=2)))  # recorded ahead of its time
    assert_same(store, MAPPED)
    later = assert_same(store, MAPPED, now=NOW + timedelta(hours=3))  # same day, the change now due
    assert later["people"] == 3
    tuesday = assert_same(store, MAPPED, now=NOW + timedelta(days=1))
    assert tuesday != later


@pytest.mark.parametrize(
    "calendar",
    [
        WorkCalendar(timezone="Asia/Tokyo", accounts=MAPPED.accounts),
        WorkCalendar(work_week=frozenset({0, 1, 2, 3, 4, 5}), accounts=MAPPED.accounts),
        WorkCalendar(),  # Ada's two accounts are two people again
    ],
)
def test_another_calendar_or_mapping_counts_in_the_next_report(
    store: Database, calendar: WorkCalendar
) -> None:
    seeded(store)
    before = assert_same(store, MAPPED)
    assert assert_same(store, calendar) != before


def test_a_window_before_the_days_stored_is_computed_from_the_histories(store: Database) -> None:
    seeded(store)
    assert_same(store, MAPPED)
    old = MAPPED.workdays(MONDAY - timedelta(days=800), MONDAY - timedelta(days=790))
    assert not store.people_shares.covers(TimeWindow(old, NOW, MAPPED.accounts, MAPPED))
    assert store.people_time.facts(TimeWindow(old, NOW, MAPPED.accounts, MAPPED)).people == 0


def test_a_refresh_with_nothing_changed_does_nothing(store: Database) -> None:
    seeded(store)
    assert store.people_shares.refresh(MAPPED, NOW).kind == "full"
    assert store.people_shares.refresh(MAPPED, NOW + timedelta(minutes=5)).kind == "none"
    store.history.record(worked("3", "bob", at(3)))
    done = store.people_shares.refresh(MAPPED, NOW + timedelta(minutes=6))
    assert (done.kind, done.persons, done.changes) == ("incremental", 1, 1)
    assert store.people_shares.refresh(MAPPED, NOW - timedelta(days=1)).kind == "none"  # rows are newer


def test_the_first_day_covered_is_a_window_of_covered_days_before_today(store: Database) -> None:
    seeded(store)
    store.people_shares.refresh(MAPPED, NOW)
    with store.engine.connect() as conn:
        state = conn.execute(select(t.people_state)).one()
    assert (state.first_day, state.last_day) == (date(2025, 10, 6), NOW.date())


def pk_of(store: Database, item_id: str) -> int:
    found = store.items.by_id("jira", item_id)
    assert found is not None
    return found.pk
