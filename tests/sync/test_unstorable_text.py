"""On the sync path: text no column can hold, in the trackers' own answers.

Each tracker's sandbox answers through its real connector (SDK, HTTP on 127.0.0.1), its answers
edited so every title, name, option, label and URL carries a lone surrogate, NUL and other control
characters — or 300 more characters (a status name longer than its column). Before, SQLite failed
to encode the surrogate, PostgreSQL refused NUL and the long status name, and the JSON API could
not send what SQLite kept. Now the sync stores U+FFFD in their place, the status name cut to its
column, and every read of the API is valid JSON. Identifiers are not cleaned: an item whose key
cannot be stored fails the sync with an error naming it, and the run's error is recorded.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.connectors.rewrite import RewriteAnswers
from tests.support import UNSTORABLE, auth, unstorable_strings
from v2mom.app.factory import create_app
from v2mom.connectors.base import Connector
from v2mom.mapping.plan import load_plan
from v2mom.sandbox import SAMPLE_PLAN_PATH
from v2mom.sandbox.server import SandboxServer
from v2mom.settings import Settings, SyncSettings
from v2mom.store import schema
from v2mom.store.database import Database
from v2mom.store.resolution.run import remap
from v2mom.sync.runner import sync_tracker

TEXT_KEYS = {"summary", "title", "name", "value", "url", "permalink_url"}
POISONS = {"surrogate-and-controls": "\ud800\x00\x1b", "overlong": "y" * 300}
Rewrite = Callable[[str, Mapping[str, str], Any, Any], Any]
NO_RETRIES = SyncSettings(max_retries=0)


def poison_text(node: Any, poison: str) -> Any:
    """``node`` with ``poison`` appended to every string under a :data:`TEXT_KEYS` key and to every
    label of a list of them (Jira's ``labels``)."""
    if isinstance(node, dict):
        return {k: poison_value(k, v, poison) for k, v in node.items()}
    if isinstance(node, list):
        return [poison_text(v, poison) for v in node]
    return node


def poison_value(key: str, value: Any, poison: str) -> Any:
    """The value under ``key``, poisoned (see :func:`poison_text`)."""
    if key in TEXT_KEYS and isinstance(value, str):
        return value + poison
    if key == "labels" and isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [label + poison for label in value]
    return poison_text(value, poison)


@contextmanager
def jira_site(rewrite: Rewrite) -> Iterator[Connector]:
    from v2mom.connectors.jira.connector import JiraConnector
    from v2mom.sandbox.generator import generate_jira_workspace, jira_settings
    from v2mom.sandbox.jira.app import create_jira_app

    state, _ = generate_jira_workspace(seed=7, epics=4, issues=40)
    with SandboxServer(RewriteAnswers(create_jira_app(state), rewrite)) as url:
        connector = JiraConnector(jira_settings(state, url), NO_RETRIES, sleep=lambda _: None)
        yield connector
        connector.close()


@contextmanager
def linear_site(rewrite: Rewrite) -> Iterator[Connector]:
    from v2mom.connectors.linear.connector import LinearConnector
    from v2mom.sandbox.linear.app import create_linear_app
    from v2mom.sandbox.linear.generator import generate_linear_workspace, linear_settings

    state, _ = generate_linear_workspace(seed=7, projects=3, issues=40)
    with SandboxServer(RewriteAnswers(create_linear_app(state), rewrite)) as url:
        connector = LinearConnector(linear_settings(state, url), NO_RETRIES, sleep=lambda _: None)
        yield connector
        connector.close()


@contextmanager
def asana_site(rewrite: Rewrite) -> Iterator[Connector]:
    from v2mom.connectors.asana.connector import AsanaConnector
    from v2mom.sandbox.asana.app import create_asana_app
    from v2mom.sandbox.asana.generator import asana_settings, generate_asana_workspace

    state, truth = generate_asana_workspace(seed=7, tasks=40)
    with SandboxServer(RewriteAnswers(create_asana_app(state), rewrite)) as url:
        connector = AsanaConnector(
            asana_settings(state, url, truth.projects), NO_RETRIES, sleep=lambda _: None
        )
        yield connector
        connector.close()


SITES = {"jira": jira_site, "linear": linear_site, "asana": asana_site}


def read_json(client: TestClient, path: str, token: str) -> Any:
    """``GET path``: a 200 in strict UTF-8 (a surrogate would not decode) with no unstorable text."""
    answer = client.get(path, headers=auth(token))
    assert answer.status_code == 200, (path, answer.text[:300])
    document = json.loads(answer.content.decode("utf-8"))
    assert unstorable_strings(document) == [], path
    return document


@pytest.mark.parametrize("poison", sorted(POISONS))
@pytest.mark.parametrize("tracker", sorted(SITES))
def test_unstorable_text_from_a_tracker_is_stored_cleaned_and_served(
    store: Database, tracker: str, poison: str
) -> None:
    suffix = POISONS[poison]
    with SITES[tracker](lambda path, query, request, answer: poison_text(answer, suffix)) as connector:
        result = sync_tracker(store, connector, full=True)
    assert result.ok, result.error
    ids = sorted(store.items.live_ids(tracker))
    assert ids
    stored = [found.item for found in (store.items.by_id(tracker, i) for i in ids) if found is not None]
    for item in stored:
        texts = [item.title, item.url or "", item.status_name, *item.labels, *item.components]
        texts += [text for name, options in item.custom_fields.items() for text in (name, *options)]
        assert not any(UNSTORABLE.search(text) for text in texts), item
        assert len(item.status_name) <= schema.items.c.status_name.type.length
    if poison == "overlong":
        assert all(item.title.endswith(suffix) for item in stored)
    else:
        assert all(item.title.endswith("\ufffd\ufffd\ufffd") for item in stored)
        assert any(label.endswith("\ufffd\ufffd\ufffd") for item in stored for label in item.labels)
    store.plans.save(
        load_plan(SAMPLE_PLAN_PATH.read_text(encoding="utf-8"), str(SAMPLE_PLAN_PATH)), actor="t"
    )
    remap(store)
    viewer = store.tokens.create("viewer", "reader")
    with TestClient(create_app(Settings(), store)) as client:
        read_json(client, f"/api/reports/flags?kind=untagged&tracker={tracker}&limit=500", viewer)
        read_json(client, "/api/reports/effort-by-value", viewer)
        for item in stored[:5]:
            document = read_json(client, f"/api/items/{tracker}/{item.key}", viewer)
            assert document["item"]["title"] == item.title


def first_issue(change: Callable[[dict[str, Any]], None]) -> Rewrite:
    """A Jira rewrite that applies ``change`` to the first issue of every search page."""

    def rewrite(path: str, query: Mapping[str, str], request: Any, answer: Any) -> Any:
        if path.endswith("/search/jql") and answer.get("issues"):
            change(answer["issues"][0])
        return answer

    return rewrite


def test_an_item_whose_key_cannot_be_stored_fails_the_sync_naming_it(store: Database) -> None:
    def bad_key(issue: dict[str, Any]) -> None:
        issue["key"] += "\ud800"

    with jira_site(first_issue(bad_key)) as connector:
        result = sync_tracker(store, connector, full=True)
    assert not result.ok
    assert result.error is not None
    assert "its key holds control characters or unpaired surrogates" in result.error
    assert store.sync_state.last_successful_sync() == {}


def test_a_tracker_error_quoting_unstorable_text_is_recorded(store: Database) -> None:
    def bad_issue(issue: dict[str, Any]) -> None:  # the parser's error names the issue by its key
        issue["key"] += "\ud800\x00"
        del issue["fields"]["updated"]

    with jira_site(first_issue(bad_issue)) as connector:
        result = sync_tracker(store, connector, full=True)
    assert not result.ok
    assert result.error is not None
    assert "missing field 'updated'" in result.error
