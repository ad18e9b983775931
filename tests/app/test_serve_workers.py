"""``v2mom serve --workers N``: N uvicorn worker processes on one port, each with its own store and
webhook worker (PostgreSQL only), stopped cleanly by SIGINT or SIGTERM; the app they build."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from pathlib import Path

import pytest
import requests
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.layout import ROOT
from tests.support import free_port, wait_for
from tests.webhooks.jira_signing import v2mom
from v2mom.app.asgi import factory
from v2mom.app.cli import app
from v2mom.app.serve import serving_app
from v2mom.app.services import services_of
from v2mom.settings import Settings, SyncSettings
from v2mom.store.database import Database

runner = CliRunner()


def alive(name: str) -> bool:
    return any(t.name == name and t.is_alive() for t in threading.enumerate())


def environment_of(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(entry.decode().split("=", 1) for entry in raw if b"=" in entry)


def parent_of(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("PPid:")))


def serving_processes(store: Database) -> dict[int, str]:
    """The pids of the live ``serve`` leases (one per process running a webhook worker)."""
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT pid, id FROM workers WHERE kind = 'serve'").all()
    live = store.workers.live()
    return {int(pid): worker_id for pid, worker_id in rows if worker_id in live}


def healthy(base: str) -> bool:
    try:
        return requests.get(f"{base}/healthz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_serve_with_two_workers_serves_from_two_processes_and_stops_cleanly(
    tmp_path: Path, database_url: str, stop: signal.Signals
) -> None:
    config = tmp_path / "v2mom.yaml"
    config.write_text(f"database_url: {database_url}\nsync: {{reconcile_every: 1h}}\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.pop("V2MOM_CONFIG", None)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        v2mom("serve", "-c", str(config), "--port", str(port), "--workers", "2"),
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    store = Database.open(database_url)
    try:
        assert wait_for(lambda: healthy(base), timeout=60), (tmp_path / "serve.log").read_text()
        assert wait_for(lambda: len(serving_processes(store)) == 2, timeout=30), serving_processes(store)
        workers = sorted(serving_processes(store))
        assert server.pid not in workers
        assert [parent_of(pid) for pid in workers] == [server.pid, server.pid]  # uvicorn's processes
        environments = [environment_of(pid) for pid in workers]
        metrics_dirs = {e["PROMETHEUS_MULTIPROC_DIR"] for e in environments}
        assert len(metrics_dirs) == 1
        metrics_dir = Path(metrics_dirs.pop())
        assert metrics_dir.is_dir()
        assert metrics_dir.stat().st_mode & 0o777 == 0o700
        assert {e["V2MOM_CONFIG"] for e in environments} == {str(config)}
        answers = [requests.get(f"{base}/healthz", timeout=5) for _ in range(20)]
        assert [a.status_code for a in answers] == [200] * 20
        assert [a.json() for a in answers] == [{"status": "ok"}] * 20

        server.send_signal(stop)
        assert server.wait(timeout=60) == 0
        assert not any(Path(f"/proc/{pid}").exists() for pid in workers)
        assert serving_processes(store) == {}  # each process stopped its webhook worker and lease
        assert not metrics_dir.exists()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=10)
        log.close()
        store.close()
    output = (tmp_path / "serve.log").read_text()
    assert "with 2 worker processes" in output
    assert "Traceback" not in output


def test_serve_refuses_several_workers_on_sqlite_naming_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("V2MOM_DATABASE_URL", raising=False)
    (tmp_path / "v2mom.yaml").write_text(f"database_url: sqlite:///{tmp_path / 'v2mom.db'}\n")
    result = runner.invoke(app, ["serve", "-c", str(tmp_path / "v2mom.yaml"), "--workers", "2"])
    assert result.exit_code == 2
    message = " ".join(result.stderr.split())
    assert message.startswith("error: --workers 2: the database is SQLite")
    assert "Use PostgreSQL" in message
    assert not (tmp_path / "v2mom.db").exists()  # refused before anything was created
    assert runner.invoke(app, ["serve", "--workers", "0"]).exit_code == 2


def test_serve_help_documents_workers() -> None:
    result = runner.invoke(app, ["serve", "--help"])
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert "--workers" in text
    assert "PostgreSQL only" in text


def test_a_worker_process_app_runs_its_webhook_worker_and_reconcile_with_its_lifespan(
    store: Database,
) -> None:
    application = serving_app(Settings(sync=SyncSettings(reconcile_every="1h")), store)
    assert not alive("webhook-worker")
    with TestClient(application) as client:
        assert client.get("/healthz").status_code == 200
        assert alive("webhook-worker")
        assert alive("reconcile")
        assert alive("inbox-writer")
        assert callable(services_of(application).wake_worker)
        assert len(store.workers.live()) == 1  # its lease
    assert not any(alive(t) for t in ("webhook-worker", "reconcile", "inbox-writer"))
    assert store.workers.live() == set()


def test_the_factory_builds_the_app_from_the_settings_file_in_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "from-env.db"
    config = tmp_path / "elsewhere.yaml"
    config.write_text(f"database_url: sqlite:///{database}\n")
    monkeypatch.setenv("V2MOM_CONFIG", str(config))
    monkeypatch.delenv("V2MOM_DATABASE_URL", raising=False)
    application = factory()
    try:
        assert services_of(application).settings.database_url == f"sqlite:///{database}"
        assert database.exists()  # opened (and migrated) by the factory
    finally:
        services_of(application).store.close()
