"""What only Jira Data Center makes a sync face, through the real connector and the sandbox: offset
pages that shift while they are read, a census that runs while issues are deleted, logged time an
add-on changed without moving ``updated``, and a URL of the other deployment."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.connectors.jira.test_deployment_check import mismatched
from tests.sync.sites import jira_datacenter_site
from tests.sync.test_tracker_sync import test_report_equals_the_sandbox_ground_truth as report_equals_truth
from v2mom.connectors.jira import datacenter_reads
from v2mom.connectors.jira.connector import JiraConnector
from v2mom.sandbox.generator import generate_jira_workspace, jira_settings
from v2mom.sandbox.jira.app import create_jira_app
from v2mom.sandbox.jira.state import JiraState, SearchCall
from v2mom.sandbox.jira.truth import JiraGroundTruth
from v2mom.sandbox.server import SandboxServer
from v2mom.settings import SyncSettings
from v2mom.store.database import Database
from v2mom.sync.runner import sync_tracker


@dataclass
class Site:
    url: str
    state: JiraState
    truth: JiraGroundTruth

    def connector(self, *, page_size: int = 40) -> JiraConnector:
        return JiraConnector(
            jira_settings(self.state, self.url, page_size=page_size), SyncSettings(max_retries=1)
        )

    def in_scope(self) -> set[str]:
        return {str(i) for i in self.truth.live()}


@pytest.fixture
def site() -> Iterator[Site]:
    state, truth = generate_jira_workspace(seed=9, epics=12, issues=160, deployment="datacenter")
    with SandboxServer(create_jira_app(state)) as url:
        yield Site(url, state, truth)


def test_issues_updated_between_page_requests_never_make_another_skipped(store: Database, site: Site) -> None:
    """Before each later listing page, eight issues already served are updated: they jump to the end
    and every page behind them shifts by eight, more than a page re-reads of the previous one."""
    ordered = sorted(site.truth.live().values(), key=lambda i: i.order)
    early = iter([i.id for i in ordered[:40]])
    moved: list[int] = []

    def churn(call: SearchCall) -> None:
        if call.start_at > 0 and len(moved) < 24:
            for _ in range(8):
                moved.append(next(early))
                site.state.update_issue(moved[-1], summary="edited mid-sync")

    site.state.search_hooks.append(churn)
    result = sync_tracker(store, site.connector(), full=True)
    assert result.ok, result.error
    assert len(moved) == 24
    assert store.items.live_ids("jira") == site.in_scope()
    assert store.items.count("jira", include_deleted=True) == len(site.in_scope())  # each stored once
    for issue_id in moved:  # the version after the edit is the one stored
        assert store.items.by_id("jira", str(issue_id)).item.title == "edited mid-sync"  # type: ignore[union-attr]


def test_a_census_while_issues_are_deleted_takes_no_live_issue_for_deleted(
    store: Database, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert sync_tracker(store, site.connector(), full=True).ok
    monkeypatch.setattr(datacenter_reads, "ID_PAGE", 30)
    by_id = sorted(site.truth.live())
    gone: list[int] = []

    def delete_served(call: SearchCall) -> None:  # ids already counted leave: the later pages shift
        if call.start_at > 0 and len(gone) < 18:
            for issue_id in by_id[len(gone) : len(gone) + 6]:
                site.state.delete_issue(issue_id)
                gone.append(issue_id)

    site.state.search_hooks.append(delete_served)
    result = sync_tracker(store, site.connector(), census=True)
    assert result.ok, result.error
    assert len(gone) == 18
    # No live issue is taken for deleted; those deleted after being counted wait for the next census.
    assert store.items.live_ids("jira") == site.in_scope() | {str(i) for i in gone}
    assert result.deleted == 0
    site.state.search_hooks.clear()
    again = sync_tracker(store, site.connector(), census=True)
    assert again.ok, again.error
    assert (store.items.live_ids("jira"), again.deleted) == (site.in_scope(), len(gone))


def test_a_full_sync_learns_the_epics_in_scope_at_once_and_looks_up_only_the_others(
    store: Database, site: Site
) -> None:
    looked_up: list[str] = []

    def lookups(call: SearchCall) -> None:
        if call.jql.startswith("issuekey in ("):
            looked_up.extend(key.strip('"') for key in call.jql[len("issuekey in (") : -1].split(", "))

    site.state.search_hooks.append(lookups)
    live = site.truth.live()
    epics = {i.id: i for i in site.state.issues.values() if i.type_name == "Epic"}
    outside = {epics[i.parent_id].key for i in live.values() if i.parent_id in set(epics) - set(live)}
    assert outside  # the workspace links some issues to epics outside the scope
    connector = site.connector()
    assert sync_tracker(store, connector, full=True).ok
    assert connector.calls.calls["epics"] == 1  # every epic in scope, in one request
    assert sorted(looked_up) == sorted(outside)  # each asked for once, and no epic in scope
    for issue in live.values():  # every Epic Link resolved to its epic's id
        stored = store.items.by_id("jira", str(issue.id))
        assert stored is not None
        assert stored.item.parent_id == (str(issue.parent_id) if issue.parent_id is not None else None)

    epic = next(e for e in epics.values() if e.id in live and any(i.parent_id == e.id for i in live.values()))
    child = next(i for i in live.values() if i.parent_id == epic.id)
    site.state.update_issue(child.id, summary="touched")
    looked_up.clear()
    later = site.connector()  # an incremental pass asks for the epics it meets, as it meets them
    assert sync_tracker(store, later).kind == "incremental"
    assert later.calls.calls.get("epics", 0) == 0
    assert epic.key in looked_up  # with those of the issues updated in the cursor's minute


def test_time_an_add_on_logged_without_moving_updated_reaches_the_store(store: Database, site: Site) -> None:
    assert sync_tracker(store, site.connector(), full=True).ok
    quiet, loud = sorted(site.truth.live())[:2]
    spent = site.state.issues[quiet].timespent or 0
    worklog = site.state.add_worklog(quiet, 5 * 3600, by_app=True)  # an add-on: updated stays
    site.state.add_worklog(loud, 3600)
    again = sync_tracker(store, site.connector(), census=False)
    assert again.ok, again.error
    assert again.kind == "incremental"
    stored = store.items.by_id("jira", str(quiet))
    assert stored is not None
    assert stored.item.hours == pytest.approx((spent + 5 * 3600) / 3600)
    assert {str(quiet), str(loud)} <= again.changed_ids
    site.state.delete_worklog(worklog, by_app=True)
    third = sync_tracker(store, site.connector(), census=False)
    assert third.ok, third.error
    assert any("1 worklog(s) deleted" in w for w in third.warnings)  # Jira does not say whose


@pytest.mark.parametrize("site_is", ["cloud", "datacenter"])
def test_a_url_of_the_other_deployment_is_refused_naming_the_setting(store: Database, site_is: str) -> None:
    with mismatched(site_is) as (state, settings):  # a site configured as the other deployment
        result = sync_tracker(store, JiraConnector(settings, SyncSettings(max_retries=0)), full=True)
    assert not result.ok
    assert result.error is not None
    assert f"set deployment: {site_is}" in result.error
    assert "\n" not in result.error
    assert state.request_count("/rest/api/2/serverInfo") == 1
    assert state.request_count("/") == 1  # nothing else was asked with the wrong credentials
    assert state.credentials_on_server_info == 0  # and not even that one carried them


def test_the_report_equals_the_data_center_sandboxs_ground_truth(store: Database) -> None:
    """Effort by value through Epic Links resolved from keys, sub-tasks under their stories, points
    and time: the shared report check, before and after changes and a deletion."""
    with jira_datacenter_site() as site:
        report_equals_truth(store, site)


def test_a_site_closed_to_anonymous_callers_is_asked_who_it_is_with_the_credentials(site: Site) -> None:
    site.state.anonymous_server_info = False
    connector = site.connector()
    connector.discover()
    assert connector.calls.calls["server-info"] == 2  # anonymously (refused), then as the account
    assert site.state.credentials_on_server_info == 1


def test_a_scope_naming_a_project_the_site_lacks_is_refused_and_deletes_nothing(
    store: Database, site: Site
) -> None:
    assert sync_tracker(store, site.connector(), full=True).ok
    settings = jira_settings(site.state, site.url).model_copy(update={"jql": "project in (ONB, PALT)"})
    result = sync_tracker(store, JiraConnector(settings, SyncSettings(max_retries=0)), full=True, census=True)
    assert not result.ok
    assert result.error is not None
    assert "'PALT' does not exist for the field 'project'" in result.error
    assert store.items.live_ids("jira") == site.in_scope()  # no census of an empty scope


def test_a_page_of_worklogs_changed_in_one_millisecond_is_stepped_past_with_a_warning(
    store: Database, site: Site
) -> None:
    """A bulk import: more worklogs changed at one moment than a feed page holds. The feed cannot
    chain past that moment; the run steps past it and says so instead of failing from then on."""
    assert sync_tracker(store, site.connector(), full=True).ok
    site.state.worklog_page = 2
    first, second = sorted(site.truth.live())[:2]
    logged = [site.state.add_worklog(first, 600, by_app=True) for _ in range(2)]
    moment = site.state.worklogs[logged[0]].updated
    site.state.worklogs[logged[1]].updated = moment  # imported together
    site.state.add_worklog(second, 900, by_app=True)  # a millisecond later
    result = sync_tracker(store, site.connector(), census=False)
    assert result.ok, result.error
    assert {str(first), str(second)} <= result.changed_ids
    assert any("some of that moment may have been missed" in w for w in result.warnings)
