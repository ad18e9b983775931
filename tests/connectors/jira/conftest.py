"""The sandbox Jira site the tag and link tests write into, through the real connector."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.connectors.jira.test_vocabulary import PLAN, jira_section, provision
from v2mom.connectors.jira.connector import JiraConnector
from v2mom.sandbox.jira.app import create_jira_app
from v2mom.sandbox.jira.state import Deployment, JiraState
from v2mom.sandbox.server import SandboxServer
from v2mom.settings import SyncSettings
from v2mom.vocabulary import FIELD_NAMES, Kind, TagWrite

ISSUES = 2500
DC_ISSUES = 40  # Data Center edits one issue per request: fewer issues test the same paths
VALUE, METHOD = FIELD_NAMES["value"], FIELD_NAMES["method"]
Known = dict[str, dict[str, str]]


class Site:
    """A provisioned sandbox site, its connector, the recorded option ids and the waits it slept."""

    def __init__(self, state: JiraState, url: str) -> None:
        self.state = state
        self.url = url
        self.slept: list[float] = []
        self.connector = connect(state, url, self.slept)
        self.known: Known = provision(self.connector, PLAN, state=state)
        self.ids = [str(i) for i in sorted(state.issues)]

    @property
    def datacenter(self) -> bool:
        """Whether the site is Jira Data Center (REST v2, one edit per issue)."""
        return self.state.datacenter

    def path(self, resource: str) -> str:
        """The site's path of ``resource`` (``/rest/api/3/…`` on Cloud, ``/rest/api/2/…`` on Data Center)."""
        return f"{self.state.api}/{resource}"

    def option(self, kind: Kind, plan_id: str) -> str:
        return self.known[kind][plan_id]

    def write(self, item_id: str, **options: str | None) -> TagWrite:
        return TagWrite(item_id, self.state.issues[int(item_id)].key, options)  # type: ignore[arg-type]


def connect(state: JiraState, url: str, slept: list[float], *, token: str | None = None) -> JiraConnector:
    """The real connector on the sandbox; waits are recorded instead of slept."""
    return JiraConnector(jira_section(state, url, token), SyncSettings(max_retries=3), sleep=slept.append)


def serve_site(deployment: Deployment) -> Iterator[Site]:
    """A site without the V2MOM fields, stories in ONB (2,500 on Cloud, 40 on Data Center), then
    ``provision --apply`` (on Data Center, with the options an administrator adds)."""
    state = JiraState(deployment=deployment)
    state.fields = [f for f in state.fields if f["name"] not in FIELD_NAMES.values()]
    state.add_project("ONB", "Onboarding", team_managed=not state.datacenter)
    for n in range(DC_ISSUES if state.datacenter else ISSUES):
        state.add_issue("ONB", f"Story {n}")
    with SandboxServer(create_jira_app(state)) as url:
        made = Site(state, url)
        yield made
        made.connector.close()


@pytest.fixture(params=["cloud", "datacenter"])
def site(request: pytest.FixtureRequest) -> Iterator[Site]:
    """The site on each deployment."""
    yield from serve_site(request.param)


@pytest.fixture
def cloud_site() -> Iterator[Site]:
    """The site on Jira Cloud only (bulk edit's own behaviour)."""
    yield from serve_site("cloud")


@pytest.fixture
def dc_site() -> Iterator[Site]:
    """The site on Jira Data Center only."""
    yield from serve_site("datacenter")


def spent(connector: JiraConnector, before: dict[str, int]) -> dict[str, int]:
    return {k: v - before.get(k, 0) for k, v in connector.calls.calls.items() if v != before.get(k, 0)}


def chosen(site: Site, item_id: str) -> dict[str, tuple[str, ...]]:
    """The V2MOM choices of an issue, read back through ``get_item`` (on Data Center, as
    ``GET /rest/api/2/issue/{id}`` renders its select values)."""
    if not site.datacenter:
        fields = site.connector.get_item(item_id).custom_fields
        return {name: fields[name] for name in (VALUE, METHOD) if name in fields}
    ids = site.connector.read_vocabulary().containers
    field_ids = {ids["value"]: VALUE, ids["method"]: METHOD}
    raw = site.connector._client.get_issue(item_id, [f for f in field_ids if f])["fields"]
    return {field_ids[f]: (v["value"],) for f, v in raw.items() if f in field_ids and v is not None}
