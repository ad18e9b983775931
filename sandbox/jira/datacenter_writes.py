"""The fake Jira Data Center's write path: custom fields, their options, issue edits, remote links.

Served on ``/rest/api/2`` for a Data Center state only, as Jira Data Center 10.3 answers them:

- ``POST /rest/api/2/field`` (CustomFieldDefinitionJsonBean) creates the field and, as Data Center
  does, its global context, on no screen (edits cannot set it until an admin puts it on the edit
  screens: :meth:`JiraState.put_on_screens`); ``201`` with the FieldBean; ``403`` for a
  non-administrator.
- ``POST /rest/api/2/screens/addToDefault/{fieldId}``: ``204``; the field is on the Default Screen,
  which lets edits set it unless the projects use screens of their own (``state.own_screens``);
  ``403`` for a non-administrator, ``400`` for a field the site lacks.
- ``GET /rest/api/2/customFields/{customFieldId}/options`` (the numeric id): the options of the
  field's global context as CustomFieldOptionsBean ``{"options", "total"}``, ``maxResults`` per page
  (at most ``state.option_page_size``), ``page`` counted from 1 (the first when absent).
- ``GET /rest/api/2/customFieldOption/{id}``: one CustomFieldOptionBean.
- ``PUT /rest/api/2/issue/{issueIdOrKey}`` ``{"fields": {…}}``: select fields only, set by option
  ``{"id"}`` or ``{"value"}`` or cleared with ``null``; all or nothing; ``204``. An option that is not
  the field's, or disabled, is a ``400`` naming the field in ``errors``; ``notifyUsers=false`` from a
  non-administrator is a ``403``. An edit that changes the issue bumps ``updated`` and fires
  ``jira:issue_updated``; one that changes nothing leaves it alone.
- ``POST`` / ``GET /rest/api/2/issue/{issueIdOrKey}/remotelink``: as on Cloud (writes.py). With
  remote issue linking turned off by an admin (``state.remote_links_disabled``) both answer ``403``
  with Jira's message, as the spec documents ("if issue linking is disabled").

There is no route to create, rename, disable or enable an option, nor for contexts: an admin does
that in Jira's administration (:meth:`JiraState.add_field_option` stands for it).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from v2mom.sandbox.jira.http import error, json_body, request_id_headers
from v2mom.sandbox.jira.state import SELECT_TYPE, FieldAdminError, FieldOption, Issue, JiraState
from v2mom.sandbox.jira.writes import register_remote_link_routes

__all__ = ["LINKING_DISABLED", "NOTIFY_REFUSED", "register_datacenter_write_routes"]

LINKING_DISABLED = "Issue linking is currently disabled."
NOTIFY_REFUSED = "To discard the user notification either admin or project admin permissions are required."
DEFAULT_OPTION_PAGE = 100


def _field_errors(status: int, errors: dict[str, str]) -> JSONResponse:
    """Jira's ErrorCollection with per-field ``errors`` (what a refused edit answers)."""
    return JSONResponse(
        {"errorMessages": [], "errors": errors}, status_code=status, headers=request_id_headers()
    )


def option_json(base: str, option: FieldOption) -> dict[str, Any]:
    """A CustomFieldOptionBean (its ``id`` is a number there)."""
    return {
        "self": f"{base}/rest/api/2/customFieldOption/{option.id}",
        "value": option.value,
        "id": int(option.id),
        "disabled": option.disabled,
    }


def _global_options(state: JiraState, field_id: str) -> list[FieldOption] | None:
    """The options of the field's global context ([] without one); None when not a custom field."""
    described = state.field_by_id(field_id)
    if described is None or described.get("custom") is not True:
        return None
    with state.lock:
        return [o for c in state.field_contexts(field_id) if c.is_global for o in c.options]


def _chosen(state: JiraState, field_id: str, value: object) -> FieldOption | str | None:
    """The option ``value`` picks for ``field_id`` (None: clear), or the error text for the field."""
    if value is None:
        return None
    ref = value.get("id") if isinstance(value, dict) else None
    name = value.get("value") if isinstance(value, dict) else None
    if isinstance(ref, int | str) and not isinstance(ref, bool):
        option = state.option_of(field_id, str(ref))
        if option is None or option.disabled:
            return f"Option id '{ref}' is not valid"
        return option
    if isinstance(name, str):
        found = next((o for o in _global_options(state, field_id) or [] if o.value == name), None)
        if found is None or found.disabled:
            return f"Option value '{name}' is not valid"
        return found
    return "Could not find valid 'id' or 'value' in the Parent Option object."


def edit_issue(state: JiraState, issue: Issue, fields: dict[str, Any]) -> dict[str, str]:
    """Apply the select values of ``fields`` to ``issue`` (all or nothing); field id -> error."""
    errors: dict[str, str] = {}
    selects, select_ids = dict(issue.selects), dict(issue.select_ids)
    for field_id, value in fields.items():
        described = state.field_by_id(field_id)
        if (
            described is None
            or (described.get("schema") or {}).get("custom") != SELECT_TYPE
            or field_id in state.off_screens
        ):
            errors[field_id] = (
                f"Field '{field_id}' cannot be set. It is not on the appropriate screen, or unknown."
            )
            continue
        chosen = _chosen(state, field_id, value)
        if isinstance(chosen, str):
            errors[field_id] = chosen
        elif chosen is None:
            selects.pop(field_id, None)
            select_ids.pop(field_id, None)
        else:
            selects[field_id], select_ids[field_id] = chosen.value, chosen.id
    if not errors and (selects != issue.selects or select_ids != issue.select_ids):
        state.update_issue(issue.id, selects=selects, select_ids=select_ids)  # fires jira:issue_updated
    return errors


def register_datacenter_write_routes(app: FastAPI, state: JiraState) -> None:
    """Serve the Data Center write path of ``state`` on ``app`` (a Data Center state's app only)."""

    @app.post("/rest/api/2/field")
    async def create_field(request: Request) -> Response:
        body = await json_body(request)
        if isinstance(body, Response):
            return body
        name, type_key, searcher = body.get("name"), body.get("type"), body.get("searcherKey")
        if not isinstance(name, str) or not name.strip() or not isinstance(type_key, str):
            return error(400, "The custom field needs a name and a type.")
        try:
            created = state.create_custom_field(
                name, type_key, searcher if isinstance(searcher, str) else None
            )
            state.create_context(str(created["id"]), f"Default Configuration Scheme for {name}", "", [], [])
            with state.lock:
                state.off_screens.add(str(created["id"]))  # on no screen until an admin puts it there
        except FieldAdminError as refused:
            return error(refused.status, refused.message)
        return JSONResponse(created, status_code=201)

    @app.post("/rest/api/2/screens/addToDefault/{field_id}")
    def add_to_default_screen(field_id: str) -> Response:
        try:
            state.add_to_default_screen(field_id)
        except FieldAdminError as refused:
            return error(refused.status, refused.message)
        return Response(status_code=204)

    @app.get("/rest/api/2/customFields/{custom_field_id}/options")
    def field_options(custom_field_id: str, request: Request) -> Response:
        options = (
            _global_options(state, f"customfield_{custom_field_id}") if custom_field_id.isdigit() else None
        )
        if options is None:
            return error(404, f"The custom field with id '{custom_field_id}' does not exist.")
        params = request.query_params
        try:
            size = int(params.get("maxResults") or DEFAULT_OPTION_PAGE)
            page = int(params.get("page") or 1)
        except ValueError:
            return error(400, "maxResults and page must be numbers.")
        if size < 1 or page < 1:
            return error(400, "maxResults and page must be positive.")
        size = min(size, state.option_page_size)
        base = str(request.base_url).rstrip("/")
        served = options[(page - 1) * size : page * size]
        return JSONResponse({"options": [option_json(base, o) for o in served], "total": len(options)})

    @app.get("/rest/api/2/customFieldOption/{option_id}")
    def field_option(option_id: str, request: Request) -> Response:
        with state.lock:
            found = next((o for c in state.contexts.values() for o in c.options if o.id == option_id), None)
        if found is None:
            return error(404, f"The custom field option with id '{option_id}' does not exist.")
        return JSONResponse(option_json(str(request.base_url).rstrip("/"), found))

    @app.put("/rest/api/2/issue/{id_or_key}")
    async def put_issue(id_or_key: str, request: Request) -> Response:
        issue = state.find(id_or_key)
        if issue is None:
            return error(404, "Issue Does Not Exist")
        body = await json_body(request)
        if isinstance(body, Response):
            return body
        if request.query_params.get("notifyUsers", "true").lower() == "false" and not state.administrator:
            return error(403, NOTIFY_REFUSED)
        fields = body.get("fields")
        unsupported = sorted(set(body) - {"fields"})
        if not isinstance(fields, dict) or unsupported:
            return error(400, f"The sandbox edits 'fields' only (not: {unsupported or 'no fields'}).")
        errors = edit_issue(state, issue, fields)
        if errors:
            return _field_errors(400, errors)
        return Response(status_code=204, headers=request_id_headers())

    register_remote_link_routes(
        app, state, version=2, not_found="Issue Does Not Exist", disabled=LINKING_DISABLED
    )
