"""Items keep their description as plain text, read by each real connector from its sandbox: the
words people wrote, whatever the tracker's format (Jira's document, Linear's Markdown, Asana's
notes), on both databases."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests.sync.sites import SITES
from v2mom.connectors.base import Connector
from v2mom.store.database import Database
from v2mom.sync.runner import sync_tracker


@contextmanager
def jira() -> Iterator[tuple[Connector, dict[str, str]]]:
    from v2mom.connectors.jira.connector import JiraConnector
    from v2mom.sandbox.generator import generate_jira_workspace, jira_settings
    from v2mom.sandbox.jira.app import create_jira_app
    from v2mom.sandbox.server import SandboxServer
    from v2mom.settings import SyncSettings

    state, _ = generate_jira_workspace(seed=3, epics=8, issues=120)
    written = {str(issue.id): issue.description for issue in state.issues.values()}
    with SandboxServer(create_jira_app(state)) as url:
        yield JiraConnector(jira_settings(state, url), SyncSettings(max_retries=1)), written


@contextmanager
def other(name: str, written: Callable[[Any], dict[str, str]]) -> Iterator[tuple[Connector, dict[str, str]]]:
    with SITES[name]() as site:
        yield site.connector(), written(site.state)


OPENED = {
    "jira": jira,
    "linear": lambda: other("linear", lambda s: {i: x.description or "" for i, x in s.issues.items()}),
    "asana": lambda: other("asana", lambda s: {gid: task.notes for gid, task in s.tasks.items()}),
}


def words(text: str) -> list[str]:
    return text.split()


@pytest.mark.parametrize("tracker", sorted(OPENED))
def test_every_item_keeps_the_words_of_its_description(store: Database, tracker: str) -> None:
    with OPENED[tracker]() as (connector, written):
        assert sync_tracker(store, connector, full=True).ok
    stored = {s.item.id: s.item.description for s in store.items.stream() if s.item.tracker == tracker}
    described = [item_id for item_id in stored if written.get(item_id)]
    assert len(described) >= len(stored) * 0.8  # the generators describe (nearly) every item
    for item_id in described:
        assert words(stored[item_id]) == words(written[item_id]), item_id
