"""Sync through the real Jira connector against the sandbox, Cloud and Data Center: paging, faults,
resume, call counts."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from v2mom.connectors.jira.connector import JiraConnector
from v2mom.connectors.paging import OVERLAP
from v2mom.mapping.plan import load_plan
from v2mom.reports.flags import item_document
from v2mom.sandbox import SAMPLE_PLAN_PATH
from v2mom.sandbox.generator import generate_jira_workspace, jira_settings
from v2mom.sandbox.jira.app import create_jira_app
from v2mom.sandbox.jira.state import JiraState, SearchCall
from v2mom.sandbox.jira.truth import JiraGroundTruth as GroundTruth
from v2mom.sandbox.server import SandboxServer
from v2mom.settings import SyncSettings
from v2mom.store.database import Database
from v2mom.store.resolution.run import remap
from v2mom.sync.runner import sync_tracker

SEARCH = {"cloud": "/rest/api/3/search/jql", "datacenter": "/rest/api/2/search"}
AUTH_HINT = {"cloud": "check email and API token", "datacenter": "check trackers.jira.token"}
# Data Center runs a smaller workspace: what it adds is its paging, not more of the same work.
SIZES = {"cloud": {"epics": 30, "issues": 400}, "datacenter": {"epics": 15, "issues": 200}}
# The connector's requests to the search path (Data Center lists and looks up epics and reads
# histories there).
LISTING_KINDS = {
    "cloud": ("search", "census"),
    "datacenter": ("search", "census", "epics", "epic-key", "changelog"),
}


@dataclass
class Site:
    url: str
    state: JiraState
    truth: GroundTruth
    waits: list[float] = field(default_factory=list)

    @property
    def search(self) -> str:
        return SEARCH[self.state.deployment]

    def fail_listing_after(self, pages: int, page_size: int) -> None:
        """Refuse every search (past any retry budget) once ``pages`` listing pages were served.

        Data Center reads epics and histories through the search path too, on other threads: its
        listing pages are told by their ``startAt`` (theirs only is past 0), and only they fail.
        """
        if not self.state.datacenter:
            self.state.inject_fault(503, times=10, after=pages)
            return

        def hook(call: SearchCall) -> int | None:
            return 503 if call.start_at >= pages * (page_size - OVERLAP) else None

        self.state.search_hooks.append(hook)

    def connector(
        self, *, token: str | None = None, max_retries: int = 3, page_size: int = 50
    ) -> JiraConnector:
        settings = jira_settings(self.state, self.url, api_token=token, page_size=page_size)
        return JiraConnector(settings, SyncSettings(max_retries=max_retries), sleep=self.waits.append)


@pytest.fixture(params=["cloud", "datacenter"])
def site(request: pytest.FixtureRequest) -> Iterator[Site]:
    deployment = request.param
    state, truth = generate_jira_workspace(seed=5, deployment=deployment, **SIZES[deployment])
    with SandboxServer(create_jira_app(state)) as url:
        yield Site(url, state, truth)


def in_scope(site: Site) -> set[str]:
    return {str(i) for i in site.truth.live()}


def test_full_sync_follows_short_pages_to_the_end(store: Database, site: Site) -> None:
    result = sync_tracker(store, site.connector(), full=True)
    assert result.ok, result.error
    assert store.items.live_ids("jira") == in_scope(site)
    assert result.seen == len(in_scope(site))  # no duplicates across pages
    assert result.pages == result.calls["search"]
    assert site.state.request_count(site.search) == sum(
        result.calls.get(k, 0) for k in LISTING_KINDS[site.state.deployment]
    )


def test_interrupted_run_resumes_with_nothing_lost_or_duplicated(store: Database, site: Site) -> None:
    site.fail_listing_after(3, page_size=50)  # what follows the 3rd page fails past the retry budget
    first = sync_tracker(store, site.connector(max_retries=2), full=True, commit_every=1)
    assert not first.ok
    assert first.error is not None
    assert "503" in first.error
    partial = store.items.live_ids("jira")
    assert 0 < len(partial) < len(in_scope(site))
    site.state.faults.clear()
    site.state.search_hooks.clear()
    second = sync_tracker(store, site.connector())
    assert second.ok, second.error
    assert second.kind == "incremental"
    assert store.items.live_ids("jira") == in_scope(site)
    assert store.items.count("jira", include_deleted=True) == len(in_scope(site))


@pytest.mark.parametrize("site", ["cloud", "datacenter"], indirect=True)
def test_rate_limit_waits_as_told_and_5xx_is_retried(store: Database, site: Site) -> None:
    site.state.inject_fault(429, times=2, retry_after=1.5, after=1)
    site.state.inject_fault(502, times=1, after=4)
    result = sync_tracker(store, site.connector(), full=True)
    assert result.ok, result.error
    assert site.waits[:2] == [1.5, 1.5]
    assert len(site.waits) == 3
    assert store.items.live_ids("jira") == in_scope(site)


def test_resync_lists_only_what_changed(store: Database, site: Site) -> None:
    connector = site.connector(page_size=50)
    assert sync_tracker(store, connector, full=True).ok
    for issue_id in sorted(site.truth.live())[:3]:
        site.state.update_issue(issue_id, summary="changed")
    result = sync_tracker(store, site.connector(page_size=50), census=False)
    assert result.ok, result.error
    assert result.calls["search"] == 1  # k=3 changes: one listing call, not N/50
    assert result.seen >= 3


def test_bad_credentials_fail_clearly_without_the_secret(store: Database, site: Site) -> None:
    result = sync_tracker(store, site.connector(token="wrong-token-value"), full=True)
    assert not result.ok
    assert result.error is not None
    assert AUTH_HINT[site.state.deployment] in result.error
    assert "wrong-token-value" not in result.error
    assert site.state.account_email not in result.error


def test_an_orphan_names_its_missing_parent_by_key(store: Database, site: Site) -> None:
    """A story whose epic lies outside the JQL is orphaned, and the reason names the epic's key."""
    store.plans.save(load_plan(SAMPLE_PLAN_PATH.read_text()), actor="test")
    assert sync_tracker(store, site.connector(), full=True).ok
    remap(store)
    orphans = [
        stored
        for stored in store.items.stream()
        if stored.item.parent_id is not None and store.items.by_id("jira", stored.item.parent_id) is None
    ]
    assert orphans, "the generator puts some epics outside the scope"
    for stored in orphans:
        epic = site.state.issues[int(stored.item.parent_id or 0)]
        assert stored.item.parent_key == epic.key
        document = item_document(store, "jira", stored.item.key)
        assert document is not None
        reasons = document["resolution"]["reasons"]
        assert f"parent {epic.key} is not in v2mom-sync" in reasons[0], reasons
        assert document["ancestors"][-1]["key"] == epic.key


def test_incremental_dates_are_read_in_the_accounts_zone(store: Database, site: Site) -> None:
    """JQL date literals are wall-clock minutes in the account's zone (``/myself``), not UTC: an
    issue updated two minutes after the cursor is found, which a UTC literal read in New York misses."""
    connector = site.connector()
    assert sync_tracker(store, connector, full=True).ok
    cursor = store.sync_state.get_cursor("jira", connector.scope)
    assert cursor is not None
    assert site.state.time_zone == "America/New_York"
    site.state.clock = lambda: cursor + timedelta(minutes=2)
    issue = sorted(site.truth.live())[0]
    site.state.update_issue(issue, summary="just after the cursor")
    result = sync_tracker(store, site.connector(), census=False)
    assert result.ok, result.error
    assert str(issue) in result.changed_ids
