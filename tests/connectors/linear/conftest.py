"""The sandbox Linear workspace the tag and link tests write into, through the real connector; and a
guard: respx intercepts httpx only, and gql imports ``httpx2`` instead whenever it is installed."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator

import pytest

from tests.connectors.linear.test_vocabulary import PLAN, provision
from v2mom.connectors.linear.connector import LinearConnector
from v2mom.connectors.linear.links import MARKER
from v2mom.sandbox.linear.app import create_linear_app
from v2mom.sandbox.linear.generator import linear_settings
from v2mom.sandbox.linear.state import LinearState
from v2mom.sandbox.server import SandboxServer
from v2mom.settings import SyncSettings
from v2mom.vocabulary import AppliedVocabulary, LinkWrite, TagWrite

ISSUES = 500
PUBLIC = "https://v2mom.example.com/items/linear"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Fail fast, before any Linear test runs, if ``httpx2`` would make respx blind."""
    if importlib.util.find_spec("httpx2") is not None:
        raise pytest.UsageError(
            "httpx2 is installed: gql would use it instead of httpx and respx would intercept nothing; "
            "uninstall httpx2 from the test environment"
        )


class Site:
    """A provisioned workspace on 127.0.0.1, its connector and the label ids per plan id."""

    def __init__(self, connector: LinearConnector, state: LinearState, known: AppliedVocabulary) -> None:
        self.connector, self.state = connector, state
        self.values = known.options["value"]
        self.methods = known.options["method"]

    def labels(self, issue_id: str) -> list[str]:
        """The names, as ``get_item`` reads them, of the issue's Value / Method labels."""
        item = self.connector.get_item(issue_id)
        return sorted(label for label in item.labels if label.startswith(("Value/", "Method/")))

    def calls(self, *kinds: str) -> int:
        return sum(self.connector.calls.calls.get(kind, 0) for kind in kinds)


def connect(state: LinearState, url: str, api_key: str | None = None) -> LinearConnector:
    settings = linear_settings(state, url, api_key=api_key)
    return LinearConnector(settings, SyncSettings(max_retries=2), sleep=lambda _: None)


@pytest.fixture
def site() -> Iterator[Site]:
    """One team, the Value / Method groups provisioned from the plan, and 10 issues."""
    state = LinearState()
    state.add_team("ENG", "Engineering")
    for n in range(10):
        state.add_issue("ENG", f"Issue {n}")
    with SandboxServer(create_linear_app(state)) as url:
        assert url.startswith("http://127.0.0.1:")
        connector = connect(state, url)
        try:
            yield Site(connector, state, provision(connector, PLAN))
        finally:
            connector.close()


def issue_ids(state: LinearState) -> list[str]:
    return sorted(state.issues, key=lambda i: state.issues[i].number)


def key(state: LinearState, issue_id: str) -> str:
    return state.issues[issue_id].identifier


def tag(state: LinearState, issue_id: str, value: str | None, method: str | None) -> TagWrite:
    return TagWrite(issue_id, key(state, issue_id), {"value": value, "method": method})


def link(state: LinearState, issue_id: str, url_key: str | None = None) -> LinkWrite:
    handle = key(state, issue_id)
    return LinkWrite(issue_id, handle, f"{PUBLIC}/{url_key or handle}", f"v2mom: why {handle}")


def ours(state: LinearState, issue_id: str) -> list[str]:
    return [a.url for a in state.attachments_of(issue_id) if a.subtitle == MARKER]
