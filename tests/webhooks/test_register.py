"""``v2mom webhooks register`` creates Asana, Linear and Jira Data Center webhooks through their
APIs, and the sandboxes then deliver signed events that the running app verifies and stores; for
Jira Cloud it prints the steps to follow in Jira's UI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests
from typer.testing import CliRunner

from tests.support import wait_for
from tests.webhooks.jira_signing import dc_delivery, sign
from v2mom.app.cli import app as cli
from v2mom.app.factory import create_app
from v2mom.connectors.jira import client as jira_client
from v2mom.sandbox.asana.app import create_asana_app
from v2mom.sandbox.asana.generator import generate_asana_workspace
from v2mom.sandbox.asana.webhooks import AsanaWebhookSender
from v2mom.sandbox.generator import generate_jira_workspace, jira_settings
from v2mom.sandbox.jira.app import create_jira_app
from v2mom.sandbox.jira.datacenter_webhooks import DataCenterWebhookSender, webhooks_of
from v2mom.sandbox.jira.state import JiraState
from v2mom.sandbox.linear.app import create_linear_app
from v2mom.sandbox.linear.generator import generate_linear_workspace
from v2mom.sandbox.linear.webhooks import LinearWebhookSender
from v2mom.sandbox.server import SandboxServer
from v2mom.settings import load_settings
from v2mom.store.database import Database
from v2mom.webhooks.hook_secrets import StoredHookSecrets
from v2mom.webhooks.register import JIRA_DC_EVENTS

runner = CliRunner()


def test_register_then_deliveries_verify(tmp_path: Path, database_url: str) -> None:
    linear, linear_truth = generate_linear_workspace(seed=8, projects=4, issues=60)
    asana, asana_truth = generate_asana_workspace(seed=8, tasks=60)
    with (
        SandboxServer(create_linear_app(linear)) as linear_url,
        SandboxServer(create_asana_app(asana)) as asana_url,
    ):
        config = tmp_path / "v2mom.yaml"
        config.write_text(
            f"database_url: {database_url}\n"
            "trackers:\n"
            "  linear:\n"
            f"    api_url: {linear_url}/graphql\n"
            f"    api_key: {linear.api_key}\n"
            "    teams: [ENG, WEB]\n"
            "  asana:\n"
            f"    base_url: {asana_url}/api/1.0\n"
            f"    token: {asana.token}\n"
            f"    workspace: '{asana.workspace_gid}'\n"
            f"    projects: [{', '.join(repr(p) for p in asana_truth.projects)}]\n"
        )
        settings = load_settings(config)
        store = Database.open(database_url)
        server = SandboxServer(create_app(settings, store))
        base = server.start()
        try:
            done = runner.invoke(
                cli,
                [
                    "webhooks",
                    "register",
                    "-c",
                    str(config),
                    "--tracker",
                    "asana",
                    "--url",
                    f"{base}/webhooks/asana",
                ],
            )
            assert done.exit_code == 0, done.stderr
            assert done.stdout.count("asana\tproject") == 3
            assert {h.resource for h in asana.webhooks.values()} == set(asana_truth.projects)
            done = runner.invoke(
                cli,
                [
                    "webhooks",
                    "register",
                    "-c",
                    str(config),
                    "--tracker",
                    "linear",
                    "--url",
                    f"{base}/webhooks/linear",
                ],
            )
            assert done.exit_code == 0, done.stderr
            assert {h.team_key for h in linear.webhooks.values()} == {"ENG", "WEB"}
            secrets_shown = [h.secret for h in [*asana.webhooks.values(), *linear.webhooks.values()]]
            assert not any(s in done.stdout for s in secrets_shown)

            asana_sender, linear_sender = AsanaWebhookSender(asana), LinearWebhookSender(linear)
            asana_sender.start()
            linear_sender.start()
            task = sorted(asana_truth.live_tasks())[0]
            asana.update_task(task, name="changed")
            asana_sender.heartbeat()
            issue = sorted(i for i in linear_truth.live_ids() if i in linear.issues)[0]
            linear.update_issue(issue, title="changed")
            asana_sender.stop()
            linear_sender.stop()
            assert asana_sender.log.sent
            assert not asana_sender.log.failed
            assert linear_sender.log.sent
            assert not linear_sender.log.failed
            inbox = store.inbox
            heartbeats = len(asana.webhooks)  # one per webhook; the task change once (deduplicated)
            assert wait_for(lambda: sum(inbox.counts().get("asana", {}).values()) == 1 + heartbeats)
            assert sum(inbox.counts().get("linear", {}).values()) == 1

            listed = runner.invoke(cli, ["webhooks", "list", "-c", str(config), "--remote"])
            assert listed.exit_code == 0, listed.stderr
            assert "linear\t2 secret(s)" in listed.stdout
            assert "asana\t3 secret(s)" in listed.stdout
            assert listed.stdout.count("asana\twebhook") == 3
            assert listed.stdout.count("linear\twebhook") == 2
        finally:
            server.stop()
            store.close()


def test_asana_registration_fails_clearly_when_the_handshake_cannot_happen(tmp_path: Path) -> None:
    asana, truth = generate_asana_workspace(seed=8, tasks=20)
    with SandboxServer(create_asana_app(asana)) as asana_url:
        config = tmp_path / "v2mom.yaml"
        config.write_text(
            f"database_url: sqlite:///{tmp_path / 'db.sqlite'}\n"
            "trackers:\n"
            "  asana:\n"
            f"    base_url: {asana_url}/api/1.0\n"
            f"    token: {asana.token}\n"
            f"    workspace: '{asana.workspace_gid}'\n"
            f"    projects: ['{truth.projects[0]}']\n"
        )
        done = runner.invoke(
            cli,
            [
                "webhooks",
                "register",
                "-c",
                str(config),
                "--tracker",
                "asana",
                "--url",
                "http://127.0.0.1:9/webhooks/asana",
            ],
        )
    assert done.exit_code == 1
    assert "handshake" in done.stderr
    assert asana.webhooks == {}


# -- Jira: Cloud prints the UI steps; Data Center registers through its REST API ------------------


def jira_config(tmp_path: Path, database_url: str, state: JiraState, url: str) -> Path:
    """A v2mom.yaml for the sandbox Jira at ``url`` (either deployment), without webhook secrets."""
    settings = jira_settings(state, url)
    credentials = (
        f"    deployment: datacenter\n    token: {settings.credential()}\n"
        if settings.deployment == "datacenter"
        else f"    email: {settings.email}\n    api_token: {settings.credential()}\n"
    )
    config = tmp_path / "v2mom.yaml"
    config.write_text(
        f"database_url: {database_url}\ntrackers:\n  jira:\n    url: {url}\n{credentials}"
        f"    jql: {settings.jql}\n"
    )
    config.chmod(0o600)
    return config


def register_jira(config: Path, url: str) -> Any:
    return runner.invoke(cli, ["webhooks", "register", "-c", str(config), "--tracker", "jira", "--url", url])


def test_jira_cloud_registration_prints_the_ui_steps_and_registers_nothing(
    tmp_path: Path, database_url: str
) -> None:
    state, _ = generate_jira_workspace(seed=8, epics=4, issues=24)
    with SandboxServer(create_jira_app(state)) as jira_url:
        done = register_jira(
            jira_config(tmp_path, database_url, state, jira_url), "https://v2m.example/webhooks/jira"
        )
    assert done.exit_code == 0, done.stderr
    assert "Jira settings > System > WebHooks" in done.stdout
    assert webhooks_of(state).hooks == {}


def test_jira_data_center_registration_creates_then_rotates_one_signed_webhook(
    tmp_path: Path, database_url: str
) -> None:
    state, truth = generate_jira_workspace(seed=8, epics=4, issues=24, deployment="datacenter")
    with SandboxServer(create_jira_app(state)) as jira_url:
        config = jira_config(tmp_path, database_url, state, jira_url)
        settings = load_settings(config)
        store = Database.open(database_url)
        server = SandboxServer(create_app(settings, store))
        base = server.start()
        target = f"{base}/webhooks/jira"
        sender = DataCenterWebhookSender(state, jira_url)
        sender.start()
        try:
            done = register_jira(config, target)
            assert done.exit_code == 0, done.stderr
            (hook,) = webhooks_of(state).hooks.values()
            assert settings.trackers.jira is not None
            jql = settings.trackers.jira.jql
            assert (hook.url, hook.jql, hook.events) == (target, jql, list(JIRA_DC_EVENTS))
            first = hook.secret
            assert first
            assert first not in done.stdout

            issue = min(truth.live())
            state.update_issue(issue, summary="changed after registering")
            assert wait_for(lambda: sender.idle() and bool(sender.log.sent))
            assert not sender.log.failed  # signed with the registered secret, verified, stored
            assert sum(store.inbox.counts().get("jira", {}).values()) == 1

            again = register_jira(config, target)  # the same URL: updated in place, a new secret
            assert again.exit_code == 0, again.stderr
            assert "updated" in again.stdout
            (rotated,) = webhooks_of(state).hooks.values()
            assert rotated.id == hook.id
            assert rotated.secret not in (None, first)
            assert not any(s in again.stdout for s in (first, rotated.secret))
            body = dc_delivery(str(issue), state.issues[issue].key)
            signed_first = {"X-Hub-Signature": sign(body, first)}
            assert requests.post(target, data=body, headers=signed_first, timeout=10).status_code == 202
            assert register_jira(config, target).exit_code == 0  # a third run retires the first secret
            (third,) = webhooks_of(state).hooks.values()
            stored = StoredHookSecrets(store, "jira").secrets(fresh=True)
            assert stored == [rotated.secret, third.secret]

            listed = runner.invoke(cli, ["webhooks", "list", "-c", str(config), "--remote"])
            assert listed.exit_code == 0, listed.stderr
            assert f"jira\twebhook {hook.id}\tv2mom-sync\tenabled\t-> {target}" in listed.stdout
            assert "jira\t2 secret(s)" in listed.stdout
        finally:
            sender.stop()
            server.stop()
            store.close()


def test_jira_data_center_registration_without_admin_permission_fails_in_one_line(
    tmp_path: Path,
) -> None:
    state, _ = generate_jira_workspace(seed=8, epics=4, issues=24, deployment="datacenter")
    state.administrator = False
    with SandboxServer(create_jira_app(state)) as jira_url:
        config = jira_config(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}", state, jira_url)
        done = register_jira(config, "https://v2m.example/webhooks/jira")
    assert done.exit_code == 1
    assert "Jira Administrators" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert webhooks_of(state).hooks == {}


def test_a_jira_data_center_without_signed_webhooks_is_told_why_it_cannot_register(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state, _ = generate_jira_workspace(seed=8, epics=4, issues=24, deployment="datacenter")
    monkeypatch.setattr(
        jira_client, "DC_WEBHOOKS", "rest/webhooks/1.0/webhook"
    )  # what releases before 10 have
    with SandboxServer(create_jira_app(state)) as jira_url:
        config = jira_config(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}", state, jira_url)
        done = register_jira(config, "https://v2m.example/webhooks/jira")
    assert done.exit_code == 1
    assert "Data Center before 10" in done.stderr
    assert "reconcile" in done.stderr
