"""Subtasks in a full listing and the census, through the real SDK and the sandbox: every subtask at
any depth, ten parents' first pages a ``/batch`` request, longer lists read on alone, a refused
parent refused as its request alone would be, and the reads a full sync has in flight at once."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from v2mom.connectors.asana.batch import BATCH_SIZE
from v2mom.connectors.asana.client import AsanaClient
from v2mom.connectors.asana.connector import AsanaConnector
from v2mom.connectors.asana.parse import TASK_FIELDS
from v2mom.errors import NotFoundError, TrackerError
from v2mom.sandbox.asana.app import create_asana_app
from v2mom.sandbox.asana.concurrency import READ_LIMIT
from v2mom.sandbox.asana.generator import asana_settings, generate_asana_workspace
from v2mom.sandbox.asana.state import AsanaState
from v2mom.sandbox.server import SandboxServer
from v2mom.settings import SyncSettings
from v2mom.store.database import Database
from v2mom.sync.runner import sync_tracker

PAGE = 5  # subtasks a page: the long parent below needs three


@dataclass
class Tree:
    url: str
    state: AsanaState
    project: str
    tasks: list[str]  # the project's own tasks
    subtasks: set[str]  # every subtask, at any depth
    parents: list[str]  # the project's tasks that have subtasks
    long: str  # a task with more subtasks than a page holds

    def connector(self, retries: int = 0) -> AsanaConnector:
        settings = asana_settings(self.state, self.url, [self.project], page_size=PAGE)
        return AsanaConnector(settings, SyncSettings(max_retries=retries), sleep=lambda _s: None)


@pytest.fixture
def tree() -> Iterator[Tree]:
    state = AsanaState(default_fields=False)
    project = state.add_project("Platform")
    tasks = [state.add_task(f"Task {n}", projects=[project]) for n in range(30)]
    subtasks: set[str] = set()
    parents = tasks[:23]  # three /batch requests' worth: 10, 10 and 3
    for n, parent in enumerate(parents):
        child = state.add_task(f"Piece {n}", parent=parent)
        grandchild = state.add_task(f"Part of piece {n}", parent=child)
        subtasks |= {child, grandchild}
    deepest = state.add_task("Detail", parent=grandchild)  # three levels down from the last parent
    long = tasks[0]
    subtasks |= {deepest, *(state.add_task(f"Step {n}", parent=long) for n in range(2 * PAGE))}
    with SandboxServer(create_asana_app(state)) as url:
        yield Tree(url, state, project, tasks, subtasks, parents, long)


def listed(connector: AsanaConnector) -> list[str]:
    """The ids of a full listing's items, the projects' own records left out."""
    try:
        pages = list(connector.iter_pages(None))
    finally:
        connector.close()
    return [item.id for page in pages for item in page.items if item.id not in connector.projects]


def test_a_full_listing_reads_every_subtask_at_any_depth_ten_parents_a_request(tree: Tree) -> None:
    connector = tree.connector()
    found = listed(connector)
    assert len(found) == len(set(found))
    assert set(found) == set(tree.tasks) | tree.subtasks
    calls = connector.calls.calls
    assert calls.get("subtasks", 0) == 2  # the long list's second and third pages, alone
    # 47 tasks have subtasks (23 of the project's, their 23 children, 1 grandchild): one request
    # each would be 47 round trips; each listing page asks for its parents' level by level instead
    assert calls.get("batch", 0) <= 15


def test_the_census_names_every_subtask_in_batches_of_ten(tree: Tree) -> None:
    settings = asana_settings(tree.state, tree.url, [tree.project], page_size=100)
    wide = AsanaConnector(settings, SyncSettings(max_retries=0), sleep=lambda _s: None)
    try:
        named = list(wide.iter_ids())
    finally:
        wide.close()
    assert set(tree.tasks) | tree.subtasks <= set(named)
    # one page of 30 tasks: 23 parents (3 requests), their 23 children with subtasks (3), and the
    # one grandchild with a subtask (1)
    assert wide.calls.calls.get("batch", 0) == 3 + 3 + 1
    assert wide.calls.calls.get("census", 0) == 1  # the project's tasks; no subtask list is read alone


def test_a_refused_parent_fails_as_its_request_alone_would(tree: Tree) -> None:
    tree.state.inject_fault(404, times=1, path_prefix=f"/api/1.0/tasks/{tree.parents[3]}/subtasks")
    with pytest.raises(NotFoundError) as batched:
        listed(tree.connector())
    tree.state.inject_fault(404, times=1, path_prefix=f"/api/1.0/tasks/{tree.parents[3]}/subtasks")
    client = AsanaClient(f"{tree.url}/api/1.0", token=tree.state.token)
    try:
        with pytest.raises(TrackerError) as alone:
            client.subtasks_page(tree.parents[3], opt_fields=TASK_FIELDS, limit=PAGE, offset=None, kind="s")
    finally:
        client.close()
    assert type(batched.value) is type(alone.value)
    assert str(batched.value) == str(alone.value)


def test_a_rate_limited_parent_is_asked_again_and_nothing_is_lost(tree: Tree) -> None:
    tree.state.inject_fault(429, times=1, path_prefix=f"/api/1.0/tasks/{tree.parents[7]}/subtasks")
    connector = tree.connector(retries=2)
    assert set(listed(connector)) == set(tree.tasks) | tree.subtasks


def test_a_full_sync_reading_histories_stays_within_asanas_concurrent_reads(store: Database) -> None:
    """Asana counts each GET action of a batch as a read in flight, 50 at most a token: the story
    readers' batches and the listing's subtask batches together stay within it, with room left."""
    state, truth = generate_asana_workspace(seed=3, tasks=400)
    state.reads.batch_seconds = 0.05  # Asana's own work: the readers' batches overlap
    with SandboxServer(create_asana_app(state)) as url:
        settings = asana_settings(state, url, truth.projects)
        connector = AsanaConnector(settings, SyncSettings(max_retries=0), sleep=lambda _s: None)
        result = sync_tracker(store, connector, full=True)
    assert result.ok, result.error
    assert result.histories > 0
    assert state.reads.refused == 0
    assert BATCH_SIZE * 2 < state.reads.peak <= READ_LIMIT - BATCH_SIZE  # overlapped, and a margin
