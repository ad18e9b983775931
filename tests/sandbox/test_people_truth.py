"""The people's-time oracle (sandbox.people_truth) on hand-computed cases, then on each sandbox.

The hand-computed cases live in one week: Monday 2 November 2026 to Sunday 8 November (UTC unless
a case says otherwise), Monday to Friday at work, so the window has 5 working days.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from typing import Any

import pytest

from v2mom.sandbox.asana.generator import generate_asana_workspace
from v2mom.sandbox.generator import DEFAULT_NOW, generate_jira_workspace
from v2mom.sandbox.ground_truth import GroundTruth, TruthItem
from v2mom.sandbox.history import Recorded
from v2mom.sandbox.linear.generator import generate_linear_workspace
from v2mom.sandbox.people_truth import (
    Category,
    PeopleItem,
    PeopleTime,
    asana_started_at,
    default_window,
    people_report,
    person_days,
)

MON, TUE, WED, THU, FRI, SAT, SUN = range(2, 9)  # days of November 2026
WEEK = {"start": date(2026, 11, MON), "end": date(2026, 11, SUN)}
LATER = datetime(2026, 11, 20, 12, tzinfo=UTC)  # a "now" long after the week


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def item(
    item_id: str,
    state: Category = "in_progress",
    *,
    parent: str | None = None,
    tracker: str = "jira",
    **kw: Any,
) -> PeopleItem:
    return PeopleItem(tracker=tracker, id=item_id, parent_id=parent, state=state, **kw)


class History:
    """Changes as a tracker records them, with event ids in the order they are written."""

    def __init__(self) -> None:
        self.changes: list[Recorded] = []
        self._ids = itertools.count(1)

    def _event(self, event: str | None) -> str:
        return event if event is not None else f"{next(self._ids):04d}"

    def status(self, item_id: str, when: datetime, category: str, event: str | None = None) -> History:
        self.changes.append(Recorded(item_id, self._event(event), when, "status", None, category, category))
        return self

    def assign(self, item_id: str, when: datetime, before: str | None, after: str | None) -> History:
        self.changes.append(Recorded(item_id, self._event(None), when, "assignee", before, after, None))
        return self

    def worked(self, item_id: str, who: str, start: datetime, end: datetime | None = None) -> History:
        """``who`` assigned and the item in progress from ``start``, done at ``end`` (None: still on)."""
        self.assign(item_id, start, None, who).status(item_id, start, "in_progress")
        return self.status(item_id, end, "done") if end is not None else self


def run(
    items: Iterable[PeopleItem], history: History, *, tracker: str = "jira", **options: Any
) -> PeopleTime:
    window: dict[str, Any] = {**WEEK, "now": LATER, **options}
    return person_days(items, {tracker: history.changes}, **window)


def days_of(spent: PeopleTime) -> dict[str, float]:
    """Item id -> person-days, rounded (ids are unique across the trackers of these cases)."""
    return {item_id: round(days, 9) for (_, item_id), days in spent.item_days.items()}


def test_two_people_each_get_their_own_days() -> None:
    # ann: A from Mon 09:00 to Tue 17:00 -> Mon, Tue = 2 days. bob: B Mon 10:00-16:00 -> 1 day.
    history = (
        History().worked("A", "ann", at(MON, 9), at(TUE, 17)).worked("B", "bob", at(MON, 10), at(MON, 16))
    )
    spent = run([item("A", "done"), item("B", "done")], history)
    assert days_of(spent) == {"A": 2, "B": 1}
    assert spent.people == 2
    assert spent.days_worked == {"jira:ann": 2, "jira:bob": 1}
    assert spent.working_days == 5
    assert spent.unattributed == frozenset()
    assert spent.clamped == 0


def test_one_persons_overlapping_items_share_each_day_equally() -> None:
    # ann: A Mon 09:00 -> Wed 12:00, B Tue 10:00 -> Tue 15:00.
    # Mon {A}: A 1. Tue {A, B}: A 1/2, B 1/2. Wed {A}: A 1.  A = 2.5, B = 0.5; 3 person-days.
    history = (
        History().worked("A", "ann", at(MON, 9), at(WED, 12)).worked("B", "ann", at(TUE, 10), at(TUE, 15))
    )
    spent = run([item("A", "done"), item("B", "done")], history)
    assert days_of(spent) == {"A": 2.5, "B": 0.5}
    assert spent.days_worked == {"jira:ann": 3}


def test_the_leaf_carries_the_day_at_any_depth() -> None:
    # Epic E > story P > sub-task S, all ann's; T, a sub-task of P, is bob's.
    # ann: E Mon 08:00 -> Wed 12:00, P Mon 09:00 -> Tue 17:00, S Mon 10:00 -> 15:00 and again
    # Wed 09:00 -> 10:00.
    # Mon {E, P, S}: S is a descendant of both -> S 1. Tue {E, P}: P is E's child -> P 1.
    # Wed {E, S}: S is E's grandchild (through P, not worked on that day) -> S 1. E: nothing.
    # bob: T Tue 09:00 -> 11:00 -> T 1; bob's sub-task does not take ann's Tuesday from P.
    history = (
        History()
        .worked("E", "ann", at(MON, 8), at(WED, 12))
        .worked("P", "ann", at(MON, 9), at(TUE, 17))
        .worked("S", "ann", at(MON, 10), at(MON, 15))
        .status("S", at(WED, 9), "in_progress")
        .status("S", at(WED, 10), "done")
        .worked("T", "bob", at(TUE, 9), at(TUE, 11))
    )
    items = [
        item("E", "done"),
        item("P", "done", parent="E"),
        item("S", "done", parent="P"),
        item("T", "done", parent="P"),
    ]
    spent = run(items, history)
    assert days_of(spent) == {"S": 2, "P": 1, "T": 1}


def test_a_parent_is_one_of_the_same_tracker_and_live() -> None:
    # ann (one person in both trackers) works on Jira's E and on Linear's S on Monday. S names a
    # parent "E", which Linear does not have (Jira's E is another tracker's): S is nobody's
    # descendant, so E and S share the day, 1/2 each. The same with S under a parent P that is
    # not live.
    history = History().worked("E", "ann", at(MON, 9), at(MON, 17))
    linear = History().worked("S", "ann", at(MON, 10), at(MON, 15))
    changes = {"jira": history.changes, "linear": linear.changes}
    for parent in ("E", "P"):
        items = [item("E", "done"), item("S", "done", parent=parent, tracker="linear")]
        people = {("jira", "ann"): "ann", ("linear", "ann"): "ann"}
        spent = person_days(items, changes, now=LATER, people=people, **WEEK)
        assert days_of(spent) == {"E": 0.5, "S": 0.5}


def test_weekends_are_no_working_days() -> None:
    # A: Thu 12:00 -> Sat 12:00. Mon-Fri week: Thu, Fri = 2. A Sun-Thu week: Thu = 1.
    # B: Sat 10:00 -> Sun 10:00, only the weekend: nothing in a Mon-Fri week, Sun = 1 in Sun-Thu.
    history = (
        History().worked("A", "ann", at(THU, 12), at(SAT, 12)).worked("B", "bob", at(SAT, 10), at(SUN, 10))
    )
    items = [item("A", "done"), item("B", "done")]
    assert days_of(run(items, history)) == {"A": 2}
    sunday_to_thursday = run(items, history, work_week=frozenset({6, 0, 1, 2, 3}))
    assert days_of(sunday_to_thursday) == {"A": 1, "B": 1}
    assert sunday_to_thursday.working_days == 5  # Mon, Tue, Wed, Thu and Sun 8


def test_a_person_on_two_trackers_shares_their_day_across_both() -> None:
    # ann is "j-ann" in Jira (J, Mon 09:00-17:00) and "l-ann" in Linear (L, Mon 10:00-16:00).
    # As one person: Monday is shared, J 1/2 and L 1/2. Unmapped: two people, a day each.
    jira, linear = History().worked("J", "j-ann", at(MON, 9), at(MON, 17)), History()
    linear.worked("L", "l-ann", at(MON, 10), at(MON, 16))
    items = [item("J", "done"), item("L", "done", tracker="linear")]
    changes = {"jira": jira.changes, "linear": linear.changes}
    people = {("jira", "j-ann"): "ann", ("linear", "l-ann"): "ann"}
    one = person_days(items, changes, now=LATER, people=people, **WEEK)
    assert one.item_days == {("jira", "J"): 0.5, ("linear", "L"): 0.5}
    assert one.people == 1
    assert one.days_worked == {"ann": 1}
    two = person_days(items, changes, now=LATER, **WEEK)
    assert two.item_days == {("jira", "J"): 1, ("linear", "L"): 1}
    assert two.days_worked == {"jira:j-ann": 1, "linear:l-ann": 1}


def test_unassigned_work_is_unattributed_and_counts_no_days() -> None:
    # U: in progress from Mon 09:00, nobody ever assigned: unattributed, no days.
    # N: no history at all, in progress now, created Mon 08:00, nobody assigned: unattributed.
    # W: in progress Sat 10:00 -> Sun 10:00 with nobody: no working day, not unattributed.
    # V: in progress from Mon 09:00, ann assigned Tue 09:00: Monday nobody's (unattributed),
    #    Tue-Fri ann's = 4 days.
    history = (
        History()
        .status("U", at(MON, 9), "in_progress")
        .status("W", at(SAT, 10), "in_progress")
        .status("W", at(SUN, 10), "done")
        .status("V", at(MON, 9), "in_progress")
        .assign("V", at(TUE, 9), None, "ann")
    )
    items = [item("U"), item("N", created_at=at(MON, 8)), item("W", "done"), item("V")]
    spent = run(items, history)
    assert spent.unattributed == {("jira", "U"), ("jira", "N"), ("jira", "V")}
    assert days_of(spent) == {"V": 4}


def test_held_before_the_first_assignee_change_by_whom_it_names_as_previous() -> None:
    # A: in progress from Mon 09:00, with one assignee change on Wed 09:00 from ann to bob:
    # ann held it before (Mon, Tue, Wed), bob from then on (Wed, Thu, Fri): Wed is a day of each.
    # B: no assignee change, currently cat's: hers all along, Mon 09:00 -> Tue 12:00 = 2 days.
    # C: no history at all, in progress, dan's, created Wed 09:00: from then on, Wed-Fri = 3.
    history = (
        History()
        .status("A", at(MON, 9), "in_progress")
        .assign("A", at(WED, 9), "ann", "bob")
        .status("B", at(MON, 9), "in_progress")
        .status("B", at(TUE, 12), "done")
    )
    items = [item("A"), item("B", "done", assignee="cat"), item("C", assignee="dan", created_at=at(WED, 9))]
    spent = run(items, history)
    assert days_of(spent) == {"A": 6, "B": 2, "C": 3}
    assert spent.days_worked == {"jira:ann": 3, "jira:bob": 3, "jira:cat": 2, "jira:dan": 3}


def test_value_person_days_follow_the_method_weights() -> None:
    # ann: X (method slo-program: reliability 0.7, customer-first 0.3) Mon-Tue = 2 days,
    # Y (untagged) Wed = 1, Z (value customer-first) Thu = 1. 4 person-days over 5 working days.
    # reliability 2 x 0.7 = 1.4; customer-first 2 x 0.3 + 1 = 1.6; untagged 1.
    history = (
        History()
        .worked("X", "ann", at(MON, 9), at(TUE, 17))
        .worked("Y", "ann", at(WED, 9), at(WED, 17))
        .worked("Z", "ann", at(THU, 9), at(THU, 17))
    )
    spent = run([item("X", "done"), item("Y", "done"), item("Z", "done")], history)
    truth = GroundTruth(
        lambda _plan: {
            "X": TruthItem("X", None, methods=("slo-program",), done=True),
            "Y": TruthItem("Y", None, done=True),
            "Z": TruthItem("Z", None, values=("customer-first",), done=True),
        }
    )
    report = people_report({"jira": truth}, spent)
    assert report["total_effort"] == pytest.approx(4)
    assert report["values"] == pytest.approx({"reliability": 1.4, "customer-first": 1.6})
    assert report["methods"] == pytest.approx(
        {
            ("reliability", "slo-program"): 1.4,
            ("customer-first", "slo-program"): 0.6,
            ("customer-first", None): 1,
        }
    )
    assert report["untagged_effort"] == pytest.approx(1)
    assert report["working_days"] == 5
    assert report["fte"] == pytest.approx(0.8)  # 4 / 5
    assert report["values_fte"] == pytest.approx({"reliability": 0.28, "customer-first": 0.32})
    assert report["people"] == 1


def test_canceled_items_take_their_share_but_count_nothing() -> None:
    # ann: A and C (canceled) both on Mon: 1/2 each; C's half is counted nowhere.
    # bob: only C, Tue 09:00 -> (open): he takes part in no counted work, so the report has 1 person.
    # D: canceled, worked on by nobody: unattributed, but not in the report's count either.
    history = (
        History()
        .worked("A", "ann", at(MON, 9), at(MON, 17))
        .worked("C", "ann", at(MON, 10), at(MON, 11))
        .worked("C", "bob", at(TUE, 9))
        .status("D", at(MON, 9), "in_progress")
    )
    spent = run([item("A", "done"), item("C", "canceled"), item("D", "canceled")], history, now=at(TUE, 12))
    assert days_of(spent) == {"A": 0.5, "C": 1.5}
    assert spent.people == 2
    truth = GroundTruth(
        lambda _plan: {
            "A": TruthItem("A", None, values=("reliability",), done=True),
            "C": TruthItem("C", None, values=("reliability",), counts=False),
            "D": TruthItem("D", None, counts=False),
        }
    )
    report = people_report({"jira": truth}, spent)
    assert report["total_effort"] == pytest.approx(0.5)
    assert report["total_items"] == 1
    assert report["people"] == 1
    assert report["unattributed_items"] == 0
    assert people_report({"jira": truth}, spent, state="open")["total_effort"] == 0


def test_a_change_at_2330_utc_falls_on_the_next_local_day() -> None:
    # A: in progress Mon 23:30 UTC -> Tue 10:00 UTC. In UTC: Mon and Tue = 2 days. In Berlin
    # (UTC+1 in November) it runs Tue 00:30 -> Tue 11:00 local: Tue only = 1 day.
    history = History().worked("A", "ann", at(MON, 23, 30), at(TUE, 10))
    assert days_of(run([item("A", "done")], history)) == {"A": 2}
    assert days_of(run([item("A", "done")], history, timezone="Europe/Berlin")) == {"A": 1}


def test_a_local_day_is_cut_at_local_midnight_across_a_dst_change() -> None:
    # New York leaves DST on Sun 1 Nov 2026: Mon 2 Nov starts at 05:00 UTC (EST, UTC-5), while
    # Fri 30 Oct started at 04:00 UTC (EDT). A: Mon 04:30 -> 04:50 UTC is Sun 23:30 -> 23:50
    # local: a Sunday, no working day. B: Fri 30 Oct 03:30 -> 04:30 UTC is Thu 23:30 -> Fri 00:30
    # local: a part of Thursday and of Friday, 2 days.
    history = History().worked("A", "ann", at(MON, 4, 30), at(MON, 4, 50))
    history.worked(
        "B", "bob", datetime(2026, 10, 30, 3, 30, tzinfo=UTC), datetime(2026, 10, 30, 4, 30, tzinfo=UTC)
    )
    spent = run(
        [item("A", "done"), item("B", "done")], history, start=date(2026, 10, 26), timezone="America/New_York"
    )
    assert days_of(spent) == {"B": 2}


def test_changes_after_now_are_clamped_and_counted() -> None:
    # now = Wed 12:00. A: ann assigned and in progress Mon 09:00; done "Thu 10:00" and handed to
    # bob "Fri 09:00", both after now: clamped to now (2 changes). A = Mon, Tue, Wed = 3 days;
    # bob never held it before now. The window's working days still count Thu and Fri.
    history = History().worked("A", "ann", at(MON, 9), at(THU, 10)).assign("A", at(FRI, 9), "ann", "bob")
    spent = run([item("A", "done")], history, now=at(WED, 12))
    assert days_of(spent) == {"A": 3}
    assert spent.clamped == 2
    assert spent.days_worked == {"jira:ann": 3}
    assert spent.working_days == 5


def test_changes_of_items_that_are_not_live_are_ignored() -> None:
    # G was deleted: its changes (one of them after now) count nothing and are not clamped.
    history = History().worked("G", "ann", at(MON, 9), at(THU, 10))
    spent = run([], history, now=at(WED, 12))
    assert spent.shares == {}
    assert spent.clamped == 0


def test_an_out_of_order_history_never_gives_negative_days() -> None:
    # now = Wed 12:00. D: "done" dated Mon 10:00 but "in progress" Tue 10:00 (out of order):
    # ordered by time, the item is in progress from Tue 10:00 on: Tue, Wed = 2 days.
    # E: in progress and done at the same instant (events in that order): zero length, no days.
    # F: same instant, events "9" (done) and "10" (in progress): ids compare as text, "10" first,
    # so it is in progress for no time at all either.
    history = (
        History()
        .assign("D", at(MON, 8), None, "ann")
        .status("D", at(TUE, 10), "in_progress")
        .status("D", at(MON, 10), "done")
        .assign("E", at(MON, 8), None, "bob")
        .status("E", at(MON, 10), "in_progress", event="E1")
        .status("E", at(MON, 10), "done", event="E2")
        .assign("F", at(MON, 8), None, "cat")
        .status("F", at(MON, 10), "done", event="9")
        .status("F", at(MON, 10), "in_progress", event="10")
    )
    spent = run([item("D", "done"), item("E", "done"), item("F", "done")], history, now=at(WED, 12))
    assert days_of(spent) == {"D": 2}
    assert all(share > 0 for share in spent.shares.values())


def test_a_year_in_progress_is_capped_at_the_window() -> None:
    # now = Fri 20 Nov 2026 12:00 UTC; the default window is Sun 23 Aug .. Fri 20 Nov (90 days):
    # 12 whole weeks (60 working days) and Sun 15 .. Fri 20 Nov (5) = 65 working days, today
    # included (worked before now). Y has no history (in progress, ann's, created a year ago);
    # H went in progress a year ago, bob assigned. Each: 65 days.
    history = History().worked("H", "bob", datetime(2025, 11, 20, 9, tzinfo=UTC))
    items = [item("Y", created_at=datetime(2025, 11, 20, tzinfo=UTC), assignee="ann"), item("H")]
    spent = person_days(items, {"jira": history.changes}, now=DEFAULT_NOW)
    assert spent.working_days == 65
    assert days_of(spent) == {"Y": 65, "H": 65}


def test_the_default_window_ends_today_in_the_time_zone() -> None:
    # 23:30 UTC on Fri 20 Nov is Sat 21 Nov 00:30 in Berlin: the window runs 24 Aug .. 21 Nov.
    late = datetime(2026, 11, 20, 23, 30, tzinfo=UTC)
    assert default_window(late) == (date(2026, 8, 23), date(2026, 11, 20))
    assert default_window(late, "Europe/Berlin") == (date(2026, 8, 24), date(2026, 11, 21))


ASANA_CASES: dict[str, tuple[Category, list[tuple[datetime, str]], int]] = {
    # Assigned Mon 09:00, never completed: working while incomplete, held from Mon: Mon-Fri = 5.
    "assigned": ("todo", [], 5),
    # ... completed Wed 10:00: Mon, Tue, Wed = 3.
    "completed": ("done", [(at(WED, 10), "done")], 3),
    # ... completed Mon 12:00, marked incomplete again Thu 09:00: Mon, Thu, Fri = 3.
    "reopened": ("todo", [(at(MON, 12), "done"), (at(THU, 9), "todo")], 3),
}


@pytest.mark.parametrize("case", sorted(ASANA_CASES))
def test_an_asana_task_is_worked_on_from_its_assignment_while_incomplete(case: str) -> None:
    state, steps, expected = ASANA_CASES[case]
    history = History().assign("T", at(MON, 9), None, "ann")
    for when, category in steps:
        history.status("T", when, category)
    spent = run([item("T", state, tracker="asana")], history, tracker="asana")
    assert days_of(spent) == {"T": expected}


def test_an_asana_task_is_worked_on_from_its_start() -> None:
    # Assigned Mon 09:00, completed Wed 10:00 (3 days from assignment), but started Tue 12:00:
    # Tue, Wed = 2. Starting on Thu (a start date: Thu 00:00 UTC) instead of being completed:
    # Thu, Fri = 2. A start on another tracker is not read.
    history = History().assign("T", at(MON, 9), None, "ann").status("T", at(WED, 10), "done")
    history.assign("U", at(MON, 9), None, "bob")
    items = [
        item("T", "done", tracker="asana", started_at=asana_started_at(at(TUE, 12), None)),
        item("U", "todo", tracker="asana", started_at=asana_started_at(None, date(2026, 11, THU))),
    ]
    assert days_of(run(items, history, tracker="asana")) == {"T": 2, "U": 2}
    assert asana_started_at(None, date(2026, 11, THU)) == at(THU, 0)  # a start date: 00:00 UTC
    assert asana_started_at(at(TUE, 12), date(2026, 11, MON)) == at(TUE, 12)  # a start time wins
    jira = [item("U", "todo", started_at=at(THU, 0))]
    jira_history = History().worked("U", "bob", at(MON, 9))
    assert days_of(run(jira, jira_history)) == {"U": 5}


def test_an_asana_task_without_stories_works_until_its_completion() -> None:
    # No story at all, ann its assignee: working from the beginning of time to its completion,
    # Tue 10:00: Mon, Tue = 2. Without a completion time: never working. Incomplete: Mon-Fri = 5.
    items = [
        item("T", "done", tracker="asana", assignee="ann", completed_at=at(TUE, 10)),
        item("U", "done", tracker="asana", assignee="bob"),
        item("V", "todo", tracker="asana", assignee="cat"),
    ]
    assert days_of(run(items, History(), tracker="asana")) == {"T": 2, "V": 5}


def test_containers_follow_their_trackers_rule() -> None:
    # Projects have no history and no assignee. Asana's P, incomplete with no start: in progress
    # only once assigned, so never; O, incomplete from its start on Wednesday: held by nobody, so
    # unattributed; Q, completed with no completion time: never working. Linear's R, in progress
    # since Mon 09:00: unattributed; S, planned: never working.
    items = [
        item("P", "todo", tracker="asana"),
        item("O", "todo", tracker="asana", started_at=at(WED, 0)),
        item("Q", "done", tracker="asana"),
        item("R", tracker="linear", created_at=at(MON, 9)),
        item("S", "todo", tracker="linear"),
    ]
    spent = person_days(items, {}, now=LATER, **WEEK)
    assert spent.unattributed == {("asana", "O"), ("linear", "R")}
    assert spent.shares == {}


# -- the sandboxes ---------------------------------------------------------------------------------

Sandbox = Callable[[], tuple[Any, Any]]  # (state, its ground truth)
SANDBOXES: dict[str, Sandbox] = {
    "jira": lambda: generate_jira_workspace(seed=5, epics=30, issues=400),
    "linear": lambda: generate_linear_workspace(seed=5, projects=8, issues=400),
    "asana": lambda: generate_asana_workspace(seed=5, tasks=400),
}
ACCOUNTS: dict[str, Callable[[Any], list[str]]] = {
    "jira": lambda state: sorted(state.workers()),
    "linear": lambda state: sorted(state.users),
    "asana": lambda state: sorted(state.people),
}


def check_items_agree(tracker: str, truth: Any) -> None:
    """A sandbox's PeopleItems are its live items, standing where their histories leave them."""
    people_items: dict[str, PeopleItem] = truth.people_items()
    truth_items = truth.items()
    assert set(people_items) == set(truth_items)
    last: dict[tuple[str, str], Recorded] = {}
    for change in sorted(truth.transitions(), key=lambda c: (c.at, c.event_id)):
        assert people_items[change.item_id].created_at < change.at
        last[(change.item_id, change.field)] = change
    for item_id, it in people_items.items():
        expected = truth_items[item_id]
        assert it.tracker == tracker
        assert it.parent_id == expected.parent_id
        assert (it.state == "done") == expected.done, item_id
        assert (it.state == "canceled") == (not expected.counts), item_id
        if (status := last.get((item_id, "status"))) is not None:
            entered = status.category
            if tracker == "asana":  # marked complete or incomplete
                entered = "done" if entered == "done" else "todo"
            assert it.state == entered, item_id
        if (assignee := last.get((item_id, "assignee"))) is not None:
            assert it.assignee == assignee.after, item_id


def check_fully_shared(spent: PeopleTime, items: dict[tuple[str, str], PeopleItem], now: datetime) -> None:
    """Every (person, working day) with work is shared out exactly among leaves, within the window."""
    by_pair: dict[tuple[str, date], dict[tuple[str, str], float]] = defaultdict(dict)
    for (person, day, key), share in spent.shares.items():
        assert 0 < share <= 1
        assert key in items
        assert day.weekday() < 5
        assert day <= now.date()
        by_pair[(person, day)][key] = share
    for (person, day), shares in by_pair.items():
        assert sum(shares.values()) == pytest.approx(1), (person, day)
        assert len(set(shares.values())) == 1, (person, day)  # equal shares
        for key in shares:  # no item shares the day with one of its descendants
            parent = items[key].parent_id
            while parent is not None and (key[0], parent) in items:
                assert (key[0], parent) not in shares, (person, day, key)
                parent = items[(key[0], parent)].parent_id
    assert sum(spent.item_days.values()) == pytest.approx(len(by_pair))
    assert sum(spent.days_worked.values()) == len(by_pair)
    per_day: dict[date, float] = defaultdict(float)
    for (_, day, _), share in spent.shares.items():
        per_day[day] += share
    assert max(per_day.values()) <= spent.people + 1e-9


@pytest.mark.parametrize("tracker", sorted(SANDBOXES))
def test_each_sandbox_shares_out_plausible_days(tracker: str) -> None:
    state, truth = SANDBOXES[tracker]()
    check_items_agree(tracker, truth)
    people_items = truth.people_items()
    items = {(tracker, item_id): it for item_id, it in people_items.items()}
    spent = person_days(people_items.values(), {tracker: truth.transitions()}, now=DEFAULT_NOW)
    assert spent.working_days == 65
    assert 2 <= spent.people <= len(ACCOUNTS[tracker](state))
    assert spent.unattributed
    assert spent.clamped == 0
    check_fully_shared(spent, items, DEFAULT_NOW)
    report = people_report({tracker: truth}, spent)
    parts = sum(report["values"].values()) + report["untagged_effort"] + report["unaligned_effort"]
    assert parts == pytest.approx(report["total_effort"])
    assert 0 < report["total_effort"] <= sum(spent.item_days.values()) + 1e-9
    assert report["fte"] == pytest.approx(report["total_effort"] / 65)
    assert report["fte"] <= report["people"] + 1e-9


def test_sandboxes_combine_with_people_on_every_tracker() -> None:
    # The i-th account of each tracker is one person: six people share their days across the
    # three workspaces' items.
    built = {tracker: make() for tracker, make in SANDBOXES.items()}
    people = {
        (tracker, account): f"person-{n}"
        for tracker, (state, _) in built.items()
        for n, account in enumerate(ACCOUNTS[tracker](state))
    }
    items = {
        (tracker, item_id): it
        for tracker, (_, truth) in built.items()
        for item_id, it in truth.people_items().items()
    }
    changes = {tracker: truth.transitions() for tracker, (_, truth) in built.items()}
    combined = person_days(items.values(), changes, now=DEFAULT_NOW, people=people)
    assert combined.people <= len(set(people.values()))
    check_fully_shared(combined, items, DEFAULT_NOW)
    alone = 0.0  # each tracker's person-days on its own, its accounts people of their own
    for tracker in built:
        own = [it for it in items.values() if it.tracker == tracker]
        alone += sum(person_days(own, changes, now=DEFAULT_NOW).item_days.values())
    assert sum(combined.item_days.values()) < alone  # a shared day counts once
    report = people_report({tracker: truth for tracker, (_, truth) in built.items()}, combined)
    assert report["people"] <= combined.people
