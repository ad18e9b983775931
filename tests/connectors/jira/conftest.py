"""The sandbox Jira site the tag and link tests write into, through the real connector."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from tests.connectors.jira.test_vocabulary import PLAN, provision
from v2mom.connectors.jira.connector import JiraConnector
from v2mom.sandbox.jira.app import create_jira_app
from v2mom.sandbox.jira.state import JiraState
from v2mom.sandbox.server import SandboxServer
from v2mom.settings import JiraSettings, SyncSettings
from v2mom.vocabulary import FIELD_NAMES, Kind, TagWrite

ISSUES = 2500
VALUE, METHOD = FIELD_NAMES["value"], FIELD_NAMES["method"]
Known = dict[str, dict[str, str]]


class Site:
    """A provisioned sandbox site, its connector, the recorded option ids and the waits it slept."""

    def __init__(self, state: JiraState, url: str) -> None:
        self.state = state
        self.url = url
        self.slept: list[float] = []
        self.connector = connect(state, url, self.slept)
        self.known: Known = provision(self.connector, PLAN)
        self.ids = [str(i) for i in sorted(state.issues)]

    def option(self, kind: Kind, plan_id: str) -> str:
        return self.known[kind][plan_id]

    def write(self, item_id: str, **options: str | None) -> TagWrite:
        return TagWrite(item_id, self.state.issues[int(item_id)].key, options)  # type: ignore[arg-type]


def connect(state: JiraState, url: str, slept: list[float], *, token: str | None = None) -> JiraConnector:
    """The real connector on the sandbox; waits are recorded instead of slept."""
    settings = JiraSettings(
        url=url,
        email=state.account_email,
        api_token=SecretStr(token or state.api_token),
        jql="project = ONB",
    )
    return JiraConnector(settings, SyncSettings(max_retries=3), sleep=slept.append)


@pytest.fixture
def site() -> Iterator[Site]:
    """A site without the V2MOM fields, 2,500 stories in ONB, then ``provision --apply``."""
    state = JiraState()
    state.fields = [f for f in state.fields if f["name"] not in FIELD_NAMES.values()]
    state.add_project("ONB", "Onboarding", team_managed=True)
    for n in range(ISSUES):
        state.add_issue("ONB", f"Story {n}")
    with SandboxServer(create_jira_app(state)) as url:
        made = Site(state, url)
        yield made
        made.connector.close()


def spent(connector: JiraConnector, before: dict[str, int]) -> dict[str, int]:
    return {k: v - before.get(k, 0) for k, v in connector.calls.calls.items() if v != before.get(k, 0)}


def chosen(site: Site, item_id: str) -> dict[str, tuple[str, ...]]:
    """The V2MOM choices of an issue, read back through ``get_item``."""
    fields = site.connector.get_item(item_id).custom_fields
    return {name: fields[name] for name in (VALUE, METHOD) if name in fields}
