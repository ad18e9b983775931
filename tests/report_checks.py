"""The report compared with a sandbox's ground truth (the demo and chaos tests)."""

from __future__ import annotations

from typing import Any

import pytest

from v2mom.app.demo import DemoWorld
from v2mom.reports.effort import MEASURES, STATES, ReportQuery, build_report
from v2mom.sandbox.ground_truth import GroundTruth


def assert_report_matches(world: DemoWorld, truth: GroundTruth, tracker: str | None = "jira") -> None:
    """The report (of one tracker, or mixed when ``tracker`` is None) equals ``truth``."""
    plan = world.store.plans.current()
    assert plan is not None
    for measure in MEASURES:
        for state in STATES:
            got = build_report(world.store, plan, ReportQuery(measure=measure, state=state, tracker=tracker))
            expected = truth.expected_report(measure, state)
            where = f"{tracker or 'all trackers'} {measure}/{state}"
            assert got["total"]["items"] == expected["total_items"], where
            assert got["total"]["effort"] == pytest.approx(expected["total_effort"]), where
            assert {v["id"]: v["effort"] for v in got["values"]} == pytest.approx(expected["values"]), where
            assert got["untagged"]["effort"] == pytest.approx(expected["untagged_effort"]), where
            assert got["untagged"]["items"] == expected["untagged_items"], where
            assert got["orphaned"]["effort"] == pytest.approx(expected["orphaned_effort"]), where
            assert got["orphaned"]["items"] == expected["orphaned_items"], where
            methods: dict[tuple[str, Any], float] = {}
            for value in got["values"]:
                for method in value["methods"]:
                    if method["effort"]:
                        methods[(value["id"], method["id"])] = method["effort"]
            assert methods == pytest.approx({k: v for k, v in expected["methods"].items() if v}), where
