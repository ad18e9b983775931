"""No people's-time view lets a group of fewer than ``min_group_size`` people be read: a team too
small is folded, and so is a sibling when the parent's figures minus its shown children's would
leave the folded team's time alone (see v2mom.reports.disclosure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest

from tests.factories import make_item
from tests.mapping.test_cascade import cascade
from tests.reports.test_people_time_report import CHANGES, FRIDAY, ITEMS
from tests.store.test_people_time import MONDAY, at, worked
from v2mom.mapping.plan import load_plan
from v2mom.models import State
from v2mom.reports.disclosure import Folding, fold_teams
from v2mom.reports.effort import ReportQuery, build_report
from v2mom.reports.teams import build_teams
from v2mom.reports.trend import build_trend
from v2mom.store.database import Database
from v2mom.store.resolution.run import remap

PLAN = load_plan(cascade())  # the company; payments (retries under it); growth


class Counter:
    """People per remainder, by its members; remembers what it was asked."""

    def __init__(self, people: Mapping[tuple[str | None, ...], int]) -> None:
        self.people = people
        self.asked: list[dict[str, list[str | None]]] = []

    def __call__(self, sets: Mapping[str, Sequence[str | None]]) -> dict[str, int]:
        self.asked.append({name: list(members) for name, members in sets.items()})
        return {name: self.people.get(tuple(members), 0) for name, members in sets.items()}


def fold(people: dict[str, int], remainders: Mapping[tuple[str | None, ...], int]) -> Folding:
    return fold_teams(PLAN, people, 3, Counter(remainders))


def test_a_team_too_small_is_folded_into_its_parent_and_what_is_under_it_with_it() -> None:
    folding = fold({"payments": 2, "retries": 2, "growth": 5}, {(None,): 0})
    assert folding.into == {"payments": None, "retries": None}
    assert folding.too_small == {"payments"}
    assert (folding.shown("retries"), folding.shown("growth"), folding.shown(None)) == (None, "growth", None)


def test_nobody_is_not_a_small_group() -> None:
    assert fold({"payments": 0, "retries": 0, "growth": 0}, {}).into == {}


def test_a_remainder_with_too_few_people_folds_the_smallest_sibling_with_enough() -> None:
    # Growth (one person) is folded into the company; the company's own work and growth's then
    # cover one person, and total minus payments would read it: payments goes too, retries with it.
    counter = Counter({(None, "growth"): 1})
    folding = fold_teams(PLAN, {"payments": 4, "retries": 3, "growth": 1}, 3, counter)
    assert folding.into == {"payments": None, "retries": None, "growth": None}
    assert folding.too_small == {"growth"}
    assert counter.asked == [{"remainder:": [None, "growth"], "remainder:payments": ["payments"]}]


def test_a_remainder_with_enough_people_or_nobody_folds_nothing_more() -> None:
    enough = fold({"payments": 4, "retries": 3, "growth": 1}, {(None, "growth"): 3, ("payments",): 0})
    assert enough.into == {"growth": None}
    nobody = fold({"payments": 4, "retries": 3, "growth": 5}, {(None,): 0, ("payments",): 0})
    assert nobody.into == {}


def test_a_teams_own_work_by_too_few_people_folds_its_child() -> None:
    # Payments minus retries would be payments' own work, by two people: retries is folded into it.
    folding = fold({"payments": 6, "retries": 4, "growth": 5}, {(None,): 0, ("payments",): 2})
    assert folding.into == {"retries": "payments"}
    assert folding.too_small == set()


def test_among_siblings_the_one_with_fewest_people_is_folded() -> None:
    folding = fold({"payments": 4, "retries": 0, "growth": 9}, {(None,): 1, ("payments",): 0})
    assert folding.into == {"payments": None, "retries": None}


GROWTH = make_item(
    "20", tracker="linear", key="GRO-20", container="GRO", labels=("method:referrals",), state=State.DONE
)
RETRY = make_item("9", labels=("method:backoff",), components=("Retry",), state=State.DONE)


def seeded_with_growth(store: Database) -> None:
    """Payments: Ada, Bob and Cy; Growth: Dee alone (Monday), nothing of the company's own."""
    store.items.upsert([*ITEMS, RETRY, GROWTH])
    store.history.record(
        [
            *CHANGES,
            *worked("9", "cy", at(0), at(0, 17)),
            *worked("20", "dee", at(0), at(0, 17), tracker="linear"),
        ]
    )
    remap(store, PLAN)


def test_the_teams_tree_leaves_no_folded_team_to_subtraction(store: Database) -> None:
    seeded_with_growth(store)
    got = build_teams(store, PLAN, ReportQuery(measure="person_days", date_from=MONDAY, date_to=FRIDAY))
    # Growth is Dee alone; payments is three people, but total minus payments would be Dee's day:
    # payments is folded too and every team's time is in the company's row.
    assert got["teams"] == []
    assert got["company"]["effort"] == pytest.approx(got["total"]["effort"]) == pytest.approx(9)
    notes = {f["team"]: f for f in got["folded"]}
    assert notes["growth"]["note"].startswith("growth has fewer than 3 people")
    assert notes["payments"]["into"] is None
    assert "not shown on its own" in notes["payments"]["note"]
    report = build_report(
        store, PLAN, ReportQuery(measure="person_days", date_from=MONDAY, date_to=FRIDAY, team="payments")
    )
    assert (report.get("team"), report["folded"]["into"]) == (None, None)
    assert report["total"]["effort"] == pytest.approx(9)
    trend = build_trend(
        store, PLAN, ReportQuery(measure="person_days", date_from=MONDAY, date_to=FRIDAY, team="payments")
    )
    assert trend["folded"]["into"] is None


def test_a_team_shown_beside_a_folded_one_when_the_rest_covers_enough_people(store: Database) -> None:
    seeded_with_growth(store)
    # Eve and Fay also work on the company's own items: the company's row covers three people.
    own = [
        make_item("30", tracker="linear", key="OPS-30", container="OPS", state=State.DONE),
        make_item("31", tracker="linear", key="OPS-31", container="OPS", state=State.DONE),
    ]
    store.items.upsert(own)
    store.history.record(
        [
            *worked("30", "eve", at(1), at(1, 17), tracker="linear"),
            *worked("31", "fay", at(1), at(1, 17), tracker="linear"),
        ]
    )
    remap(store, PLAN)
    got = build_teams(store, PLAN, ReportQuery(measure="person_days", date_from=MONDAY, date_to=FRIDAY))
    assert [team["id"] for team in got["teams"]] == ["payments"]
    assert [f["team"] for f in got["folded"]] == ["retries", "growth"]
    shown = sum(team["effort"] for team in got["teams"])
    assert got["company"]["effort"] + shown == pytest.approx(got["total"]["effort"])
    assert got["company"]["effort"] == pytest.approx(1 + 2)  # Dee's day and Eve's and Fay's
