"""The effort-by-value report over a plan with teams: team work counts toward the values it serves,
what reaches no value is its own ``unaligned`` part, and the parts still add up to the total."""

from __future__ import annotations

import math
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import T0, VALID, make_item
from tests.mapping.test_cascade import cascade
from v2mom.app.cli_render import report_table
from v2mom.app.factory import create_app
from v2mom.app.schemas.reports import EffortReport
from v2mom.mapping.plan import load_plan
from v2mom.models import State
from v2mom.reports.csv_export import report_rows
from v2mom.reports.effort import ReportQuery, build_report
from v2mom.reports.flags import list_flags
from v2mom.reports.trend import build_trend
from v2mom.settings import Settings
from v2mom.store.database import Database
from v2mom.store.resolution.plan_change import apply_plan
from v2mom.store.resolution.run import remap

ITEMS = [
    make_item("1", labels=("method:spike",), points=5.0),  # serves nothing: all unaligned
    # The retry squad's work (its component, inside Payments' project) may name its methods.
    make_item("2", labels=("method:half-aligned",), points=4.0, components=("Retry",)),  # half unaligned
    make_item("3", labels=("method:backoff",), points=8.0, components=("Retry",)),  # two levels down
    make_item("4", labels=("value:merchant-trust",), points=2.0),  # a team value
    make_item("5", points=3.0),  # untagged
]


def report(store: Database, text: str) -> dict[str, Any]:
    plan = load_plan(text)
    store.items.upsert(ITEMS)
    remap(store, plan)
    return build_report(store, plan, ReportQuery())


def test_team_work_rolls_up_and_unaligned_work_is_its_own_part(store: Database) -> None:
    got = report(store, cascade())
    values = {v["id"]: v for v in got["values"]}
    lost = [
        {"id": "spike", "name": "Research spike", "effort": 5.0},
        {"id": "half-aligned", "name": "Half aligned", "effort": 2.0},
    ]
    assert got["unaligned"] == {
        "effort": 7.0,
        "share": pytest.approx(7 / 22, abs=1e-4),
        "items": 2,
        "methods": lost,
    }
    assert got["untagged"] == {"effort": 3.0, "share": pytest.approx(3 / 22, abs=1e-4), "items": 1}
    assert values["customer-first"]["effort"] == pytest.approx(2.0 + 8 * 0.75 * 0.79)
    assert values["merchant-trust"]["effort"] == pytest.approx(2.0 + 8 * 0.25 * 0.5)
    assert values["merchant-trust"]["target_share"] is None  # a team's target is of the team's effort
    cf_methods = {m["id"]: m["effort"] for m in values["customer-first"]["methods"]}
    assert cf_methods["half-aligned"] == pytest.approx(2.0)
    assert cf_methods["backoff"] == pytest.approx(8 * 0.75 * 0.79)
    for value in values.values():  # every method serving a value is listed under it
        assert math.fsum(m["effort"] for m in value["methods"]) == pytest.approx(value["effort"])
    parts = math.fsum(v["effort"] for v in values.values()) + 3.0 + 7.0
    assert parts == pytest.approx(got["total"]["effort"]) == 22.0
    dumped = EffortReport.model_validate(got).model_dump(by_alias=True)
    assert dumped["unaligned"] == got["unaligned"]
    assert "unaligned" in report_table(EffortReport.model_validate(got)).columns[0]._cells
    rows = {row[0]: row for row in report_rows(got) if row[0] in ("untagged", "unaligned", "orphaned")}
    assert list(rows) == ["untagged", "unaligned", "orphaned"]
    assert rows["unaligned"][5:8] == (7.0, got["unaligned"]["share"], 2)


def test_a_plan_without_teams_has_no_unaligned_part(store: Database) -> None:
    got = report(store, VALID)
    assert "unaligned" not in got
    assert "unaligned" not in EffortReport.model_validate(got).model_dump(by_alias=True)
    assert "unaligned" not in {row[0] for row in report_rows(got)}
    assert "unaligned" not in report_table(EffortReport.model_validate(got)).columns[0]._cells
    assert got["untagged"]["effort"] == 22.0  # team methods and values name nothing in this plan


def test_unaligned_work_is_listed_with_the_method_that_serves_nothing(store: Database) -> None:
    store.items.upsert(ITEMS)
    apply_plan(store, load_plan(cascade()), actor="test")
    page = list_flags(store, kind="unaligned")
    assert [(item["key"], item["effort"]) for item in page["items"]] == [("ONB-1", 5.0), ("ONB-2", 4.0)]
    for item in page["items"]:
        assert item["flags"] == ["unaligned"]
        assert item["reasons"] == ["method spike serves no parent method or value"]
    any_flag = {item["key"]: item["flags"] for item in list_flags(store, kind=None)["items"]}
    assert any_flag["ONB-1"] == ["unaligned"]
    assert any_flag["ONB-5"] == ["untagged"]


@pytest.mark.parametrize("teams", [True, False])
def test_the_trend_splits_unaligned_work_from_untagged(store: Database, teams: bool) -> None:
    plan = load_plan(cascade() if teams else VALID)
    store.items.upsert([i.model_copy(update={"state": State.DONE, "completed_at": T0}) for i in ITEMS])
    remap(store, plan)
    weeks = build_trend(store, plan, ReportQuery())["weeks"]
    done = next(week for week in weeks if week["untagged"])
    if teams:
        assert (done["untagged"], done["unaligned"]) == (3.0, 7.0)
        assert done["values"]["merchant-trust"] == pytest.approx(2.0 + 8 * 0.25 * 0.5)
        assert math.fsum([*done["values"].values(), 3.0, 7.0]) == pytest.approx(22.0)
    else:
        assert done["untagged"] == 22.0
        assert all("unaligned" not in week for week in weeks)


def test_the_api_answers_in_team_values_and_unaligned_work(store: Database) -> None:
    store.items.upsert(ITEMS)
    apply_plan(store, load_plan(cascade()), actor="test")
    viewer = store.tokens.create("viewer", "pm")
    with TestClient(create_app(Settings(), store)) as client:
        client.headers["Authorization"] = f"Bearer {viewer}"
        report = client.get("/api/reports/effort-by-value").json()
        assert {k: v for k, v in report["unaligned"].items() if k != "methods"} == {
            "effort": 7.0,
            "share": pytest.approx(7 / 22, abs=1e-4),
            "items": 2,
        }
        assert [m["id"] for m in report["unaligned"]["methods"]] == ["spike", "half-aligned"]
        trust = client.get("/api/reports/values/merchant-trust/items")
        assert trust.status_code == 200
        assert {item["key"] for item in trust.json()["items"]} == {"ONB-3", "ONB-4"}
        listed = client.get("/api/reports/flags", params={"kind": "unaligned"}).json()["items"]
        assert [item["key"] for item in listed] == ["ONB-1", "ONB-2"]
        page = client.get("/api/items/jira/ONB-2")
        assert page.status_code == 200
        assert page.json()["resolution"]["flags"] == ["unaligned"]


@pytest.mark.parametrize("teams", [True, False])
def test_flag_counts_count_unaligned_work_only_for_a_plan_with_teams(store: Database, teams: bool) -> None:
    store.items.upsert([*ITEMS, make_item("6", labels=("method:spike",), points=6.0, state=State.CANCELED)])
    apply_plan(store, load_plan(cascade() if teams else VALID), actor="test")
    viewer = store.tokens.create("viewer", "pm")
    with TestClient(create_app(Settings(), store)) as client:
        client.headers["Authorization"] = f"Bearer {viewer}"
        counts = client.get("/api/reports/flags/counts").json()
        if not teams:  # the answer keeps its three kinds, as before teams existed
            assert list(counts) == ["measure", "tracker", "q", "untagged", "orphaned", "conflict"]
            assert counts["untagged"] == {"items": 5, "effort": 22.0}
            return
        assert counts["unaligned"] == {
            "items": 2,
            "effort": 9.0,
        }  # ONB-1 (5) and ONB-2 (4); the canceled one is out
        assert counts["untagged"] == {"items": 1, "effort": 3.0}
        listed = client.get("/api/reports/flags", params={"kind": "unaligned", "limit": 500}).json()["items"]
        assert (len(listed), sum(item["effort"] for item in listed)) == (2, 9.0)
        narrowed = client.get("/api/reports/flags/counts", params={"q": "onb-2", "measure": "count"}).json()
        assert narrowed["unaligned"] == {"items": 1, "effort": 1.0}
        elsewhere = client.get("/api/reports/flags/counts", params={"tracker": "linear"}).json()
        assert elsewhere["unaligned"] == {"items": 0, "effort": 0.0}
