"""Multiprocess metrics: with PROMETHEUS_MULTIPROC_DIR, /metrics sums what every process recorded.

Two child processes record into the same directory (prometheus_client picks its file-backed values
at import, from the environment the process starts with); this process then exposes the directory.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.app.scrape import parse
from tests.layout import ROOT
from v2mom.app.factory import create_app
from v2mom.metrics import exposition
from v2mom.settings import MetricsSettings, Settings
from v2mom.store.database import Database

CHILD = """
import sys
from v2mom.metrics import REPORT_SECONDS, RERESOLVE_SECONDS, SYNC_RUNS
SYNC_RUNS.labels(tracker="mp-test", outcome="ok").inc(int(sys.argv[1]))
REPORT_SECONDS.labels(report="mp-test").observe(float(sys.argv[2]))
RERESOLVE_SECONDS.labels(trigger="mp-test").observe(float(sys.argv[2]))
"""


def record(directory: Path, runs: int, seconds: float) -> None:
    """Run a separate process that records ``runs`` sync runs and one ``seconds`` observation."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory), "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", CHILD, str(runs), str(seconds)], env=env, check=True, timeout=60)


@pytest.fixture
def recorded(tmp_path: Path) -> Path:
    directory = tmp_path / "prometheus"
    directory.mkdir()
    record(directory, 2, 0.25)
    record(directory, 3, 4.0)
    return directory


def test_each_process_writes_its_own_files(recorded: Path) -> None:
    assert len(list(recorded.glob("counter_*.db"))) == 2
    assert len(list(recorded.glob("histogram_*.db"))) == 2


def test_the_exposition_sums_every_process(recorded: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(recorded))
    body, content_type = exposition(None)
    metrics = parse(body.decode())

    assert content_type.startswith("text/plain")
    assert metrics.value("v2mom_sync_runs_total", tracker="mp-test", outcome="ok") == 5
    assert metrics.value("v2mom_report_duration_seconds_count", report="mp-test") == 2
    assert metrics.value("v2mom_report_duration_seconds_sum", report="mp-test") == pytest.approx(4.25)
    # buckets are summed too: 0.25 s falls in le=0.25, 4.0 s only from le=5.0 up
    assert metrics.value("v2mom_report_duration_seconds_bucket", report="mp-test", le="0.25") == 1
    assert metrics.value("v2mom_report_duration_seconds_bucket", report="mp-test", le="5.0") == 2
    assert metrics.value("v2mom_reresolve_duration_seconds_count", trigger="mp-test") == 2


def test_without_the_variable_only_this_process_is_exposed(
    recorded: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    metrics = parse(exposition(None)[0].decode())
    assert not metrics.has("v2mom_sync_runs_total", tracker="mp-test", outcome="ok")
    assert metrics.has("process_cpu_seconds_total")  # the default registry, this process's own


def test_the_app_serves_the_summed_registry_with_the_store_gauges(
    recorded: Path, monkeypatch: pytest.MonkeyPatch, store: Database
) -> None:
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(recorded))
    settings = Settings(metrics=MetricsSettings(public=True))
    with TestClient(create_app(settings, store)) as client:
        answer = client.get("/metrics")
    assert answer.status_code == 200
    metrics = parse(answer.text)
    assert metrics.value("v2mom_sync_runs_total", tracker="mp-test", outcome="ok") == 5
    assert metrics.value("v2mom_store_up") == 1  # read at scrape time, once, by the serving process
