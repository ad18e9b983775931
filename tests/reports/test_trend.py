"""The weekly trend adds up to the done report, week by week, on both databases."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise

import pytest
from fastapi.testclient import TestClient

from tests.factories import T0
from tests.support import auth
from v2mom.app.factory import create_app
from v2mom.settings import Settings
from v2mom.store.database import Database


@pytest.mark.parametrize("measure", ["points", "count"])
def test_weeks_add_up_to_the_done_report(seeded: Database, measure: str) -> None:
    token = seeded.tokens.create("viewer", "pm")
    with TestClient(create_app(Settings(), seeded)) as client:
        trend = client.get(f"/api/reports/trend?measure={measure}", headers=auth(token)).json()
        done = client.get(
            f"/api/reports/effort-by-value?state=done&measure={measure}", headers=auth(token)
        ).json()
    weeks = trend["weeks"]
    assert len(weeks) == 12
    starts = [date.fromisoformat(w["start"]) for w in weeks]
    assert all(s.weekday() == 0 for s in starts)
    assert all(b - a == timedelta(weeks=1) for a, b in pairwise(starts))
    assert trend["to"] == (T0 + timedelta(days=20)).date().isoformat()  # the latest completion
    for value in done["values"]:
        assert sum(w["values"][value["id"]] for w in weeks) == pytest.approx(value["effort"])
    assert sum(w["untagged"] for w in weeks) == pytest.approx(done["untagged"]["effort"])
    assert sum(sum(w["values"].values()) + w["untagged"] for w in weeks) == pytest.approx(
        done["total"]["effort"]
    )
    busy = [w for w in weeks if any(w["values"].values()) or w["untagged"]]
    assert len(busy) == 2  # the two completions fall in two different weeks


def test_a_range_is_validated(seeded: Database) -> None:
    token = seeded.tokens.create("viewer", "pm")
    with TestClient(create_app(Settings(), seeded)) as client:
        answer = client.get("/api/reports/trend?from=2026-11-10&to=2026-11-01", headers=auth(token))
        assert answer.status_code == 422
        narrow = client.get("/api/reports/trend?from=2026-11-01&to=2026-11-09", headers=auth(token)).json()
        assert [w["start"] for w in narrow["weeks"]] == ["2026-10-26", "2026-11-02", "2026-11-09"]
        assert client.get("/api/reports/trend").status_code == 401
