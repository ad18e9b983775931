"""Crafted numbers are 4xx naming the problem, never a 500: a flags cursor whose
position overflows or is negative, and NaN/Infinity (or overflowing numbers) in a JSON body."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.support import auth
from v2mom.app.factory import create_app
from v2mom.settings import Settings
from v2mom.store.database import Database

JSON = {"content-type": "application/json"}


@pytest.fixture
def world(seeded: Database) -> Iterator[tuple[TestClient, Database, dict[str, str]]]:
    admin = auth(seeded.tokens.create("admin", "alice"))
    with TestClient(create_app(Settings(), seeded)) as client:
        yield client, seeded, admin


def cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@pytest.mark.parametrize("raw", [f"1.0|{2**70}", f"1.0|{2**63}", "1.0|-1", "1.0|0", "nan|1", "inf|1"])
def test_a_crafted_flags_cursor_is_a_422(
    world: tuple[TestClient, Database, dict[str, str]], raw: str
) -> None:
    client, _, admin = world
    answer = client.get("/api/reports/flags", params={"cursor": cursor(raw)}, headers=admin)
    assert answer.status_code == 422, answer.text
    [problem] = answer.json()["detail"]
    assert problem["loc"] == ["query", "cursor"]
    assert problem["msg"].startswith("cursor: not a cursor this server issued")


def test_issued_cursors_still_page(world: tuple[TestClient, Database, dict[str, str]]) -> None:
    client, _, admin = world
    first = client.get("/api/reports/flags?limit=1", headers=admin).json()
    assert first["next_cursor"]
    second = client.get(
        "/api/reports/flags", params={"limit": 1, "cursor": first["next_cursor"]}, headers=admin
    )
    assert second.status_code == 200
    assert second.json()["items"] != first["items"]


@pytest.mark.parametrize(
    ("method", "path", "body", "loc", "msg"),
    [
        (
            "PUT",
            "/api/plan",
            '{"values": [{"id": "a", "name": "A", "target_share": NaN}]}',
            ["body", "values", 0, "target_share"],
            "NaN is not a JSON number",
        ),
        (
            "POST",
            "/api/admin/tokens",
            '{"role": NaN, "name": "x"}',
            ["body", "role"],
            "NaN is not a JSON number",
        ),
        (
            "POST",
            "/api/admin/tokens",
            '{"role": "viewer", "name": -Infinity}',
            ["body", "name"],
            "-Infinity is not a JSON number",
        ),
        (
            "POST",
            "/api/admin/rules",
            '{"rule": {"when": {"key": "A-1"}, "value": "x"}, "position": Infinity}',
            ["body", "position"],
            "Infinity is not a JSON number",
        ),
        (
            "POST",
            "/api/admin/rules/reorder",
            '{"order": [1e400, 0]}',
            ["body", "order", 0],
            "number out of range",
        ),
        (
            "POST",
            "/api/admin/rules",
            '{"rule": {"when": {"key": "A-1"}, "value": "x"}, "position": ' + "9" * 5000 + "}",
            ["body", "position"],
            "integer out of range",
        ),
        (
            "POST",
            "/api/rules",
            '{"when": {"key": "A-1"}, "value": "x", "id": 18446744073709551616}',
            ["body", "id"],
            "integer out of range",
        ),
    ],
    ids=[
        "nan-share",
        "nan-role",
        "minus-infinity-name",
        "infinity-position",
        "1e400",
        "5000-digits",
        "2**64",
    ],
)
def test_non_finite_and_overflowing_json_numbers_are_a_422_naming_the_place(
    world: tuple[TestClient, Database, dict[str, str]],
    method: str,
    path: str,
    body: str,
    loc: list[object],
    msg: str,
) -> None:
    client, store, admin = world
    versions = len(store.plans.versions())
    answer = client.request(method, path, content=body, headers={**JSON, **admin})
    assert answer.status_code == 422, answer.text
    [problem] = answer.json()["detail"]
    assert problem["loc"] == loc
    assert problem["msg"].startswith(msg)
    assert len(store.plans.versions()) == versions


def test_json_that_is_not_json_stays_fastapis_422(world: tuple[TestClient, Database, dict[str, str]]) -> None:
    client, _, admin = world
    answer = client.put("/api/plan", content=b"{not json", headers={**JSON, **admin})
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["type"] == "json_invalid"
    deep = b"[" * 100_000 + b"]" * 100_000
    assert client.put("/api/plan", content=deep, headers={**JSON, **admin}).status_code in (400, 422)
