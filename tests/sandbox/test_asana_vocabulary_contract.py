"""The sandbox's custom fields, enum options and project field settings follow Asana's spec.

Requests go through the real SDK (``asana`` v5, ``full_payload``) as the connector sends them; every
answer is validated against Asana's OpenAPI, and the state behind it is checked too.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import asana
import pytest
import urllib3
from asana.rest import ApiException

from tests.contracts import validate_asana
from v2mom.sandbox.asana.app import create_asana_app
from v2mom.sandbox.asana.state import AsanaState
from v2mom.sandbox.server import SandboxServer

FIELD_OPTS = "name,resource_subtype,type,enum_options,enum_options.name,enum_options.enabled"


@dataclass
class Apis:
    state: AsanaState
    project: str
    fields: asana.CustomFieldsApi
    settings: asana.CustomFieldSettingsApi
    projects: asana.ProjectsApi


@pytest.fixture
def apis() -> Iterator[Apis]:
    state = AsanaState(default_fields=False)
    project = state.add_project("Platform")
    with SandboxServer(create_asana_app(state)) as url:
        configuration = asana.Configuration()
        configuration.host = f"{url}/api/1.0"
        configuration.access_token = state.token
        configuration.retry_strategy = urllib3.Retry(0)
        client = asana.ApiClient(configuration)
        yield Apis(
            state,
            project,
            asana.CustomFieldsApi(client),
            asana.CustomFieldSettingsApi(client),
            asana.ProjectsApi(client),
        )


def create_field(apis: Apis, name: str) -> dict[str, Any]:
    body = {"data": {"workspace": apis.state.workspace_gid, "name": name, "resource_subtype": "enum"}}
    data: dict[str, Any] = apis.fields.create_custom_field(body, {}, full_payload=True)["data"]
    return data


def errors_of(exc: ApiException) -> str:
    body = json.loads(exc.body)
    validate_asana("ErrorResponse", body)
    return str(body["errors"][0]["message"])


def test_a_created_enum_field_and_its_options_validate(apis: Apis) -> None:
    created = create_field(apis, "V2MOM Value")
    validate_asana("CustomFieldResponse", created)
    assert (created["name"], created["resource_subtype"]) == ("V2MOM Value", "enum")
    assert created["enum_options"] == []
    option = apis.fields.create_enum_option_for_custom_field(
        created["gid"], {"body": {"data": {"name": "Reliability"}}}, full_payload=True
    )["data"]
    validate_asana("EnumOption", option)
    assert (option["name"], option["enabled"]) == ("Reliability", True)
    listed = apis.fields.get_custom_fields_for_workspace(
        apis.state.workspace_gid, {"opt_fields": FIELD_OPTS}, full_payload=True
    )
    assert listed["next_page"] is None
    for record in listed["data"]:
        validate_asana("CustomFieldResponse", record)
    assert listed["data"][0]["enum_options"] == [
        {"gid": option["gid"], "name": "Reliability", "enabled": True}
    ]


def test_a_duplicate_field_or_option_name_is_a_400(apis: Apis) -> None:
    created = create_field(apis, "V2MOM Method")
    with pytest.raises(ApiException) as field_twice:
        create_field(apis, "v2mom method")
    assert field_twice.value.status == 400
    assert "already exists" in errors_of(field_twice.value)
    opts = {"body": {"data": {"name": "SLO program"}}}
    apis.fields.create_enum_option_for_custom_field(created["gid"], opts, full_payload=True)
    with pytest.raises(ApiException) as option_twice:
        apis.fields.create_enum_option_for_custom_field(created["gid"], opts, full_payload=True)
    assert option_twice.value.status == 400
    assert "already exists" in errors_of(option_twice.value)
    assert [o.name for o in apis.state.custom_fields["V2MOM Method"].enum_options] == ["SLO program"]


def test_an_option_is_renamed_and_disabled_in_place_never_deleted(apis: Apis) -> None:
    created = create_field(apis, "V2MOM Value")
    add = apis.fields.create_enum_option_for_custom_field
    first = add(created["gid"], {"body": {"data": {"name": "Speed"}}}, full_payload=True)["data"]
    add(created["gid"], {"body": {"data": {"name": "Care"}}}, full_payload=True)
    renamed = apis.fields.update_enum_option(
        first["gid"], {"body": {"data": {"name": "Velocity"}}}, full_payload=True
    )["data"]
    validate_asana("EnumOption", renamed)
    assert (renamed["gid"], renamed["name"], renamed["enabled"]) == (first["gid"], "Velocity", True)
    disabled = apis.fields.update_enum_option(
        first["gid"], {"body": {"data": {"enabled": False}}}, full_payload=True
    )["data"]
    validate_asana("EnumOption", disabled)
    options = apis.state.custom_fields["V2MOM Value"].enum_options
    assert [(o.gid, o.name, o.enabled) for o in options] == [
        (first["gid"], "Velocity", False),
        (options[1].gid, "Care", True),
    ]
    with pytest.raises(ApiException) as last:  # Asana keeps one enabled option on an enum field
        apis.fields.update_enum_option(
            options[1].gid, {"body": {"data": {"enabled": False}}}, full_payload=True
        )
    assert last.value.status == 400


def test_fields_join_projects_through_custom_field_settings(apis: Apis) -> None:
    created = create_field(apis, "V2MOM Value")
    setting = apis.projects.add_custom_field_setting_for_project(
        {"data": {"custom_field": created["gid"]}}, apis.project, {}, full_payload=True
    )["data"]
    validate_asana("CustomFieldSettingResponse", setting)
    assert setting["custom_field"]["gid"] == created["gid"]
    with pytest.raises(ApiException) as twice:
        apis.projects.add_custom_field_setting_for_project(
            {"data": {"custom_field": created["gid"]}}, apis.project, {}, full_payload=True
        )
    assert twice.value.status == 400
    listed = apis.settings.get_custom_field_settings_for_project(
        apis.project, {"opt_fields": "custom_field,custom_field.name"}, full_payload=True
    )
    for record in listed["data"]:
        validate_asana("CustomFieldSettingResponse", record)
    assert [s["custom_field"] for s in listed["data"]] == [{"gid": created["gid"], "name": "V2MOM Value"}]


def test_workspace_fields_page_by_offset(apis: Apis) -> None:
    made = [create_field(apis, f"Field {n}")["gid"] for n in range(5)]
    seen: list[str] = []
    offset: str | None = None
    while True:
        opts: dict[str, Any] = {"limit": 2, "opt_fields": FIELD_OPTS}
        if offset:
            opts["offset"] = offset
        body = apis.fields.get_custom_fields_for_workspace(apis.state.workspace_gid, opts, full_payload=True)
        seen.extend(f["gid"] for f in body["data"])
        if body["next_page"] is None:
            break
        validate_asana("NextPage", body["next_page"])
        offset = body["next_page"]["offset"]
    assert seen == made


def test_a_locked_field_and_an_injected_fault_answer_403(apis: Apis) -> None:
    created = create_field(apis, "V2MOM Value")
    apis.state.custom_fields["V2MOM Value"].locked = True
    with pytest.raises(ApiException) as locked:
        apis.fields.create_enum_option_for_custom_field(
            created["gid"], {"body": {"data": {"name": "Speed"}}}, full_payload=True
        )
    assert locked.value.status == 403
    assert "Locked" in errors_of(locked.value)
    apis.state.inject_fault(403, path_prefix="/api/1.0/custom_fields")
    with pytest.raises(ApiException) as faulted:
        create_field(apis, "V2MOM Method")
    assert faulted.value.status == 403
    assert "V2MOM Method" not in apis.state.custom_fields
