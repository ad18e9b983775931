"""The ``v2mom`` CLI in-process: exit codes, messages, and the same JSON as the HTTP API."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.factories import VALID, make_item
from v2mom.app.cli import app
from v2mom.app.factory import create_app
from v2mom.models import Level
from v2mom.settings import load_settings
from v2mom.store.database import Database

runner = CliRunner()


@pytest.fixture
def workdir(tmp_path: Path, empty_database_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with settings naming a database not created yet (the CLI creates it when it must)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("V2MOM_DATABASE_URL", raising=False)
    monkeypatch.delenv("V2MOM_CONFIG", raising=False)
    (tmp_path / "v2mom.yaml").write_text(f"database_url: {empty_database_url}\nmeasure: points\n")
    (tmp_path / "plan.yaml").write_text(VALID)
    return tmp_path


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_check_validates_without_creating_the_database(workdir: Path) -> None:
    code, out, _ = run("check", "plan.yaml")
    assert code == 0
    assert "settings ok" in out
    assert "plan ok: 2 values, 2 methods, 2 rules" in out
    assert not (workdir / "v2mom.db").exists()


def test_check_invalid_plan_exits_2_naming_the_place(workdir: Path) -> None:
    (workdir / "bad.yaml").write_text(VALID.replace("values: [customer-first]", "values: [speed]"))
    code, _, err = run("check", "bad.yaml")
    assert code == 2
    assert "bad.yaml: methods[0].values[0]: unknown value 'speed'" in err


def test_check_invalid_settings_exits_2(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JIRA_TOKEN_X", raising=False)
    (workdir / "bad-settings.yaml").write_text(
        "trackers:\n  jira:\n    url: https://x.test\n    email: a@b\n"
        "    api_token: ${JIRA_TOKEN_X}\n    jql: p\n"
    )
    code, _, err = run("check", "-c", "bad-settings.yaml")
    assert code == 2
    assert "environment variable JIRA_TOKEN_X is not set" in err


def test_plan_apply_invalid_stores_nothing(workdir: Path) -> None:
    (workdir / "bad.yaml").write_text(VALID.replace("reliability: 0.7}", "reliability: 0.5}"))
    code, _, err = run("plan", "apply", "bad.yaml")
    assert code == 2
    assert "weights sum to 0.8, not 1" in err
    code, _, err = run("plan", "export")
    assert code == 1
    assert "no plan stored yet" in err


def test_plan_apply_reports_changes_and_export_round_trips(workdir: Path) -> None:
    code, out, _ = run("plan", "apply", "plan.yaml")
    assert code == 0, out
    assert "new plan: 2 values, 2 methods, 2 rules" in out
    assert "plan version 1 applied" in out
    (workdir / "plan2.yaml").write_text(VALID.replace("name: SLO program", "name: SLO programme"))
    code, out, _ = run("plan", "apply", "plan2.yaml")
    assert "methods: changed slo-program" in out
    assert "plan version 2 applied" in out
    code, out, _ = run("plan", "export")
    assert code == 0
    assert "SLO programme" in out


def test_token_create_prints_token_last(workdir: Path) -> None:
    code, out, _ = run("token", "create", "--role", "admin", "--name", "ops")
    assert code == 0
    token = out.strip().splitlines()[-1]
    assert token.startswith("v2m_")
    store = Database.open(load_settings().database_url)
    info = store.tokens.authenticate(token)
    assert info is not None
    assert info.role == "admin"
    code, out, _ = run("token", "list")
    assert "admin\tops\tactive" in out
    assert token not in out
    code, _, _ = run("token", "revoke", str(info.id))
    assert code == 0
    assert store.tokens.authenticate(token) is None
    store.close()


def test_report_json_is_the_http_body_and_explain_works(workdir: Path) -> None:
    settings = load_settings()
    store = Database.open(settings.database_url)
    store.items.upsert(
        [
            make_item("1", key="ONB-1", level=Level.EPIC, labels=("method:slo-program",)),
            make_item("2", key="ONB-2", parent_id="1", points=5.0),
        ]
    )
    assert run("plan", "apply", "plan.yaml")[0] == 0
    code, out, _ = run("report", "--format", "json", "--measure", "points")
    assert code == 0
    cli_document = json.loads(out)
    token = store.tokens.create("viewer", "t")
    with TestClient(create_app(settings, store)) as client:
        http_document = client.get(
            "/api/reports/effort-by-value",
            params={"measure": "points"},
            headers={"Authorization": f"Bearer {token}"},
        ).json()
    for document in (cli_document, http_document):
        for tracker in document["freshness"].values():
            tracker["last_sync"] = None
    assert cli_document == http_document
    assert {v["id"]: v["effort"] for v in cli_document["values"]} == {
        "customer-first": 1.5,
        "reliability": 3.5,
    }

    code, out, _ = run("report", "--format", "csv")
    assert code == 0
    assert out.startswith("row,value_id")
    code, out, _ = run("report")
    assert code == 0
    assert "Customer-first thinking" in out

    code, out, _ = run("explain", "jira:ONB-2")
    assert code == 0
    assert "inherited from jira:ONB-1" in out
    assert "methods: slo-program" in out
    code, _, err = run("explain", "jira:NOPE-9")
    assert code == 1
    assert "no item jira:NOPE-9" in err
    code, _, err = run("explain", "ONB-2")
    assert code == 2
    store.close()


def test_report_rejects_bad_dates(workdir: Path) -> None:
    code, _, err = run("report", "--from", "yesterday")
    assert code == 2
    assert "--from: 'yesterday' is not an ISO date" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--to", "0001-01-01"), "--to: must be between 1970-01-01 and 2999-12-31"),
        (("--from", "0001-01-01", "--to", "9999-12-31"), "--from: must be between 1970-01-01 and 2999-12-31"),
        (("--from", "2026-02-01", "--to", "2026-01-01"), "--from: must not be after 'to'"),
    ],
)
def test_report_bounds_dates_as_the_api_does(workdir: Path, args: tuple[str, ...], message: str) -> None:
    code, out, err = run("report", "--format", "json", *args)
    assert code == 2
    assert message in err
    assert out == ""


def test_report_json_is_the_http_body_byte_for_byte(workdir: Path) -> None:
    settings = load_settings()
    store = Database.open(settings.database_url)
    store.items.upsert(
        [
            make_item("1", key="ONB-1", level=Level.EPIC, labels=("method:slo-program",)),
            make_item("2", key="ONB-2", parent_id="1", points=5.0, hours=1e-06),
            make_item("3", key="ONB-3", points=2.0, hours=3.0),
        ]
    )
    assert run("plan", "apply", "plan.yaml")[0] == 0
    token = store.tokens.create("viewer", "t")
    with TestClient(create_app(settings, store)) as client:
        for measure in ("points", "hours", "count"):
            code, out, _ = run("report", "--format", "json", "--measure", measure, "--from", "2026-01-01")
            assert code == 0
            http = client.get(
                "/api/reports/effort-by-value",
                params={"measure": measure, "from": "2026-01-01"},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert out == http.text + "\n"
    assert '"effort":1e-6' in run("report", "--format", "json", "--measure", "hours")[1]
    store.close()


def test_token_list_renders_the_api_documents(workdir: Path) -> None:
    store = Database.open(load_settings().database_url)
    kept = store.tokens.create("viewer", "pm")
    gone = store.tokens.create("admin", "ops")
    assert store.tokens.authenticate(kept) is not None
    revoked = store.tokens.info(token=gone)
    assert revoked is not None
    assert store.tokens.revoke(revoked.id)
    code, out, _ = run("token", "list")
    assert code == 0
    lines = sorted(out.splitlines())
    assert len(lines) == 2
    assert lines[0].startswith("1\tviewer\tpm\tactive\tlast used 20")
    assert lines[1].startswith("2\tadmin\tops\trevoked 20")
    assert lines[1].endswith("\tlast used never")
    store.close()


def test_check_reports_every_plan_problem_in_one_pass(workdir: Path) -> None:
    broken = VALID.replace("target_share: 0.40", "target_share: 1.5").replace(
        "{tracker: jira, component: Billing}", '{tracker: jira, label: ""}'
    )
    (workdir / "bad.yaml").write_text(broken.replace("values: [customer-first]", "values: [speed]"))
    code, _, err = run("check", "bad.yaml")
    assert code == 2
    assert "bad.yaml: values[0].target_share: Input should be less than or equal to 1" in err
    assert "bad.yaml: methods[0].values[0]: unknown value 'speed'" in err
    assert "bad.yaml: rules[0].when.label: a rule's condition needs a text to match" in err


def test_check_refuses_a_plan_without_values(workdir: Path) -> None:
    (workdir / "empty.yaml").write_text("values: []\n")
    code, out, err = run("check", "empty.yaml")
    assert code == 2
    assert "plan ok" not in out
    assert "empty.yaml: values: a plan needs at least one value" in err


def test_audit_lists_the_cli_changes_one_line_each(workdir: Path) -> None:
    assert run("plan", "apply", "plan.yaml")[0] == 0
    code, out, _ = run("token", "create", "--role", "viewer", "--name", "ops")
    assert code == 0
    store = Database.open(load_settings().database_url)
    token_id = store.tokens.list_all()[0].id
    store.close()
    assert run("token", "revoke", str(token_id))[0] == 0
    code, out, _ = run("audit")
    assert code == 0, out
    lines = [line.split("\t") for line in out.splitlines()]
    assert [kind for _, _, kind, _ in lines] == ["token", "token", "plan"]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", at) for at, *_ in lines)
    assert all(actor.startswith("cli") for _, actor, _, _ in lines)  # cli:<os user>
    assert lines[0][3] == f"revoked viewer token 'ops' (id {token_id})"
    assert lines[2][3] == "plan v1: new plan: 2 values, 2 methods, 2 rules"
    code, out, _ = run("audit", "--kind", "token", "--limit", "1")
    assert out.count("\n") == 1
    assert "revoked viewer token 'ops'" in out
    code, _, err = run("audit", "--kind", "nope")
    assert code == 2
    assert "nope" in err


def test_plan_apply_moving_more_than_a_quarter_needs_the_phrase(workdir: Path) -> None:
    store = Database.open(load_settings().database_url)
    store.items.upsert(
        [
            make_item("1", key="ONB-1", level=Level.EPIC, labels=("method:slo-program",)),
            make_item("2", key="ONB-2", parent_id="1", points=5.0),
            make_item("3", key="ONB-3", labels=("value:customer-first",), points=3.0),
        ]
    )
    store.close()
    code, out, err = run("plan", "apply", "plan.yaml")
    assert code == 0, err  # the first plan has no numbers to overturn: no confirmation
    # slo-program now serves reliability only: 30% of ONB-2's 5 points leave customer-first (1.5 of 8).
    (workdir / "small.yaml").write_text(
        VALID.replace("weights: {customer-first: 0.3, reliability: 0.7}", "values: [reliability]")
    )
    code, out, err = run("plan", "apply", "small.yaml")
    assert code == 0, err
    # ... and now customer-first only: all 5 points move, 62.5% of the effort.
    (workdir / "big.yaml").write_text(
        VALID.replace("weights: {customer-first: 0.3, reliability: 0.7}", "values: [customer-first]")
    )
    code, out, err = run("plan", "apply", "big.yaml")
    assert code == 2
    assert "methods: changed slo-program" in out
    assert (
        "big.yaml: not applied: this change moves 63% of the effort (5 of 8 points), more than the 25% a "
        "change may move unconfirmed; to apply it, run again with --confirm 'move 63%'"
    ) in err
    assert "plan version 3" not in out
    for wrong in ("move 62%", "yes"):
        assert run("plan", "apply", "big.yaml", "--confirm", wrong)[0] == 2
    code, out, err = run("plan", "apply", "big.yaml", "--confirm", "move 63%")
    assert code == 0, err
    assert "plan version 3 applied" in out


TEAMS = """
teams:
  - id: payments
    name: Payments
    scope: {jira: {projects: [ONB]}}
    methods:
      - {id: spike, name: Spike, serves: {}}
"""


def test_plan_apply_shows_unaligned_effort_apart_only_when_a_plan_has_teams(workdir: Path) -> None:
    store = Database.open(load_settings().database_url)
    store.items.upsert(
        [
            make_item("1", key="ONB-1", labels=("method:spike",), points=5.0),  # untagged until spike exists
            make_item("2", key="ONB-2", labels=("value:customer-first",), points=3.0),
        ]
    )
    store.close()
    code, out, err = run("plan", "apply", "plan.yaml")
    assert code == 0, err
    assert "unaligned" not in out  # no teams: the output it always had
    (workdir / "teams.yaml").write_text(VALID + TEAMS)
    code, out, err = run("plan", "apply", "teams.yaml")
    assert code == 2, out  # 5 of 8 points move from untagged to unaligned
    assert "unaligned effort: 0 -> 5 points" in out
    assert "this change moves 63% of the effort (5 of 8 points)" in err
    code, out, err = run("plan", "apply", "teams.yaml", "--confirm", "move 63%")
    assert code == 0, err
    assert "plan version 2 applied" in out
