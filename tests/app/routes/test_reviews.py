"""The review API and ``period=`` on the reports: a closed period reads from its snapshot, so changing
the plan afterwards leaves it byte for byte as it was, while the live report for its dates moves."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.reviews_world import CYCLE, PLAN, Q1_CUSTOMER_FIRST, Q1_DONE_POINTS, TODAY, reviews_world
from tests.support import auth
from v2mom.app.factory import create_app
from v2mom.mapping.plan import load_plan
from v2mom.settings import Settings
from v2mom.store.database import Database
from v2mom.store.resolution.plan_change import apply_plan

REPORT = "/api/reports/effort-by-value"
REWEIGHTED = PLAN.replace(
    "weights: {customer-first: 0.3, reliability: 0.7}", "weights: {customer-first: 0.9, reliability: 0.1}"
)


@pytest.fixture
def frozen_today(monkeypatch: pytest.MonkeyPatch) -> None:
    """The clock stands on ``TODAY``: q1 and q2 have ended, q3 is under way."""
    monkeypatch.setattr("v2mom.clock.utcnow", lambda: datetime(2026, 8, 15, 9, 0, tzinfo=UTC))


@pytest.fixture
def world(store: Database, frozen_today: None) -> Iterator[tuple[TestClient, dict[str, str], dict[str, str]]]:
    reviews_world(store)
    viewer, admin = store.tokens.create("viewer", "pm"), store.tokens.create("admin", "ops")
    with TestClient(create_app(Settings(), store)) as client:
        yield client, auth(viewer), auth(admin)


World = tuple[TestClient, dict[str, str], dict[str, str]]


def messages(answer: Any) -> list[str]:
    return [detail["msg"] for detail in answer.json()["detail"]]


def test_closing_lists_and_shows_reviews(world: World) -> None:
    client, viewer, admin = world
    assert client.get("/api/reviews", headers=viewer).json() == {
        "reviews": [],
        "cycle": {"id": "fy27", "name": "FY2027", "start": "2026-02-01", "end": "2027-01-31"},
        "periods": [
            {
                "cycle": "fy27",
                "period": "q1",
                "start": "2026-02-01",
                "end": "2026-04-30",
                "ended": True,
                "closed": False,
            },
            {
                "cycle": "fy27",
                "period": "q2",
                "start": "2026-05-01",
                "end": "2026-07-31",
                "ended": True,
                "closed": False,
            },
            {
                "cycle": "fy27",
                "period": "q3",
                "start": "2026-08-01",
                "end": "2026-10-31",
                "ended": False,
                "closed": False,
            },
            {
                "cycle": "fy27",
                "period": "q4",
                "start": "2026-11-01",
                "end": "2027-01-31",
                "ended": False,
                "closed": False,
            },
        ],
    }
    assert client.post("/api/reviews/close", headers=viewer).status_code == 403
    closed = client.post("/api/reviews/close", headers=admin)
    assert closed.status_code == 200, closed.text
    body = closed.json()
    assert [(r["cycle"], r["period"]) for r in body["closed"]] == [("fy27", "q1"), ("fy27", "q2")]
    assert body["already_closed"] == []
    after = client.get("/api/reviews", headers=viewer).json()
    listed = after["reviews"]
    assert listed == body["closed"]
    assert [(p["period"], p["closed"]) for p in after["periods"]] == [
        ("q1", True),
        ("q2", True),
        ("q3", False),
        ("q4", False),
    ]
    assert listed[0] | {"closed_at": None} == {
        "cycle": "fy27",
        "period": "q1",
        "start": "2026-02-01",
        "end": "2026-04-30",
        "closed_at": None,
        "closed_by": "token:ops",
        "plan_version": 1,
    }
    shown = client.get("/api/reviews/fy27/q1", headers=viewer)
    assert shown.status_code == 200, shown.text
    snapshot = shown.json()
    assert snapshot["company"]["reports"]["points"]["total"]["effort"] == Q1_DONE_POINTS
    assert list(snapshot["teams"]) == ["payments", "retries", "growth"]
    again = client.post("/api/reviews/close", headers=admin, json={"period": "fy27/q1"}).json()
    assert again["closed"] == []
    assert [r["period"] for r in again["already_closed"]] == ["q1"]
    assert client.get("/api/reviews/fy27/q1", headers=viewer).content == shown.content
    missing = client.get("/api/reviews/fy27/q3", headers=viewer)
    assert missing.status_code == 404
    assert missing.json()["detail"] == "no review of fy27/q3: that period has not been closed"
    audit = client.get("/api/admin/audit", headers=admin, params={"kind": "review"})
    assert audit.status_code == 200, audit.text
    entries = audit.json()["entries"]  # each close that stored a review, newest first; none for the repeat
    assert [(e["details"]["period"], e["kind"]) for e in entries] == [("q2", "review"), ("q1", "review")]
    assert entries[0]["actor"].startswith("token:")


def test_closing_an_unended_or_unknown_period_is_a_422(world: World) -> None:
    client, _viewer, admin = world
    answer = client.post("/api/reviews/close", headers=admin, json={"period": "fy27/q3"})
    assert answer.status_code == 422
    assert messages(answer) == [
        "fy27/q3 has not ended (its last day is 2026-10-31): a period is closed after its last day"
    ]
    answer = client.post("/api/reviews/close", headers=admin, json={"period": "fy26/q1"})
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "period"]
    assert "unknown cycle 'fy26'" in messages(answer)[0]
    assert "the periods are fy27/q1, fy27/q2, fy27/q3, fy27/q4" in messages(answer)[0]


def test_a_closed_period_stays_as_reviewed_when_the_plan_changes(world: World, store: Database) -> None:
    client, viewer, admin = world
    assert client.post("/api/reviews/close", headers=admin).status_code == 200
    closed = client.get(REPORT, params={"period": "fy27/q2", "state": "done"}, headers=viewer)
    dates = {"from": "2026-05-01", "to": "2026-07-31", "state": "done"}
    live = client.get(REPORT, params=dates, headers=viewer).json()
    assert closed.status_code == 200, closed.text
    assert closed.json()["period"]["source"] == "snapshot"
    assert closed.json()["period"]["plan_version"] == 1
    assert closed.json()["freshness"] == {}
    assert {k: v for k, v in closed.json().items() if k not in ("period", "freshness")} == {
        k: v for k, v in live.items() if k != "freshness"
    }
    csv_before = client.get(REPORT + ".csv", params={"period": "fy27/q2", "state": "done"}, headers=viewer)

    apply_plan(
        store, load_plan(REWEIGHTED), actor="test", reason="slo-program leans to customers now"
    )  # slo-program now mostly customer-first

    after = client.get(REPORT, params={"period": "fy27/q2", "state": "done"}, headers=viewer)
    assert after.content == closed.content
    relive = client.get(REPORT, params=dates, headers=viewer).json()
    assert relive["values"] != live["values"]  # the live report for the same dates moved
    csv_after = client.get(REPORT + ".csv", params={"period": "fy27/q2", "state": "done"}, headers=viewer)
    assert csv_after.content == csv_before.content


def test_what_a_snapshot_does_not_hold_is_computed_live_with_a_note(world: World, store: Database) -> None:
    client, viewer, admin = world
    client.post("/api/reviews/close", headers=admin)
    apply_plan(store, load_plan(REWEIGHTED), actor="test", reason="slo-program leans to customers now")
    everything = client.get(REPORT, params={"period": "fy27/q2", "state": "all"}, headers=viewer).json()
    assert everything["period"]["source"] == "live"
    assert everything["period"]["note"] == (
        "the review of fy27/q2 cannot answer this: it holds done work; state=all was computed live"
    )
    values = {v["id"]: v["effort"] for v in everything["values"]}
    assert values["customer-first"] == pytest.approx(10.0 * 0.9)  # today's plan
    current = client.get(REPORT, params={"period": "fy27/q3", "state": "done"}, headers=viewer).json()
    assert current["period"] | {"note": None} == {
        "id": "fy27/q3",
        "start": "2026-08-01",
        "end": "2026-10-31",
        "source": "live",
        "plan_version": None,
        "closed_at": None,
        "note": None,
    }
    assert current["period"]["note"] == "fy27/q3 has not ended: computed live"
    assert current["total"]["effort"] == 6.0


def test_a_past_period_without_a_review_is_live_and_says_so(world: World) -> None:
    client, viewer, _admin = world
    answer = client.get(REPORT, params={"period": "fy27/q1", "state": "done"}, headers=viewer).json()
    assert answer["period"]["note"] == "fy27/q1 has ended but has no review yet: computed live"
    assert answer["total"]["effort"] == Q1_DONE_POINTS
    values = {v["id"]: v["effort"] for v in answer["values"]}
    assert values["customer-first"] == pytest.approx(Q1_CUSTOMER_FIRST)
    assert (answer["from"], answer["to"]) == ("2026-02-01", "2026-04-30")


def test_period_is_a_shorthand_for_dates_on_the_other_reports(world: World) -> None:
    client, viewer, _admin = world
    trend = client.get("/api/reports/trend", params={"period": "fy27/q1"}, headers=viewer)
    assert trend.status_code == 200, trend.text
    assert (trend.json()["from"], trend.json()["to"]) == ("2026-02-01", "2026-04-30")
    without = client.get(REPORT, headers=viewer).json()
    assert "period" not in without  # a report not asked for a period is as it always was


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        (
            {"period": "fy27/q1", "from": "2026-02-01"},
            "period: give either period or from/to, not both (a period stands for its from and to)",
        ),
        ({"period": "fy27/q7"}, "period: cycle 'fy27' has no period 'q7' (it has q1, q2, q3, q4)"),
        (
            {"period": "q1"},
            "period: 'q1' is not a period reference (expected CYCLE/PERIOD, e.g. fy27/q1);"
            " the periods are fy27/q1, fy27/q2, fy27/q3, fy27/q4",
        ),
    ],
)
def test_bad_periods_are_422s_naming_the_problem(world: World, params: dict[str, str], problem: str) -> None:
    client, viewer, _admin = world
    for path in (REPORT, REPORT + ".csv", "/api/reports/trend"):
        answer = client.get(path, params=params, headers=viewer)
        assert answer.status_code == 422, path
        assert messages(answer) == [problem]
        assert answer.json()["detail"][0]["loc"] == ["query", "period"]


def test_a_plan_without_a_cycle_has_no_periods(store: Database, frozen_today: None) -> None:
    reviews_world(store, PLAN.replace(CYCLE, ""))
    viewer, admin = auth(store.tokens.create("viewer", "pm")), auth(store.tokens.create("admin", "ops"))
    with TestClient(create_app(Settings(), store)) as client:
        answer = client.get(REPORT, params={"period": "fy27/q1"}, headers=viewer)
        assert answer.status_code == 422
        assert messages(answer) == ["period: 'fy27/q1' names a period, but the plan has no cycle"]
        closing = client.post("/api/reviews/close", headers=admin)
        assert closing.status_code == 422
        assert messages(closing) == ["the plan has no cycle, so it has no periods to close"]
        assert client.get("/api/reviews", headers=viewer).json() == {
            "reviews": [],
            "cycle": None,
            "periods": [],
        }


@pytest.mark.parametrize("path", ["/api/plan", "/api/admin/plan"])
def test_a_plan_with_a_new_cycle_closes_the_old_one(world: World, path: str) -> None:
    client, viewer, admin = world
    document = load_plan(PLAN.replace("id: fy27, name: FY2027", "id: fy28, name: FY2028")).model_dump(
        mode="json", exclude_none=True
    )
    if path == "/api/admin/plan":
        preview = client.put(
            path, params={"dry_run": "true"}, json=document | {"reason": "FY2028 begins"}, headers=admin
        )
        assert preview.status_code == 200, preview.text
        assert client.get("/api/reviews", headers=viewer).json()["reviews"] == []  # a dry run closes nothing
    answer = client.put(path, json=document | {"reason": "FY2028 begins"}, headers=admin)
    assert answer.status_code == 200, answer.text
    assert answer.json()["reason"] == "FY2028 begins"  # the answer says what was closed first, and why
    assert [(r["cycle"], r["period"]) for r in answer.json()["closed"]] == [
        ("fy27", p) for p in ("q1", "q2", "q3")
    ]
    listed = client.get("/api/reviews", headers=viewer).json()["reviews"]
    assert [(r["period"], r["end"], r["plan_version"]) for r in listed] == [
        ("q1", "2026-04-30", 1),
        ("q2", "2026-07-31", 1),
        ("q3", TODAY.isoformat(), 1),  # the current period, cut at the switch, under the old plan
    ]
    # The old cycle's periods still answer from their snapshots after the switch.
    old = client.get(REPORT, params={"period": "fy27/q3", "state": "done"}, headers=viewer).json()
    assert old["period"]["source"] == "snapshot"
    assert (old["from"], old["to"]) == ("2026-08-01", TODAY.isoformat())
