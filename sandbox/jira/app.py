"""The fake Jira REST app: Cloud (REST v3) or, for a Data Center state, Data Center 10.3 (REST v2:
the read routes below under ``/rest/api/2``, people as UserBeans, plain-text descriptions, Epic Link
instead of a parent for issues under an epic, Bearer personal access tokens; see
:mod:`sandbox.jira.datacenter`). ``/rest/api/2/serverInfo`` answers on both, anonymously.

Cloud: /myself, /field, /search/jql (GET and POST), /issue/{id}, and
custom field administration: POST /field, GET/POST /field/{id}/context, GET/POST/PUT
/field/{id}/context/{contextId}/option (paged with startAt / maxResults / isLast), and write-back
(bulk edit, its queue, remote links: :mod:`sandbox.jira.writes`). Select fields created through
the API render in issues like the built-in ones.

Shapes follow the vendor OpenAPI (tests validate responses against it). Paging is keyset-based
(``nextPageToken`` encodes the last (updated, id) served), pages can be short before ``isLast``,
and faults injected into the state answer first; a stall (:class:`~v2mom.sandbox.faults.Stall`) holds a
request before it is handled or before its answer.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import secrets
from datetime import UTC, datetime
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from v2mom.sandbox.faults import whole_seconds
from v2mom.sandbox.jira.changelog import register_changelog_routes, user_details
from v2mom.sandbox.jira.datacenter import bearer_authorised, dc_user, rate_limit_headers, server_info
from v2mom.sandbox.jira.datacenter_search import changelog_bean, register_datacenter_search_routes
from v2mom.sandbox.jira.datacenter_webhooks import register_datacenter_webhook_routes
from v2mom.sandbox.jira.datacenter_writes import register_datacenter_write_routes
from v2mom.sandbox.jira.http import error, jira_time, json_body
from v2mom.sandbox.jira.jql import JqlError, Query, parse
from v2mom.sandbox.jira.state import (
    CLOUD_SPRINT,
    COMPANY_POINTS,
    DC_EPIC_LINK,
    DC_EPIC_NAME,
    DC_POINTS,
    DC_SPRINT,
    ISSUE_TYPES,
    SELECT_FIELDS,
    SELECT_TYPE,
    STATUS_CATEGORIES,
    TEAM_POINTS,
    FieldAdminError,
    FieldContext,
    FieldOption,
    Issue,
    JiraState,
)
from v2mom.sandbox.jira.writes import register_write_routes

DEFAULT_PAGE = 50
CONTEXT_PAGE = 50  # GET /field/{id}/context: default and largest page
MAX_OPTION_PAGE = 1000  # GET …/option: Jira's largest page (state.option_page_size may serve fewer)
MAX_OPTIONS_PER_REQUEST = 1000
MAX_PAGE = 100
MAX_ID_PAGE = 5000
SHORT_EVERY = 3  # every third page holds half as many issues, though more remain
ID_FIELDS = {"id", "key"}
SERVER_INFO = "/rest/api/2/serverInfo"  # both deployments, anonymously


class Renderer:
    """Issue -> Jira JSON, computing only the requested fields."""

    def __init__(self, state: JiraState, base: str) -> None:
        self.state = state
        self.base = base
        self.api = f"{base}{state.api}"
        other = _CLOUD_ONLY if state.datacenter else _DATACENTER_ONLY
        self._fields = {name: render for name, render in self._renderers.items() if name not in other}
        # Select fields created through the API render like the built-in ones.
        with state.lock:
            self._added_selects = [
                f["id"]
                for f in state.fields
                if f.get("custom") is True
                and (f.get("schema") or {}).get("custom") == SELECT_TYPE
                and f["id"] not in self._renderers
            ]

    def issue(self, issue: Issue, fields: set[str] | None) -> dict[str, Any]:
        """The IssueBean for ``issue``; ``fields`` None means every field."""
        out: dict[str, Any] = {
            "expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
            "id": str(issue.id),
            "key": issue.key,
            "self": f"{self.api}/issue/{issue.id}",
        }
        wanted = fields if fields is not None else None
        rendered: dict[str, Any] = {}
        for name, render in self._fields.items():
            if wanted is None or name in wanted:
                rendered[name] = render(self, issue)
        for field_id in self._added_selects:
            if wanted is None or field_id in wanted:
                rendered[field_id] = self._select(issue, field_id)
        if wanted is None or wanted - ID_FIELDS:
            out["fields"] = rendered
        return out

    def value(self, issue: Issue, field_id: str) -> object:
        """``issue``'s value of the field ``field_id`` as served (None: no value, or no such field)."""
        if field_id in self._added_selects:
            return self._select(issue, field_id)
        render = self._fields.get(field_id)
        return render(self, issue) if render is not None else None

    def _issuetype(self, issue: Issue) -> dict[str, Any]:
        type_id, level = ISSUE_TYPES[issue.type_name]
        rendered: dict[str, Any] = {
            "self": f"{self.api}/issuetype/{type_id}",
            "id": type_id,
            "description": "",
            "iconUrl": f"{self.base}/images/icons/issuetypes/{issue.type_name.lower()}.svg",
            "name": issue.type_name,
            "subtask": level == -1,
        }
        if not self.state.datacenter:  # Data Center's issue types have no hierarchy level
            rendered["hierarchyLevel"] = level
        return rendered

    def _status(self, issue: Issue) -> dict[str, Any]:
        return status_details(
            self.api, issue.status, self.state.status_id(issue.status, issue.category), issue.category
        )

    def _parent_issue(self, issue: Issue) -> Issue | None:
        if issue.parent_id is None:
            return None
        return self.state.issues.get(issue.parent_id) or self.state.deleted.get(issue.parent_id)

    def _epic_link(self, issue: Issue) -> str | None:
        """Data Center: the key of the epic an issue belongs to (Jira Software's Epic Link)."""
        parent = self._parent_issue(issue)
        return parent.key if parent is not None and parent.type_name == "Epic" else None

    def _parent(self, issue: Issue) -> dict[str, Any] | None:
        if issue.parent_id is None:
            return None
        if self.state.datacenter and issue.type_name != "Sub-task":
            return None  # on Data Center only a sub-task has a parent; the others an Epic Link
        parent = self._parent_issue(issue)
        if parent is None:
            return {"id": str(issue.parent_id)}
        return {
            "id": str(parent.id),
            "key": parent.key,
            "self": f"{self.api}/issue/{parent.id}",
            "fields": {
                "summary": parent.summary,
                "status": self._status(parent),
                "issuetype": self._issuetype(parent),
            },
        }

    def _project(self, issue: Issue) -> dict[str, Any]:
        project = self.state.projects[issue.project]
        rendered = {
            "self": f"{self.api}/project/{project.id}",
            "id": project.id,
            "key": project.key,
            "name": project.name,
            "projectTypeKey": "software",
        }
        return rendered if self.state.datacenter else {**rendered, "simplified": project.simplified}

    def _user(self, key: str | None) -> dict[str, Any] | None:
        if key is None:
            return None
        if self.state.datacenter:
            return dc_user(self.base, self.state, key)
        return user_details(self.base, key, self.state.people.get(key, ""))

    def _points_field(self, issue: Issue, field_id: str) -> float | None:
        team_managed = self.state.projects[issue.project].simplified
        mine = TEAM_POINTS if team_managed else COMPANY_POINTS
        return issue.points if field_id == mine else None

    def _select(self, issue: Issue, field_id: str) -> dict[str, Any] | None:
        chosen = issue.select_ids.get(field_id)
        option = self.state.option_of(field_id, chosen) if chosen is not None else None
        if option is not None:  # chosen by id (bulk edit): the option's current name
            return {
                "self": f"{self.api}/customFieldOption/{option.id}",
                "value": option.value,
                "id": option.id,
            }
        value = issue.selects.get(field_id)
        if value is None:
            return None
        option_id = str(10100 + int(hashlib.sha256(value.encode()).hexdigest(), 16) % 900)
        return {
            "self": f"{self.api}/customFieldOption/{option_id}",
            "value": value,
            "id": option_id,
        }

    _renderers: ClassVar[dict[str, Any]] = {
        "summary": lambda self, i: i.summary,
        "issuetype": lambda self, i: self._issuetype(i),
        "parent": lambda self, i: self._parent(i),
        "status": lambda self, i: self._status(i),
        "assignee": lambda self, i: self._user(i.assignee),
        "project": lambda self, i: self._project(i),
        "labels": lambda self, i: list(i.labels),
        "components": lambda self, i: [
            {
                "self": f"{self.api}/component/{abs(hash(c)) % 10000}",
                "id": str(abs(hash(c)) % 10000),
                "name": c,
            }
            for c in i.components
        ],
        "created": lambda self, i: jira_time(i.created),
        "updated": lambda self, i: jira_time(i.updated),
        "resolutiondate": lambda self, i: jira_time(i.resolved),
        "statuscategorychangedate": lambda self, i: jira_time(i.resolved or i.updated),
        "timespent": lambda self, i: i.timespent,
        "timeoriginalestimate": lambda self, i: i.original_estimate,
        "description": lambda self, i: (
            (i.description or None) if self.state.datacenter else adf_document(i.description)
        ),
        TEAM_POINTS: lambda self, i: self._points_field(i, TEAM_POINTS),
        COMPANY_POINTS: lambda self, i: self._points_field(i, COMPANY_POINTS),
        DC_POINTS: lambda self, i: i.points,
        DC_EPIC_LINK: lambda self, i: self._epic_link(i),
        DC_EPIC_NAME: lambda self, i: i.summary if i.type_name == "Epic" else None,
        DC_SPRINT: lambda self, i: [dc_sprint(i.sprint)] if i.sprint else None,
        CLOUD_SPRINT: lambda self, i: [cloud_sprint(i.sprint)] if i.sprint else None,
        **{fid: (lambda f: lambda self, i: self._select(i, f))(fid) for fid in SELECT_FIELDS},
    }


# The fields one deployment has and the other lacks.
_DATACENTER_ONLY = frozenset({DC_POINTS, DC_EPIC_LINK, DC_EPIC_NAME, DC_SPRINT})
_CLOUD_ONLY = frozenset({TEAM_POINTS, COMPANY_POINTS, CLOUD_SPRINT, "statuscategorychangedate"})
SPRINT_START, SPRINT_END = "2026-11-02T09:00:00.000Z", "2026-11-16T09:00:00.000Z"


def _sprint_id(name: str) -> int:
    """A sprint's id, the same for the same name (the sandbox keeps no sprint of its own)."""
    return 1 + int(hashlib.sha256(name.encode()).hexdigest()[:6], 16) % 9999


def cloud_sprint(name: str) -> dict[str, Any]:
    """A sprint as Jira Cloud's Sprint field holds it: an object per sprint."""
    return {
        "id": _sprint_id(name),
        "name": name,
        "state": "active",
        "boardId": 1,
        "goal": "",
        "startDate": SPRINT_START,
        "endDate": SPRINT_END,
    }


def dc_sprint(name: str) -> str:
    """A sprint as Data Center's REST v2 serves its Sprint field: the sprint object's ``toString``."""
    sprint_id = _sprint_id(name)
    return (
        f"com.atlassian.greenhopper.service.sprint.Sprint@{sprint_id:x}[id={sprint_id},rapidViewId=1,"
        f"state=ACTIVE,name={name},startDate={SPRINT_START},endDate={SPRINT_END},completeDate=<null>,"
        f"activatedDate={SPRINT_START},sequence={sprint_id},goal=,autoStartStop=false,synced=false]"
    )


def adf_document(text: str) -> dict[str, Any] | None:
    """``text`` as Jira Cloud serves a description: a document of paragraphs (one per blank-line
    separated block, a line break as ``hardBreak``); None when there is none."""
    if not text.strip():
        return None
    paragraphs = []
    for block in (b for b in text.split("\n\n") if b.strip()):
        content: list[dict[str, Any]] = []
        for n, line in enumerate(block.split("\n")):
            if n:
                content.append({"type": "hardBreak"})
            if line:
                content.append({"type": "text", "text": line})
        paragraphs.append({"type": "paragraph", "content": content})
    return {"type": "doc", "version": 1, "content": paragraphs}


def encode_token(jql: str, last: Issue, page: int) -> str:
    """Opaque keyset token: the last (updated, id) served, the page number, the query's hash."""
    payload = {
        "u": last.updated.isoformat(),
        "i": last.id,
        "p": page,
        "q": hashlib.sha256(jql.encode()).hexdigest()[:16],
    }
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


def decode_token(token: str, jql: str) -> tuple[tuple[datetime, int], int]:
    """The position and page number in ``token``; ValueError if it is not ours or not this query's."""
    try:
        payload = json.loads(base64.urlsafe_b64decode(token.encode()))
        if payload["q"] != hashlib.sha256(jql.encode()).hexdigest()[:16]:
            raise ValueError("token belongs to another query")
        return (datetime.fromisoformat(payload["u"]), int(payload["i"])), int(payload["p"])
    except (binascii.Error, json.JSONDecodeError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise ValueError(str(exc)) from None


def _requested_fields(raw: Any) -> set[str] | None:
    """The ``fields`` parameter: None = only ids (Jira's /search/jql default)."""
    if raw is None:
        return set(ID_FIELDS)
    names = [f.strip() for f in (raw.split(",") if isinstance(raw, str) else raw) if f and f.strip()]
    if not names:
        return set(ID_FIELDS)
    if "*all" in names or "*navigable" in names:
        return None
    return {n for n in names if not n.startswith("-")}


def create_jira_app(state: JiraState) -> FastAPI:
    """The ASGI app serving ``state``."""
    title = "sandbox Jira Data Center" if state.datacenter else "sandbox Jira Cloud"
    app = FastAPI(title=title, docs_url=None, redoc_url=None, openapi_url=None)
    api = state.api

    @app.middleware("http")
    async def gate(request: Request, call_next: Any) -> Response:
        path = request.url.path
        state.record(path)
        if path == SERVER_INFO and request.headers.get("authorization"):
            state.credentials_on_server_info += 1  # a client that sends them before it knows the site
        public = path == SERVER_INFO and state.anonymous_server_info
        if not public and not _authorised(request, state):
            return error(401, "Client must be authenticated to access this resource.")
        fault = state.take_fault(path)
        if fault is not None:
            headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else {}
            messages = {
                403: "You do not have permission to perform this operation (sandbox fault).",
                429: "Rate limit exceeded.",
            }
            message = messages.get(fault.status, "Internal server error (sandbox fault).")
            if state.datacenter:  # Data Center's bucket headers ride on every answer
                headers.update(rate_limit_headers(state))
            return error(fault.status, message, headers=headers)
        stall = state.take_stall(path, request.method)
        if stall is not None and not await stall.hold_before():
            return error(503, "Service unavailable (sandbox stall).")
        wait = state.throttle()
        limits = rate_limit_headers(state) if state.datacenter else {}
        if wait is not None:
            return error(429, "Rate limit exceeded.", headers={"Retry-After": whole_seconds(wait), **limits})
        response: Response = await call_next(request)
        response.headers.update(limits)
        if stall is not None:
            await stall.hold_after()
        return response

    @app.get(SERVER_INFO)
    def server_information(request: Request) -> dict[str, Any]:
        return server_info(str(request.base_url).rstrip("/"), state)

    @app.get(f"{api}/myself")
    def myself(request: Request) -> dict[str, Any]:
        base = str(request.base_url).rstrip("/")
        if state.datacenter:
            # The account's own zone: JQL date literals are read in it, as on Cloud.
            mine = {"emailAddress": state.account_email, "timeZone": state.time_zone}
            return dc_user(base, state, state.account_id) | mine
        return {
            "self": f"{base}/rest/api/3/user?accountId={state.account_id}",
            "accountId": state.account_id,
            "accountType": "atlassian",
            "emailAddress": state.account_email,
            "displayName": "Sandbox PM",
            "active": True,
            "timeZone": state.time_zone,
            "locale": "en_US",
        }

    @app.get(f"{api}/field")
    def fields() -> list[dict[str, Any]]:
        return state.fields

    @app.get(f"{api}/issue/{{id_or_key}}")
    def get_issue(id_or_key: str, request: Request) -> Response:
        issue = state.find(id_or_key)
        if issue is None:
            return error(404, "Issue does not exist or you do not have permission to see it.")
        base = str(request.base_url).rstrip("/")
        renderer = Renderer(state, base)
        raw = request.query_params.get("fields")
        wanted = None if raw is None else _requested_fields(raw)
        rendered = renderer.issue(issue, wanted)
        expand = request.query_params.get("expand") or ""
        if state.datacenter and "changelog" in expand.split(","):  # the whole changelog
            with state.lock:
                rendered["changelog"] = changelog_bean(base, state, issue, None)
        return JSONResponse(rendered)

    @app.get(f"{api}/status")
    def statuses(request: Request) -> list[dict[str, Any]]:
        base = str(request.base_url).rstrip("/")
        with state.lock:
            known = list(state.statuses.items())
        return [
            status_details(f"{base}{api}", name, status_id, category) for name, (status_id, category) in known
        ]

    if state.datacenter:
        register_datacenter_search_routes(app, state, Renderer)
        register_datacenter_write_routes(app, state)
    else:
        _register_cloud_routes(app, state)
    # -- Data Center admin webhooks (sandbox.jira.datacenter_webhooks)
    if state.datacenter:
        register_datacenter_webhook_routes(app, state)
    return app


def _register_cloud_routes(app: FastAPI, state: JiraState) -> None:
    """The routes only Jira Cloud has: field administration through contexts, ``/search/jql``, the
    bulk changelog, bulk edit and the write-back routes of :mod:`sandbox.jira.writes`."""

    @app.post("/rest/api/3/field")
    async def create_field(request: Request) -> Response:
        body = await json_body(request)
        if isinstance(body, Response):
            return body
        name, type_key = body.get("name"), body.get("type")
        if not isinstance(name, str) or not name.strip() or not isinstance(type_key, str):
            return error(400, "The custom field needs a name and a type.")
        searcher = body.get("searcherKey")
        try:
            created = state.create_custom_field(
                name, type_key, searcher if isinstance(searcher, str) else None
            )
        except FieldAdminError as refused:
            return error(refused.status, refused.message)
        return JSONResponse(created, status_code=201)

    @app.get("/rest/api/3/field/{field_id}/context")
    def field_contexts(field_id: str, request: Request) -> Response:
        if not _is_custom(state, field_id):
            return error(404, f"The custom field was not found: {field_id}")
        params = request.query_params
        contexts = state.field_contexts(field_id)
        wanted_global = params.get("isGlobalContext")
        if wanted_global is not None:
            contexts = [c for c in contexts if c.is_global == (wanted_global.lower() == "true")]
        wanted_ids = set(params.getlist("contextId"))
        if wanted_ids:
            contexts = [c for c in contexts if c.id in wanted_ids]
        return _page(request, [_context_json(c) for c in contexts], CONTEXT_PAGE, CONTEXT_PAGE)

    @app.post("/rest/api/3/field/{field_id}/context")
    async def create_context(field_id: str, request: Request) -> Response:
        if not _is_custom(state, field_id):
            return error(404, f"The custom field was not found: {field_id}")
        body = await json_body(request)
        if isinstance(body, Response):
            return body
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            return error(400, "The context needs a name.")
        projects, types = body.get("projectIds") or [], body.get("issueTypeIds") or []
        if not isinstance(projects, list) or not isinstance(types, list):
            return error(400, "projectIds and issueTypeIds must be lists.")
        description = body.get("description")
        try:
            context = state.create_context(
                field_id,
                name,
                description if isinstance(description, str) else "",
                [str(p) for p in projects],
                [str(t) for t in types],
            )
        except FieldAdminError as refused:
            return error(refused.status, refused.message)
        created = {
            "id": context.id,
            "name": context.name,
            "description": context.description,
            "projectIds": context.project_ids,
            "issueTypeIds": context.issue_type_ids,
        }
        return JSONResponse(created, status_code=201)

    @app.get("/rest/api/3/field/{field_id}/context/{context_id}/option")
    def options(field_id: str, context_id: str, request: Request) -> Response:
        context = state.context_of(field_id, context_id)
        if context is None:
            return error(404, f"The context {context_id} was not found for field {field_id}.")
        with state.lock:
            values = [_option_json(o) for o in context.options]
        largest = min(state.option_page_size, MAX_OPTION_PAGE)
        return _page(request, values, largest, largest)

    @app.post("/rest/api/3/field/{field_id}/context/{context_id}/option")
    async def create_options(field_id: str, context_id: str, request: Request) -> Response:
        context = state.context_of(field_id, context_id)
        if context is None:
            return error(404, f"The context {context_id} was not found for field {field_id}.")
        body = await json_body(request)
        if isinstance(body, Response):
            return body
        raw = body.get("options")
        if not isinstance(raw, list) or not raw or len(raw) > MAX_OPTIONS_PER_REQUEST:
            return error(400, f"Provide between 1 and {MAX_OPTIONS_PER_REQUEST} options.")
        wanted: list[tuple[str, bool]] = []
        for item in raw:
            if not isinstance(item, dict) or not isinstance(item.get("value"), str):
                return error(400, "Each option needs a value.")
            wanted.append((item["value"], item.get("disabled") is True))
        try:
            made = state.add_options(context, wanted)
        except FieldAdminError as refused:
            return error(refused.status, refused.message)
        return JSONResponse({"options": [_option_json(o) for o in made]})

    @app.put("/rest/api/3/field/{field_id}/context/{context_id}/option")
    async def update_options(field_id: str, context_id: str, request: Request) -> Response:
        context = state.context_of(field_id, context_id)
        if context is None:
            return error(404, f"The context {context_id} was not found for field {field_id}.")
        body = await json_body(request)
        if isinstance(body, Response):
            return body
        raw = body.get("options")
        if not isinstance(raw, list) or not raw or not all(isinstance(i, dict) and i.get("id") for i in raw):
            return error(400, "Each option to update needs an id.")
        try:
            changed = state.update_options(context, raw)
        except FieldAdminError as refused:
            return error(refused.status, refused.message)
        return JSONResponse({"options": [_option_json(o) for o in changed]})

    @app.get("/rest/api/3/search/jql")
    def search_get(request: Request) -> Response:
        params = request.query_params
        return _search(state, request, dict(params) | {"fields": params.get("fields")})

    @app.post("/rest/api/3/search/jql")
    async def search_post(request: Request) -> Response:
        body = await json_body(request)
        if isinstance(body, Response):
            return body
        return _search(state, request, body)

    register_write_routes(app, state)
    register_changelog_routes(app, state)


def status_details(api: str, name: str, status_id: str, category: str) -> dict[str, Any]:
    """A status as Jira's StatusDetails, with its category (``api``: the site's REST API URL)."""
    cat_id, cat_name, colour = STATUS_CATEGORIES[category]
    return {
        "self": f"{api}/status/{status_id}",
        "description": "",
        "iconUrl": f"{api.split('/rest/', 1)[0]}/images/icons/statuses/generic.png",
        "name": name,
        "id": status_id,
        "statusCategory": {
            "self": f"{api}/statuscategory/{cat_id}",
            "id": cat_id,
            "key": category,
            "colorName": colour,
            "name": cat_name,
        },
    }


def _is_custom(state: JiraState, field_id: str) -> bool:
    found = state.field_by_id(field_id)
    return found is not None and found.get("custom") is True


def _context_json(context: FieldContext) -> dict[str, Any]:
    return {
        "id": context.id,
        "name": context.name,
        "description": context.description,
        "isGlobalContext": context.is_global,
        "isAnyIssueType": not context.issue_type_ids,
    }


def _option_json(option: FieldOption) -> dict[str, Any]:
    return {"id": option.id, "value": option.value, "disabled": option.disabled}


def _page(request: Request, values: list[dict[str, Any]], default: int, largest: int) -> Response:
    """A Jira PageBean of ``values`` at ``startAt`` / ``maxResults`` (400 for bad numbers)."""
    params = request.query_params
    try:
        start = int(params.get("startAt") or 0)
        size = int(params.get("maxResults") or default)
    except ValueError:
        return error(400, "startAt and maxResults must be numbers.")
    if start < 0 or size < 1:
        return error(400, "startAt must be >= 0 and maxResults >= 1.")
    size = min(size, largest)
    served = values[start : start + size]
    is_last = start + len(served) >= len(values)
    here = str(request.url.remove_query_params(["startAt", "maxResults"]))
    joiner = "&" if "?" in here else "?"
    body: dict[str, Any] = {
        "self": f"{here}{joiner}startAt={start}&maxResults={size}",
        "maxResults": size,
        "startAt": start,
        "total": len(values),
        "isLast": is_last,
        "values": served,
    }
    if not is_last:
        body["nextPage"] = f"{here}{joiner}startAt={start + len(served)}&maxResults={size}"
    return JSONResponse(body)


def _authorised(request: Request, state: JiraState) -> bool:
    """Cloud: basic auth with the account's email and API token; Data Center: the Bearer PAT."""
    if state.datacenter:
        return bearer_authorised(request, state)
    header = request.headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        email, _, token = base64.b64decode(encoded).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return secrets.compare_digest(email, state.account_email) and secrets.compare_digest(
        token, state.api_token
    )


def _search(state: JiraState, request: Request, params: dict[str, Any]) -> Response:
    jql = str(params.get("jql") or "")
    try:
        query = parse(jql, state.time_zone, exists=lambda ref: state.find(ref) is not None)
    except JqlError as exc:
        return error(400, str(exc))
    wanted = _requested_fields(params.get("fields"))
    ids_only = wanted is not None and wanted <= ID_FIELDS
    try:
        limit = int(params.get("maxResults") or DEFAULT_PAGE)
    except (TypeError, ValueError):
        return error(400, "maxResults must be a number.")
    limit = max(1, min(limit, MAX_ID_PAGE if ids_only else MAX_PAGE))
    token = params.get("nextPageToken")
    position: tuple[datetime, int] | None = None
    page_number = 0
    if token:
        try:
            position, page_number = decode_token(str(token), jql)
        except ValueError:
            return error(400, "The provided next page token is invalid or expired.")
    if page_number % SHORT_EVERY == SHORT_EVERY - 1:
        limit = max(1, limit // 2)
    matches = _matches(state, query, position, limit + 1)
    page, more = matches[:limit], len(matches) > limit
    renderer = Renderer(state, str(request.base_url).rstrip("/"))
    with state.lock:
        body: dict[str, Any] = {"issues": [renderer.issue(i, wanted) for i in page], "isLast": not more}
    if more:
        body["nextPageToken"] = encode_token(jql, page[-1], page_number + 1)
    return JSONResponse(body)


def _sort_key(issue: Issue, field: str) -> Any:
    return getattr(issue, field)


def _matches(state: JiraState, query: Query, position: tuple[datetime, int] | None, want: int) -> list[Issue]:
    """Up to ``want`` matching issues after ``position`` in the query's order."""
    if query.only_ids is not None and query.by_updated_ascending:  # ``… AND id = N``: no scan
        with state.lock:
            named = [state.issues[i] for i in query.only_ids if i in state.issues]
        picked = sorted(
            (i for i in named if query.predicate(i) and (position is None or i.order > position)),
            key=lambda i: i.order,
        )
        return picked[:want]
    if query.by_updated_ascending:
        start = position
        inclusive = False
        if query.updated_from is not None:
            floor = (query.updated_from.astimezone(UTC), 0)
            if start is None or floor > start:
                start, inclusive = floor, True
        out = []
        for issue in state.iter_from(start, inclusive=inclusive):
            if query.predicate(issue):
                out.append(issue)
                if len(out) >= want:
                    break
        return out
    # Any other order: sort everything (small workspaces only), then skip past the position.
    with state.lock:
        candidates = [i for i in state.issues.values() if query.predicate(i)]
    for field, descending in reversed(query.order):
        candidates.sort(key=functools.partial(_sort_key, field=field), reverse=descending)
    if position is not None:
        ids = [i.id for i in candidates]
        after = ids.index(position[1]) + 1 if position[1] in ids else 0
        candidates = candidates[after:]
    return candidates[:want]
