"""The sandbox's custom field administration answers as Jira's spec says (fields, contexts, options),
and refuses (duplicates, missing admin rights, unknown contexts) with Jira's ErrorCollection."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.contracts import validate_jira
from v2mom.connectors.jira.client import SELECT_SEARCHER, SELECT_TYPE
from v2mom.sandbox.jira.app import create_jira_app
from v2mom.sandbox.jira.state import JiraState
from v2mom.sandbox.server import SandboxServer

Site = tuple[str, JiraState, requests.Session]


@pytest.fixture
def site() -> Iterator[Site]:
    state = JiraState()
    with SandboxServer(create_jira_app(state)) as url:
        session = requests.Session()
        session.auth = (state.account_email, state.api_token)
        yield f"{url}/rest/api/3", state, session


def make_select(site: Site, name: str = "V2MOM Value") -> tuple[str, str]:
    """A select field with a global context, created through the API: (field id, context id)."""
    api, _, session = site
    field = session.post(
        f"{api}/field", json={"name": name, "type": SELECT_TYPE, "searcherKey": SELECT_SEARCHER}
    )
    assert field.status_code == 201
    context = session.post(f"{api}/field/{field.json()['id']}/context", json={"name": "Global"})
    assert context.status_code == 201
    return field.json()["id"], context.json()["id"]


def test_created_field_and_context_follow_the_spec(site: Site) -> None:
    api, _, session = site
    field = session.post(
        f"{api}/field", json={"name": "V2MOM Value", "type": SELECT_TYPE, "searcherKey": SELECT_SEARCHER}
    )
    assert field.status_code == 201
    validate_jira("FieldDetails", field.json())
    assert field.json()["schema"] == {
        "type": "option",
        "custom": SELECT_TYPE,
        "customId": int(field.json()["id"].split("_")[1]),
    }
    listed = [f for f in session.get(f"{api}/field").json() if f["id"] == field.json()["id"]]
    assert len(listed) == 1
    validate_jira("FieldDetails", listed[0])

    field_id = field.json()["id"]
    empty = session.get(f"{api}/field/{field_id}/context", params={"isGlobalContext": "true"}).json()
    validate_jira("PageBeanCustomFieldContext", empty)
    assert (empty["values"], empty["isLast"]) == ([], True)
    created = session.post(
        f"{api}/field/{field_id}/context", json={"name": "Global", "projectIds": [], "issueTypeIds": []}
    )
    assert created.status_code == 201
    validate_jira("CreateCustomFieldContext", created.json())
    page = session.get(f"{api}/field/{field_id}/context", params={"isGlobalContext": "true"}).json()
    validate_jira("PageBeanCustomFieldContext", page)
    assert [(c["id"], c["isGlobalContext"]) for c in page["values"]] == [(created.json()["id"], True)]
    second = session.post(f"{api}/field/{field_id}/context", json={"name": "Another global"})
    assert second.status_code == 400
    validate_jira("ErrorCollection", second.json())


def test_options_are_created_paged_and_updated_as_the_spec_says(site: Site) -> None:
    api, state, session = site
    field_id, context_id = make_select(site)
    options_url = f"{api}/field/{field_id}/context/{context_id}/option"
    created = session.post(options_url, json={"options": [{"value": f"Option {i}"} for i in range(5)]})
    assert created.status_code == 200
    validate_jira("CustomFieldCreatedContextOptionsList", created.json())
    ids = [o["id"] for o in created.json()["options"]]
    assert len(set(ids)) == 5

    state.option_page_size = 2
    first = session.get(options_url).json()
    validate_jira("PageBeanCustomFieldContextOption", first)
    assert (len(first["values"]), first["isLast"], first["total"]) == (2, False, 5)
    last = session.get(options_url, params={"startAt": 4}).json()
    validate_jira("PageBeanCustomFieldContextOption", last)
    assert ([o["id"] for o in last["values"]], last["isLast"]) == ([ids[4]], True)

    updated = session.put(
        options_url, json={"options": [{"id": ids[0], "value": "Renamed"}, {"id": ids[1], "disabled": True}]}
    )
    assert updated.status_code == 200
    validate_jira("CustomFieldUpdatedContextOptionsList", updated.json())
    state.option_page_size = 100
    now = {o["id"]: (o["value"], o["disabled"]) for o in session.get(options_url).json()["values"]}
    assert now[ids[0]] == ("Renamed", False)
    assert now[ids[1]] == ("Option 1", True)


@pytest.mark.parametrize(
    ("method", "body"),
    [
        ("POST", {"options": [{"value": "option 0"}]}),  # values are unique in a context, any case
        ("PUT", {"options": [{"id": "OPTION-1", "value": "Option 0"}]}),  # renamed onto a taken value
        ("PUT", {"options": [{"id": "999999", "disabled": True}]}),  # not an option of this context
    ],
)
def test_refused_option_changes_are_400_error_collections(
    site: Site, method: str, body: dict[str, object]
) -> None:
    api, _, session = site
    field_id, context_id = make_select(site)
    options_url = f"{api}/field/{field_id}/context/{context_id}/option"
    made = session.post(options_url, json={"options": [{"value": "Option 0"}, {"value": "Option 1"}]}).json()
    if body["options"][0].get("id") == "OPTION-1":  # type: ignore[index]
        body = {"options": [{"id": made["options"][1]["id"], "value": "Option 0"}]}
    answer = session.request(method, options_url, json=body)
    assert answer.status_code == 400
    validate_jira("ErrorCollection", answer.json())
    assert [o["value"] for o in session.get(options_url).json()["values"]] == ["Option 0", "Option 1"]


def test_permission_and_unknown_context_refusals(site: Site) -> None:
    api, state, session = site
    field_id, context_id = make_select(site)
    missing = session.get(f"{api}/field/{field_id}/context/1/option")
    assert missing.status_code == 404
    validate_jira("ErrorCollection", missing.json())
    state.administrator = False
    refused = session.post(
        f"{api}/field", json={"name": "X", "type": SELECT_TYPE, "searcherKey": SELECT_SEARCHER}
    )
    assert refused.status_code == 403
    validate_jira("ErrorCollection", refused.json())
    options = session.post(
        f"{api}/field/{field_id}/context/{context_id}/option", json={"options": [{"value": "A"}]}
    )
    assert options.status_code == 403
    state.administrator = True
    state.inject_fault(403, path_prefix="/rest/api/3/field")
    faulted = session.post(
        f"{api}/field", json={"name": "X", "type": SELECT_TYPE, "searcherKey": SELECT_SEARCHER}
    )
    assert faulted.status_code == 403
    validate_jira("ErrorCollection", faulted.json())
