"""The effort report in people's time (``measure=person_days|fte``): through build_report, the HTTP
route, the CSV and the CLI, on hand-computed figures (see tests/store/test_people_time.py for the
model's cases)."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.factories import VALID, make_item
from tests.mapping.test_cascade import cascade
from tests.store.test_people_time import MONDAY, ONBOARDING, SLO, at, worked
from v2mom.app.cli import app as cli
from v2mom.app.factory import create_app
from v2mom.app.schemas.reports import EffortReport, TeamsReport, Trend
from v2mom.mapping.plan import load_plan
from v2mom.models import State
from v2mom.reports.csv_export import report_rows
from v2mom.reports.effort import ReportQuery, build_report
from v2mom.reports.teams import build_teams
from v2mom.reports.trend import build_trend
from v2mom.settings import Settings
from v2mom.store.database import Database
from v2mom.store.resolution.run import remap
from v2mom.workdays import WorkCalendar

FRIDAY = MONDAY + timedelta(days=4)
ITEMS = [
    make_item("1", labels=SLO, state=State.IN_PROGRESS),
    make_item("2", labels=ONBOARDING, state=State.DONE),
    make_item("3", state=State.DONE),
    make_item("4", labels=ONBOARDING, state=State.IN_PROGRESS),
]
CHANGES = [
    *worked("1", "ada", at(0)),  # Ada: 4 days on item 1, 1 on item 2 (see the store's test)
    *worked("2", "ada", at(2), at(3, 17)),
    *worked("3", "bob", at(0), at(1, 17)),  # Bob: Monday and Tuesday
    *worked("4", None, at(0)),  # nobody's: unattributed
]


def seeded(store: Database, plan_text: str = VALID) -> None:
    store.items.upsert(ITEMS)
    store.history.record(CHANGES)
    remap(store, load_plan(plan_text))


def report(store: Database, measure: str, **fields: Any) -> dict[str, Any]:
    query = ReportQuery(measure=measure, date_from=MONDAY, date_to=FRIDAY, **fields)  # type: ignore[arg-type]
    return build_report(store, store.plans.current() or load_plan(VALID), query)


def test_person_days_per_value_with_people_working_days_and_unattributed(store: Database) -> None:
    seeded(store)
    got = report(store, "person_days")
    values = {v["id"]: v for v in got["values"]}
    assert values["customer-first"]["effort"] == pytest.approx(4 * 0.3 + 1)
    assert values["reliability"]["effort"] == pytest.approx(4 * 0.7)
    assert got["untagged"]["effort"] == pytest.approx(2)
    assert got["total"]["effort"] == pytest.approx(7)
    assert math.fsum(v["effort"] for v in got["values"]) + got["untagged"]["effort"] == pytest.approx(7)
    assert (got["people"], got["working_days"], got["unattributed"]) == (2, 5, {"items": 1})
    assert (got["from"], got["to"], got["measure"]) == ("2026-11-02", "2026-11-06", "person_days")
    EffortReport.model_validate(got)


def test_fte_is_person_days_over_the_working_days(store: Database) -> None:
    seeded(store)
    got = report(store, "fte")
    values = {v["id"]: v["effort"] for v in got["values"]}
    assert values["customer-first"] == pytest.approx((4 * 0.3 + 1) / 5)
    assert values["reliability"] == pytest.approx(4 * 0.7 / 5)
    assert got["total"]["effort"] == pytest.approx(7 / 5)
    rows = {row[0]: row for row in report_rows(got)}
    assert (rows["people"][7], rows["working_days"][7], rows["unattributed"][7]) == (2, 5, 1)


def test_without_dates_the_window_is_the_last_90_days(
    store: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeded(store)
    monkeypatch.setattr("v2mom.reports.people_time.utcnow", lambda: datetime(2026, 11, 9, 12, tzinfo=UTC))
    got = build_report(store, load_plan(VALID), ReportQuery(measure="person_days"))
    assert (got["from"], got["to"]) == ("2026-08-12", "2026-11-09")
    # Item 1 is still in progress: the Monday of "now" is Ada's sixth day on it.
    assert got["total"]["effort"] == pytest.approx(8)


def test_a_team_with_too_few_people_is_folded_into_its_parent(store: Database) -> None:
    retry = make_item("9", labels=("method:backoff",), components=("Retry",), state=State.DONE)
    store.items.upsert([*ITEMS, retry])
    store.history.record([*CHANGES, *worked("9", "cy", at(0), at(0, 17))])
    remap(store, load_plan(cascade()))
    plan = load_plan(cascade())
    query = ReportQuery(measure="person_days", date_from=MONDAY, date_to=FRIDAY, team="retries")
    folded = build_report(store, plan, query)
    assert folded["team"] == "payments"
    assert (folded["folded"]["team"], folded["folded"]["into"]) == ("retries", "payments")
    assert folded["people"] == 3
    shown = build_report(
        store, plan, ReportQuery(**{**query.__dict__, "calendar": WorkCalendar(min_group_size=1)})
    )
    assert shown["team"] == "retries"
    assert "folded" not in shown
    assert (shown["people"], shown["total"]["effort"]) == (1, pytest.approx(1))


def test_the_route_answers_in_people_time_and_other_reports_refuse_it(store: Database) -> None:
    seeded(store)
    client = TestClient(create_app(Settings(), store))
    headers = {"Authorization": f"Bearer {store.tokens.create('viewer', 'pm')}"}
    got = client.get(
        "/api/reports/effort-by-value",
        params={"measure": "fte", "from": "2026-11-02", "to": "2026-11-06"},
        headers=headers,
    )
    assert got.status_code == 200, got.text
    assert got.json()["total"]["effort"] == pytest.approx(7 / 5)
    assert got.json()["working_days"] == 5
    csv = client.get(
        "/api/reports/effort-by-value.csv",
        params={"measure": "person_days", "from": "2026-11-02", "to": "2026-11-06"},
        headers=headers,
    )
    assert "working_days" in csv.text
    for path in ("/api/reports/obstacles", "/api/reports/flags"):
        refused = client.get(path, params={"measure": "fte"}, headers=headers)
        assert refused.status_code == 422, (path, refused.text)
        assert "measure" in refused.text
    mondays = TestClient(create_app(Settings(work_week=["mon"]), store))
    monday = mondays.get(
        "/api/reports/effort-by-value",
        params={"measure": "fte", "from": "2026-11-02", "to": "2026-11-06"},
        headers=headers,
    ).json()
    assert (monday["working_days"], monday["total"]["effort"]) == (
        1,
        pytest.approx(2),
    )  # Ada's and Bob's Monday
    plain = client.get("/api/reports/effort-by-value", params={"measure": "points"}, headers=headers).json()
    assert not {"people", "working_days", "unattributed"} & set(plain)


def test_the_cli_prints_fte(store: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seeded(store)
    monkeypatch.delenv("V2MOM_DATABASE_URL", raising=False)
    config = tmp_path / "v2mom.yaml"
    url = store.engine.url.render_as_string(hide_password=False)
    config.write_text(f"database_url: {url}\nwork_week: [mon, tue]\n")
    args = ["report", "-c", str(config), "--measure", "fte", "--from", "2026-11-02", "--to", "2026-11-06"]
    table = CliRunner().invoke(cli, args)
    assert table.exit_code == 0, table.output
    # Monday and Tuesday only: Ada's two days on item 1, Bob's two on item 3, over two days.
    assert "2.00 FTE" in table.output
    assert "2 people over 2 working days" in table.output
    document = json.loads(CliRunner().invoke(cli, [*args, "--format", "json"]).output)
    assert document["total"]["effort"] == pytest.approx(4 / 2)


def test_the_teams_tree_in_people_time_hides_a_team_too_small_to_show(store: Database) -> None:
    retry = make_item("9", labels=("method:backoff",), components=("Retry",), state=State.DONE)
    store.items.upsert([*ITEMS, retry])
    store.history.record([*CHANGES, *worked("9", "cy", at(0), at(0, 17))])
    plan = load_plan(cascade())
    remap(store, plan)
    query = ReportQuery(measure="person_days", date_from=MONDAY, date_to=FRIDAY)
    got = build_teams(store, plan, query)
    rows = {team["id"]: team for team in got["teams"]}
    # Payments (Ada 5, Bob 2, Cy 1 on his Retry item) covers three people; Retries, Cy alone, is folded.
    assert set(rows) == {"payments", "growth"}
    assert (rows["payments"]["people"], rows["payments"]["effort"]) == (3, pytest.approx(8))
    assert rows["growth"]["people"] == 0
    assert got["folded"] == [
        {
            "team": "retries",
            "into": "payments",
            "note": "retries has fewer than 3 people in this window; its time is shown within team payments",
        }
    ]
    assert (got["people"], got["working_days"], got["total"]["effort"]) == (3, 5, pytest.approx(8))
    assert (got["from"], got["to"]) == ("2026-11-02", "2026-11-06")
    fte = build_teams(store, plan, ReportQuery(measure="fte", date_from=MONDAY, date_to=FRIDAY))
    assert {t["id"]: t["effort"] for t in fte["teams"]}["payments"] == pytest.approx(8 / 5)
    everyone = ReportQuery(
        measure="person_days", date_from=MONDAY, date_to=FRIDAY, calendar=WorkCalendar(min_group_size=1)
    )
    shown = build_teams(store, plan, everyone)
    assert {t["id"]: t["people"] for t in shown["teams"]} == {"payments": 3, "retries": 1, "growth": 0}
    assert shown["folded"] == []
    TeamsReport.model_validate(got)
    points = build_teams(store, plan, ReportQuery())
    assert not {"people", "working_days", "folded"} & set(points)
    assert all("people" not in team for team in points["teams"])


def test_a_team_under_a_folded_team_is_folded_with_it(store: Database) -> None:
    seeded(store, cascade())
    plan = load_plan(cascade())
    four = WorkCalendar(min_group_size=4)
    got = build_teams(
        store, plan, ReportQuery(measure="person_days", date_from=MONDAY, date_to=FRIDAY, calendar=four)
    )
    # Payments covers Ada and Bob: too few for four; Retries (nobody's time) goes with it.
    assert [t["id"] for t in got["teams"]] == ["growth"]
    assert [(f["team"], f["into"]) for f in got["folded"]] == [("payments", None), ("retries", None)]
    assert got["total"]["effort"] == pytest.approx(7)  # their time still counts in the total


def test_the_trend_in_people_time_is_the_time_worked_each_week(store: Database) -> None:
    seeded(store)
    plan = load_plan(VALID)
    week = ReportQuery(measure="person_days", date_from=MONDAY, date_to=MONDAY + timedelta(days=13))
    got = build_trend(store, plan, week)
    first, second = got["weeks"]
    # Week one as in the report (7 person-days); week two Ada still has item 1 every day.
    assert first["values"] == {
        "customer-first": pytest.approx(4 * 0.3 + 1),
        "reliability": pytest.approx(4 * 0.7),
    }
    assert first["untagged"] == pytest.approx(2)
    assert second["values"] == {
        "customer-first": pytest.approx(5 * 0.3),
        "reliability": pytest.approx(5 * 0.7),
    }
    assert (got["people"], got["working_days"]) == (2, 10)
    to_wednesday = {**week.__dict__, "measure": "fte", "date_to": MONDAY + timedelta(days=9)}
    fte = build_trend(store, plan, ReportQuery(**to_wednesday))
    assert fte["weeks"][0]["untagged"] == pytest.approx(2 / 5)
    assert fte["weeks"][1]["values"]["reliability"] == pytest.approx(3 * 0.7 / 3)  # three working days
    Trend.model_validate(got)


def test_a_team_trend_too_small_to_show_is_its_parents(store: Database) -> None:
    retry = make_item(
        "9", labels=("method:spike",), components=("Retry",), state=State.DONE
    )  # serves nothing
    store.items.upsert([*ITEMS, retry])
    store.history.record([*CHANGES, *worked("9", "cy", at(0), at(0, 17))])
    plan = load_plan(cascade())
    remap(store, plan)
    got = build_trend(
        store, plan, ReportQuery(measure="person_days", date_from=MONDAY, date_to=FRIDAY, team="retries")
    )
    assert got["folded"]["into"] == "payments"
    assert got["people"] == 3
    total = sum(sum(w["values"].values()) + w["untagged"] + w["unaligned"] for w in got["weeks"])
    assert total == pytest.approx(8)
    assert sum(w["unaligned"] for w in got["weeks"]) == pytest.approx(1)  # Cy's day on the spike
