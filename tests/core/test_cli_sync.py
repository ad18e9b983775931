"""``v2mom sync`` through a settings file against the sandbox: summary lines and exit codes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sandbox.generator import generate_jira_workspace, scope_jql
from sandbox.jira.app import create_jira_app
from sandbox.jira.state import JiraState
from sandbox.server import SandboxServer
from v2mom.cli import app

runner = CliRunner()


@pytest.fixture
def jira() -> Iterator[tuple[str, JiraState]]:
    state, _ = generate_jira_workspace(seed=9, epics=30, issues=200)
    with SandboxServer(create_jira_app(state)) as url:
        yield url, state


def write_settings(tmp: Path, database_url: str, url: str, state: JiraState) -> Path:
    path = tmp / "v2mom.yaml"
    path.write_text(
        f"database_url: {database_url}\n"
        "trackers:\n"
        "  jira:\n"
        f"    url: {url}\n"
        f"    email: {state.account_email}\n"
        "    api_token: ${TEST_JIRA_TOKEN}\n"
        f"    jql: {scope_jql(state)}\n"
    )
    return path


def test_sync_succeeds_then_fails_clearly_with_a_bad_token(
    tmp_path: Path, database_url: str, jira: tuple[str, JiraState], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, state = jira
    config = write_settings(tmp_path, database_url, url, state)
    monkeypatch.setenv("TEST_JIRA_TOKEN", state.api_token)
    ok = runner.invoke(app, ["sync", "-c", str(config)])
    assert ok.exit_code == 0, ok.stderr
    assert "jira: ok — full, 198 items seen (198 written)" in ok.stdout

    again = runner.invoke(app, ["sync", "-c", str(config)])
    assert again.exit_code == 0
    assert "jira: ok — incremental" in again.stdout

    monkeypatch.setenv("TEST_JIRA_TOKEN", "definitely-wrong-token")
    failed = runner.invoke(app, ["sync", "-c", str(config), "--full"])
    assert failed.exit_code == 1
    assert "jira: FAILED: jira: authentication failed: check email and API token" in failed.stderr
    assert "definitely-wrong-token" not in failed.stdout + failed.stderr

    unknown = runner.invoke(app, ["sync", "-c", str(config), "--tracker", "asana"])
    assert unknown.exit_code == 2
    assert "--tracker: 'asana' is not configured" in unknown.stderr
