"""Log lines: JSON (one object per line) or the usual text, secrets masked in both; ``serve`` wiring."""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
import requests
from typer.testing import CliRunner

from tests.layout import ROOT
from tests.support import free_port, wait_for
from tests.webhooks.jira_signing import v2mom
from v2mom.app.cli import app
from v2mom.logs import LogFormat, configure_logging

SECRET = "s3cret-api-token-value"
runner = CliRunner()


@pytest.fixture(autouse=True)
def root_logger() -> Iterator[logging.Logger]:
    """Give back the root logger's handlers and level as they were (configure_logging replaces them)."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield root
    root.handlers[:] = handlers
    root.setLevel(level)


def emit(log_format: LogFormat) -> list[str]:
    """Log a line and an exception that both hold SECRET; the lines written."""
    stream = io.StringIO()
    configure_logging(log_format, [SECRET, ""], stream=stream)
    logger = logging.getLogger("v2mom.test.logs")
    logger.warning("tracker said no to token %s", SECRET)
    try:
        raise ValueError(f"refused {SECRET}")
    except ValueError:
        logger.exception("sync failed")
    return stream.getvalue().splitlines()


def test_json_lines_parse_and_mask_the_secret() -> None:
    lines = emit("json")
    records = [json.loads(line) for line in lines if line.startswith("{")]
    assert len(records) == 2
    assert all(not line.startswith((" ", "Traceback")) for line in lines)  # a traceback stays inside its line
    first, second = records
    assert set(first) == {"time", "level", "logger", "message"}
    assert first["level"] == "WARNING"
    assert first["logger"] == "v2mom.test.logs"
    assert first["message"] == "tracker said no to token ***"
    assert first["time"].endswith("Z")
    assert second["message"] == "sync failed"
    assert "ValueError: refused ***" in second["exc_info"]
    assert SECRET not in "\n".join(lines)


def test_text_lines_keep_their_format_and_mask_the_secret() -> None:
    lines = emit("text")
    assert lines[0] == "WARNING v2mom.test.logs: tracker said no to token ***"
    assert "ValueError: refused ***" in lines
    assert SECRET not in "\n".join(lines)


def fake_serve_app(settings: object, store: object, run_server: object) -> None:
    """Stands in for the server: logs what a failing reconcile pass would, the token in it."""
    logging.getLogger("v2mom.sync.schedule").warning("reconcile: jira refused token %s", SECRET)


@pytest.fixture
def settings_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TEST_JIRA_TOKEN", SECRET)
    monkeypatch.delenv("V2MOM_LOG_FORMAT", raising=False)
    monkeypatch.setattr("v2mom.app.serve.serve_app", fake_serve_app)
    path = tmp_path / "v2mom.yaml"
    path.write_text(
        f"database_url: sqlite:///{tmp_path / 'v2mom.db'}\n"
        "trackers:\n  jira:\n    url: http://127.0.0.1:9\n    email: ops@example.com\n"
        "    api_token: ${TEST_JIRA_TOKEN}\n    jql: project = ONB\n"
    )
    return path


@pytest.mark.parametrize(
    ("args", "setting", "env", "json_lines"),
    [
        (["--log-format", "json"], "", None, True),
        ([], "log_format: json\n", None, True),
        ([], "", "json", True),
        (["--log-format", "text"], "log_format: json\n", None, False),  # the option wins
        ([], "", None, False),  # the default stays text
    ],
)
def test_serve_log_format_from_option_setting_or_environment(
    settings_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    setting: str,
    env: str | None,
    json_lines: bool,
) -> None:
    settings_file.write_text(settings_file.read_text() + setting)
    if env is not None:
        monkeypatch.setenv("V2MOM_LOG_FORMAT", env)
    handlers = list(logging.getLogger().handlers)
    result = runner.invoke(app, ["serve", "-c", str(settings_file), *args])
    assert result.exit_code == 0, result.stderr
    assert logging.getLogger().handlers == handlers  # none left bound to the runner's closed stderr
    (line,) = result.stderr.splitlines()
    if json_lines:
        record = json.loads(line)
        assert record["logger"] == "v2mom.sync.schedule"
        assert record["message"] == "reconcile: jira refused token ***"
    else:
        assert line == "WARNING v2mom.sync.schedule: reconcile: jira refused token ***"


DB_PASSWORD = "db@pass/Secret9"  # percent-encoded in the URL (db%40pass%2FSecret9)
SSL_PASSWORD = "ssl key Secret9"  # in the query, as q+and+%20 encode it


@pytest.mark.postgres
@pytest.mark.parametrize("log_format", ["json", "text"])
def test_serve_masks_every_form_of_the_database_passwords_in_its_logs(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, log_format: str
) -> None:
    from sqlalchemy.engine import make_url

    url = make_url(postgres_url).set(password=DB_PASSWORD).render_as_string(hide_password=False)
    url += "?sslpassword=" + quote_plus(SSL_PASSWORD)
    forms = [DB_PASSWORD, quote(DB_PASSWORD, safe=""), SSL_PASSWORD, quote_plus(SSL_PASSWORD)]
    assert quote(DB_PASSWORD, safe="") in url

    def logging_serve_app(settings: object, store: object, run_server: object) -> None:
        logging.getLogger("v2mom.sync.schedule").warning("reconcile: the database said %s", " | ".join(forms))

    monkeypatch.setattr("v2mom.app.serve.serve_app", logging_serve_app)
    monkeypatch.delenv("V2MOM_LOG_FORMAT", raising=False)
    config = tmp_path / "v2mom.yaml"
    config.write_text(f"database_url: '{url}'\n")
    config.chmod(0o600)
    result = runner.invoke(app, ["serve", "-c", str(config), "--log-format", log_format])
    assert result.exit_code == 0, result.stderr
    (line,) = result.stderr.splitlines()
    assert "the database said *** | *** | *** | ***" in line
    assert "Secret9" not in result.stdout + result.stderr


def test_serve_as_a_process_writes_only_json_lines(tmp_path: Path) -> None:
    """uvicorn's own loggers (startup, access log) come out as JSON lines too."""
    config = tmp_path / "v2mom.yaml"
    config.write_text(f"database_url: sqlite:///{tmp_path / 'v2mom.db'}\nsync: {{reconcile_every: 1h}}\n")
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("V2MOM_LOG_FORMAT", None)
    server = subprocess.Popen(
        v2mom("serve", "-c", str(config), "--port", str(port), "--log-format", "json"),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:

        def healthy() -> bool:
            try:
                return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).ok
            except requests.ConnectionError:
                return False

        assert wait_for(healthy, timeout=30)
    finally:
        server.send_signal(signal.SIGINT)
        _, stderr = server.communicate(timeout=30)
    records = [json.loads(line) for line in stderr.splitlines()]
    assert any(r["logger"] == "uvicorn.error" and "startup complete" in r["message"] for r in records)
    assert any(r["logger"] == "uvicorn.access" and "GET /healthz" in r["message"] for r in records)
