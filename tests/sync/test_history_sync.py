"""A sync stores each item's status and assignee history, through the real connectors and sandboxes.

After a full sync the stored changes are the sandbox's own history of the items in scope; after
items are reassigned, started and finished, an incremental sync reads the history of exactly those
items again (whoever stored the items in between) and stores the new changes, duplicating nothing.
Each item's current assignee, and an Asana task's start, reach the store with the item.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest

from tests.histories import as_recorded
from v2mom.connectors.base import Connector
from v2mom.errors import FatalError
from v2mom.sandbox.faults import FaultBook
from v2mom.sandbox.history import Recorded
from v2mom.sandbox.server import SandboxServer
from v2mom.settings import SyncSettings
from v2mom.store.database import Database
from v2mom.sync import runner
from v2mom.sync.runner import sync_tracker


@dataclass
class Site:
    """A running sandbox and the changes a test makes to its items, each returning the item's id."""

    tracker: str
    connector: Callable[[], Connector]
    live_ids: Callable[[], set[str]]
    transitions: Callable[[], set[Recorded]]
    reassign: Callable[[], str]
    start: Callable[[], str]
    finish: Callable[[], str]
    assignees: Callable[[], dict[str, str | None]]  # each live item's assignee now
    starts: Callable[[], dict[str, datetime | None]]  # each live item's start (Asana's only)
    faults: FaultBook  # the sandbox's injected failures
    history_path: str  # where its history reads go (a prefix of the request path)
    history_after: int  # requests to it that go through before one fails mid-run
    fail_history: Callable[[], None] | None = None  # refuse one read mid-run, where a path cannot tell

    def fail_one_history_read(self) -> None:
        """Refuse (400) the history read after ``history_after`` of them."""
        if self.fail_history is not None:
            self.fail_history()
        else:
            self.faults.inject_fault(400, times=1, after=self.history_after, path_prefix=self.history_path)


@contextmanager
def jira_site(deployment: str = "cloud") -> Iterator[Site]:
    from v2mom.connectors.jira.connector import JiraConnector
    from v2mom.sandbox.generator import generate_jira_workspace, jira_settings
    from v2mom.sandbox.jira.app import create_jira_app

    datacenter = deployment == "datacenter"
    size = {"epics": 12, "issues": 120} if datacenter else {"epics": 20, "issues": 200}
    state, truth = generate_jira_workspace(seed=11, deployment=deployment, **size)  # type: ignore[arg-type]
    issues = truth.live()

    def pick(category: str, assigned: bool | None = None) -> int:
        return next(
            i
            for i, issue in sorted(issues.items())
            if issue.category == category and (assigned is None or (issue.assignee is not None) == assigned)
        )

    def reassign() -> str:
        issue_id = pick("indeterminate", assigned=True)
        other = next(p for p in state.workers() if p != state.issues[issue_id].assignee)
        state.update_issue(issue_id, assignee=other, author=other)
        return str(issue_id)

    def start() -> str:
        issue_id = pick("new", assigned=False)
        state.update_issue(issue_id, category="indeterminate", assignee=state.workers()[0])
        return str(issue_id)

    def finish() -> str:
        issue_id = pick("indeterminate", assigned=False)
        state.update_issue(issue_id, category="done")
        return str(issue_id)

    def fail_history() -> None:
        # Data Center's listing carries the changelogs; one it cut short is read from its issue:
        # refuse that read for the issue listed last (its history is read with the last group)
        state.search_changelog_max = 1
        last = max(
            (i for i in issues if len(state.issues[i].changelog) > 1), key=lambda i: state.issues[i].order
        )
        state.inject_fault(400, times=1, path_prefix=f"/rest/api/2/issue/{last}")

    with SandboxServer(create_jira_app(state)) as url:
        yield Site(
            "jira",
            lambda: JiraConnector(jira_settings(state, url), SyncSettings(max_retries=1)),
            lambda: {str(i) for i in truth.live()},
            truth.transitions,
            reassign,
            start,
            finish,
            lambda: {str(i): issue.assignee for i, issue in truth.live().items()},
            lambda: dict.fromkeys(map(str, truth.live())),
            state,
            "/rest/api/2/search" if datacenter else "/rest/api/3/changelog/bulkfetch",
            1,
            fail_history if datacenter else None,
        )


@contextmanager
def linear_site() -> Iterator[Site]:
    from v2mom.connectors.linear.connector import LinearConnector
    from v2mom.sandbox.linear.app import create_linear_app
    from v2mom.sandbox.linear.generator import generate_linear_workspace, linear_settings

    state, truth = generate_linear_workspace(seed=11, projects=6, issues=200)
    people = sorted(state.users)

    def pick(state_type: str, assigned: bool | None = None) -> str:
        return next(
            i.id
            for i in sorted(state.issues.values(), key=lambda i: i.id)
            if i.id in truth.live_ids()
            and i.state_type == state_type
            and (assigned is None or (i.assignee_id is not None) == assigned)
        )

    def reassign() -> str:
        issue_id = pick("started", assigned=True)
        other = next(p for p in people if p != state.issues[issue_id].assignee_id)
        state.update_issue(issue_id, assignee_id=other)
        return issue_id

    def start() -> str:
        issue_id = pick("unstarted", assigned=False)
        state.update_issue(issue_id, state_type="started", assignee_id=people[0])
        return issue_id

    def finish() -> str:
        issue_id = pick("started", assigned=False)
        state.update_issue(issue_id, state_type="completed")
        return issue_id

    with SandboxServer(create_linear_app(state)) as url:
        yield Site(
            "linear",
            lambda: LinearConnector(linear_settings(state, url), SyncSettings(max_retries=1)),
            truth.live_ids,
            truth.transitions,
            reassign,
            start,
            finish,
            lambda: {i: state.issues[i].assignee_id if i in state.issues else None for i in truth.live_ids()},
            lambda: dict.fromkeys(truth.live_ids()),
            state,
            "/graphql/IssueHistory",
            3,  # the first transaction (the projects and 100 issues) reads in three requests
        )


@contextmanager
def asana_site() -> Iterator[Site]:
    from v2mom.connectors.asana.connector import AsanaConnector
    from v2mom.sandbox.asana.app import create_asana_app
    from v2mom.sandbox.asana.generator import asana_settings, generate_asana_workspace

    state, truth = generate_asana_workspace(seed=11, tasks=150)
    people = sorted(state.people)

    def pick(completed: bool, assigned: bool) -> str:
        return next(
            gid
            for gid, task in sorted(truth.live_tasks().items())
            if task.completed == completed and (task.assignee is not None) == assigned and task.parent is None
        )

    def reassign() -> str:
        gid = pick(False, assigned=True)
        state.update_task(gid, assignee=next(p for p in people if p != state.tasks[gid].assignee))
        return gid

    def start() -> str:  # Asana has no started status: work starts when someone is assigned it
        gid = pick(False, assigned=False)
        state.update_task(gid, assignee=people[0])
        return gid

    def finish() -> str:
        gid = pick(False, assigned=True)
        state.update_task(gid, completed=True)
        return gid

    def fail_history() -> None:  # the listing's subtasks go through /batch too: one task's stories,
        live = truth.live_ids()  # the task listed half way
        listed = [gid for project in truth.projects for gid in state.members[project] if gid in live]
        middle = f"/api/1.0/tasks/{listed[len(listed) // 2]}/stories"
        state.inject_fault(400, times=1, path_prefix=middle, exact=True)

    with SandboxServer(create_asana_app(state)) as url:
        settings = asana_settings(state, url, truth.projects)
        yield Site(
            "asana",
            lambda: AsanaConnector(settings, SyncSettings(max_retries=1)),
            truth.live_ids,
            truth.transitions,
            reassign,
            start,
            finish,
            lambda: {g: state.tasks[g].assignee if g in state.tasks else None for g in truth.live_ids()},
            lambda: dict.fromkeys(truth.live_ids()) | truth.starts(),
            state,
            "/api/1.0/batch",  # ten tasks' stories a request
            0,  # not used: fail_history picks the read that fails
            fail_history,
        )


LONG_OVERLAP = timedelta(days=400)  # longer than the sandboxes' histories: every item is listed again
SITES: dict[str, Callable[[], Any]] = {
    "jira": jira_site,
    "jira-datacenter": partial(jira_site, "datacenter"),
    "linear": linear_site,
    "asana": asana_site,
}


@pytest.fixture(params=sorted(SITES))
def site(request: pytest.FixtureRequest) -> Iterator[Site]:
    with SITES[request.param]() as running:
        yield running


def stored(store: Database, site: Site) -> set[Recorded]:
    return as_recorded(store.history.for_items(site.tracker, site.live_ids()))


def test_a_sync_stores_the_sandboxs_history_and_reads_again_only_what_moved(
    store: Database, site: Site
) -> None:
    full = sync_tracker(store, site.connector(), full=True)
    assert full.ok, full.error
    expected = site.transitions()
    assert stored(store, site) == expected
    assert store.history.count(site.tracker) == len(expected)
    assert full.histories == len(site.live_ids())  # a full sync reads every item's history
    assert full.transitions == len(expected)

    # A long overlap lists again items that did not move: their histories are not read again.
    untouched = sync_tracker(store, site.connector(), census=False, overlap=LONG_OVERLAP)
    assert untouched.ok, untouched.error
    assert untouched.seen > 0
    assert untouched.histories == 0

    changed = {site.reassign(), site.start(), site.finish()}
    stored_elsewhere = sorted(changed)[0]  # a webhook stores the item (not its history) first
    reader = site.connector()
    store.items.upsert([reader.get_item(stored_elsewhere)])
    reader.close()
    incremental = sync_tracker(store, site.connector(), census=False, overlap=LONG_OVERLAP)
    assert incremental.ok, incremental.error
    assert incremental.kind == "incremental"
    now = site.transitions()
    new = now - expected
    assert {change.item_id for change in new} == changed
    assert {change.field for change in new} == {"status", "assignee"}
    assert stored(store, site) == now
    assert store.history.count(site.tracker) == len(now)  # nothing stored twice
    assert incremental.seen > len(changed)
    assert incremental.histories == len(changed)  # exactly the items that moved


def unread(store: Database, site: Site) -> set[str]:
    """The stored items whose history is not marked read for their updated time now."""
    found = store.items.by_ids(site.tracker, site.live_ids())
    return store.history.unread(site.tracker, {s.item.id: s.item.updated_at for s in found})


@pytest.mark.parametrize("site", ["jira", "linear", "asana"], indirect=True)  # the runner's, not the reader's
def test_a_history_that_cannot_be_read_leaves_its_items_stored_and_unread_for_the_next_pass(
    store: Database, site: Site
) -> None:
    connector = site.connector()

    def unreadable(item_ids: Any) -> Any:
        raise FatalError("history unavailable", tracker=site.tracker)

    connector.read_history = unreadable  # type: ignore[attr-defined]
    failed = sync_tracker(store, connector, full=True)
    assert failed.error == f"{site.tracker}: history unavailable"
    assert store.items.live_ids(site.tracker) >= site.live_ids()  # the items are kept
    assert unread(store, site) == site.live_ids()  # their histories are not
    assert store.history.count(site.tracker) == 0
    assert (failed.histories, failed.transitions) == (0, 0)
    again = sync_tracker(store, site.connector())
    assert again.ok, again.error
    assert stored(store, site) == site.transitions()
    assert unread(store, site) == set()


def test_a_history_read_failing_mid_run_keeps_what_was_read_and_the_next_pass_reads_the_rest(
    store: Database, site: Site
) -> None:
    """Histories are read while the next pages are fetched: one read refused by the tracker fails
    the pass, every item listed before it is stored, what was read before it is stored with its
    ``history_reads``, the rest stays unread and the next pass (from the cursor it left) reads it."""
    site.fail_one_history_read()
    failed = sync_tracker(store, site.connector(), full=True, commit_every=50)
    assert not failed.ok
    assert store.items.live_ids(site.tracker) >= site.live_ids()  # (Asana's projects are items too)
    left = unread(store, site)
    assert 0 < len(left) < len(site.live_ids())
    assert failed.histories == len(site.live_ids()) - len(left)  # the counters say what was stored
    assert failed.transitions == store.history.count(site.tracker)
    read = site.live_ids() - left
    assert stored(store, site) == {c for c in site.transitions() if c.item_id in read}

    again = sync_tracker(store, site.connector(), commit_every=50)
    assert again.ok, again.error
    if again.kind == "incremental":
        assert again.histories == len(left)  # exactly what the failed pass left unread
    assert unread(store, site) == set()
    assert stored(store, site) == site.transitions()
    assert store.history.count(site.tracker) == len(site.transitions())


def test_a_sync_stores_each_items_current_assignee_and_asanas_starts(store: Database, site: Site) -> None:
    """What people's time reads beside the history: who holds each item now (an item whose history
    has no assignee change is held by them all along) and when work on an Asana task started."""
    full = sync_tracker(store, site.connector(), full=True)
    assert full.ok, full.error

    def held() -> dict[str, tuple[str | None, datetime | None]]:
        found = store.items.by_ids(site.tracker, site.live_ids())
        return {s.item.id: (s.item.assignee, s.item.started_at) for s in found}

    assignees, starts = site.assignees(), site.starts()
    assert held() == {i: (assignees[i], starts[i]) for i in site.live_ids()}
    assert len({a for a in assignees.values() if a is not None}) > 1
    assert None in assignees.values()
    assert (site.tracker == "asana") == any(starts.values())  # only Asana tasks start
    changed = {site.reassign(), site.start()}
    incremental = sync_tracker(store, site.connector(), census=False)
    assert incremental.ok, incremental.error
    now = site.assignees()
    assert {i for i in now if now[i] != assignees[i]} == changed
    assert {i: a for i, (a, _) in held().items()} == now


def test_a_listing_failing_while_histories_are_read_keeps_those_read_and_the_cursor_they_allow(
    store: Database,
) -> None:
    """The first page's history is still being read when the listing fails: the pass waits for it
    and stores it with the cursor it allows, so the next pass goes on from there."""
    with jira_site() as site:
        held = site.faults.stall(site.history_path)  # the first page's history read
        site.faults.inject_fault(503, times=10, after=1, path_prefix="/rest/api/3/search/jql")
        outcome: list[Any] = []
        run = threading.Thread(
            target=lambda: outcome.append(sync_tracker(store, site.connector(), full=True, commit_every=1)),
            daemon=True,
        )
        run.start()
        assert held.reached.wait(30)
        deadline = time.monotonic() + 30
        while site.faults.request_count("/rest/api/3/search/jql") < 3 and time.monotonic() < deadline:
            time.sleep(0.01)  # the second page refused past the retry budget (two tries)
        held.release()
        run.join(60)
        (failed,) = outcome
        assert not failed.ok
        assert failed.histories > 0  # the first page's, read after the listing failed
        assert store.history.count("jira") == failed.transitions > 0
        assert store.sync_state.get_cursor("jira", site.connector().scope) is not None
        site.faults.faults.clear()
        again = sync_tracker(store, site.connector())
        assert again.ok, again.error
        assert again.kind == "incremental"
        assert stored(store, site) == site.transitions()


def test_histories_are_read_as_pages_arrive_not_all_at_once_when_their_transaction_commits(
    store: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A transaction holds many pages; their items' histories are asked for a group at a time as
    the pages arrive (here a group a page), so the reads overlap the paging that follows."""
    monkeypatch.setattr(runner, "HISTORY_EVERY", 1)
    groups: list[int] = []
    with jira_site() as site:
        connector = site.connector()
        read = connector.read_history

        def reading(item_ids: Any) -> Any:
            groups.append(len(item_ids))
            return read(item_ids)

        connector.read_history = reading  # type: ignore[method-assign]
        done = sync_tracker(store, connector, full=True, commit_every=10_000)
        assert done.ok, done.error
        assert done.pages >= 2
        assert groups == [100] * (len(site.live_ids()) // 100) + [len(site.live_ids()) % 100] * (
            len(site.live_ids()) % 100 > 0
        )
        assert stored(store, site) == site.transitions()


def test_a_listing_failing_before_its_transaction_commits_stores_none_of_its_histories(
    store: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Histories read for items whose transaction never committed are dropped, not stored: the
    items are not in the store, and the next pass lists them and reads their histories again."""
    monkeypatch.setattr(runner, "HISTORY_EVERY", 1)
    with jira_site() as site:
        site.faults.inject_fault(400, times=1, after=1, path_prefix="/rest/api/3/search/jql")
        failed = sync_tracker(store, site.connector(), full=True, commit_every=10_000)
        assert not failed.ok
        assert store.items.live_ids("jira") == set()
        assert store.history.count("jira") == 0
        assert (failed.histories, failed.transitions) == (0, 0)
        some = {i: datetime(2000, 1, 1, tzinfo=UTC) for i in site.live_ids()}
        assert store.history.unread("jira", some) == site.live_ids()  # no read marked for any of them
        again = sync_tracker(store, site.connector())
        assert again.ok, again.error
        assert stored(store, site) == site.transitions()


def test_the_next_transactions_histories_are_asked_for_while_one_commits(
    store: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A transaction commits on a thread of its own: while it is being stored, the runner reads the
    next page and asks for its items' histories (before, nothing was asked for until it returned)."""
    monkeypatch.setattr(runner, "HISTORY_EVERY", 1)
    with jira_site() as site:
        connector = site.connector()
        read = connector.read_history
        asked: list[set[str]] = []
        second_asked = threading.Event()

        def reading(item_ids: Any) -> Any:
            asked.append(set(item_ids))
            if len(asked) == 2:
                second_asked.set()
            return read(item_ids)

        connector.read_history = reading  # type: ignore[method-assign]
        commit_pages = store.sync_state.commit_pages
        while_committing: list[bool] = []

        def committing(tracker: str, items: Any, *args: Any, **kwargs: Any) -> Any:
            if items and not while_committing:  # the first transaction waits for the second's read
                while_committing.append(second_asked.wait(10))
            return commit_pages(tracker, items, *args, **kwargs)

        monkeypatch.setattr(store.sync_state, "commit_pages", committing)
        done = sync_tracker(store, connector, full=True, commit_every=100)
        assert done.ok, done.error
        assert while_committing == [True]
        assert len(asked) >= 2
        assert not asked[0] & asked[1]
        assert stored(store, site) == site.transitions()


def test_a_transaction_failing_to_commit_stores_no_history_of_its_items(
    store: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last transaction fails to commit on the committing thread, its items' history read still
    pending (held until the commit has failed, or cancelled before it starts): the pass fails with
    the store's error, the items committed before are kept, and no history is stored or marked read
    for an item the store does not hold; the next pass reads them all."""
    with jira_site() as site:
        last = math.ceil(len(site.live_ids()) / 100)  # transactions of one page of 100 each
        assert last >= 2
        connector = site.connector()
        read = connector.read_history
        reads: list[int] = []
        failed_commit = threading.Event()

        def reading(item_ids: Any) -> Any:
            reads.append(len(item_ids))
            if len(reads) == last:  # the failing transaction's read ends after its commit failed
                failed_commit.wait(10)
            return read(item_ids)

        connector.read_history = reading  # type: ignore[method-assign]
        commit_pages = store.sync_state.commit_pages
        commits: list[int] = []

        def committing(tracker: str, items: Any, *args: Any, **kwargs: Any) -> Any:
            if items:
                commits.append(len(items))
                if len(commits) == last:
                    failed_commit.set()
                    raise FatalError("the store refused the transaction", tracker=tracker)
            return commit_pages(tracker, items, *args, **kwargs)

        monkeypatch.setattr(store.sync_state, "commit_pages", committing)
        failed = sync_tracker(store, connector, full=True, commit_every=100)
        assert failed.error == "jira: the store refused the transaction"
        kept = store.items.live_ids("jira")
        assert len(kept) == sum(commits[:-1])
        with_history = {change.item_id for change in store.history.for_items("jira", site.live_ids())}
        assert with_history <= kept
        some = {i: datetime(2000, 1, 1, tzinfo=UTC) for i in site.live_ids()}
        assert store.history.unread("jira", some) >= site.live_ids() - kept  # none marked read
        monkeypatch.undo()
        again = sync_tracker(store, site.connector())
        assert again.ok, again.error
        assert stored(store, site) == site.transitions()
