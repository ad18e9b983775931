"""People's time on hand-computed cases: person-days per value from stored histories.

The week of Monday 2 November 2026 (T0 is the Sunday before, 09:00 UTC); the window is its five
working days unless a test says otherwise. The plan is the documented example: ``slo-program``
serves customer-first 0.3 and reliability 0.7, ``self-serve-onboarding`` customer-first whole.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from itertools import count
from typing import Any

import pytest

from tests.factories import VALID, make_item
from v2mom.mapping.plan import load_plan
from v2mom.models import ItemTransition, State, WorkItem
from v2mom.store.database import Database
from v2mom.store.people_time import PeopleFacts, TimeWindow
from v2mom.store.resolution.run import remap
from v2mom.workdays import WorkCalendar

MONDAY = date(2026, 11, 2)
NOW = datetime(2026, 11, 9, 12, 0, tzinfo=UTC)  # the Monday after
SLO = ("method:slo-program",)
ONBOARDING = ("method:self-serve-onboarding",)
_events = count(1)


def at(day: int, hour: float = 9.0) -> datetime:
    """``hour`` o'clock UTC on the ``day``-th day of the week (0: Monday)."""
    return datetime.combine(MONDAY, datetime.min.time(), tzinfo=UTC) + timedelta(days=day, hours=hour)


def worked(
    item: str,
    who: str | None,
    start: datetime,
    end: datetime | None = None,
    *,
    tracker: str = "jira",
    finish: State = State.DONE,
) -> list[ItemTransition]:
    """``item`` assigned to ``who`` and started at ``start``, finished at ``end`` (None: still going)."""
    changes = [
        ItemTransition(
            tracker=tracker,
            item_id=item,
            event_id=str(next(_events)),
            at=start - timedelta(minutes=1),
            field="assignee",
            to_value=who,
        ),
        ItemTransition(
            tracker=tracker,
            item_id=item,
            event_id=str(next(_events)),
            at=start,
            field="status",
            from_value="1",
            to_value="3",
            to_category=State.IN_PROGRESS,
        ),
    ]
    if end is not None:
        changes.append(
            ItemTransition(
                tracker=tracker,
                item_id=item,
                event_id=str(next(_events)),
                at=end,
                field="status",
                from_value="3",
                to_value="5",
                to_category=finish,
            )
        )
    return changes


def facts(
    store: Database,
    items: Iterable[WorkItem],
    changes: Iterable[ItemTransition],
    *,
    first: date = MONDAY,
    last: date = MONDAY + timedelta(days=4),
    calendar: WorkCalendar | None = None,
    now: datetime = NOW,
    **filters: Any,
) -> PeopleFacts:
    """Store ``items`` and ``changes``, resolve them under the example plan, and count the window."""
    calendar = calendar or WorkCalendar()
    store.items.upsert(list(items))
    store.history.record(changes)
    remap(store, load_plan(VALID))
    window = TimeWindow(calendar.workdays(first, last), now, calendar.accounts)
    return store.people_time.facts(window, **filters)


def by_value(found: PeopleFacts) -> dict[str | None, float]:
    """Person-days per value id (None: untagged)."""
    out: dict[str | None, float] = {}
    for value_id, _method, _orphaned, days, *_ in found.groups:
        out[value_id] = out.get(value_id, 0.0) + float(days)
    return out


def two_people() -> tuple[list[WorkItem], list[ItemTransition]]:
    """Ada works item 1 (slo-program) all week and item 2 (self-serve-onboarding) on Wednesday and
    Thursday; Bob works item 3 (untagged) on Monday and Tuesday."""
    items = [
        make_item("1", labels=SLO, state=State.IN_PROGRESS),
        make_item("2", labels=ONBOARDING, state=State.DONE),
        make_item("3", state=State.DONE),  # untagged
    ]
    changes = [
        *worked("1", "ada", at(0)),  # Monday to Friday and on
        *worked("2", "ada", at(2), at(3, 17)),  # Wednesday and Thursday
        *worked("3", "bob", at(0), at(1, 17)),  # Monday and Tuesday
    ]
    return items, changes


def test_two_people_share_their_days_equally_across_what_each_had_in_progress(store: Database) -> None:
    items, changes = two_people()
    got = facts(store, items, changes)
    # Ada: item 1 alone on Mon, Tue, Fri (3 days) and half of Wed and Thu (1): 4; item 2 half of
    # Wed and Thu: 1. Bob: item 3 Mon and Tue: 2. Item 1 splits 0.3 / 0.7.
    values = by_value(got)
    assert values["customer-first"] == pytest.approx(4 * 0.3 + 1)
    assert values["reliability"] == pytest.approx(4 * 0.7)
    assert values[None] == pytest.approx(2)
    assert math.fsum(values.values()) == pytest.approx(7)
    assert got.people == 2
    assert got.unattributed == 0


def test_a_sub_task_carries_the_day_its_parent_was_in_progress_too(store: Database) -> None:
    items = [
        make_item("10", labels=ONBOARDING, state=State.IN_PROGRESS),
        make_item("11", labels=SLO, parent_id="10", state=State.DONE),
    ]
    changes = [*worked("10", "ada", at(0)), *worked("11", "ada", at(1, 10), at(1, 15))]
    values = by_value(facts(store, items, changes))
    # Tuesday is the sub-task's alone (0.3 / 0.7); the parent has the other four days.
    assert values["customer-first"] == pytest.approx(4 + 0.3)
    assert values["reliability"] == pytest.approx(0.7)


def test_a_grandchild_carries_the_day_past_its_parent(store: Database) -> None:
    items = [
        make_item("20", labels=ONBOARDING, state=State.IN_PROGRESS),
        make_item("21", parent_id="20", state=State.IN_PROGRESS),
        make_item("22", labels=SLO, parent_id="21", state=State.DONE),
    ]
    changes = [
        *worked("20", "ada", at(0)),
        *worked("21", "ada", at(0)),
        *worked("22", "ada", at(0, 10), at(0, 11)),
    ]
    values = by_value(facts(store, items, changes, last=MONDAY))
    assert values == {"reliability": pytest.approx(0.7), "customer-first": pytest.approx(0.3)}


def test_weekends_count_nothing(store: Database) -> None:
    items = [make_item("30", labels=ONBOARDING, state=State.DONE), make_item("31", state=State.DONE)]
    changes = [
        *worked("30", "ada", at(5, 9), at(6, 18)),  # Saturday and Sunday only
        *worked("31", "bob", at(4, 9), at(7, 9)),  # Friday to the next Monday morning
    ]
    got = facts(store, items, changes, last=MONDAY + timedelta(days=7))
    assert by_value(got) == {None: pytest.approx(2)}  # Bob's Friday and Monday
    assert got.people == 1


def test_a_working_week_of_the_settings_counts_its_own_days(store: Database) -> None:
    items = [make_item("32", state=State.DONE)]
    changes = worked("32", "ada", at(5, 9), at(6, 18))
    calendar = WorkCalendar(work_week=frozenset({5, 6}))  # Saturday and Sunday
    got = facts(store, items, changes, last=MONDAY + timedelta(days=6), calendar=calendar)
    assert by_value(got) == {None: pytest.approx(2)}


def test_one_person_on_two_trackers_shares_one_day_across_both(store: Database) -> None:
    items = [
        make_item("40", labels=ONBOARDING, state=State.DONE),
        make_item("41", tracker="linear", key="ENG-41", container="ENG", labels=SLO, state=State.DONE),
    ]
    changes = [
        *worked("40", "ada-jira", at(0, 9), at(0, 17)),
        *worked("41", "ada-linear", at(0, 10), at(0, 16), tracker="linear"),
    ]
    one = WorkCalendar(accounts={("jira", "ada-jira"): "Ada", ("linear", "ada-linear"): "Ada"})
    got = facts(store, items, changes, last=MONDAY, calendar=one)
    assert by_value(got) == {
        "customer-first": pytest.approx(0.5 + 0.5 * 0.3),
        "reliability": pytest.approx(0.5 * 0.7),
    }
    assert got.people == 1


def test_unmapped_accounts_on_two_trackers_are_two_people(store: Database) -> None:
    items = [
        make_item("42", labels=ONBOARDING, state=State.DONE),
        make_item("43", tracker="linear", key="ENG-43", container="ENG", labels=SLO, state=State.DONE),
    ]
    changes = [
        *worked("42", "ada-jira", at(0, 9), at(0, 17)),
        *worked("43", "ada-linear", at(0, 10), at(0, 16), tracker="linear"),
    ]
    got = facts(store, items, changes, last=MONDAY)
    assert math.fsum(by_value(got).values()) == pytest.approx(2)
    assert got.people == 2


def test_work_nobody_holds_is_unattributed_and_counts_no_time(store: Database) -> None:
    items = [make_item("50", labels=ONBOARDING, state=State.IN_PROGRESS), make_item("51", state=State.DONE)]
    changes = [*worked("50", None, at(0)), *worked("51", "ada", at(0), at(0, 17))]
    got = facts(store, items, changes)
    assert by_value(got) == {None: pytest.approx(1)}
    assert got.unattributed == 1
    assert got.people == 1


def test_a_day_is_the_settings_zones_day(store: Database) -> None:
    items = [make_item("60", state=State.DONE)]
    # 02:00-03:00 UTC on Tuesday is 21:00-22:00 on Monday in New York.
    changes = worked("60", "ada", at(1, 2), at(1, 3))
    tuesday = MONDAY + timedelta(days=1)
    in_utc = facts(store, items, changes, first=tuesday, last=tuesday)
    in_new_york = store.people_time.facts(
        TimeWindow(WorkCalendar(timezone="America/New_York").workdays(tuesday, tuesday), NOW, {})
    )
    monday_in_new_york = store.people_time.facts(
        TimeWindow(WorkCalendar(timezone="America/New_York").workdays(MONDAY, MONDAY), NOW, {})
    )
    assert by_value(in_utc) == {None: pytest.approx(1)}
    assert by_value(in_new_york) == {}
    assert by_value(monday_in_new_york) == {None: pytest.approx(1)}


def test_a_change_dated_in_the_future_counts_as_made_now(store: Database) -> None:
    items = [make_item("70", state=State.DONE)]
    changes = worked("70", "ada", at(3, 9), at(400, 9))  # "finished" more than a year from now
    got = facts(store, items, changes, last=MONDAY + timedelta(days=20), now=at(4, 12))
    assert by_value(got) == {None: pytest.approx(2)}  # Thursday and Friday, then now


def test_work_still_going_counts_no_day_after_now(store: Database) -> None:
    items = [make_item("71", state=State.IN_PROGRESS)]
    got = facts(store, items, worked("71", "ada", at(3, 9)), last=MONDAY + timedelta(days=20), now=at(4, 12))
    assert by_value(got) == {
        None: pytest.approx(2)
    }  # Thursday and Friday: the window's later days are to come


def test_a_history_out_of_order_is_never_negative(store: Database) -> None:
    items = [make_item("80", state=State.IN_PROGRESS)]
    done_first = ItemTransition(
        tracker="jira",
        item_id="80",
        event_id="done",
        at=at(0, 10),
        field="status",
        to_value="5",
        to_category=State.DONE,
    )
    changes = [done_first, *worked("80", "ada", at(1, 10))]  # done on Monday, started on Tuesday
    got = facts(store, items, changes)
    assert by_value(got) == {None: pytest.approx(4)}  # Tuesday to Friday
    assert all(float(row[3]) >= 0 for row in got.groups)


def test_work_in_progress_for_a_year_is_capped_at_the_window(store: Database) -> None:
    items = [make_item("90", labels=ONBOARDING, state=State.IN_PROGRESS)]
    changes = worked("90", "ada", at(-365))
    assert by_value(facts(store, items, changes)) == {"customer-first": pytest.approx(5)}


def test_state_and_tracker_filters_keep_their_items_time(store: Database) -> None:
    items = [
        make_item("100", state=State.DONE),
        make_item("101", state=State.IN_PROGRESS),
        make_item("102", tracker="linear", key="ENG-102", container="ENG", state=State.DONE),
    ]
    changes = [
        *worked("100", "ada", at(0), at(0, 17)),
        *worked("101", "ada", at(0)),
        *worked("102", "bob", at(0), at(0, 17), tracker="linear"),
    ]
    done = facts(store, items, changes, last=MONDAY, state="done")
    assert by_value(done) == {None: pytest.approx(1.5)}  # Ada's half of item 100, Bob's whole day
    linear = store.people_time.facts(
        TimeWindow(WorkCalendar().workdays(MONDAY, MONDAY), NOW, {}), tracker="linear"
    )
    assert by_value(linear) == {None: pytest.approx(1)}
    assert linear.people == 1


def test_deleted_and_canceled_items(store: Database) -> None:
    items = [
        make_item("110", state=State.CANCELED),
        make_item("111", labels=ONBOARDING, state=State.DONE),
        make_item("112", labels=SLO, state=State.DONE),
    ]
    changes = [
        *worked("110", "ada", at(0), at(0, 17), finish=State.CANCELED),
        *worked("111", "ada", at(0), at(0, 17)),
        *worked("112", "ada", at(0), at(0, 17)),
    ]
    got = facts(store, items, changes, last=MONDAY)
    # The canceled item took its third of Monday, which no value counts.
    assert by_value(got) == {
        "customer-first": pytest.approx(1 / 3 + 0.3 / 3),
        "reliability": pytest.approx(0.7 / 3),
    }
    store.items.mark_deleted("jira", ["112"], at=NOW)
    after = store.people_time.facts(TimeWindow(WorkCalendar().workdays(MONDAY, MONDAY), NOW, {}))
    assert by_value(after) == {"customer-first": pytest.approx(0.5)}  # a deleted item was never there


def test_an_empty_window_counts_nothing(store: Database) -> None:
    saturday = MONDAY + timedelta(days=5)
    got = facts(store, [make_item("120")], worked("120", "ada", at(5)), first=saturday, last=saturday)
    assert got == PeopleFacts(groups=[], people=0, unattributed=0)


def asana_task(gid: str, **fields: Any) -> WorkItem:
    """An Asana task of the Growth project (the example plan's rule names no Asana field here)."""
    return make_item(gid, tracker="asana", key=gid, container="growth", **fields)


def asana_changes(
    gid: str, assigned: tuple[datetime, str] | None, completed: datetime | None
) -> list[ItemTransition]:
    """An Asana task's stories as the connector reads them: an assignment, a completion."""
    out = []
    if assigned is not None:
        moment, who = assigned
        out.append(
            ItemTransition(
                tracker="asana", item_id=gid, event_id=f"{gid}-a", at=moment, field="assignee", to_value=who
            )
        )
    if completed is not None:
        out.append(
            ItemTransition(
                tracker="asana",
                item_id=gid,
                event_id=f"{gid}-c",
                at=completed,
                field="status",
                from_value="incomplete",
                to_value="completed",
                to_category=State.DONE,
            )
        )
    return out


def test_an_asana_task_is_worked_on_from_its_assignment_until_it_is_completed(store: Database) -> None:
    items = [asana_task("130", state=State.DONE), asana_task("131", state=State.TODO)]
    changes = [
        *asana_changes("130", (at(0, 10), "ada"), at(2, 12)),  # Monday to Wednesday
        *asana_changes("131", (at(3, 10), "bob"), None),  # Thursday and still open
    ]
    got = facts(store, items, changes)
    assert by_value(got) == {None: pytest.approx(3 + 2)}
    assert got.people == 2


def test_an_asana_task_with_a_start_is_not_worked_on_before_it(store: Database) -> None:
    items = [asana_task("140", state=State.DONE, started_at=at(1, 0))]
    changes = asana_changes("140", (at(0, 10), "ada"), at(2, 12))
    assert by_value(facts(store, items, changes)) == {None: pytest.approx(2)}  # Tuesday, Wednesday


def test_an_asana_task_completed_before_its_start_counts_no_day(store: Database) -> None:
    """Completed on Tuesday, its start set to Thursday: no day, never a negative one; a task another
    person held the same days keeps its own."""
    items = [
        asana_task("145", state=State.DONE, started_at=at(3, 0)),
        asana_task("146", state=State.DONE, started_at=at(0, 0)),
    ]
    changes = [
        *asana_changes("145", (at(0, 8), "ada"), at(1, 12)),
        *asana_changes("146", (at(0, 8), "bob"), at(1, 12)),
    ]
    got = facts(store, items, changes)
    assert by_value(got) == {None: pytest.approx(2)}  # Monday and Tuesday, bob's
    assert got.people == 1
    assert all(float(row[3]) >= 0 for row in got.groups)


def test_an_asana_task_without_stories_is_held_by_its_assignee_until_completed(store: Database) -> None:
    items = [asana_task("150", state=State.DONE, assignee="ada", completed_at=at(1, 12), started_at=at(0, 9))]
    assert by_value(facts(store, items, [])) == {None: pytest.approx(2)}


def test_an_item_without_history_is_held_by_its_assignee_from_its_creation(store: Database) -> None:
    items = [
        make_item("160", state=State.IN_PROGRESS, assignee="ada", created_at=at(2, 9), labels=ONBOARDING),
        make_item("161", state=State.TODO, assignee="ada", created_at=at(0, 9)),  # never started
    ]
    assert by_value(facts(store, items, [])) == {"customer-first": pytest.approx(3)}  # Wed to Fri


def test_the_assignee_before_the_first_recorded_change_holds_the_item_until_it(store: Database) -> None:
    items = [make_item("170", state=State.IN_PROGRESS)]
    handed_over = ItemTransition(
        tracker="jira",
        item_id="170",
        event_id="h",
        at=at(2, 12),
        field="assignee",
        from_value="ada",
        to_value="bob",
    )
    started = ItemTransition(
        tracker="jira",
        item_id="170",
        event_id="s",
        at=at(0, 9),
        field="status",
        to_value="3",
        to_category=State.IN_PROGRESS,
    )
    got = facts(store, items, [started, handed_over])
    # Ada Monday to Wednesday (3), Bob Wednesday to Friday (3): Wednesday is a whole day for each.
    assert by_value(got) == {None: pytest.approx(6)}
    assert got.people == 2


def test_one_items_person_days_count_its_shared_days_by_half(store: Database) -> None:
    items = [
        make_item("180", labels=SLO, state=State.DONE),
        make_item("181", state=State.DONE),
        make_item("182", state=State.DONE),
    ]
    changes = [
        *worked("180", "ada", at(0), at(4, 17)),  # Monday to Friday
        *worked("181", "ada", at(2), at(3, 17)),  # Wednesday and Thursday: Ada's days shared
        *worked("182", "bob", at(0), at(4, 17)),  # another person's work takes nothing from hers
    ]
    facts(store, items, changes)
    window = TimeWindow(WorkCalendar().workdays(MONDAY, MONDAY + timedelta(days=4)), NOW, {})

    def item_days(key: str) -> tuple[float, int]:
        found = store.items.find("jira", key)
        assert found is not None
        return store.people_time.item_days(window, found.pk)

    # Item 180: Monday, Tuesday and Friday alone (3), half of Wednesday and Thursday (1).
    assert item_days("ONB-180") == (pytest.approx(4.0), 5)
    assert item_days("ONB-181") == (pytest.approx(1.0), 2)
    wednesday = TimeWindow(
        WorkCalendar().workdays(MONDAY + timedelta(days=2), MONDAY + timedelta(days=2)), NOW, {}
    )
    found = store.items.find("jira", "ONB-180")
    assert found is not None
    assert store.people_time.item_days(wednesday, found.pk) == (pytest.approx(0.5), 1)


def test_per_team_and_per_day_the_weighted_days_add_up_as_the_report_does(store: Database) -> None:
    items, changes = two_people()
    facts(store, items, changes)  # stores and resolves them
    calendar = WorkCalendar()
    window = TimeWindow(calendar.workdays(MONDAY, MONDAY + timedelta(days=4)), NOW, calendar.accounts)
    teams = store.people_time.by_team(window, {"company": [None]})
    per_value: dict[str | None, float] = {}
    items_counted: dict[str | None, int] = {}
    for team, value_id, _method, days, counted in teams.rows:
        assert team is None  # the example plan has no teams: the company's own work
        per_value[value_id] = per_value.get(value_id, 0.0) + days
        items_counted[value_id] = items_counted.get(value_id, 0) + counted
    assert per_value == {
        "customer-first": pytest.approx(4 * 0.3 + 1),
        "reliability": pytest.approx(4 * 0.7),
        None: pytest.approx(2),
    }
    assert sum(items_counted.values()) == 3  # each item once, under the first of its values
    assert (teams.people, teams.everyone) == ({"company": 2}, 2)
    days = store.people_time.by_day(window)

    def on(day: date) -> dict[str | None, float]:
        """Person-days per value on ``day`` (rows come per value and method)."""
        found: dict[str | None, float] = {}
        for when, value_id, _unaligned, worked_days in days.rows:
            if when == day:
                found[value_id] = found.get(value_id, 0.0) + worked_days
        return found

    # Monday: Ada has item 1 alone (0.3 / 0.7), Bob item 3 (untagged).
    assert on(MONDAY) == {"customer-first": pytest.approx(0.3), "reliability": pytest.approx(0.7), None: 1}
    # Wednesday: Ada halves items 1 and 2; Bob is done.
    wednesday = on(MONDAY + timedelta(days=2))
    assert wednesday == {"customer-first": pytest.approx(0.5 * 0.3 + 0.5), "reliability": pytest.approx(0.35)}
    assert days.people == 2


def test_an_asana_task_with_no_start_is_in_progress_only_while_assigned(store: Database) -> None:
    unassigned = ItemTransition(
        tracker="asana", item_id="191", event_id="191-u", at=at(2, 12), field="assignee", from_value="ada"
    )
    items = [
        asana_task("190", state=State.TODO),  # never assigned, no start: nobody's work, not in progress
        asana_task("191", state=State.TODO),  # Ada's from Monday until unassigned on Wednesday noon
        asana_task("192", state=State.TODO),  # assigned on Thursday: not in progress before
    ]
    changes = [
        *asana_changes("191", (at(0, 9), "ada"), None),
        unassigned,
        *asana_changes("192", (at(3, 9), "bob"), None),
    ]
    got = facts(store, items, changes)
    assert by_value(got) == {None: pytest.approx(3 + 2)}  # Ada Mon-Wed, Bob Thu-Fri
    assert got.unattributed == 0


def test_an_asana_task_with_a_start_and_nobody_assigned_is_unattributed(store: Database) -> None:
    items = [asana_task("195", state=State.TODO, started_at=at(1, 9))]
    got = facts(store, items, [])
    assert by_value(got) == {}
    assert got.unattributed == 1
