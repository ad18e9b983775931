"""A lone UTF-16 surrogate (``"\\ud800"``, valid JSON and YAML) never reaches the store.

Before, a rule with one was saved and then every read of the plan, the rules and the audit log was
a 500 for good. Now each way in refuses it with 422 naming the field (the app's ``{loc, msg, type}``
shape), and ``v2mom plan apply`` exits 2 naming the place.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.factories import VALID
from tests.support import auth
from v2mom.app.cli import app as cli
from v2mom.app.factory import create_app
from v2mom.settings import Settings
from v2mom.store.database import Database

JSON = {"content-type": "application/json"}
# A JSON escape, so the surrogate travels as plain ASCII (httpx cannot encode one itself).
LONE = "\\ud800"
RULE = f'{{"when": {{"tracker": "jira", "label": "{LONE}"}}, "value": "reliability"}}'


@pytest.fixture
def world(seeded: Database) -> Iterator[tuple[TestClient, Database, str]]:
    admin = seeded.tokens.create("admin", "alice")
    with TestClient(create_app(Settings(), seeded)) as client:
        yield client, seeded, admin


@pytest.mark.parametrize(
    ("method", "path", "body", "loc"),
    [
        ("POST", "/api/rules", RULE, ["body", "when", "label"]),
        ("POST", "/api/rules/preview", RULE, ["body", "when", "label"]),
        (
            "POST",
            "/api/admin/rules",
            f'{{"rule": {{"when": {{"key": "A-1"}}, "id": "{LONE}"}}}}',
            ["body", "rule", "id"],
        ),
        (
            "PUT",
            "/api/plan",
            f'{{"vision": "ok", "values": [{{"id": "a", "name": "{LONE}"}}]}}',
            ["body", "values", 0, "name"],
        ),
        ("PUT", "/api/admin/plan?dry_run=true", f'{{"vision": "{LONE}x"}}', ["body", "vision"]),
        ("POST", "/api/admin/tokens", f'{{"role": "viewer", "name": "{LONE}"}}', ["body", "name"]),
        ("PUT", "/api/plan", f'{{"vision": "ok", "values": [], "{LONE}": 1}}', ["body"]),
    ],
)
def test_unencodable_text_is_a_422_naming_the_field_and_nothing_is_stored(
    world: tuple[TestClient, Database, str], method: str, path: str, body: str, loc: list[object]
) -> None:
    client, store, admin = world
    versions = len(store.plans.versions())
    tokens = len(store.tokens.list_all())
    answer = client.request(method, path, content=body, headers={**JSON, **auth(admin)})
    assert answer.status_code == 422, answer.text
    [problem] = answer.json()["detail"]
    assert problem["loc"] == loc
    assert "not valid Unicode" in problem["msg"]
    assert problem["type"] == "value_error"
    assert len(store.plans.versions()) == versions
    assert len(store.tokens.list_all()) == tokens
    for read in ("/api/plan", "/api/rules", "/api/admin/rules", "/api/admin/audit"):
        assert client.get(read, headers=auth(admin)).status_code == 200, read


def test_surrogates_as_raw_bytes_and_in_a_session_token_are_refused_without_echoing_them(
    world: tuple[TestClient, Database, str],
) -> None:
    client, _, admin = world
    raw = b'{"when": {"tracker": "jira", "label": "\xed\xa0\x80"}, "value": "reliability"}'
    answer = client.post("/api/rules", content=raw, headers={**JSON, **auth(admin)})
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "when", "label"]
    answer = client.post("/api/session", content=f'{{"token": "v2m_secret{LONE}"}}', headers=JSON)
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "token"]
    assert "v2m_secret" not in answer.text


def test_plan_apply_with_a_surrogate_in_yaml_exits_2_naming_the_place(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("V2MOM_DATABASE_URL", raising=False)
    monkeypatch.delenv("V2MOM_CONFIG", raising=False)
    (tmp_path / "v2mom.yaml").write_text(f"database_url: {database_url}\n")
    (tmp_path / "plan.yaml").write_text(VALID.replace("equals: Onboarding", 'equals: "On\\ud800"'))
    result = CliRunner().invoke(cli, ["plan", "apply", "plan.yaml"])
    assert result.exit_code == 2, result.output
    assert "plan.yaml: rules[1].when.equals: text is not valid Unicode" in result.stderr
    assert "(line 29)" in result.stderr
    assert CliRunner().invoke(cli, ["plan", "export"]).exit_code == 1  # nothing was stored


@pytest.mark.parametrize(
    ("path", "body", "loc"),
    [
        ("/api/admin/tokens", '{"role": "admin", "name": "\\u0000"}', ["body", "name"]),
        (
            "/api/rules",
            '{"when": {"tracker": "jira", "label": "a\\u0000b"}, "value": "reliability"}',
            ["body", "when", "label"],
        ),
    ],
)
def test_a_nul_character_is_a_422_naming_the_field_on_either_database(
    world: tuple[TestClient, Database, str], path: str, body: str, loc: list[object]
) -> None:
    """PostgreSQL text cannot hold U+0000: it was a 500 there (found by Schemathesis), now a 422."""
    client, store, admin = world
    tokens = len(store.tokens.list_all())
    answer = client.post(path, content=body, headers={**JSON, **auth(admin)})
    assert answer.status_code == 422, answer.text
    [problem] = answer.json()["detail"]
    assert problem["loc"] == loc
    assert "NUL" in problem["msg"]
    assert "\x00" not in answer.text
    assert len(store.tokens.list_all()) == tokens
