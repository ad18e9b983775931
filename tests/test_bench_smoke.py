"""The benchmarks still run (tiny sizes; no timing is asserted — they print ratios, not verdicts here)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.layout import ROOT


@pytest.mark.parametrize(
    ("module", "args"),
    [
        ("bench.report", ["--items", "3000", "--repeat", "2"]),
        ("bench.sync", ["--items", "400"]),
        ("bench.remap", ["--items", "2000"]),
        ("bench.webhooks", ["--events", "100", "--rate", "100", "--seconds", "1", "--connections", "2"]),
        ("bench.writeback", ["--inferred", "300", "--rate", "400", "--links"]),
    ],
)
def test_benchmark_runs_and_prints_a_result(module: str, args: list[str]) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", module, *args], capture_output=True, text=True, env=env, timeout=240, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert result, done.stdout
    assert all("ratio" in line for line in result)
    if module == "bench.writeback":  # fields then links, per tracker, each under the sandbox's limit
        names = [line.split()[1].rsplit("/", 2)[0:2] for line in result]
        kinds = ("writeback", "writeback-links")
        assert names == [[kind, t] for t in ("jira", "linear", "asana") for kind in kinds]
    if module == "bench.sync":  # sync alone, then sync + re-resolution, per tracker
        names = [line.split()[1].rsplit("/", 2)[0:2] for line in result]
        assert names == [[kind, t] for t in ("jira", "linear", "asana") for kind in ("sync", "sync+resolve")]


@pytest.mark.postgres
def test_scale_benchmark_runs_on_postgresql(postgres_url: str) -> None:
    """bench.scale is PostgreSQL only (COPY): tiny sizes in a throwaway database, dropped afterwards."""
    args = ["--items", "20000", "--template", "3000", "--runs", "3", "--events", "100"]
    done = run_scale(postgres_url, *args)
    assert done.returncode == 0, done.stderr[-2000:]
    assert result_names(done.stdout) == [
        f"scale/{step}/postgresql" for step in ("full", "rule-change", "report", "webhooks")
    ], done.stdout
    assert "20,000 items" in done.stdout
    # Again on the store it left: the chosen steps only, fresh deliveries all applied.
    again = run_scale(postgres_url, "--reuse", "--steps", "rule,webhooks", *args)
    assert again.returncode == 0, again.stderr[-2000:]
    assert result_names(again.stdout) == ["scale/rule-change/postgresql", "scale/webhooks/postgresql"]
    assert again.stdout.count("100 of 100 events applied") == 2, again.stdout
    refused = run_scale(postgres_url, "--reuse", "--steps", "full", *args)
    assert refused.returncode != 0
    assert "step 'full' times a first resolution" in refused.stderr


def run_scale(postgres_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m bench.scale`` against ``postgres_url`` with ``args``."""
    return subprocess.run(
        [sys.executable, "-m", "bench.scale", "--database-url", postgres_url, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=240,
        cwd=ROOT,
    )


def result_names(stdout: str) -> list[str]:
    """The names of the ``RESULT`` lines, each of which must carry a ratio."""
    result = [line for line in stdout.splitlines() if line.startswith("RESULT ")]
    assert all("ratio" in line for line in result)
    return [line.split()[1].rstrip(":") for line in result]
