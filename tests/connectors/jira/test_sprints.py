"""Jira Software's Sprint field is found by its type on each site, whatever its id or name, and the
sprints' names are read as that field's values on both deployments: Cloud serves sprint objects,
Data Center (REST v2) each sprint's ``Sprint@…[…]`` text."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator

import pytest
import requests
from pydantic import SecretStr

from tests.connectors.jira.test_parse import _issue, _parse
from tests.contracts import validate_jira, validate_jira_dc_issue
from v2mom.connectors.jira.connector import JiraConnector
from v2mom.connectors.jira.parse import select_custom_fields
from v2mom.mapping.plan import load_plan
from v2mom.mapping.resolver import Resolver
from v2mom.sandbox.jira.app import cloud_sprint, create_jira_app, dc_sprint
from v2mom.sandbox.jira.state import CLOUD_SPRINT, DC_SPRINT, SPRINT_TYPE, JiraState
from v2mom.sandbox.server import SandboxServer
from v2mom.settings import JiraSettings, SyncSettings

SPRINT = "Reliability sprint 3, part 1"  # a comma: Data Center's text does not escape it
RESOLVER = Resolver(
    load_plan(
        textwrap.dedent(
            f"""\
            vision: test
            values:
              - {{id: reliability, name: Reliability}}
            rules:
              - when: {{tracker: jira, custom_field: Sprint, equals: "{SPRINT}"}}
                value: reliability
            """
        )
    )
)


@pytest.mark.parametrize(
    ("value", "names"),
    [
        ([cloud_sprint(SPRINT)], (SPRINT,)),
        ([dc_sprint(SPRINT)], (SPRINT,)),
        ([dc_sprint("Last"), dc_sprint("Next")], ("Last", "Next")),
        (
            ["com.atlassian.greenhopper.service.sprint.Sprint@1f[id=1,rapidViewId=1,name=At the end]"],
            ("At the end",),
        ),
        ([{"name": "jdoe", "key": "JIRAUSER10000"}], ()),  # a user is no sprint: nothing
        (None, ()),
    ],
)
def test_sprint_names_are_read_from_either_deployments_shape(value: object, names: tuple[str, ...]) -> None:
    item = _parse(_issue(customfield_77=value), custom_field_names={"customfield_77": "Sprint"})
    assert item.custom_fields.get("Sprint", ()) == names


def test_the_sprint_field_is_selected_by_its_type_whatever_its_name() -> None:
    fields = [
        {
            "id": "customfield_77",
            "name": "Iteration",
            "custom": True,
            "schema": {"type": "array", "items": "json", "custom": SPRINT_TYPE},
        },
        {
            "id": "customfield_78",
            "name": "Sprint",
            "custom": True,
            "schema": {"type": "array", "items": "json", "custom": "x:other"},
        },
    ]
    assert select_custom_fields(fields) == {"customfield_77": "Iteration"}


@pytest.fixture(params=["cloud", "datacenter"])
def site(request: pytest.FixtureRequest) -> Iterator[tuple[str, JiraState]]:
    state = JiraState(deployment=request.param)
    state.add_project("ONB", "Onboarding", team_managed=False)
    for n in range(3):
        state.add_issue("ONB", f"Story {n}")
    with SandboxServer(create_jira_app(state)) as url:
        yield url, state


def test_each_deployment_serves_its_sprints_and_the_connector_reads_their_names(
    site: tuple[str, JiraState],
) -> None:
    url, state = site
    first, second, _ = sorted(state.issues)
    state.update_issue(first, sprint=SPRINT)
    if state.datacenter:
        settings = JiraSettings(
            url=url, deployment="datacenter", token=SecretStr(state.api_token), jql="project = ONB"
        )
    else:
        settings = JiraSettings(
            url=url, email=state.account_email, api_token=SecretStr(state.api_token), jql="project = ONB"
        )
    connector = JiraConnector(settings, SyncSettings(max_retries=0))
    try:
        items = {item.id: item for page in connector.iter_pages(None) for item in page.items}
    finally:
        connector.close()
    sprint_field = DC_SPRINT if state.datacenter else CLOUD_SPRINT  # each instance has its own id
    assert items[str(first)].custom_fields["Sprint"] == (SPRINT,)
    assert "Sprint" not in items[str(second)].custom_fields
    # A rule on the sprint tags the issues in it, and only them.
    resolved = {
        i: RESOLVER.resolve(items[str(i)], None, parent_ref=None, parent_missing=False)
        for i in (first, second)
    }
    assert resolved[first].values == {"reliability": 1.0}
    assert resolved[second].values == {}
    # What the site served validates against its deployment's spec.
    session = requests.Session()
    if state.datacenter:
        session.headers["Authorization"] = f"Bearer {state.api_token}"
        raw = session.get(f"{url}/rest/api/2/issue/{first}", params={"fields": sprint_field}).json()
        validate_jira_dc_issue(raw)
        assert raw["fields"][sprint_field] == [dc_sprint(SPRINT)]
    else:
        session.auth = (state.account_email, state.api_token)
        raw = session.get(f"{url}/rest/api/3/issue/{first}", params={"fields": sprint_field}).json()
        validate_jira("IssueBean", raw)
        assert raw["fields"][sprint_field] == [cloud_sprint(SPRINT)]
