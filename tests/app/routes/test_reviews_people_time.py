"""The review API in people's time: closing counts in the settings' calendar, a review holds person-days
and FTE, ``period=`` reads them from the snapshot (a folded team as it was folded), and a review
closed before people's time was recorded is served as stored and answered live with a note."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.reviews_world import NOVEMBER, TIME_TOTAL, close_before_people_time, people_time_world
from tests.support import auth
from v2mom.app.factory import create_app
from v2mom.mapping.plan import Plan
from v2mom.reports.disclosure import Folding
from v2mom.reports.people_time import folded_part
from v2mom.settings import Settings
from v2mom.store.database import Database

REPORT = "/api/reports/effort-by-value"
NOVEMBER_DAYS = {"from": "2026-11-01", "to": "2026-11-30"}

# Payments is too small for five, and Retries, under it, is folded with it.
INTO_PAYMENTS = Folding({"retries": "payments"}, frozenset({"retries"}))  # the one-person squad
UP_TO_THE_COMPANY = Folding({"payments": None, "retries": None}, frozenset({"payments"}))


@pytest.fixture
def frozen_today(monkeypatch: pytest.MonkeyPatch) -> None:
    """The clock's today is 2026-12-05: November has ended."""
    monkeypatch.setattr("v2mom.clock.utcnow", lambda: datetime(2026, 12, 5, 9, 0, tzinfo=UTC))


Client = tuple[TestClient, dict[str, str], dict[str, str], Plan]


def client_for(store: Database, settings: Settings) -> Iterator[Client]:
    plan = people_time_world(store)
    viewer, admin = auth(store.tokens.create("viewer", "pm")), auth(store.tokens.create("admin", "ops"))
    with TestClient(create_app(settings, store)) as client:
        yield client, viewer, admin, plan


@pytest.fixture
def world(store: Database, frozen_today: None) -> Iterator[Client]:
    yield from client_for(store, Settings())


def close_november(client: TestClient, admin: dict[str, str]) -> None:
    answer = client.post("/api/reviews/close", headers=admin, json={"period": NOVEMBER})
    assert answer.status_code == 200, answer.text
    assert [r["period"] for r in answer.json()["closed"]] == ["m2"]


def test_a_closed_period_answers_in_people_time_from_its_snapshot(world: Client) -> None:
    client, viewer, admin, _plan = world
    close_november(client, admin)
    review = client.get(f"/api/reviews/{NOVEMBER}", headers=viewer).json()
    assert review["company"]["reports"]["fte"]["people"] == 4
    assert review["teams"]["retries"]["folded"]["person_days"] == folded_part(
        Folding({"retries": "payments"}, frozenset({"retries"})), "retries", 3
    )
    assert "person_days" not in review["teams"]["retries"]["reports"]
    for measure in ("person_days", "fte"):
        answer = client.get(REPORT, params={"period": NOVEMBER, "measure": measure}, headers=viewer).json()
        assert answer["period"]["source"] == "snapshot", answer["period"]
        stored = review["company"]["reports"][measure]
        assert {k: v for k, v in answer.items() if k not in ("period", "freshness")} == stored
        live = client.get(REPORT, params=NOVEMBER_DAYS | {"measure": measure}, headers=viewer).json()
        assert {k: v for k, v in live.items() if k != "freshness"} == stored  # nothing moved since
    # The squad folded into Payments reads as the live report answers it: Payments' figures, folded.
    squad = client.get(
        REPORT, params={"period": NOVEMBER, "measure": "fte", "team": "retries"}, headers=viewer
    )
    assert squad.json()["period"]["source"] == "snapshot"
    live = client.get(REPORT, params=NOVEMBER_DAYS | {"measure": "fte", "team": "retries"}, headers=viewer)
    assert {k: v for k, v in squad.json().items() if k not in ("period", "freshness")} == {
        k: v for k, v in live.json().items() if k != "freshness"
    }
    assert squad.json()["team"] == "payments"
    assert squad.json()["folded"] == folded_part(
        Folding({"retries": "payments"}, frozenset({"retries"})), "retries", 3
    )
    # The snapshot's time is of work in every state: done work alone is computed live.
    done = client.get(
        REPORT, params={"period": NOVEMBER, "measure": "person_days", "state": "done"}, headers=viewer
    )
    assert done.json()["period"]["note"] == (
        f"the review of {NOVEMBER} cannot answer this: it holds work in every state;"
        " state=done was computed live"
    )
    assert done.json()["total"]["effort"] == pytest.approx(
        TIME_TOTAL - 2
    )  # item 4 (Dan's 2 days) is not done


def test_closing_counts_in_the_settings_calendar(store: Database, frozen_today: None) -> None:
    for client, viewer, admin, _plan in client_for(store, Settings(min_group_size=5)):
        close_november(client, admin)
        review = client.get(f"/api/reviews/{NOVEMBER}", headers=viewer).json()
        # Payments covers four people: under five it is folded into the company, and its squad too.
        assert review["teams"]["payments"]["folded"]["fte"] == folded_part(UP_TO_THE_COMPANY, "payments", 5)
        assert review["teams"]["retries"]["folded"]["fte"] == folded_part(UP_TO_THE_COMPANY, "retries", 5)
        assert review["company"]["reports"]["fte"]["people"] == 4  # the company is always shown


@pytest.mark.parametrize("path", ["/api/plan", "/api/admin/plan"])
def test_a_new_cycle_closes_the_old_one_in_the_settings_calendar(
    store: Database, frozen_today: None, path: str
) -> None:
    for client, viewer, admin, plan in client_for(store, Settings(min_group_size=1)):
        document = plan.model_dump(mode="json", exclude_none=True)
        document["cycle"] = document["cycle"] | {"id": "fy27b"}
        answer = client.put(path, json=document | {"reason": "a new cycle"}, headers=admin)
        assert answer.status_code == 200, answer.text
        review = client.get(f"/api/reviews/{NOVEMBER}", headers=viewer).json()
        squad = review["teams"]["retries"]  # one person is enough under these settings
        assert "folded" not in squad
        assert (
            squad["reports"]["person_days"]["people"],
            squad["reports"]["person_days"]["total"]["effort"],
        ) == (
            1,
            pytest.approx(1.0),
        )


def test_a_review_closed_before_people_time_is_served_as_stored(world: Client, store: Database) -> None:
    client, viewer, _admin, plan = world
    close_before_people_time(store, plan, NOVEMBER)
    stored = store.reviews.get(*NOVEMBER.split("/"))
    assert stored is not None
    answer = client.get(f"/api/reviews/{NOVEMBER}", headers=viewer)
    assert answer.status_code == 200, answer.text
    assert answer.json() == json.loads(json.dumps(stored.document))
    assert list(answer.json()["company"]["reports"]) == ["points", "hours", "count"]
    assert all("folded" not in part for part in answer.json()["teams"].values())
    live = client.get(REPORT, params={"period": NOVEMBER, "measure": "fte"}, headers=viewer).json()
    assert live["period"]["source"] == "live"
    assert live["period"]["note"] == (
        f"the review of {NOVEMBER} cannot answer this: it was closed before people's time was recorded;"
        " computed live"
    )
    assert live["people"] == 4
    points: dict[str, Any] = client.get(
        REPORT, params={"period": NOVEMBER, "state": "done"}, headers=viewer
    ).json()
    assert points["period"]["source"] == "snapshot"  # its estimates still answer
