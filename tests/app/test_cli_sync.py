"""``v2mom sync`` through a settings file against the sandbox: summary lines and exit codes."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.support import free_port
from v2mom.app.cli import app
from v2mom.sandbox.generator import generate_jira_workspace, scope_jql
from v2mom.sandbox.jira.app import create_jira_app
from v2mom.sandbox.jira.state import JiraState
from v2mom.sandbox.server import SandboxServer

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


def test_one_failing_tracker_does_not_stop_the_others(
    tmp_path: Path, database_url: str, jira: tuple[str, JiraState], monkeypatch: pytest.MonkeyPatch
) -> None:
    from v2mom.sandbox.asana.generator import generate_asana_workspace
    from v2mom.sandbox.linear.app import create_linear_app
    from v2mom.sandbox.linear.generator import generate_linear_workspace

    url, state = jira
    linear_state, _ = generate_linear_workspace(seed=2, projects=4, issues=120)
    asana_state, asana_truth = generate_asana_workspace(seed=2, tasks=50)
    monkeypatch.setenv("TEST_JIRA_TOKEN", state.api_token)
    monkeypatch.setenv("TEST_LINEAR_KEY", "lin_api_revoked_key")
    monkeypatch.setenv("TEST_ASANA_TOKEN", asana_state.token)
    with SandboxServer(create_linear_app(linear_state)) as linear_url:
        config = write_settings(tmp_path, database_url, url, state)
        config.write_text(
            config.read_text()
            + "  linear:\n"
            + f"    api_url: {linear_url}/graphql\n"
            + "    api_key: ${TEST_LINEAR_KEY}\n"
            + "    teams: [ENG, WEB]\n"
            + "  asana:\n"
            + "    base_url: http://127.0.0.1:9/api/1.0\n"  # nothing listens there
            + "    token: ${TEST_ASANA_TOKEN}\n"
            + f"    workspace: '{asana_state.workspace_gid}'\n"
            + f"    projects: ['{asana_truth.projects[0]}']\n"
            + "sync:\n"
            + "  max_retries: 0\n"
        )
        result = runner.invoke(app, ["sync", "-c", str(config)])
    assert result.exit_code == 1
    assert "jira: ok — full, 198 items seen" in result.stdout
    assert "linear: FAILED: linear: authentication failed: check the API key" in result.stderr
    assert (
        "asana: FAILED: asana: cannot connect to http://127.0.0.1:9/api/1.0: connection refused"
        in result.stderr
    )
    assert "lin_api_revoked_key" not in result.stdout + result.stderr
    assert asana_state.token not in result.stdout + result.stderr


def closed_tracker(tracker: str, port: int) -> tuple[str, str]:
    """A settings section for ``tracker`` at ``127.0.0.1:port``, and the URL its connector talks to."""
    base = f"http://127.0.0.1:{port}"
    if tracker == "jira":
        section = (
            f"  jira:\n    url: {base}\n    email: a@example.com\n    api_token: t\n    jql: project = X\n"
        )
        return section, base
    if tracker == "asana":
        section = (
            f"  asana:\n    base_url: {base}/api/1.0\n    token: t\n    workspace: '1'\n    projects: ['2']\n"
        )
        return section, f"{base}/api/1.0"
    return f"  linear:\n    api_url: {base}/graphql\n    api_key: k\n    teams: [ENG]\n", f"{base}/graphql"


@pytest.mark.parametrize("tracker", ["jira", "asana", "linear"])
def test_an_unreachable_tracker_is_named_with_its_url_at_once_not_after_the_retry_budget(
    tmp_path: Path, database_url: str, tracker: str
) -> None:
    section, url = closed_tracker(tracker, free_port())  # nothing listens there
    config = tmp_path / "v2mom.yaml"
    config.write_text(f"database_url: {database_url}\ntrackers:\n{section}")  # the default retry budget
    config.chmod(0o600)
    result = runner.invoke(app, ["sync", "-c", str(config)])
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == f"{tracker}: syncing from {url}"  # said before anything is tried
    assert len(lines) == 2, result.stderr  # no retry, no second copy of the failure
    assert lines[1].startswith(
        f"{tracker}: FAILED: {tracker}: cannot connect to {url}: connection refused — "
    )
    assert lines[1].endswith(", 1 API calls")


def test_a_tracker_that_does_not_accept_the_connection_fails_after_the_connect_timeout(
    tmp_path: Path, database_url: str
) -> None:
    with socket.socket() as full:  # a server whose accept queue is full: connections are never taken
        full.bind(("127.0.0.1", 0))
        full.listen(0)
        port = int(full.getsockname()[1])
        queued = [socket.socket() for _ in range(3)]
        for sock in queued:
            sock.setblocking(False)
            sock.connect_ex(("127.0.0.1", port))
        section, url = closed_tracker("jira", port)
        config = tmp_path / "v2mom.yaml"
        config.write_text(
            f"database_url: {database_url}\ntrackers:\n{section}sync:\n  connect_timeout_seconds: 0.5\n"
        )
        config.chmod(0o600)
        result = runner.invoke(app, ["sync", "-c", str(config)])
        for sock in queued:
            sock.close()
    assert result.exit_code == 1
    assert (
        f"jira: FAILED: jira: cannot connect to {url}: no answer to connect within 0.5 s — " in result.stderr
    )
    assert "1 API calls" in result.stderr


def test_each_retry_is_printed_with_its_wait(
    tmp_path: Path, database_url: str, jira: tuple[str, JiraState], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, state = jira
    config = write_settings(tmp_path, database_url, url, state)
    monkeypatch.setenv("TEST_JIRA_TOKEN", state.api_token)
    state.inject_fault(503, times=2, retry_after=0, path_prefix="/rest/api/3/search/jql")
    result = runner.invoke(app, ["sync", "-c", str(config)])
    assert result.exit_code == 0, result.stderr
    retry = r"jira: server error — HTTP 503 — request id \w+; retry {}/5 in 0\.0s"
    lines = result.stderr.splitlines()
    assert lines[0] == f"jira: syncing from {url}"
    assert len(lines) == 3
    assert re.fullmatch(retry.format(1), lines[1]), lines[1]
    assert re.fullmatch(retry.format(2), lines[2]), lines[2]
    assert "jira: ok — full, 198 items seen (198 written)" in result.stdout
