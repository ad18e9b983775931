"""The CLI's serve, worker, sync and webhook commands only parse, call and print; the wiring they call."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from v2mom.app.cli import app
from v2mom.app.serve import serve_app
from v2mom.app.services import services_of
from v2mom.events import WebhookEvent
from v2mom.settings import Settings, SyncSettings
from v2mom.store.database import Database
from v2mom.webhooks.worker import BatchResult, run_worker

runner = CliRunner()
THREADS = ("webhook-worker", "reconcile")


def alive(name: str) -> bool:
    return any(t.name == name and t.is_alive() for t in threading.enumerate())


def heartbeat(delivery: str) -> WebhookEvent:
    return WebhookEvent("jira", delivery, "heartbeat", None, None, {})


@pytest.fixture
def workdir(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("V2MOM_DATABASE_URL", raising=False)
    monkeypatch.delenv("V2MOM_CONFIG", raising=False)
    (tmp_path / "v2mom.yaml").write_text(f"database_url: {database_url}\n")
    return tmp_path


def test_sync_without_a_tracker_says_what_to_configure_and_fails(workdir: Path) -> None:
    result = runner.invoke(app, ["sync"])
    assert result.exit_code == 2
    assert "no tracker configured in v2mom.yaml." in result.stderr
    for key in ("trackers.jira", "trackers.asana", "trackers.linear"):
        assert key in result.stderr
    assert result.stdout == ""


def test_sync_names_a_missing_default_settings_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("V2MOM_CONFIG", raising=False)
    result = runner.invoke(app, ["sync"])
    assert result.exit_code == 2
    assert "v2mom.yaml (not found)" in result.stderr
    assert not (tmp_path / "v2mom.db").exists()  # nothing created for a run that cannot sync


def test_serve_help_says_what_serve_runs() -> None:
    result = runner.invoke(app, ["serve", "--help"])
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert "as they land" not in text
    for part in ("dashboard", "API", "webhooks", "in-process worker", "reconcile"):
        assert part in text


def test_worker_once_drains_the_inbox_and_prints_each_batch(workdir: Path, database_url: str) -> None:
    store = Database.open(database_url)
    store.inbox.enqueue_many([heartbeat("h1"), heartbeat("h2")])
    store.close()
    result = runner.invoke(app, ["worker", "--once"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == ["applied 2, failed 0, parked 0", "inbox drained: 2 applied"]


def test_run_worker_polls_until_stopped(store: Database) -> None:
    inbox = store.inbox
    stop = threading.Event()
    seen: list[BatchResult] = []

    def on_batch(batch: BatchResult) -> None:
        seen.append(batch)
        stop.set()  # the next empty poll ends the loop

    inbox.enqueue_many([heartbeat("p1")])
    assert run_worker(Settings(), store, interval=0.01, on_batch=on_batch, stop=stop) == 1
    assert [b.applied for b in seen] == [1]


def test_webhooks_register_jira_prints_the_steps_with_a_fresh_secret(workdir: Path) -> None:
    config = workdir / "v2mom.yaml"
    config.write_text(
        config.read_text()
        + "trackers:\n  jira:\n    url: https://jira.example.com\n    email: a@example.com\n"
        "    api_token: t\n    jql: project = ONB\n"
    )
    args = ["webhooks", "register", "--tracker", "jira", "--url", "https://v2.example.com/webhooks/jira"]
    first, second = runner.invoke(app, args), runner.invoke(app, args)
    assert first.exit_code == 0, first.stderr
    assert "2. URL: https://v2.example.com/webhooks/jira" in first.stdout
    assert "5. JQL filter: project = ONB" in first.stdout
    secrets = [
        [line.split(": ", 1)[1] for line in r.stdout.splitlines() if "3. Secret:" in line]
        for r in (first, second)
    ]
    assert len(secrets[0][0]) == 48
    assert secrets[0] != secrets[1]
    refused = runner.invoke(app, ["webhooks", "register", "--tracker", "jira", "--url", "ftp://x"])
    assert refused.exit_code == 2
    assert "not an http(s) URL" in refused.stderr


class Recorder:
    """A companion that notes what was running when it started and stopped."""

    def __init__(self, name: str, log: list[str]) -> None:
        self.name, self.log = name, log

    def start(self) -> None:
        self.log.append(f"start {self.name} with {'+'.join(t for t in THREADS if alive(t))}")

    def stop(self) -> None:
        self.log.append(f"stop {self.name} with {'+'.join(t for t in THREADS if alive(t))}")


def test_serve_app_runs_worker_reconcile_and_companions_then_stops_them_in_order(store: Database) -> None:
    settings = Settings(sync=SyncSettings(reconcile_every="1h"))
    log: list[str] = []
    served: list[int] = []

    def fake_server(application: FastAPI) -> None:
        with TestClient(application) as client:  # runs the lifespan: the inbox writer too
            assert alive("inbox-writer")
            served.append(client.get("/healthz").status_code)
        assert callable(services_of(application).wake_worker)
        log.append("served")

    serve_app(settings, store, fake_server, companions=[Recorder("a", log), Recorder("b", log)])
    assert served == [200]
    assert log == [
        "start a with webhook-worker+reconcile",
        "start b with webhook-worker+reconcile",
        "served",
        "stop b with webhook-worker+reconcile",
        "stop a with webhook-worker+reconcile",
    ]
    assert not any(alive(t) for t in (*THREADS, "inbox-writer"))


def test_serve_app_stops_what_started_when_the_server_fails(store: Database) -> None:
    def broken_server(_application: FastAPI) -> None:
        assert alive("webhook-worker")
        assert alive("reconcile")
        raise OSError("address already in use")

    with pytest.raises(OSError, match="address already in use"):
        serve_app(Settings(sync=SyncSettings(reconcile_every="1h")), store, broken_server)
    assert not any(alive(t) for t in THREADS)
