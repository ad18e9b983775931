"""What the dashboard's pages read: flag counts and the flag list's text filter, the items a
value counts, an item's parent chain, and every page's path answered with the dashboard."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.support import auth
from v2mom.app.factory import PAGE_HEADERS, create_app
from v2mom.settings import Settings
from v2mom.store.database import Database


@pytest.fixture
def client(seeded: Database) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(), seeded)) as test_client:
        test_client.headers.update(auth(seeded.tokens.create("viewer", "pm")))
        yield test_client


def keys(answer: dict[str, object]) -> list[str]:
    return [item["key"] for item in answer["items"]]  # type: ignore[attr-defined,index]


def test_flag_counts_are_what_the_lists_hold_under_the_same_filters(client: TestClient) -> None:
    counts = client.get("/api/reports/flags/counts").json()
    assert counts == {
        "measure": "points",
        "tracker": None,
        "q": None,
        "untagged": {"items": 2, "effort": 9.0},  # ONB-5 (8) and ONB-6 (1)
        "orphaned": {"items": 1, "effort": 1.0},  # ONB-6, its parent 999 is not stored
        "conflict": {"items": 0, "effort": 0.0},
    }
    for kind in ("untagged", "orphaned", "conflict"):
        listed = client.get("/api/reports/flags", params={"kind": kind, "limit": 500}).json()["items"]
        assert len(listed) == counts[kind]["items"]
        assert sum(item["effort"] for item in listed) == counts[kind]["effort"]
    assert client.get("/api/reports/flags/counts", params={"measure": "count"}).json()["untagged"] == {
        "items": 2,
        "effort": 2.0,
    }
    assert client.get("/api/reports/flags/counts", params={"q": "onb-5"}).json()["untagged"]["items"] == 1
    linear = client.get("/api/reports/flags/counts", params={"tracker": "linear"}).json()
    assert [linear[k]["items"] for k in ("untagged", "orphaned", "conflict")] == [0, 0, 0]


def test_the_flag_list_finds_items_by_key_or_title_in_any_case(client: TestClient) -> None:
    def find(text: str) -> list[str]:
        answer = client.get("/api/reports/flags", params={"kind": "untagged", "q": text})
        assert answer.status_code == 200, answer.text
        return keys(answer.json())

    assert find("onb-6") == ["ONB-6"]  # the key, whatever its case
    assert find("ITEM 14") == ["ONB-5"]  # the title ("Item 14")
    assert find("item 1") == ["ONB-5", "ONB-6"]  # still biggest effort first
    assert find("%") == []  # LIKE's wildcards are plain characters
    assert find("onb_5") == []
    assert find("") == ["ONB-5", "ONB-6"]  # empty: no filter
    paged = client.get("/api/reports/flags", params={"kind": "untagged", "q": "item", "limit": 1}).json()
    rest = client.get(
        "/api/reports/flags", params={"kind": "untagged", "q": "item", "cursor": paged["next_cursor"]}
    ).json()
    assert keys(paged) + keys(rest) == ["ONB-5", "ONB-6"]
    assert client.get("/api/reports/flags", params={"q": "x" * 201}).status_code == 422


def test_a_value_lists_the_items_it_counts_with_its_share_of_their_effort(client: TestClient) -> None:
    report = client.get("/api/reports/effort-by-value").json()
    counted = {v["id"]: v for v in report["values"]}["customer-first"]
    answer = client.get("/api/reports/values/customer-first/items").json()
    assert keys(answer) == ["ONB-2", "ONB-3", "ONB-1"]  # the epic counts nothing: its stories carry effort
    assert [item["effort"] for item in answer["items"]] == [5.0, 3.0, 0.0]
    assert sum(item["effort"] for item in answer["items"]) == counted["effort"]
    assert len(answer["items"]) == counted["items"]
    assert {item["method"] for item in answer["items"]} == {"self-serve-onboarding"}
    assert answer["next_cursor"] is None

    first = client.get("/api/reports/values/customer-first/items", params={"limit": 2}).json()
    rest = client.get(
        "/api/reports/values/customer-first/items", params={"cursor": first["next_cursor"]}
    ).json()
    assert keys(first) + keys(rest) == keys(answer)
    done = client.get("/api/reports/values/customer-first/items", params={"state": "done"}).json()
    assert keys(done) == ["ONB-2"]
    assert keys(client.get("/api/reports/values/customer-first/items?tracker=asana").json()) == []
    other = client.get("/api/reports/values/customer-first/items", params={"method": "slo-program"}).json()
    assert keys(other) == []
    reliability = client.get("/api/reports/values/reliability/items").json()
    assert keys(reliability) == ["ONB-4"]
    assert reliability["items"][0]["method"] is None  # tagged with the value itself
    assert client.get("/api/reports/values/speed/items").status_code == 404
    assert client.get("/api/reports/values/customer-first/items?cursor=bad!").status_code == 422
    assert (
        client.get("/api/reports/values/customer-first/items?from=2026-02-01&to=2026-01-01").status_code
        == 422
    )


def test_an_item_names_its_parents_up_to_the_root_or_the_first_missing_one(client: TestClient) -> None:
    story = client.get("/api/items/jira/ONB-2").json()
    assert story["ancestors"] == [
        {
            "tracker": "jira",
            "id": "10",
            "key": "ONB-1",
            "title": "Item 10",
            "url": None,
            "found": True,
            "deleted": False,
        }
    ]
    orphan = client.get("/api/items/jira/ONB-6").json()
    assert orphan["ancestors"] == [
        {
            "tracker": "jira",
            "id": "999",
            "key": None,
            "title": None,
            "url": None,
            "found": False,
            "deleted": False,
        }
    ]
    assert client.get("/api/items/jira/ONB-1").json()["ancestors"] == []


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/values",
        "/values/customer-first",
        "/teams",
        "/teams/payments",
        "/attention",
        "/reviews",
        "/reviews/fy27/q1",
        "/items/jira/ONB-2",
        "/plan",
        "/audit",
        "/access",
        "/health",
    ],
)
def test_every_page_s_path_answers_with_the_dashboard_under_its_csp(client: TestClient, path: str) -> None:
    """Deep links and refreshes land on the page: the server answers each path with the dashboard."""
    client.cookies.clear()
    answer = client.get(path, headers={"Authorization": ""})  # no session needed for the page itself
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert answer.headers["content-security-policy"] == PAGE_HEADERS["Content-Security-Policy"]
    assert '<script src="/static/app.js" defer></script>' in answer.text


def test_a_path_that_is_no_page_is_not_found(client: TestClient) -> None:
    assert client.get("/nope").status_code == 404
    assert client.get("/values/a/b").status_code == 404
    assert client.get("/teams/a/b").status_code == 404
    assert client.get("/reviews/fy27").status_code == 404
