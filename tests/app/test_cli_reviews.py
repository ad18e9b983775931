"""``v2mom review close|list|show`` and ``report --period``: what they print and their exit codes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.reviews_world import (
    CYCLE,
    NOVEMBER,
    NOVEMBER_WORKING_DAYS,
    PLAN,
    Q1_DONE_POINTS,
    TIME_CUSTOMER_FIRST,
    TIME_TOTAL,
    close_before_people_time,
    people_time_world,
    reviews_world,
)
from v2mom.app.cli import app
from v2mom.store.database import Database

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def workdir(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Path, Database]]:
    """Settings on a store holding the reviews world, the clock on 2026-08-15 (q1 and q2 ended)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("V2MOM_DATABASE_URL", raising=False)
    monkeypatch.delenv("V2MOM_CONFIG", raising=False)
    monkeypatch.setattr("v2mom.clock.utcnow", lambda: datetime(2026, 8, 15, 9, 0, tzinfo=UTC))
    (tmp_path / "v2mom.yaml").write_text(f"database_url: {database_url}\nmeasure: points\n")
    store = Database.open(database_url)
    try:
        yield tmp_path, store
    finally:
        store.close()


def test_review_close_closes_the_ended_periods_once(workdir: tuple[Path, Database]) -> None:
    _path, store = workdir
    reviews_world(store)
    code, out, err = run("review", "close")
    assert code == 0, err
    assert out.splitlines() == [
        "closed fy27/q1 (2026-02-01..2026-04-30)",
        "closed fy27/q2 (2026-05-01..2026-07-31)",
    ]
    code, out, _ = run("review", "close")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("already closed fy27/q1 on ")
    assert lines[0].endswith(": unchanged")
    code, out, _ = run("review", "list")
    assert code == 0
    assert [line.split("\t")[:3] for line in out.splitlines()] == [
        ["fy27/q1", "2026-02-01...2026-04-30", "plan v1"],
        ["fy27/q2", "2026-05-01...2026-07-31", "plan v1"],
    ]


def test_review_close_refuses_bad_periods_with_exit_2(workdir: tuple[Path, Database]) -> None:
    _path, store = workdir
    reviews_world(store)
    code, _, err = run("review", "close", "--period", "fy27/q3")
    assert code == 2
    assert "error: --period: fy27/q3 has not ended (its last day is 2026-10-31)" in err
    code, _, err = run("review", "close", "--period", "fy27/q9")
    assert code == 2
    assert "cycle 'fy27' has no period 'q9' (it has q1, q2, q3, q4)" in err
    assert store.reviews.list() == []


def test_review_close_without_a_cycle_exits_2(workdir: tuple[Path, Database]) -> None:
    _path, store = workdir
    reviews_world(store, PLAN.replace(CYCLE, ""))
    code, _, err = run("review", "close")
    assert code == 2
    assert "the stored plan has no cycle" in err


def test_review_show_prints_the_review_or_its_json(workdir: tuple[Path, Database]) -> None:
    _path, store = workdir
    reviews_world(store)
    assert run("review", "close", "--period", "fy27/q1")[0] == 0
    code, out, _ = run("review", "show", "fy27/q1")
    assert code == 0
    assert out.splitlines()[0].startswith("fy27/q1 (2026-02-01..2026-04-30) plan v1, closed ")
    assert "company: 12 points done" in out
    assert "  measure cf-share: 68.0% of target 40%: met" in out
    code, out, _ = run("review", "show", "fy27/q1", "--json")
    assert code == 0
    document = json.loads(out)
    assert document["company"]["reports"]["points"]["total"]["effort"] == Q1_DONE_POINTS
    code, _, err = run("review", "show", "fy27/q2")
    assert code == 1
    assert "no review of fy27/q2: that period has not been closed" in err
    assert run("review", "show", "q2")[0] == 2


def test_report_period_reads_the_snapshot_and_refuses_bad_periods(workdir: tuple[Path, Database]) -> None:
    _path, store = workdir
    reviews_world(store)
    run("review", "close")
    code, out, err = run("report", "--format", "json", "--state", "done", "--period", "fy27/q1")
    assert code == 0, err
    document = json.loads(out)
    assert document["period"]["source"] == "snapshot"
    assert (document["from"], document["to"]) == ("2026-02-01", "2026-04-30")
    assert document["total"]["effort"] == Q1_DONE_POINTS
    code, _, err = run("report", "--period", "fy27/q1", "--from", "2026-02-01")
    assert code == 2
    assert "--period: give either --period or --from/--to, not both" in err
    code, _, err = run("report", "--period", "fy27/q5")
    assert code == 2
    assert "--period: cycle 'fy27' has no period 'q5'" in err


def test_report_team_answers_in_the_team_s_own_v2mom_live_and_from_the_snapshot(
    workdir: tuple[Path, Database],
) -> None:
    _path, store = workdir
    reviews_world(store)
    run("review", "close")
    code, out, err = run("report", "--format", "json", "--team", "payments")
    assert code == 0, err
    live = json.loads(out)
    assert live["team"] == "payments"
    assert "merchant-trust" in {v["id"] for v in live["values"]}  # the team's own value
    code, out, err = run(
        "report", "--format", "json", "--state", "done", "--team", "growth", "--period", "fy27/q1"
    )
    assert code == 0, err
    growth = json.loads(out)
    stored = store.reviews.get("fy27", "q1")
    assert stored is not None
    assert growth["period"]["source"] == "snapshot"
    assert growth["total"] == stored.document["teams"]["growth"]["reports"]["points"]["total"]
    assert growth["total"] != stored.document["company"]["reports"]["points"]["total"]
    code, _, err = run("report", "--team", "nobody")
    assert code == 2
    assert "--team: 'nobody' is no team of the plan (teams: payments, retries, growth" in err


def test_plan_apply_with_a_new_cycle_closes_the_old_one(workdir: tuple[Path, Database]) -> None:
    path, store = workdir
    reviews_world(store)
    (path / "plan.yaml").write_text(PLAN.replace("id: fy27, name: FY2027", "id: fy28, name: FY2028"))
    code, out, err = run("plan", "apply", "plan.yaml", "--reason", "FY2028 begins")
    assert code == 0, err
    assert "closed fy27/q3 (2026-08-01..2026-08-15)" in out
    assert "plan version 2 applied" in out
    assert [(r.period_id, r.plan_version) for r in store.reviews.list()] == [("q1", 1), ("q2", 1), ("q3", 1)]
    current = store.plans.current()
    assert current is not None
    assert current.cycle is not None
    assert current.cycle.id == "fy28"


def test_review_show_prints_people_time_and_says_where_a_small_team_s_time_is(
    workdir: tuple[Path, Database], monkeypatch: pytest.MonkeyPatch
) -> None:
    _path, store = workdir
    monkeypatch.setattr("v2mom.clock.utcnow", lambda: datetime(2026, 12, 5, 9, 0, tzinfo=UTC))
    people_time_world(store)
    assert run("review", "close", "--period", NOVEMBER)[0] == 0
    code, out, err = run("review", "show", NOVEMBER, "--measure", "fte")
    assert code == 0, err
    lines = out.splitlines()
    company = lines.index(f"company: {TIME_TOTAL / NOVEMBER_WORKING_DAYS:.2f} FTE worked")
    assert lines[company + 1] == (
        f"  4 people over {NOVEMBER_WORKING_DAYS} working days, 2026-11-01 to 2026-11-30; work in every state"
    )
    assert f"  customer-first\t{TIME_CUSTOMER_FIRST / NOVEMBER_WORKING_DAYS:.2f} FTE\t43.9%" in lines
    assert "  measure cf-share: 43.9% of target 40%: met" in lines
    assert (
        "team retries: retries has fewer than 3 people in this window; its time is shown within team payments"
        in lines
    )
    code, out, _ = run("review", "show", NOVEMBER, "--measure", "person_days")
    assert code == 0
    assert f"company: {TIME_TOTAL:.1f} person-days worked" in out.splitlines()
    code, out, _ = run("review", "show", NOVEMBER, "--measure", "count")
    assert "company: 0 items done" in out.splitlines()
    code, _, err = run("review", "show", NOVEMBER, "--measure", "minutes")
    assert code == 2
    assert "minutes" in err


def test_review_close_counts_in_the_settings_calendar(
    workdir: tuple[Path, Database], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, store = workdir
    monkeypatch.setattr("v2mom.clock.utcnow", lambda: datetime(2026, 12, 5, 9, 0, tzinfo=UTC))
    with (path / "v2mom.yaml").open("a") as settings:
        settings.write("min_group_size: 1\n")  # one person is enough to show a team
    people_time_world(store)
    assert run("review", "close", "--period", NOVEMBER)[0] == 0
    code, out, _ = run("review", "show", NOVEMBER, "--measure", "person_days")
    assert code == 0
    assert "team retries: 1.0 person-days worked" in out.splitlines()


def test_a_review_closed_before_people_time_says_so(workdir: tuple[Path, Database]) -> None:
    _path, store = workdir
    close_before_people_time(store, people_time_world(store), NOVEMBER)
    code, out, err = run("review", "show", NOVEMBER, "--measure", "fte")
    assert code == 0, err
    assert out.splitlines()[1:] == [
        "this review was closed before people's time was recorded: it has no fte figures"
    ]
    code, out, _ = run("review", "show", NOVEMBER)
    assert "company: 0 points done" in out.splitlines()  # its estimates are all there
