"""Review snapshots in people's time: the time worked on the period's working days, in person-days and
FTE, for the company and each team, with the measures met on those shares; a team too small to show
stores only its folded part (see tests/reviews_world.py for the hand-computed month)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from tests.factories import make_item
from tests.reviews_world import (
    NOVEMBER,
    NOVEMBER_WORKING_DAYS,
    TIME_CUSTOMER_FIRST,
    TIME_TOTAL,
    TIME_UNTAGGED,
    people_time_world,
)
from tests.store.test_people_time import at, worked
from v2mom.app.schemas.reviews import ReviewSnapshot
from v2mom.models import State
from v2mom.reports.disclosure import Folding
from v2mom.reports.effort import ReportQuery, report_body
from v2mom.reports.people_time import folded_part
from v2mom.reports.reviews import close_reference
from v2mom.store.database import Database
from v2mom.store.resolution.run import remap
from v2mom.workdays import WorkCalendar

AFTER = date(2026, 12, 5)  # November has ended

# Payments is too small for five, and Retries, under it, is folded with it.
UP_TO_THE_COMPANY = Folding({"payments": None, "retries": None}, frozenset({"payments"}))


def closed(store: Database, calendar: WorkCalendar | None = None) -> dict[str, Any]:
    """November's review of the people's-time world, closed in ``calendar``, as stored."""
    plan = people_time_world(store)
    assert close_reference(store, plan, NOVEMBER, "cli:ana", AFTER, calendar=calendar).closed
    review = store.reviews.get(*NOVEMBER.split("/"))
    assert review is not None
    ReviewSnapshot.model_validate(review.document)
    return review.document


def values(report: dict[str, Any]) -> dict[str, float]:
    return {value["id"]: value["effort"] for value in report["values"]}


def test_a_review_holds_the_time_worked_in_the_period(store: Database) -> None:
    document = closed(store)
    company = document["company"]
    assert list(company["reports"]) == ["points", "hours", "count", "person_days", "fte"]
    days = company["reports"]["person_days"]
    # The days worked in November, on work in every state (item 4 was put back to do: still counted).
    assert (days["state"], days["from"], days["to"]) == ("all", "2026-11-01", "2026-11-30")
    assert days["total"]["effort"] == pytest.approx(TIME_TOTAL)
    assert days["untagged"]["effort"] == pytest.approx(TIME_UNTAGGED)
    assert values(days)["customer-first"] == pytest.approx(TIME_CUSTOMER_FIRST)
    assert (days["people"], days["working_days"], days["unattributed"]) == (
        4,
        NOVEMBER_WORKING_DAYS,
        {"items": 0},
    )
    fte = company["reports"]["fte"]
    assert fte["total"]["effort"] == pytest.approx(TIME_TOTAL / NOVEMBER_WORKING_DAYS, abs=1e-6)
    assert values(fte)["customer-first"] == pytest.approx(
        TIME_CUSTOMER_FIRST / NOVEMBER_WORKING_DAYS, abs=1e-6
    )
    assert (fte["people"], fte["working_days"]) == (4, NOVEMBER_WORKING_DAYS)
    assert "folded" not in company
    # The measures are met or not on the time's shares: nothing with points was done in November.
    assert company["reports"]["points"]["total"]["effort"] == 0.0
    (points,) = company["measures"]["points"]
    assert (points["id"], points["actual"], points["met"]) == ("cf-share", 0.0, False)
    for measure in ("person_days", "fte"):
        (share,) = company["measures"][measure]
        assert share["id"] == "cf-share"
        assert share["actual"] == pytest.approx(TIME_CUSTOMER_FIRST / TIME_TOTAL, abs=1e-4)
        assert share["met"] is True  # 43.9 % of the time against a 40 % target
    payments = document["teams"]["payments"]["reports"]["person_days"]
    assert (payments["team"], payments["people"]) == ("payments", 4)
    assert payments["total"]["effort"] == pytest.approx(TIME_TOTAL)
    growth = document["teams"]["growth"]["reports"]["fte"]  # nobody worked there: shown, as nothing
    assert (growth["people"], growth["total"]["effort"]) == (0, 0.0)
    # Obstacles and flag counts stay in the estimate measures.
    assert list(document["obstacles"]) == list(document["flags"]) == ["points", "hours", "count"]


def test_a_team_too_small_to_show_keeps_only_its_folded_part(store: Database) -> None:
    document = closed(store)
    retries = document["teams"]["retries"]
    assert list(retries["reports"]) == list(retries["measures"]) == ["points", "hours", "count"]
    folded = folded_part(Folding({"retries": "payments"}, frozenset({"retries"})), "retries", 3)
    assert retries["folded"] == {"person_days": folded, "fte": folded}
    assert "folded" not in document["teams"]["payments"]
    assert "folded" not in document["teams"]["growth"]


def test_the_settings_fewest_people_decide_what_is_folded(store: Database) -> None:
    alone = closed(store, WorkCalendar(min_group_size=1))["teams"]["retries"]
    assert "folded" not in alone
    report = alone["reports"]["person_days"]
    assert (report["team"], report["people"], report["total"]["effort"]) == ("retries", 1, pytest.approx(1.0))


def test_with_more_people_needed_a_team_folds_up_to_the_company(store: Database) -> None:
    teams = closed(store, WorkCalendar(min_group_size=5))["teams"]
    assert teams["payments"]["folded"]["fte"] == folded_part(UP_TO_THE_COMPANY, "payments", 5)
    assert teams["retries"]["folded"]["person_days"] == folded_part(UP_TO_THE_COMPANY, "retries", 5)
    assert "person_days" not in teams["payments"]["reports"]


def test_a_review_reads_the_people_time_of_all_its_teams_once(
    store: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[tuple[str, list[str]]] = []
    queries = store.people_time
    every_team, by_team, facts = queries.facts_by_team, queries.by_team, queries.facts

    def spy(name: str, read: Any) -> Any:
        def wrapped(window: Any, *args: Any, **filters: Any) -> Any:
            asked.append((name, sorted(args[0]) if args else []))
            return read(window, *args, **filters)

        return wrapped

    monkeypatch.setattr(queries, "facts_by_team", spy("facts_by_team", every_team))
    monkeypatch.setattr(queries, "by_team", spy("by_team", by_team))
    monkeypatch.setattr(queries, "facts", spy("facts", facts))
    document = closed(store)
    # One view (November, every state, every tracker): every team's facts and each subtree's people
    # read once, then the remainders once; not again for each report of the company and the teams.
    assert asked == [("facts_by_team", ["growth", "payments", "retries"]), ("by_team", ["remainder:"])]
    assert document["teams"]["retries"]["folded"]["fte"]["into"] == "payments"


@pytest.mark.parametrize("measure", ["person_days", "fte"])
def test_each_part_of_a_review_is_the_report_of_its_team_read_alone(store: Database, measure: str) -> None:
    plan = people_time_world(store)
    # And a Retry squad item in progress that nobody held: unattributed in its team's subtree.
    store.items.upsert([make_item("10", components=("Retry",), state=State.IN_PROGRESS)])
    store.history.record(worked("10", None, at(2)))
    remap(store, plan)
    assert close_reference(store, plan, NOVEMBER, "cli:ana", AFTER).closed
    review = store.reviews.get(*NOVEMBER.split("/"))
    assert review is not None
    document = review.document
    parts = {None: document["company"], **document["teams"]}
    shown = {team: part["reports"][measure] for team, part in parts.items() if measure in part["reports"]}
    # Retries (one person) folds into Payments, whose figures hold its squad's: a subtree's sums.
    assert set(shown) == {None, "growth", "payments"}
    for team, stored in shown.items():
        query = ReportQuery(
            measure=measure, state="all", date_from=date(2026, 11, 1), date_to=date(2026, 11, 30), team=team
        )
        alone = report_body(store, plan, query)  # this team's own statement, no shared view
        assert stored["total"] == pytest.approx(alone["total"])
        assert values(stored) == pytest.approx(values(alone))
        for key in ("people", "working_days", "unattributed", "untagged", "unaligned"):
            assert stored[key] == pytest.approx(alone[key]), (team, key)
    assert [shown[team]["unattributed"]["items"] for team in (None, "growth", "payments")] == [1, 0, 1]
