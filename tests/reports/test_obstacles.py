"""Obstacles report: blocked, unfinished effort in an obstacle's methods, through the HTTP API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.factories import T0, VALID, make_item
from v2mom.app.factory import create_app
from v2mom.mapping.plan import load_plan
from v2mom.models import Level, State
from v2mom.settings import Settings
from v2mom.store.database import Database
from v2mom.store.resolution.run import remap

ONBOARDING = ("method:self-serve-onboarding",)


@pytest.fixture
def client(store: Database) -> Iterator[TestClient]:
    store.items.upsert(
        [
            make_item("1", key="ONB-1", labels=ONBOARDING, status_name="Blocked", points=5.0),
            make_item("2", key="ONB-2", labels=(*ONBOARDING, "blocked"), points=3.0, state=State.IN_PROGRESS),
            make_item("3", key="ONB-3", labels=ONBOARDING, points=8.0),  # open, not blocked
            make_item(
                "4",
                key="ONB-4",
                labels=ONBOARDING,
                status_name="Blocked",
                points=13.0,
                state=State.DONE,
                completed_at=T0,
            ),  # done work is not held up
            make_item("5", key="ONB-5", labels=ONBOARDING, status_name="Unblocked", points=2.0),
            make_item("6", key="ONB-6", labels=("method:slo-program",), status_name="Blocked", points=21.0),
            make_item("7", key="ONB-7", level=Level.EPIC, labels=ONBOARDING, points=0.0),
            make_item("8", key="ONB-8", parent_id="7", status_name="Blocked", points=1.0),  # inherits
            make_item("9", tracker="linear", key="ENG-9", labels=(*ONBOARDING, "Blocked"), points=4.0),
        ]
    )
    plan = load_plan(VALID)
    store.plans.save(plan, actor="test")
    remap(store, plan)
    viewer = store.tokens.create("viewer", "pm")
    with TestClient(create_app(Settings(), store)) as test_client:
        test_client.headers["Authorization"] = f"Bearer {viewer}"
        yield test_client


def test_blocked_effort_counts_only_blocked_unfinished_work_of_the_methods(client: TestClient) -> None:
    answer = client.get("/api/reports/obstacles", params={"measure": "points"})
    assert answer.status_code == 200
    (obstacle,) = answer.json()["obstacles"]
    assert obstacle["id"] == "legacy-billing"
    assert obstacle["methods"] == ["self-serve-onboarding"]
    assert obstacle["blocked_effort"] == 5.0 + 3.0 + 1.0 + 4.0
    assert obstacle["blocked_items"] == 4
    assert [i["key"] for i in obstacle["items"]] == ["ONB-1", "ENG-9", "ONB-2", "ONB-8"]
    assert obstacle["items"][0] == {
        "tracker": "jira",
        "key": "ONB-1",
        "title": "Item 1",
        "url": None,
        "status": "Blocked",
        "effort": 5.0,
    }
    assert obstacle["open_effort"] == 5.0 + 3.0 + 8.0 + 2.0 + 1.0 + 4.0


def test_obstacles_follow_the_tracker_and_measure_filters(client: TestClient) -> None:
    (jira,) = client.get("/api/reports/obstacles", params={"tracker": "jira", "measure": "points"}).json()[
        "obstacles"
    ]
    assert jira["blocked_effort"] == 9.0
    (counted,) = client.get("/api/reports/obstacles", params={"measure": "count"}).json()["obstacles"]
    assert counted["blocked_items"] == 4
    assert counted["blocked_effort"] == 4.0


def test_obstacles_need_a_token(client: TestClient) -> None:
    del client.headers["Authorization"]
    assert client.get("/api/reports/obstacles").status_code == 401


def test_a_blocked_item_link_is_served_only_when_it_is_http(client: TestClient, store: Database) -> None:
    legacy = make_item("10", key="ONB-10", labels=ONBOARDING, status_name="Blocked", points=50.0)
    kept = make_item(
        "11",
        key="ONB-11",
        labels=ONBOARDING,
        status_name="Blocked",
        points=40.0,
        url="https://x.example/ONB-11",
    )
    store.items.upsert(
        [legacy.model_copy(update={"url": "javascript:alert(1)"}), kept]
    )  # stored before the check
    remap(store)
    (obstacle,) = client.get("/api/reports/obstacles", params={"measure": "points"}).json()["obstacles"]
    urls = {item["key"]: item["url"] for item in obstacle["items"]}
    assert urls["ONB-10"] is None
    assert urls["ONB-11"] == "https://x.example/ONB-11"
