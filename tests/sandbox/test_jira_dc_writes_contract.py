"""The Jira Data Center sandbox's write path cannot drift from the real API: field creation, option
listings, issue edits and remote links validate against Atlassian's Data Center 10.3 OpenAPI, and
it answers what Data Center answers where Cloud differs (no option writes, no bulk edit)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.contracts import validate_jira_dc
from v2mom.sandbox.jira.app import create_jira_app
from v2mom.sandbox.jira.datacenter_writes import LINKING_DISABLED, NOTIFY_REFUSED
from v2mom.sandbox.jira.state import JiraState
from v2mom.sandbox.server import SandboxServer

SELECT = "com.atlassian.jira.plugin.system.customfieldtypes:select"
SEARCHER = "com.atlassian.jira.plugin.system.customfieldtypes:multiselectsearcher"
Site = tuple[str, JiraState, requests.Session]


@pytest.fixture
def site() -> Iterator[Site]:
    state = JiraState(deployment="datacenter")
    state.add_project("ONB", "Onboarding", team_managed=False)
    for n in range(3):
        state.add_issue("ONB", f"Story {n}")
    with SandboxServer(create_jira_app(state)) as url:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {state.api_token}"
        yield url, state, session


def created_field(site: Site, name: str = "Team Focus") -> dict[str, object]:
    url, _, session = site
    answer = session.post(
        f"{url}/rest/api/2/field",
        json={"name": name, "description": "d", "type": SELECT, "searcherKey": SEARCHER},
    )
    assert answer.status_code == 201, answer.text
    body: dict[str, object] = answer.json()
    return body


def test_a_created_field_is_a_field_bean_with_a_global_context(site: Site) -> None:
    url, state, session = site
    field = created_field(site)
    validate_jira_dc("FieldBean", field)
    field_id = str(field["id"])
    assert field_id.startswith("customfield_")
    assert [c.is_global for c in state.field_contexts(field_id)] == [True]  # made with the field
    state.administrator = False
    refused = session.post(f"{url}/rest/api/2/field", json={"name": "X", "type": SELECT})
    assert refused.status_code == 403
    validate_jira_dc("ErrorCollection", refused.json())


def test_options_are_listed_page_by_page_from_1_and_one_option_is_read(site: Site) -> None:
    url, state, session = site
    field_id = str(created_field(site)["id"])
    numeric = field_id.removeprefix("customfield_")
    made = [state.add_field_option(field_id, f"Option {n}") for n in range(5)]
    made[1].disabled = True
    first = session.get(f"{url}/rest/api/2/customFields/{numeric}/options", params={"maxResults": 2}).json()
    validate_jira_dc("CustomFieldOptionsBean", first)
    assert first["total"] == 5
    assert [o["value"] for o in first["options"]] == ["Option 0", "Option 1"]
    assert [o["disabled"] for o in first["options"]] == [False, True]
    pages = [
        session.get(f"{url}/rest/api/2/customFields/{numeric}/options", params={"maxResults": 2, "page": p})
        for p in (1, 3, 4)
    ]
    assert pages[0].json() == first
    assert [o["value"] for o in pages[1].json()["options"]] == ["Option 4"]
    assert pages[2].json()["options"] == []
    unknown = session.get(f"{url}/rest/api/2/customFields/99999/options")
    assert unknown.status_code == 404
    one = session.get(f"{url}/rest/api/2/customFieldOption/{made[4].id}").json()
    validate_jira_dc("CustomFieldOptionBean", one)
    assert (one["id"], one["value"]) == (int(made[4].id), "Option 4")


def test_there_is_no_rest_api_for_options_or_contexts_or_bulk_edit(site: Site) -> None:
    url, _, session = site
    field_id = str(created_field(site)["id"])
    tries = [
        session.post(f"{url}/rest/api/2/field/{field_id}/context", json={"name": "c"}),
        session.get(f"{url}/rest/api/2/field/{field_id}/context"),
        session.post(f"{url}/rest/api/3/bulk/issues/fields", json={}),
        session.post(f"{url}/rest/api/2/customFields/{field_id}/options", json={"value": "x"}),
    ]
    assert [t.status_code for t in tries] == [404, 404, 404, 405]


def test_an_edit_sets_and_clears_a_select_and_refuses_what_data_center_refuses(site: Site) -> None:
    url, state, session = site
    field_id = str(created_field(site)["id"])
    good = state.add_field_option(field_id, "Good")
    off = state.add_field_option(field_id, "Off")
    off.disabled = True
    issue = state.issues[min(state.issues)]
    off_screen = session.put(
        f"{url}/rest/api/2/issue/{issue.key}", json={"fields": {field_id: {"id": good.id}}}
    )
    assert off_screen.status_code == 400  # a field made through REST is on no screen yet
    assert "not on the appropriate screen" in off_screen.json()["errors"][field_id]
    state.put_on_screens(field_id)  # the administrator's step
    put = session.put(f"{url}/rest/api/2/issue/{issue.key}", json={"fields": {field_id: {"id": good.id}}})
    assert (put.status_code, put.text) == (204, "")
    assert issue.selects == {field_id: "Good"}
    shown = session.get(f"{url}/rest/api/2/issue/{issue.id}", params={"fields": field_id}).json()
    assert shown["fields"][field_id]["value"] == "Good"
    assert shown["fields"][field_id]["self"] == f"{url}/rest/api/2/customFieldOption/{good.id}"

    for value in ({"id": off.id}, {"id": "424242"}, {"value": "Nope"}):
        refused = session.put(f"{url}/rest/api/2/issue/{issue.id}", json={"fields": {field_id: value}})
        assert refused.status_code == 400
        validate_jira_dc("ErrorCollection", refused.json())
        assert "is not valid" in refused.json()["errors"][field_id]
    assert issue.selects == {field_id: "Good"}  # all or nothing
    other = state.add_field_option(field_id, "Other")
    unknown = session.put(
        f"{url}/rest/api/2/issue/{issue.id}",
        json={"fields": {field_id: {"id": other.id}, "customfield_1": None}},
    )
    assert "not on the appropriate screen" in unknown.json()["errors"]["customfield_1"]
    assert issue.selects == {field_id: "Good"}  # the valid half was not applied either

    cleared = session.put(
        f"{url}/rest/api/2/issue/{issue.id}",
        params={"notifyUsers": "false"},
        json={"fields": {field_id: None}},
    )
    assert cleared.status_code == 204
    assert issue.selects == {}
    state.administrator = False
    quiet = session.put(
        f"{url}/rest/api/2/issue/{issue.id}",
        params={"notifyUsers": "false"},
        json={"fields": {field_id: None}},
    )
    assert (quiet.status_code, quiet.json()["errorMessages"]) == (403, [NOTIFY_REFUSED])
    gone = session.put(f"{url}/rest/api/2/issue/ONB-999", json={"fields": {}})
    assert gone.status_code == 404


def test_remote_links_are_upserted_by_global_id_unless_linking_is_turned_off(site: Site) -> None:
    url, state, session = site
    issue = state.issues[min(state.issues)]
    body = {
        "globalId": "g-1",
        "application": {"name": "v2mom-sync"},
        "object": {"url": "https://x/1", "title": "t"},
    }
    created = session.post(f"{url}/rest/api/2/issue/{issue.id}/remotelink", json=body)
    updated = session.post(
        f"{url}/rest/api/2/issue/{issue.key}/remotelink",
        json=body | {"object": {"url": "https://x/2", "title": "u"}},
    )
    assert (created.status_code, updated.status_code) == (201, 200)
    assert created.json()["id"] == updated.json()["id"]
    validate_jira_dc("RemoteIssueLinkBean", updated.json())
    listed = session.get(f"{url}/rest/api/2/issue/{issue.id}/remotelink").json()
    assert [link["object"]["url"] for link in listed] == ["https://x/2"]
    for link in listed:
        validate_jira_dc("RemoteIssueLinkBean", link)
        assert link["self"].startswith(f"{url}/rest/api/2/issue/")

    state.remote_links_disabled = True
    refused = session.post(f"{url}/rest/api/2/issue/{issue.id}/remotelink", json=body)
    assert (refused.status_code, refused.json()["errorMessages"]) == (403, [LINKING_DISABLED])
    validate_jira_dc("ErrorCollection", refused.json())
    assert session.get(f"{url}/rest/api/2/issue/{issue.id}/remotelink").status_code == 403


def test_a_field_added_to_the_default_screen_can_be_set_unless_projects_have_their_own(site: Site) -> None:
    url, state, session = site
    field_id = str(created_field(site)["id"])
    good = state.add_field_option(field_id, "Good")
    issue = state.issues[min(state.issues)]
    state.own_screens = True  # the projects edit through screens of their own
    added = session.post(f"{url}/rest/api/2/screens/addToDefault/{field_id}")
    assert (added.status_code, added.text) == (204, "")  # the spec's answer: no content
    assert field_id in state.default_screen
    edit = {"fields": {field_id: {"id": good.id}}}
    assert session.put(f"{url}/rest/api/2/issue/{issue.key}", json=edit).status_code == 400
    state.own_screens = False
    again = created_field(site, "Other Focus")
    other = str(again["id"])
    assert session.post(f"{url}/rest/api/2/screens/addToDefault/{other}").status_code == 204
    other_option = state.add_field_option(other, "Yes")
    put = session.put(
        f"{url}/rest/api/2/issue/{issue.key}", json={"fields": {other: {"id": other_option.id}}}
    )
    assert (put.status_code, put.text) == (204, "")  # on the Default Screen, which the project uses
    unknown = session.post(f"{url}/rest/api/2/screens/addToDefault/customfield_99999")
    assert unknown.status_code == 400
    validate_jira_dc("ErrorCollection", unknown.json())
    state.administrator = False
    refused = session.post(f"{url}/rest/api/2/screens/addToDefault/{field_id}")
    assert refused.status_code == 403
    validate_jira_dc("ErrorCollection", refused.json())
