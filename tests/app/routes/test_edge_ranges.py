"""The report routes bound their date ranges (422 naming the parameter, never a 500 or a
64 MB trend): dates between 1970-01-01 and 2999-12-31, a trend of at most 520 weeks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient

from tests.support import auth
from v2mom.app.factory import create_app
from v2mom.reports.trend import MAX_WEEKS
from v2mom.settings import Settings
from v2mom.store.database import Database

REPORTS = [
    "/api/reports/effort-by-value",
    "/api/reports/effort-by-value.csv",
    "/api/reports/trend",
    "/api/reports/obstacles",
]


@pytest.fixture
def viewer_client(seeded: Database) -> Iterator[tuple[TestClient, dict[str, str]]]:
    headers = auth(seeded.tokens.create("viewer", "pm"))
    with TestClient(create_app(Settings(), seeded)) as client:
        yield client, headers


def test_dates_outside_the_supported_years_are_a_422_naming_the_parameter(
    viewer_client: tuple[TestClient, dict[str, str]],
) -> None:
    client, headers = viewer_client
    cases = {
        "to=0001-01-01": "to",
        "from=0001-01-01&to=9999-12-31": "from",
        "from=2020-01-01&to=9999-12-31": "to",
        "from=1969-12-31": "from",
        "to=3000-01-01": "to",
    }
    for path in REPORTS:
        for query, name in cases.items():
            answer = client.get(f"{path}?{query}", headers=headers)
            assert answer.status_code == 422, (path, query, answer.text)
            [problem] = answer.json()["detail"]
            assert problem["loc"] == ["query", name]
            assert problem["msg"] == f"{name}: must be between 1970-01-01 and 2999-12-31"
        assert client.get(f"{path}?from=1970-01-01&to=2999-12-31", headers=headers).status_code == (
            422 if path.endswith("trend") else 200
        )


def test_a_trend_spans_at_most_520_weeks(viewer_client: tuple[TestClient, dict[str, str]]) -> None:
    client, headers = viewer_client
    answer = client.get("/api/reports/trend?from=0001-01-08&to=9999-12-20", headers=headers)
    assert answer.status_code == 422
    answer = client.get("/api/reports/trend?from=1970-01-01&to=2999-12-31", headers=headers)
    assert answer.status_code == 422
    [problem] = answer.json()["detail"]
    assert problem["loc"] == ["query", "from"]
    assert problem["msg"].startswith(f"from: a trend spans at most {MAX_WEEKS} weeks")
    # The last Monday inside the bound: exactly MAX_WEEKS weeks is fine, one more is not.
    end = date(2026, 11, 29)  # a Sunday: its week starts on 2026-11-23
    first = date(2026, 11, 23) - timedelta(weeks=MAX_WEEKS - 1)
    widest = client.get(f"/api/reports/trend?from={first}&to={end}", headers=headers)
    assert widest.status_code == 200, widest.text
    assert len(widest.json()["weeks"]) == MAX_WEEKS
    one_more = client.get(f"/api/reports/trend?from={first - timedelta(days=1)}&to={end}", headers=headers)
    assert one_more.status_code == 422
    # Only a 'from' far back (the end is the latest completion) is measured the same way.
    assert client.get("/api/reports/trend?from=1970-01-01", headers=headers).status_code == 422
    assert client.get("/api/reports/trend?to=1970-01-01", headers=headers).status_code == 200
