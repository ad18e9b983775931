"""The same integration tests for every non-Jira connector, through the real connector and sandbox.

Paging, rate limits, an interrupted run resumed with nothing lost or duplicated, deletions,
incremental runs that list only what changed, bad credentials, and the report equal to the
sandbox's own ground truth.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.sync.sites import SITES, Site
from v2mom.mapping.plan import load_plan
from v2mom.reports.effort import MEASURES, STATES, ReportQuery, build_report
from v2mom.sandbox import SAMPLE_PLAN_PATH
from v2mom.store.database import Database
from v2mom.store.resolution.run import remap, remap_changed
from v2mom.sync.runner import sync_tracker


@pytest.fixture(params=sorted(SITES))
def site(request: pytest.FixtureRequest) -> Iterator[Site]:
    with SITES[request.param]() as running:
        yield running


def test_full_sync_holds_every_live_item_once(store: Database, site: Site) -> None:
    result = sync_tracker(store, site.connector(), full=True)
    assert result.ok, result.error
    assert store.items.live_ids(site.tracker) == site.live_ids()
    assert store.items.count(site.tracker) == len(site.live_ids())
    assert result.pages > 2  # several pages, short ones included


def test_interrupted_run_resumes_with_nothing_lost_or_duplicated(store: Database, site: Site) -> None:
    site.fail_listing(503, times=10, after=2)  # the third listing page fails past the retry budget
    first = sync_tracker(store, site.connector(max_retries=2), full=True, commit_every=1)
    assert not first.ok
    assert first.error is not None
    assert "503" in first.error or "server error" in first.error
    partial = store.items.live_ids(site.tracker)
    assert 0 < len(partial) < len(site.live_ids())
    site.state.faults.clear()
    resumed = site.connector()
    second = sync_tracker(store, resumed)
    assert second.ok, second.error
    # Ordered listings resume from the last committed page; unordered ones (Asana lists in project
    # order) never moved the cursor, so they list again from the start: still nothing lost.
    assert second.kind == ("incremental" if resumed.ordered else "full")
    third = sync_tracker(store, site.connector(), census=True)
    assert third.ok, third.error
    assert store.items.live_ids(site.tracker) == site.live_ids()


def test_rate_limits_wait_as_the_tracker_says(store: Database, site: Site) -> None:
    site.rate_limit(4.0, 1)
    result = sync_tracker(store, site.connector(), full=True)
    assert result.ok, result.error
    assert len(site.waits) == 1
    assert site.waits[0] == pytest.approx(4.0, abs=1.5)
    assert store.items.live_ids(site.tracker) == site.live_ids()


def test_rate_limited_beyond_the_budget_fails_clearly(store: Database, site: Site) -> None:
    site.rate_limit(1.0, 0)
    site.rate_limit(1.0, 0)
    site.rate_limit(1.0, 0)
    result = sync_tracker(store, site.connector(max_retries=2), full=True)
    assert not result.ok
    assert result.error is not None
    assert "rate limited" in result.error


def test_incremental_lists_only_what_changed(store: Database, site: Site) -> None:
    assert sync_tracker(store, site.connector(page_size=50), full=True).ok
    changed = site.change(3)
    before = site.listing_calls()
    result = sync_tracker(store, site.connector(page_size=50), census=False)
    assert result.ok, result.error
    # k=3 changes: one listing call per listed scope (Linear: the teams; Asana: each project), not N/50
    assert site.listing_calls() - before == site.listing_scopes
    assert set(changed) <= result.changed_ids
    for item_id in changed:
        stored = store.items.by_id(site.tracker, item_id)
        assert stored is not None
        assert stored.item.title == "changed"


def test_removals_are_deletions(store: Database, site: Site) -> None:
    assert sync_tracker(store, site.connector(), full=True).ok
    gone = site.remove()
    result = sync_tracker(store, site.connector(), census=True)
    assert result.ok, result.error
    assert result.deleted == 1
    assert gone not in store.items.live_ids(site.tracker)
    assert store.items.live_ids(site.tracker) == site.live_ids()


def test_bad_credentials_fail_clearly_without_the_secret(store: Database, site: Site) -> None:
    result = sync_tracker(store, site.connector(token="wrong-token-value"), full=True)
    assert not result.ok
    assert result.error is not None
    assert site.auth_hint in result.error
    assert "wrong-token-value" not in result.error
    assert site.secret() not in result.error


def test_report_equals_the_sandbox_ground_truth(store: Database, site: Site) -> None:
    store.plans.save(
        load_plan(SAMPLE_PLAN_PATH.read_text(encoding="utf-8"), str(SAMPLE_PLAN_PATH)), actor="test"
    )
    assert sync_tracker(store, site.connector(), full=True).ok
    remap(store)
    assert_matches(store, site)
    changed = site.change(5)
    gone = site.remove()
    result = sync_tracker(store, site.connector(), census=True)
    assert result.ok, result.error
    assert {*changed, gone} <= result.changed_ids
    remap_changed(store, {site.tracker: result.changed_ids})
    assert_matches(store, site)


def assert_matches(store: Database, site: Site) -> None:
    plan = store.plans.current()
    assert plan is not None
    for measure in MEASURES:
        for state in STATES:
            got = build_report(store, plan, ReportQuery(measure=measure, state=state, tracker=site.tracker))
            expected = site.truth.expected_report(measure, state)
            where = f"{site.tracker} {measure}/{state}"
            assert got["total"]["items"] == expected["total_items"], where
            assert got["total"]["effort"] == pytest.approx(expected["total_effort"]), where
            assert {v["id"]: v["effort"] for v in got["values"]} == pytest.approx(expected["values"]), where
            assert got["untagged"]["items"] == expected["untagged_items"], where
            assert got["untagged"]["effort"] == pytest.approx(expected["untagged_effort"]), where
            assert got["orphaned"]["items"] == expected["orphaned_items"], where
            assert got["orphaned"]["effort"] == pytest.approx(expected["orphaned_effort"]), where
