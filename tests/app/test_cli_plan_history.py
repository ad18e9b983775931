"""``v2mom plan apply --reason`` and ``v2mom plan history``: once the plan has a cycle a change
without a reason exits 2 and stores nothing; the history lists who, when, why and what changed, as
a table or as the HTTP body."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.factories import VALID
from tests.support import auth
from v2mom.app import cli_common
from v2mom.app.cli import app
from v2mom.app.factory import create_app
from v2mom.settings import Settings, load_settings
from v2mom.store.database import Database

runner = CliRunner()
CYCLE = "cycle: {id: fy27, name: FY2027, start: 2026-02-01, end: 2027-01-31, periods: quarterly}\n"
TEAM = (
    "teams:\n  - {id: payments, name: Payments,"
    " methods: [{id: retries, name: Retries, serves: {slo-program: 1}}]}\n"
)


@pytest.fixture
def workdir(tmp_path: Path, empty_database_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Settings naming a fresh database; plan.yaml in cycle fy27, team.yaml adding a team to it."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("V2MOM_DATABASE_URL", raising=False)
    monkeypatch.delenv("V2MOM_CONFIG", raising=False)
    (tmp_path / "v2mom.yaml").write_text(f"database_url: {empty_database_url}\nmeasure: points\n")
    (tmp_path / "plan.yaml").write_text(VALID + CYCLE)
    (tmp_path / "team.yaml").write_text(VALID + CYCLE + TEAM)
    return tmp_path


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def _stored() -> tuple[list[dict[str, object]], list[int]]:
    store = Database.open(load_settings().database_url)
    try:
        return store.plans.history(), [event.id for event in store.audit.entries(limit=200)]
    finally:
        store.close()


def test_a_change_in_a_cycle_without_a_reason_exits_2_and_stores_nothing(workdir: Path) -> None:
    code, out, err = run("plan", "apply", "plan.yaml")
    assert code == 0, err  # the first plan: no cycle was stored yet, so no reason is needed
    before = _stored()
    for blank in ([], ["--reason", " "]):
        code, out, err = run("plan", "apply", "team.yaml", *blank)
        assert code == 2
        assert "error: reason: a reason is needed: the plan is in cycle fy27" in err
        assert "applied" not in out
    assert _stored() == before
    code, out, err = run("plan", "apply", "team.yaml", "--reason", "payments joins the cascade")
    assert code == 0, err
    assert "plan version 2 applied" in out
    history, _audit = _stored()
    assert history[0]["reason"] == "payments joins the cascade"


def test_history_lists_versions_newest_first_as_a_table_or_the_http_body(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli_common.out, "width", 200)  # one line per version, however wide the terminal
    assert run("plan", "apply", "plan.yaml")[0] == 0
    assert run("plan", "apply", "team.yaml", "--reason", "payments joins")[0] == 0
    code, out, err = run("plan", "history")
    assert code == 0, err
    rows = [line for line in out.splitlines() if "│" in line and "version" not in line]
    assert [row.split("│")[1].strip() for row in rows if row.split("│")[1].strip()] == ["2", "1"]
    assert "payments joins" in out
    assert "teams: added payments" in out
    assert "cli:" in out

    code, out, err = run("plan", "history", "--json", "--limit", "1")
    assert code == 0, err
    document = json.loads(out)
    assert [v["version"] for v in document["versions"]] == [2]
    assert document["versions"][0]["changes"]["methods"]["added"] == ["retries"]
    store = Database.open(load_settings().database_url)
    try:
        viewer = store.tokens.create("viewer", "pm")
        with TestClient(create_app(Settings(), store)) as client:
            body = client.get("/api/plan/history?limit=1", headers=auth(viewer)).text
    finally:
        store.close()
    assert out == body + "\n"


def test_history_limit_is_checked(workdir: Path) -> None:
    assert run("plan", "history", "--limit", "0")[0] == 2
