"""``v2mom webhooks register`` creates Asana and Linear webhooks through their APIs, and the
sandboxes then deliver signed events that the running app verifies and stores."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from tests.support import wait_for
from v2mom.app.cli import app as cli
from v2mom.app.factory import create_app
from v2mom.sandbox.asana.app import create_asana_app
from v2mom.sandbox.asana.generator import generate_asana_workspace
from v2mom.sandbox.asana.webhooks import AsanaWebhookSender
from v2mom.sandbox.linear.app import create_linear_app
from v2mom.sandbox.linear.generator import generate_linear_workspace
from v2mom.sandbox.linear.webhooks import LinearWebhookSender
from v2mom.sandbox.server import SandboxServer
from v2mom.settings import load_settings
from v2mom.store.database import Database

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
