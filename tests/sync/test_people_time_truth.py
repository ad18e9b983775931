"""People's time through the real path equals each sandbox's own answer, on both databases.

Each sandbox is synced by its real connector (items and their histories), resolved under the sample
plan, and the effort report in ``person_days`` and ``fte`` is compared with the independent oracle
(:mod:`v2mom.sandbox.people_truth`) computed from the sandbox's own generated histories: per value,
untagged and orphaned, people, unattributed items and working days, for every state filter, over
the default 90 days and over the sandboxes' whole six months.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any, Protocol, cast

import pytest

from tests.sync.sites import SITES
from v2mom.connectors.base import Connector
from v2mom.mapping.plan import load_plan
from v2mom.reports.effort import STATES, ReportQuery, build_report
from v2mom.sandbox import SAMPLE_PLAN_PATH
from v2mom.sandbox.generator import DEFAULT_NOW
from v2mom.sandbox.ground_truth import GroundTruth
from v2mom.sandbox.history import Recorded
from v2mom.sandbox.people_truth import PeopleItem, people_report, person_days
from v2mom.sandbox.server import SandboxServer
from v2mom.settings import SyncSettings
from v2mom.store.database import Database
from v2mom.store.resolution.run import remap
from v2mom.sync.runner import sync_tracker

WINDOWS: list[tuple[date | None, date | None]] = [(None, None), (date(2026, 5, 1), DEFAULT_NOW.date())]


class PeopleSource(Protocol):
    """What each sandbox's truth gives the oracle."""

    def people_items(self) -> dict[str, PeopleItem]: ...

    def transitions(self) -> set[Recorded]: ...


@contextmanager
def jira(deployment: str = "cloud") -> Iterator[tuple[str, Any, Connector]]:
    from v2mom.connectors.jira.connector import JiraConnector
    from v2mom.sandbox.generator import generate_jira_workspace, jira_settings
    from v2mom.sandbox.jira.app import create_jira_app

    size = {"epics": 12, "issues": 150} if deployment == "datacenter" else {"epics": 20, "issues": 300}
    state, truth = generate_jira_workspace(seed=13, deployment=deployment, **size)  # type: ignore[arg-type]
    with SandboxServer(create_jira_app(state)) as url:
        yield "jira", truth, JiraConnector(jira_settings(state, url), SyncSettings(max_retries=1))


@contextmanager
def other(name: str) -> Iterator[tuple[str, Any, Connector]]:
    with SITES[name]() as site:
        yield site.tracker, site.truth, site.connector()


@pytest.fixture(params=["jira", "jira-datacenter", "linear", "asana"])
def synced(
    request: pytest.FixtureRequest, store: Database, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, Any]]:
    """A sandbox synced into ``store`` and resolved under the sample plan, "now" being the sandbox's."""
    monkeypatch.setattr("v2mom.reports.people_time.utcnow", lambda: DEFAULT_NOW)
    store.plans.save(
        load_plan(SAMPLE_PLAN_PATH.read_text(encoding="utf-8"), str(SAMPLE_PLAN_PATH)), actor="test"
    )
    if request.param.startswith("jira"):
        opened = jira("datacenter" if request.param == "jira-datacenter" else "cloud")
    else:
        opened = other(request.param)
    with opened as (tracker, truth, connector):
        result = sync_tracker(store, connector, full=True)
        assert result.ok, result.error
        remap(store)
        yield tracker, truth


def test_people_time_equals_the_sandbox_oracle(store: Database, synced: tuple[str, Any]) -> None:
    tracker, truth = synced
    source = cast(PeopleSource, truth)
    plan = store.plans.current()
    assert plan is not None
    checked = 0
    for start, end in WINDOWS:
        spent = person_days(
            source.people_items().values(),
            {tracker: source.transitions()},
            now=DEFAULT_NOW,
            start=start,
            end=end,
        )
        assert spent.working_days > 0
        for state in STATES:
            expected = people_report({tracker: cast(GroundTruth, truth)}, spent, state=state)
            for measure in ("person_days", "fte"):
                where = f"{tracker} {measure}/{state} {start}..{end}"
                query = ReportQuery(
                    measure=measure, state=state, date_from=start, date_to=end, tracker=tracker
                )
                got = build_report(store, plan, query)
                scale = 1 / spent.working_days if measure == "fte" else 1.0
                assert got["working_days"] == expected["working_days"], where
                assert got["total"]["effort"] == pytest.approx(expected["total_effort"] * scale, abs=1e-6), (
                    where
                )
                values = {v["id"]: v["effort"] for v in got["values"] if v["effort"]}
                wanted = {v: e * scale for v, e in expected["values"].items() if round(e, 6)}
                assert values == pytest.approx(wanted, abs=1e-6), where
                assert got["untagged"]["effort"] == pytest.approx(
                    expected["untagged_effort"] * scale, abs=1e-6
                ), where
                assert got["orphaned"]["effort"] == pytest.approx(
                    expected["orphaned_effort"] * scale, abs=1e-6
                ), where
                unaligned = got["unaligned"]["effort"] if "unaligned" in got else 0.0
                assert unaligned == pytest.approx(expected["unaligned_effort"] * scale, abs=1e-6), where
                assert got["people"] == expected["people"], where
                assert got["unattributed"]["items"] == expected["unattributed_items"], where
                checked += 1
    assert checked == len(WINDOWS) * len(STATES) * 2
    whole = person_days(
        source.people_items().values(),
        {tracker: source.transitions()},
        now=DEFAULT_NOW,
        start=WINDOWS[1][0],
        end=WINDOWS[1][1],
    )
    assert (
        people_report({tracker: cast(GroundTruth, truth)}, whole)["total_effort"] > 10
    )  # the sandbox's work shows
