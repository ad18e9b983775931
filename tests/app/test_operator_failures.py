"""What an operator sees when things are wrong: an unreachable database in one line, exposed
settings files warned about, the SQLite database created private."""

from __future__ import annotations

import json
import logging
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.support import free_port
from v2mom.app.cli import app
from v2mom.settings import load_settings
from v2mom.store.database import Database

runner = CliRunner()
PASSWORD = "hunter2-not-for-logs"


@pytest.mark.parametrize(
    "command", [["serve"], ["sync"], ["report"], ["worker", "--once"], ["db", "upgrade"], ["token", "list"]]
)
def test_an_unreachable_database_is_one_line_naming_it_without_its_password(
    tmp_path: Path, command: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("V2MOM_DATABASE_URL", raising=False)
    port = free_port()  # nothing listens there
    config = tmp_path / "v2mom.yaml"
    config.write_text(
        f"database_url: postgresql://v2mom:{PASSWORD}@127.0.0.1:{port}/v2mom\n"
        "trackers:\n  linear:\n    api_key: ${LINEAR_KEY}\n    teams: [ENG]\n"
    )
    monkeypatch.setenv("LINEAR_KEY", "lin_test")
    result = runner.invoke(app, [*command, "-c", str(config)])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # handled, not a traceback
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: cannot connect to the database postgresql+psycopg://v2mom:***@")
    assert f"127.0.0.1:{port}/v2mom" in lines[0]
    assert PASSWORD not in result.output


# Every credential form SQLAlchemy and libpq accept; "Secret9" is in each password, so it must not
# appear anywhere: not raw, not percent-decoded or encoded, not the piece after an unencoded "@"
# that SQLAlchemy reads as the host name (and psycopg echoes when it cannot resolve it).
URL_FORMS = [
    "postgresql://v2mom:plain-Secret9@127.0.0.1:{port}/v2mom",
    "postgresql+psycopg://v2mom:plain-Secret9@127.0.0.1:{port}/v2mom",
    "postgresql://v2mom:at@sign-Secret9@127.0.0.1:{port}/v2mom",
    "postgresql://v2mom:co:lon-Secret9@127.0.0.1:{port}/v2mom",
    "postgresql://v2mom:sl/ash-Secret9@127.0.0.1:{port}/v2mom",
    "postgresql://v2mom:ha#sh-Secret9@127.0.0.1:{port}/v2mom",
    "postgresql://v2mom:qu?es-Secret9@127.0.0.1:{port}/v2mom",
    "postgresql://v2mom:pct%40enc%2F-Secret9@127.0.0.1:{port}/v2mom",
    "postgresql://v2mom@127.0.0.1:{port}/v2mom?password=query-Secret9",
    "postgresql://v2mom@127.0.0.1:{port}/v2mom?sslmode=disable&password=amp-Secret9",
    "postgresql://v2mom@127.0.0.1:{port}/v2mom?sslpassword=key-Secret9",
]


@pytest.mark.parametrize("form", URL_FORMS)
@pytest.mark.parametrize("command", [["check"], ["report"]])
def test_no_form_of_the_database_password_is_printed(
    tmp_path: Path, form: str, command: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("V2MOM_DATABASE_URL", raising=False)
    config = tmp_path / "v2mom.yaml"
    config.write_text(f"database_url: '{form.format(port=free_port())}'\n")
    result = runner.invoke(app, [*command, "-c", str(config)])
    printed = result.stdout + result.stderr
    if command == ["check"]:
        assert result.exit_code == 0, printed
        assert "database: postgresql+psycopg://v2mom" in result.stdout
    else:
        assert result.exit_code == 1, printed
        (line,) = result.stderr.splitlines()
        assert line.startswith("error: cannot connect to the database postgresql+psycopg://v2mom")
    assert "***" in printed
    assert "Secret9" not in printed


@pytest.mark.parametrize(
    ("args", "env"), [(["--log-format", "json"], None), ([], "json"), (["--log-format", "json"], "text")]
)
def test_serve_with_json_logs_reports_an_unreachable_database_as_one_json_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], env: str | None
) -> None:
    monkeypatch.delenv("V2MOM_DATABASE_URL", raising=False)
    if env is None:
        monkeypatch.delenv("V2MOM_LOG_FORMAT", raising=False)
    else:
        monkeypatch.setenv("V2MOM_LOG_FORMAT", env)
    port = free_port()
    config = tmp_path / "v2mom.yaml"
    config.write_text(f"database_url: postgresql://v2mom:{PASSWORD}@127.0.0.1:{port}/v2mom\n")
    config.chmod(0o600)  # no warning about the inline password: the error is the only line
    result = runner.invoke(app, ["serve", "-c", str(config), *args])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    (line,) = result.stderr.splitlines()
    record = json.loads(line)
    assert record["level"] == "ERROR"
    assert record["logger"] == "v2mom.app.cli"
    assert record["message"].startswith("cannot connect to the database postgresql+psycopg://v2mom:***@")
    assert f"127.0.0.1:{port}/v2mom" in record["message"]
    assert PASSWORD not in result.output


def test_a_sqlite_database_that_cannot_be_opened_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "v2mom.yaml"
    config.write_text(f"database_url: sqlite:///{tmp_path / 'missing-dir' / 'v2mom.db'}\n")
    result = runner.invoke(app, ["report", "-c", str(config)])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert "missing-dir" in result.stderr


INLINE = "trackers:\n  jira:\n    url: https://x.atlassian.net\n    email: a@b.c\n    jql: project = X\n"


@pytest.mark.parametrize(
    ("mode", "token", "warned"),
    [
        (0o644, "inline-token-value", True),
        (0o640, "inline-token-value", True),
        (0o600, "inline-token-value", False),
        (0o644, "${JIRA_TOKEN}", False),
    ],
)
def test_a_settings_file_with_inline_secrets_readable_by_others_is_warned_about(
    tmp_path: Path, mode: int, token: str, warned: bool, caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("JIRA_TOKEN", "from-the-environment")
    config = tmp_path / "v2mom.yaml"
    config.write_text(INLINE + f"    api_token: '{token}'\n")
    config.chmod(mode)
    with caplog.at_level(logging.WARNING, logger="v2mom.settings"):
        settings = load_settings(config)
    assert settings.trackers.jira is not None  # accepted either way
    messages = [r.getMessage() for r in caplog.records]
    if warned:
        assert len(messages) == 1
        assert str(config) in messages[0]
        assert f"{mode:04o}" in messages[0]
        assert "trackers.jira.api_token" in messages[0]
        assert "${VAR}" in messages[0]
        assert "inline-token-value" not in messages[0]
    else:
        assert messages == []


def test_a_password_inline_in_the_database_url_counts_as_a_secret(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = tmp_path / "v2mom.yaml"
    config.write_text(f"database_url: postgresql://v2mom:{PASSWORD}@127.0.0.1/v2mom\n")
    config.chmod(0o604)
    with caplog.at_level(logging.WARNING, logger="v2mom.settings"):
        load_settings(config)
    assert any("database_url" in r.getMessage() and "0604" in r.getMessage() for r in caplog.records)
    assert all(PASSWORD not in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("form", URL_FORMS)
def test_every_inline_form_of_the_database_password_is_warned_about(
    tmp_path: Path, form: str, caplog: pytest.LogCaptureFixture
) -> None:
    config = tmp_path / "v2mom.yaml"
    config.write_text(f"database_url: '{form.format(port=5432)}'\n")
    config.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="v2mom.settings"):
        load_settings(config)
    (message,) = [r.getMessage() for r in caplog.records]
    assert "(database_url)" in message
    assert "0644" in message
    assert "Secret9" not in message


def test_a_password_from_the_environment_is_not_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PGPASSWORD", "from-the-environment")
    config = tmp_path / "v2mom.yaml"
    config.write_text("database_url: 'postgresql://v2mom@db/v2mom?password=${PGPASSWORD}&passfile=/x'\n")
    config.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="v2mom.settings"):
        load_settings(config)
    assert caplog.records == []


def test_the_sqlite_database_is_created_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "v2mom.db"
    store = Database.open(f"sqlite:///{path}")  # it holds Asana webhook secrets and token hashes
    try:
        store.tokens.create("viewer", "t")
        for file in (path, path.with_name("v2mom.db-wal")):
            assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
    finally:
        store.close()
