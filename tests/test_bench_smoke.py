"""The benchmarks still run (tiny sizes; no timing is asserted — they print ratios, not verdicts here)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from typing import Any

import pytest

from bench.cascade import DEPARTMENTS
from bench.scale import REASON
from tests.layout import ROOT
from v2mom.mapping.plan import Plan
from v2mom.reports.effort import ReportQuery, report_body
from v2mom.reports.teams import build_teams
from v2mom.store.database import Database


@pytest.mark.parametrize(
    ("module", "args"),
    [
        ("bench.report", ["--items", "3000", "--repeat", "2"]),
        ("bench.sync", ["--items", "400", "--repeat", "1"]),
        ("bench.history", ["--items", "300", "--runs", "1", "--latency", "5"]),
        ("bench.history", ["--items", "300", "--runs", "1", "--latency", "0", "--tracker", "jira"]),
        ("bench.remap", ["--items", "2000"]),
        ("bench.people_time", ["--items", "3000", "--runs", "2"]),
        ("bench.webhooks", ["--events", "100", "--rate", "100", "--seconds", "1", "--connections", "2"]),
        ("bench.webhooks", ["--events", "100", "--rate", "100", "--deployment", "datacenter"]),
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
        trackers = ("jira", "jira-datacenter", "linear", "asana")
        assert names == [[kind, t] for t in trackers for kind in kinds]
    if module == "bench.people_time":  # every person works every working day of the window
        found = re.search(r"([\d,.]+) person-days, (\d+) people, (\d+) working days", done.stdout)
        assert found, done.stdout
        days, people, workdays = (float(g.replace(",", "")) for g in found.groups())
        assert people == 4
        assert days == people * workdays
        assert result[0].count("not judged at this size") == 2  # the targets are stated at 1M and 10M
    instant = "--latency" in args and args[args.index("--latency") + 1] == "0"
    if module == "bench.history" and instant:  # a bare client's runs beside the syncs
        assert re.findall(r"^jira +(bare plain|bare history) *: 298 records", done.stdout, re.M) == [
            "bare plain",
            "bare history",
        ], done.stdout
        assert re.search(r"a bare client reading the same answers: \d+\.\d\d;", result[0]), result
        assert "with answers 100 ms late: not judged at this latency" in result[0]
    elif module == "bench.history":  # per tracker, the plain sync reads no history and the other does
        assert "bare" not in done.stdout
        names = [line.split()[1].rsplit("/", 1)[0] for line in result]
        assert names == [f"history-sync/{t}" for t in ("jira", "jira-datacenter", "linear", "asana")]
        assert all("answers 5 ms late" in line for line in result)
        read = [int(m.replace(",", "")) for m in re.findall(r"items, ([\d,]+) histories", done.stdout)]
        assert len(read) == 8
        assert read[0::2] == [0, 0, 0, 0]
        assert all(n > 0 for n in read[1::2])
    if module == "bench.sync":  # sync alone, then sync + re-resolution, per tracker
        names = [line.split()[1].rsplit("/", 2)[0:2] for line in result]
        trackers = ("jira", "jira-datacenter", "linear", "asana")
        assert names == [[kind, t] for t in trackers for kind in ("sync", "sync+resolve")]
        # Each pair's ratio is within the bound its CPU sets (wall >= CPU / cores, always).
        ratios = [float(r) for r in re.findall(r"\(([\d.]+)x the floor\), [\d,]+ API calls", done.stdout)]
        bounds = [float(b) for b in re.findall(r"at best ([\d.]+)x the floor", done.stdout)]
        assert len(ratios) == len(bounds) == len(trackers), done.stdout
        within = [0 < ratio <= bound + 0.01 for ratio, bound in zip(ratios, bounds, strict=True)]
        assert all(within), done.stdout
        assert len(re.findall(r"our CPU on one core: at best [\d.]+x", done.stdout)) == len(trackers)


@pytest.mark.postgres
def test_scale_benchmark_runs_on_postgresql(postgres_url: str) -> None:
    """bench.scale is PostgreSQL only (COPY): tiny sizes in a throwaway database, dropped afterwards."""
    args = ["--items", "5000", "--template", "1500", "--runs", "2", "--events", "100"]
    done = run_scale(postgres_url, *args)
    assert done.returncode == 0, done.stderr[-2000:]
    assert result_names(done.stdout) == [
        f"scale/{step}/postgresql" for step in ("full", "rule-change", "report", "webhooks")
    ], done.stdout
    assert "5,000 items" in done.stdout
    # Again on the store it left: the chosen steps only, fresh deliveries all applied.
    again = run_scale(postgres_url, "--reuse", "--steps", "rule,webhooks", *args)
    assert again.returncode == 0, again.stderr[-2000:]
    assert result_names(again.stdout) == ["scale/rule-change/postgresql", "scale/webhooks/postgresql"]
    assert again.stdout.count("100 of 100 events applied") == 2, again.stdout
    refused = run_scale(postgres_url, "--reuse", "--steps", "full", *args)
    assert refused.returncode != 0
    assert "step 'full' times a first resolution" in refused.stderr


@pytest.mark.postgres
def test_scale_benchmark_cascade_mode_on_postgresql(postgres_url: str) -> None:
    """--cascade at a small size: every step runs, and the store it leaves holds what it claims: 50
    teams holding work, team reports adding up to the company's, and the closed period's snapshot."""
    args = ["--cascade", "--items", "12000", "--template", "3000", "--runs", "2"]
    done = run_scale(postgres_url, *args)
    assert done.returncode == 0, done.stderr[-2000:]
    steps = ("full", "rule-change", "rescope", "report", "team-report", "teams", "close")
    assert result_names(done.stdout) == [f"scale/cascade-{step}/postgresql" for step in steps], done.stdout
    store = Database.open(postgres_url)
    try:
        plan = store.plans.current()
        assert plan is not None
        assert plan.teams is not None
        assert plan.cycle is not None
        assert len(plan.teams) == 50
        # Two changes after the first plan, each with its reason: the team rule, then the re-scope.
        assert [v["reason"] for v in store.plans.history(limit=3)][:2] == [REASON, REASON]
        company = report_body(store, plan, ReportQuery())
        tree = build_teams(store, plan, ReportQuery())
        assert all(team["items"] > 0 for team in tree["teams"]), "every team holds work"
        assert tree["company"]["items"] > 0
        assert company["unaligned"]["effort"] > 0
        assert {m["id"] for m in company["unaligned"]["methods"]} <= {f"{d}-t4-side" for d, _ in DEPARTMENTS}
        # The departments' reports (team=, one query each) and the company's own work (the teams
        # tree's query) add up to the company's report, in total and per value.
        departments = [report_body(store, plan, ReportQuery(team=d)) for d, _ in DEPARTMENTS]
        total = sum(r["total"]["effort"] for r in departments) + tree["company"]["effort"]
        assert total == pytest.approx(company["total"]["effort"])
        own = {v["id"]: v["effort"] for v in tree_company_values(store, plan)}
        for value in company["values"]:
            parts = [v["effort"] for r in departments for v in r["values"] if v["id"] == value["id"]]
            assert sum(parts) + own.get(value["id"], 0.0) == pytest.approx(value["effort"], abs=1e-6)
        # The closed period: stored once, for the company and every team, equal to the live report
        # of its dates (nothing changed since it was closed).
        review = store.reviews.get(plan.cycle.id, "q3")
        assert review is not None
        assert set(review.document["teams"]) == {team.id for team in plan.teams}
        period = ReportQuery(state="done", date_from=review.period_start, date_to=review.period_end)
        assert review.document["company"]["reports"]["points"] == report_body(store, plan, period)
        assert review.document["company"]["reports"]["points"]["total"]["items"] > 0
        leaf = "commerce-s1"
        assert review.document["teams"][leaf]["reports"]["hours"] == report_body(
            store,
            plan,
            ReportQuery(
                measure="hours",
                state="done",
                team=leaf,
                date_from=review.period_start,
                date_to=review.period_end,
            ),
        )
    finally:
        store.close()
    # Again on the store it left: the close step replaces the bench's own snapshot.
    again = run_scale(postgres_url, "--reuse", "--steps", "close", *args)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "its earlier snapshot deleted first" in again.stdout
    assert result_names(again.stdout) == ["scale/cascade-close/postgresql"]
    flat = run_scale(postgres_url, "--reuse", "--steps", "reports", "--items", "12000", "--template", "3000")
    assert flat.returncode != 0
    assert "add --cascade" in flat.stderr


def tree_company_values(store: Database, plan: Plan) -> list[dict[str, Any]]:
    """The company's own work (in no team's scope) per value, from the teams tree's query."""
    rows = store.report_queries.effort_by_team(measure="points")
    own: dict[str, float] = {}
    for team, value, _method, effort, _items in rows:
        if team is None and value is not None:
            own[value] = own.get(value, 0.0) + effort
    return [{"id": value, "effort": effort} for value, effort in own.items()]


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
