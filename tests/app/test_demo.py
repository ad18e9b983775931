"""The demo's report equals the sandbox's own ground truth: the whole path, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.report_checks import assert_report_matches
from v2mom.app.demo import DemoWorld, build_demo
from v2mom.clock import utcnow
from v2mom.connectors.registry import build_connector
from v2mom.mapping.cycle import cycle_periods
from v2mom.reports.flags import item_document
from v2mom.sandbox.jira.truth import JiraGroundTruth
from v2mom.store.resolution.run import remap, remap_changed
from v2mom.sync.runner import sync_tracker
from v2mom.sync.service import run_sync


def _demo(database_url: str) -> Iterator[tuple[DemoWorld, JiraGroundTruth]]:
    world = build_demo(database_url, seed=7, issues=1200)
    try:
        jira = world.truths["jira"]
        assert isinstance(jira, JiraGroundTruth)
        yield world, jira
    finally:
        world.stop()


@pytest.fixture
def demo(database_url: str) -> Iterator[tuple[DemoWorld, JiraGroundTruth]]:
    """A demo of its own, for a test that changes the workspace or the store."""
    yield from _demo(database_url)


@pytest.fixture(scope="module")
def untouched_demo(module_database_url: str) -> Iterator[tuple[DemoWorld, JiraGroundTruth]]:
    """One demo shared by the tests that only read it (building one takes seconds)."""
    yield from _demo(module_database_url)


def test_demo_report_equals_every_trackers_ground_truth(
    untouched_demo: tuple[DemoWorld, JiraGroundTruth],
) -> None:
    world, _ = untouched_demo
    assert set(world.truths) == {"jira", "linear", "asana"}
    for tracker, truth in world.truths.items():
        flags = truth.intended_flags()
        assert flags["untagged"] > 20, tracker
        assert flags["orphaned"] > 10, tracker
        assert flags["conflict"] > 5, tracker
        assert world.store.items.count(tracker) > 500, tracker
        assert_report_matches(world, truth, tracker)
    assert_report_matches(world, world.truth(), None)  # the mixed report: all three together
    flags = world.truth().intended_flags()
    assert flags["unaligned"] > 20  # the Mobile team's method that serves nothing


def test_each_teams_report_equals_its_ground_truth(
    untouched_demo: tuple[DemoWorld, JiraGroundTruth],
) -> None:
    world, _ = untouched_demo
    plan = world.store.plans.current()
    assert plan is not None
    assert plan.teams
    for team in plan.teams:
        for tracker, truth in world.truths.items():
            assert_report_matches(world, truth, tracker, team.id)
        assert_report_matches(world, world.truth(), None, team.id)


def test_ground_truth_holds_after_changes_and_an_incremental_sync(
    demo: tuple[DemoWorld, JiraGroundTruth],
) -> None:
    world, truth = demo
    state = truth.state
    live = sorted(i for i, issue in state.issues.items() if issue.project in truth.scope)
    epic = next(i for i in live if state.issues[i].type_name == "Epic" and state.issues[i].labels)
    state.update_issue(epic, labels=["method:cost-savings"])  # re-tag an epic: its children move
    state.update_issue(live[50], category="done", points=13.0)
    state.delete_issue(live[60])
    moved = live[70]
    old_key = state.issues[moved].key
    new_key = state.move_issue(moved, "MOB")
    results = run_sync(world.settings, world.store)
    assert all(r.ok for r in results), [r.summary() for r in results]
    assert results[0].kind == "incremental"
    assert results[0].seen < 50  # only what changed (plus the overlap window)
    retagged = world.store.items.find("jira", state.issues[epic].key)
    assert retagged is not None
    document = item_document(world.store, "jira", retagged.item.key)
    assert document is not None
    assert document["resolution"]["methods"] == ["cost-savings"]
    assert world.store.items.by_id("jira", str(live[60])) is not None  # deletions wait for the census
    census = run_sync(world.settings, world.store, full=True)
    assert census[0].deleted == 1
    assert_report_matches(world, truth)
    stored = world.store.items.by_id("jira", str(moved))
    assert stored is not None
    assert stored.item.key == new_key != old_key


def test_the_demo_opens_with_every_ended_quarter_reviewed(
    untouched_demo: tuple[DemoWorld, JiraGroundTruth],
) -> None:
    world, _ = untouched_demo
    plan = world.store.plans.current()
    assert plan is not None
    assert plan.cycle is not None
    assert plan.teams
    ended = [p.id for p in cycle_periods(plan.cycle) if p.end < utcnow().date()]
    assert len(ended) >= 2  # the sample cycle's first two quarters ended before the demo could run
    reviews = world.store.reviews.list()
    assert [(r.cycle_id, r.period_id) for r in reviews] == [(plan.cycle.id, p) for p in ended]
    totals = []
    for review in reviews:
        stored = world.store.reviews.get(review.cycle_id, review.period_id)
        assert stored is not None
        company = stored.document["company"]["reports"]["points"]
        assert company["total"]["effort"] > 0, review.period_id  # done work in every closed quarter
        assert set(stored.document["teams"]) == {t.id for t in plan.teams}
        parts = sum(t["reports"]["points"]["total"]["effort"] for t in stored.document["teams"].values())
        assert 0 < parts <= company["total"]["effort"]
        totals.append(company["total"]["effort"])
    assert len(set(totals)) == len(totals)  # each quarter its own work


def test_tree_scoped_remap_equals_a_full_remap(demo: tuple[DemoWorld, JiraGroundTruth]) -> None:
    world, truth = demo
    state = truth.state
    live = sorted(i for i, issue in state.issues.items() if issue.project in truth.scope)
    epics = [i for i in live if state.issues[i].type_name == "Epic"]
    state.update_issue(epics[3], labels=["value:efficiency"])
    story = next(i for i in live if state.issues[i].parent_id == epics[5])
    state.update_issue(story, points=21.0, components=["Billing"])
    state.delete_issue(epics[7])  # its children become orphans
    connector = build_connector("jira", world.settings)
    result = sync_tracker(world.store, connector, census=True)  # incremental, with the census
    connector.close()
    assert result.kind == "incremental"
    assert result.deleted == 1
    stats = remap_changed(world.store, {"jira": result.changed_ids})
    assert 0 < stats.items < world.store.items.count() / 2  # only the touched trees
    incremental = (_rollup(world), _resolutions(world))
    remap(world.store)
    assert (_rollup(world), _resolutions(world)) == incremental  # deltas differ only in float noise
    assert_report_matches(world, truth)


def _rollup(world: DemoWorld) -> list[dict[str, Any]]:
    return [
        {k: round(v, 9) if isinstance(v, float) else v for k, v in r.items()}
        for r in world.store.resolutions.rollup_rows()
    ]


def _resolutions(world: DemoWorld) -> dict[int, dict[str, Any]]:
    return {s.pk: world.store.resolutions.for_item(s.pk) or {} for s in world.store.items.stream()}


def test_the_demo_on_jira_data_center_equals_its_truth_and_writes_back(tmp_path: Any) -> None:
    """``v2mom demo --jira datacenter``: the same workspace served as Data Center, synced through the
    connector's Data Center flavour to the same report, and written back once the sandbox's
    administrator has added the options Data Center's REST API cannot."""
    from rich.console import Console

    from v2mom.app.demo import live_activity, write_back_demo
    from v2mom.sandbox.jira.datacenter_webhooks import DataCenterWebhookSender, webhooks_of

    world = build_demo(f"sqlite:///{tmp_path / 'dc.db'}", seed=7, issues=400, jira="datacenter")
    try:
        assert world.settings.trackers.jira is not None
        assert world.settings.trackers.jira.deployment == "datacenter"
        assert_report_matches(world, world.truths["jira"], "jira")
        assert_report_matches(world, world.truth(), None)
        console = Console(record=True, width=300)
        write_back_demo(world, "http://127.0.0.1:9", console)
        said = console.export_text()
        assert "jira: 10 step(s) left to an administrator, done in the sandbox" in said
        assert "still waiting" not in said
        written = next(line for line in said.splitlines() if line.startswith("jira: wrote inferred tags"))
        assert int(written.split(" to ")[1].split()[0]) > 50
        assert "jira:" in said.split(written, 1)[1].split("\n", 2)[1]  # an item that now holds its tags
        companions = live_activity(world, "http://127.0.0.1:9")
        assert isinstance(companions[0], DataCenterWebhookSender)  # Data Center's own delivery shapes
        [hook] = webhooks_of(world.states["jira"]).hooks.values()
        assert (hook.url, hook.secret) == ("http://127.0.0.1:9/webhooks/jira", world.webhook_secret)
    finally:
        world.stop()
