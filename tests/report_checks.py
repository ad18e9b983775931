"""The report compared with a sandbox's ground truth (the demo and chaos tests)."""

from __future__ import annotations

from typing import Any

import pytest

from v2mom.app.demo import DemoWorld
from v2mom.reports.effort import MEASURES, STATES, ReportQuery, build_report
from v2mom.sandbox.ground_truth import GroundTruth


def assert_report_matches(
    world: DemoWorld, truth: GroundTruth, tracker: str | None = "jira", team: str | None = None
) -> None:
    """The report (of one tracker, or mixed when ``tracker`` is None; of one team's work and its
    sub-teams' when ``team`` is given) equals ``truth``."""
    plan = world.store.plans.current()
    assert plan is not None
    for measure in MEASURES:
        for state in STATES:
            query = ReportQuery(measure=measure, state=state, tracker=tracker, team=team)
            got = build_report(world.store, plan, query)
            expected = truth.expected_report(measure, state, team)
            where = f"{tracker or 'all trackers'} {team or 'company'} {measure}/{state}"
            assert got["total"]["items"] == expected["total_items"], where
            assert got["total"]["effort"] == pytest.approx(expected["total_effort"]), where
            values = {v["id"]: v["effort"] for v in got["values"] if v["effort"]}
            assert values == pytest.approx({k: v for k, v in expected["values"].items() if v}), where
            assert got["untagged"]["effort"] == pytest.approx(expected["untagged_effort"]), where
            assert got["untagged"]["items"] == expected["untagged_items"], where
            if plan.teams:
                assert got["unaligned"]["effort"] == pytest.approx(expected["unaligned_effort"]), where
                assert got["unaligned"]["items"] == expected["unaligned_items"], where
            assert got["orphaned"]["effort"] == pytest.approx(expected["orphaned_effort"]), where
            assert got["orphaned"]["items"] == expected["orphaned_items"], where
            methods: dict[tuple[str, Any], float] = {}
            for value in got["values"]:
                for method in value["methods"]:
                    if method["effort"]:
                        methods[(value["id"], method["id"])] = method["effort"]
            assert methods == pytest.approx({k: v for k, v in expected["methods"].items() if v}), where
