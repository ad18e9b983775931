"""An item's person-days in ``explain``: the item document over HTTP, the CLI, and what never shows.

The hand-computed case: Ada works item 1 Monday to Friday, and item 2 on Wednesday and Thursday,
so item 1 has three days alone and two shared in half: 4.0 person-days over 5 days worked. Who
worked on it (her account id, the name the settings map it to) appears nowhere.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.factories import VALID, make_item
from tests.store.test_people_time import SLO, at, worked
from tests.support import auth
from v2mom.app.cli import app as cli
from v2mom.app.factory import create_app
from v2mom.mapping.plan import load_plan
from v2mom.models import State
from v2mom.settings import PersonSettings, Settings
from v2mom.store.database import Database
from v2mom.store.resolution.run import remap

ACCOUNT = "5b10ac8d82e05b22cc7d4ef5"  # Ada's Jira account id
NAME = "Ada Lovelace"  # the person the settings map it to
PEOPLE = [PersonSettings(name=NAME, accounts={"jira": ACCOUNT})]
NOW = datetime(2026, 11, 9, 12, 0, tzinfo=UTC)  # the Monday after: the last 90 days end today
WEEK = {"from": "2026-11-02", "to": "2026-11-06"}


@pytest.fixture
def ada_week(store: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    """Item 1 (ONB-1) and item 2 (ONB-2) as the module says, both assigned to Ada now."""
    monkeypatch.setattr("v2mom.reports.people_time.utcnow", lambda: NOW)
    store.items.upsert(
        [
            make_item("1", labels=SLO, state=State.DONE, assignee=ACCOUNT),
            make_item("2", state=State.DONE, assignee=ACCOUNT),
        ]
    )
    store.history.record([*worked("1", ACCOUNT, at(0), at(4, 17)), *worked("2", ACCOUNT, at(2), at(3, 17))])
    plan = load_plan(VALID)
    store.plans.save(plan, actor="test")
    remap(store, plan)
    return store


def test_the_item_document_counts_its_person_days_and_never_who(ada_week: Database) -> None:
    client = TestClient(create_app(Settings(people=PEOPLE), ada_week))
    headers = auth(ada_week.tokens.create("viewer", "pm"))
    week = client.get("/api/items/jira/ONB-1", params=WEEK, headers=headers)
    assert week.status_code == 200, week.text
    assert week.json()["people_time"] == {
        "from": "2026-11-02",
        "to": "2026-11-06",
        "working_days": 5,
        "person_days": pytest.approx(4.0),
        "days_worked": 5,
    }
    wednesday = client.get(
        "/api/items/jira/ONB-1", params={"from": "2026-11-04", "to": "2026-11-04"}, headers=headers
    )
    assert wednesday.json()["people_time"] == {
        "from": "2026-11-04",
        "to": "2026-11-04",
        "working_days": 1,
        "person_days": pytest.approx(0.5),
        "days_worked": 1,
    }
    default = client.get("/api/items/jira/ONB-1", headers=headers).json()["people_time"]
    # 2026-08-12 to 2026-11-09: 64 working days, the item's five among them.
    assert default == {
        "from": "2026-08-12",
        "to": "2026-11-09",
        "working_days": 64,
        "person_days": pytest.approx(4.0),
        "days_worked": 5,
    }
    for answer in (week, wednesday):
        assert ACCOUNT not in answer.text
        assert NAME not in answer.text
        assert "Ada" not in answer.text


def test_the_item_document_refuses_dates_as_the_reports_do(ada_week: Database) -> None:
    client = TestClient(create_app(Settings(), ada_week))
    headers = auth(ada_week.tokens.create("viewer", "pm"))
    for params, where in (
        ({"from": "2026-11-06", "to": "2026-11-02"}, "from"),
        ({"from": "1800-01-01"}, "from"),
        ({"to": "9999-12-31"}, "to"),
        ({"from": "not a date"}, "from"),
    ):
        refused = client.get("/api/items/jira/ONB-1", params=params, headers=headers)
        assert refused.status_code == 422, (params, refused.text)
        assert refused.json()["detail"][0]["loc"] == ["query", where], refused.text


def test_the_settings_zone_and_week_set_the_window(ada_week: Database) -> None:
    client = TestClient(create_app(Settings(work_week=["mon"], timezone="Pacific/Kiritimati"), ada_week))
    headers = auth(ada_week.tokens.create("viewer", "pm"))
    got = client.get("/api/items/jira/ONB-1", params=WEEK, headers=headers).json()["people_time"]
    # Mondays only, and a Kiritimati Monday (UTC+14) holds Sunday 10:00 to Monday 10:00 UTC: the
    # work started Monday 09:00 UTC, so that day has an hour of it.
    assert (got["working_days"], got["days_worked"], got["person_days"]) == (1, 1, pytest.approx(1.0))


def test_explain_prints_the_person_days_and_never_who(
    ada_week: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("V2MOM_DATABASE_URL", raising=False)
    config = tmp_path / "v2mom.yaml"
    url = ada_week.engine.url.render_as_string(hide_password=False)
    config.write_text(
        f"database_url: {url}\npeople:\n  - name: {NAME}\n    accounts: {{jira: '{ACCOUNT}'}}\n"
    )
    shown = CliRunner().invoke(cli, ["explain", "jira:ONB-1", "-c", str(config)])
    assert shown.exit_code == 0, shown.output
    assert "people's time: 4.0 person-days over 5 working days, 2026-08-12 to 2026-11-09" in shown.output
    shared = CliRunner().invoke(cli, ["explain", "jira:ONB-2", "-c", str(config)])
    assert "people's time: 1.0 person-days over 2 working days, 2026-08-12 to 2026-11-09" in shared.output
    for output in (shown.output, shared.output):
        assert ACCOUNT not in output
        assert "Ada" not in output


def test_an_item_nobody_worked_on_has_no_person_days(ada_week: Database) -> None:
    ada_week.items.upsert([make_item("3", state=State.TODO, assignee=ACCOUNT)])
    client = TestClient(create_app(Settings(), ada_week))
    headers = auth(ada_week.tokens.create("viewer", "pm"))
    got = client.get("/api/items/jira/ONB-3", params=WEEK, headers=headers).json()["people_time"]
    assert (got["person_days"], got["days_worked"], got["working_days"]) == (0.0, 0, 5)
