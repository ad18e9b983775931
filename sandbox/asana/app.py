"""The fake Asana REST API under ``/api/1.0``: users/me, projects, tasks, subtasks, a task's stories,
events (the write-back endpoints, ``/batch`` among them, are in :mod:`sandbox.asana.writes`).

Shapes follow Asana's OpenAPI (tests validate responses against it): ``{"data": ...}``, offset
paging with ``next_page`` (keyset tokens, every third page short although more remain),
``opt_fields`` projection with dotted paths, errors as ``{"errors": [{"message", "help"}]}``.
Project listings hold member tasks in gid order (not modification order) and no subtasks.
Injected faults and stalls (:mod:`sandbox.faults`) apply to requests, not to the actions of a batch.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import itertools
import secrets
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import requests
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from v2mom.sandbox.asana.batch import BATCH_ACTION
from v2mom.sandbox.asana.state import (
    ENUM_TYPES,
    AsanaState,
    CustomFieldDef,
    EnumOptionDef,
    FieldSetting,
    Project,
    Story,
    Task,
    VocabularyRefused,
    Webhook,
)
from v2mom.sandbox.asana.writes import RATE_LIMITED, Http, register_write_routes
from v2mom.sandbox.faults import Stall, whole_seconds

PREFIX = "/api/1.0"
MAX_LIMIT = 100
SHORT_EVERY = 3
EVENTS_PER_CALL = 100
EXPIRED_MESSAGE = (
    "Sync token invalid or too old. If you are attempting to keep resources in sync, you must fetch "
    "the full dataset for this query now and use the new sync token for the next sync."
)


def asana_time(moment: datetime | None) -> str | None:
    """Asana's timestamp format: ``2026-11-20T12:00:00.000Z``."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """An Asana-style error body."""
    body = {
        "errors": [{"message": message, "help": "For more information on API status codes, see the docs."}]
    }
    return JSONResponse(body, status_code=status, headers=headers)


def project_fields(paths: Sequence[str], record: dict[str, Any]) -> dict[str, Any]:
    """``record`` reduced to ``gid`` plus the (dotted) ``paths`` asked for, like ``opt_fields``."""
    out: dict[str, Any] = {"gid": record["gid"]}
    nested: dict[str, list[str]] = {}
    for path in paths:
        head, _, rest = path.partition(".")
        if head not in record:
            continue
        if rest:
            nested.setdefault(head, []).append(rest)
        else:
            out[head] = record[head]
    for head, rests in nested.items():
        value = record[head]
        if isinstance(value, dict):
            out[head] = project_fields(rests, value) if "gid" in value else value
        elif isinstance(value, list):
            out[head] = [project_fields(rests, v) if isinstance(v, dict) and "gid" in v else v for v in value]
        else:
            out[head] = value
    return out


def render_option(option: EnumOptionDef) -> dict[str, Any]:
    """An enum option as Asana's ``EnumOption``."""
    return {
        "gid": option.gid,
        "resource_type": "enum_option",
        "name": option.name,
        "enabled": option.enabled,
        "color": option.color,
    }


def render_field(custom_field: CustomFieldDef) -> dict[str, Any]:
    """A workspace custom field as Asana's ``CustomFieldResponse`` (enum options for enum types)."""
    record: dict[str, Any] = {
        **compact_field(custom_field),
        "enabled": True,
        "is_global_to_workspace": True,
        "has_notifications_enabled": False,
        "description": "",
    }
    if custom_field.type in ENUM_TYPES:
        record["enum_options"] = [render_option(o) for o in custom_field.enum_options]
    return record


def compact_field(custom_field: CustomFieldDef) -> dict[str, Any]:
    """The compact form served without ``opt_fields`` (and nested in custom field settings)."""
    return {
        "gid": custom_field.gid,
        "resource_type": "custom_field",
        "name": custom_field.name,
        "type": custom_field.type,
        "resource_subtype": custom_field.type,
    }


class Renderer:
    """Projects and tasks as Asana JSON."""

    def __init__(self, state: AsanaState, base: str) -> None:
        self.state = state
        self.base = base

    def project(self, project: Project) -> dict[str, Any]:
        """A full project record."""
        return {
            "gid": project.gid,
            "resource_type": "project",
            "name": project.name,
            "permalink_url": f"{self.base}/0/{project.gid}/list",
            "created_at": asana_time(project.created_at),
            "modified_at": asana_time(project.modified_at),
            "archived": project.archived,
            "completed": project.completed,
            "completed_at": asana_time(project.completed_at),
        }

    def _project_ref(self, gid: str) -> dict[str, Any]:
        return {"gid": gid, "resource_type": "project", "name": self.state.projects[gid].name}

    def _custom_fields(self, task: Task) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for definition in self.state.custom_fields.values():
            field: dict[str, Any] = {
                "gid": definition.gid,
                "resource_type": "custom_field",
                "name": definition.name,
                "type": definition.type,
                "resource_subtype": definition.type,
            }

            def option(name: str, definition: CustomFieldDef = definition) -> dict[str, Any]:
                found = definition.option_named(name)
                if found is None:  # a name no option carries (set on the task directly): a stable gid
                    return {
                        "gid": self.state.tag_gid(f"{definition.gid}:{name}"),
                        "resource_type": "enum_option",
                        "name": name,
                        "enabled": False,
                        "color": "none",
                    }
                return render_option(found)

            if definition.type == "enum":
                chosen = task.enums.get(definition.name)
                if chosen:  # Asana's spec does not let enum_value be null: unset means absent
                    field["enum_value"] = option(chosen)
                field["display_value"] = chosen
            elif definition.type == "multi_enum":
                names = task.multi_enums.get(definition.name, [])
                field["multi_enum_values"] = [option(n) for n in names]
                field["display_value"] = ", ".join(names) if names else None
            else:
                number = task.numbers.get(definition.name)
                field["number_value"] = number
                field["display_value"] = f"{number:g}" if number is not None else None
            out.append(field)
        return out

    def task(self, task: Task) -> dict[str, Any]:
        """A full task record."""
        parent = self.state.tasks.get(task.parent) if task.parent else None
        home = task.projects[0] if task.projects else "0"
        record: dict[str, Any] = {
            "gid": task.gid,
            "resource_type": "task",
            "resource_subtype": "default_task",
            "name": task.name,
            "notes": task.notes,
            "permalink_url": f"{self.base}/0/{home}/{task.gid}",
            "created_at": asana_time(task.created_at),
            "modified_at": asana_time(task.modified_at),
            "completed": task.completed,
            "completed_at": asana_time(task.completed_at),
            "memberships": [{"project": self._project_ref(p)} for p in task.projects],
            "projects": [self._project_ref(p) for p in task.projects],
            "tags": [{"gid": self.state.tag_gid(t), "resource_type": "tag", "name": t} for t in task.tags],
            "custom_fields": self._custom_fields(task),
            "actual_time_minutes": task.actual_time_minutes,
            "num_subtasks": len(self.state.children.get(task.gid, [])),
            "start_on": task.start_on.isoformat() if task.start_on is not None else None,
            "start_at": asana_time(task.start_at),
        }
        if task.assignee is not None:  # Asana's spec does not let assignee be null: absent otherwise
            record["assignee"] = {
                "gid": task.assignee,
                "resource_type": "user",
                "name": self.state.people.get(task.assignee, ""),
            }
        if parent is not None:  # Asana's spec does not let parent be null: a top-level task has none
            record["parent"] = {
                "gid": parent.gid,
                "resource_type": "task",
                "name": parent.name,
                "resource_subtype": "default_task",
            }
        return record

    def compact_task(self, task: Task) -> dict[str, Any]:
        """The compact form served without ``opt_fields``."""
        return {
            "gid": task.gid,
            "resource_type": "task",
            "name": task.name,
            "resource_subtype": "default_task",
        }


def _encode(last_gid: str, page: int) -> str:
    return base64.urlsafe_b64encode(f"{last_gid}:{page}".encode()).decode()


def _decode(offset: str) -> tuple[int, int] | None:
    try:
        last, page = base64.urlsafe_b64decode(offset.encode()).decode().split(":")
        return int(last), int(page)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None


class _Guard:
    """What every request meets before its route: the token, injected faults and stalls, the rate
    limit; plain ASGI, so an action of a batch (which runs through the app again) costs no task
    group and memory streams of its own, as a framework middleware's ``call_next`` would.

    An action of ``POST /batch`` is checked for the token only: the batch was recorded, faulted,
    held and throttled as one request (a batch costs what its actions cost, counted when parsed).
    A stall held after the route keeps the answer back until it is released. A ``GET`` is a read
    in flight until answered, and refused with 429 over Asana's limit (:mod:`.concurrency`).
    """

    def __init__(self, app: ASGIApp, state: AsanaState) -> None:
        self._app = app
        self._state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        refusal, stall = await self._admitted(Request(scope))
        reads = self._state.reads
        reading = refusal is None and scope["method"] == "GET" and not scope.get(BATCH_ACTION)
        if reading and not reads.enter():  # a read of its own (a batch's count in the batch)
            refusal, reading = error(429, RATE_LIMITED, {"Retry-After": "1"}), False
        try:
            await self._answer(scope, receive, send, refusal, stall)
        finally:
            if reading:
                reads.leave()

    async def _answer(
        self, scope: Scope, receive: Receive, send: Send, refusal: JSONResponse | None, stall: Stall | None
    ) -> None:
        if refusal is not None:
            await refusal(scope, receive, send)
        elif stall is None:
            await self._app(scope, receive, send)
        else:
            answer: list[Message] = []

            async def keep(message: Message) -> None:
                answer.append(message)

            await self._app(scope, receive, keep)
            await stall.hold_after()
            for message in answer:
                await send(message)

    async def _admitted(self, request: Request) -> tuple[JSONResponse | None, Stall | None]:
        """The answer refusing ``request`` (None: it goes on to its route) and the stall holding
        it after its route, if any; the request is recorded either way, an action of a batch never."""
        state, path = self._state, request.url.path
        authorized = request.headers.get("authorization") == f"Bearer {state.token}"
        if request.scope.get(BATCH_ACTION):  # the batch was recorded, faulted, held and throttled
            return (None if authorized else error(401, "Not Authorized")), None
        state.record(path)
        if not authorized:
            return error(401, "Not Authorized"), None
        fault = state.take_fault(path)
        if fault is not None:
            headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else None
            return error(fault.status, "injected fault", headers), None
        stall = state.take_stall(path, request.method)
        if stall is not None and not await stall.hold_before():
            return error(503, "sandbox stall: the request was dropped"), None
        if not path.endswith("/batch"):
            wait = state.throttle()
            if wait is not None:
                return error(429, RATE_LIMITED, {"Retry-After": whole_seconds(wait)}), None
        return None, stall


def create_asana_app(state: AsanaState) -> FastAPI:
    """The ASGI app serving ``state``."""
    app = FastAPI(title="Asana sandbox", openapi_url=None, docs_url=None, redoc_url=None)

    app.add_middleware(_Guard, state=state)

    def fields_of(request: Request) -> list[str] | None:
        raw = request.query_params.get("opt_fields")
        return [f.strip() for f in raw.split(",") if f.strip()] if raw else None

    def render_task(request: Request, task: Task) -> dict[str, Any]:
        fields = fields_of(request)
        renderer = Renderer(state, str(request.base_url).rstrip("/"))
        if fields is None:
            return renderer.compact_task(task)
        return project_fields(fields, renderer.task(task))

    def paged(request: Request, gids: list[str], keep: Callable[[Task], bool]) -> JSONResponse:
        raw_limit = request.query_params.get("limit", "20")
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_LIMIT:
            return error(400, f"limit: must be between 1 and {MAX_LIMIT}")
        limit = int(raw_limit)
        start, page = 0, 0
        if "offset" in request.query_params:
            decoded = _decode(request.query_params["offset"])
            if decoded is None:
                return error(400, "offset: Your pagination token is invalid.")
            start, page = decoded
        if (page + 1) % SHORT_EVERY == 0:
            limit = max(1, limit // 2)
        chosen: list[Task] = []
        more = False
        with state.lock:
            first = bisect.bisect_right(gids, str(start)) if start else 0  # gids: equal-length digits, sorted
            for gid in itertools.islice(gids, first, None):
                task = state.tasks.get(gid)
                if task is None or not keep(task):
                    continue
                if len(chosen) == limit:
                    more = True
                    break
                chosen.append(task)
            data = [render_task(request, t) for t in chosen]
        next_page = None
        if more:
            token = _encode(chosen[-1].gid, page + 1)
            params = {k: v for k, v in request.query_params.items() if k != "offset"} | {"offset": token}
            path = f"{request.url.path.removeprefix(PREFIX)}?{urlencode(params)}"
            next_page = {
                "offset": token,
                "path": path,
                "uri": f"{str(request.base_url).rstrip('/')}{PREFIX}{path}",
            }
        return JSONResponse({"data": data, "next_page": next_page})

    @app.get(f"{PREFIX}/users/me")
    def me() -> JSONResponse:
        user = {**state.user, "resource_type": "user"}
        workspace = {"gid": state.workspace_gid, "resource_type": "workspace", "name": state.workspace_name}
        return JSONResponse({"data": {**user, "workspaces": [workspace]}})

    @app.get(f"{PREFIX}/projects/{{gid}}")
    def project(gid: str, request: Request) -> JSONResponse:
        found = state.projects.get(gid)
        if found is None:
            return error(404, f"project: Unknown object: {gid}")
        record = Renderer(state, str(request.base_url).rstrip("/")).project(found)
        fields = fields_of(request)
        return JSONResponse({"data": project_fields(fields, record) if fields else record})

    @app.get(f"{PREFIX}/tasks")
    def tasks(request: Request) -> JSONResponse:
        project_gid = request.query_params.get("project")
        if not project_gid:
            return error(
                400,
                "project: Must specify exactly one of project, tag, section, user task list, or assignee",
            )
        if project_gid not in state.projects:
            return error(404, f"project: Unknown object: {project_gid}")
        since_text = request.query_params.get("modified_since")
        since: datetime | None = None
        if since_text:
            try:
                since = datetime.fromisoformat(since_text.replace("Z", "+00:00"))
            except ValueError:
                return error(400, f"modified_since: Not a valid date-time: {since_text}")
        with state.lock:
            gids = list(state.members[project_gid])
        return paged(request, gids, lambda t: since is None or t.modified_at >= since)

    @app.get(f"{PREFIX}/tasks/{{gid}}/subtasks")
    def subtasks(gid: str, request: Request) -> JSONResponse:
        with state.lock:
            if gid not in state.tasks:
                return error(404, f"task: Unknown object: {gid}")
            gids = sorted(state.children.get(gid, []), key=int)
        return paged(request, gids, lambda t: True)

    @app.get(f"{PREFIX}/tasks/{{gid}}")
    def task(gid: str, request: Request) -> JSONResponse:
        with state.lock:
            found = state.tasks.get(gid)
            if found is None:
                return error(404, f"task: Unknown object: {gid}")
            return JSONResponse({"data": render_task(request, found)})

    def render_hook(hook: Webhook) -> dict[str, Any]:
        return {
            "gid": hook.gid,
            "resource_type": "webhook",
            "active": True,
            "resource": {
                "gid": hook.resource,
                "resource_type": "project",
                "name": state.projects[hook.resource].name,
            },
            "target": hook.target,
            "created_at": asana_time(hook.created_at),
            "last_success_at": None,
            "last_failure_at": None,
            "last_failure_content": "",
        }

    @app.post(f"{PREFIX}/webhooks")
    def create_webhook(body: dict[str, Any]) -> JSONResponse:
        """Register a webhook after the handshake with its target (Asana's flow, synchronously)."""
        data = body.get("data")
        resource, target = (
            (data.get("resource"), data.get("target")) if isinstance(data, dict) else (None, None)
        )
        if resource not in state.projects:
            return error(400, "resource: Not a recognized ID")
        if not isinstance(target, str) or not target.startswith(("http://", "https://")):
            return error(400, "target: Must be an https URL")
        secret = secrets.token_hex(16)
        try:
            answer = requests.post(target, data=b"", headers={"X-Hook-Secret": secret}, timeout=10)
        except requests.RequestException:
            return error(400, "The remote server could not be reached for the handshake.")
        if answer.status_code >= 300 or answer.headers.get("X-Hook-Secret") != secret:
            return error(400, "The remote server did not respond with the handshake secret.")
        hook = state.add_webhook(resource, target, secret)
        return JSONResponse({"data": render_hook(hook)}, status_code=201)

    @app.get(f"{PREFIX}/webhooks")
    def list_webhooks(request: Request) -> JSONResponse:
        """The registered webhooks of the workspace (optionally of one resource)."""
        if request.query_params.get("workspace") != state.workspace_gid:
            return error(400, "workspace: Not a recognized ID")
        resource = request.query_params.get("resource")
        hooks = [h for h in state.webhooks.values() if resource is None or h.resource == resource]
        return JSONResponse({"data": [render_hook(h) for h in hooks], "next_page": None})

    @app.get(f"{PREFIX}/events")
    def events(request: Request) -> JSONResponse:
        resource = request.query_params.get("resource", "")
        if resource not in state.projects:
            return error(400, "resource: Not a recognized ID")
        token = request.query_params.get("sync")
        with state.lock:
            position = state.read_token(token, resource) if token else None
            if position is None:
                body = {
                    "errors": [{"message": EXPIRED_MESSAGE}],
                    "sync": state.sync_token(resource),
                }
                return JSONResponse(body, status_code=412)
            log = state.events[resource]
            chunk = log[position : position + EVENTS_PER_CALL]
            end = position + len(chunk)
            data = [
                {
                    "user": {"gid": state.user["gid"], "resource_type": "user", "name": state.user["name"]},
                    "created_at": asana_time(e.created_at),
                    "type": "task",
                    "action": e.action,
                    "resource": {
                        "gid": e.task_gid,
                        "resource_type": "task",
                        "resource_subtype": "default_task",
                    },
                    "parent": {"gid": e.parent_gid, "resource_type": e.parent_type} if e.parent_gid else None,
                }
                for e in chunk
            ]
            new_token = f"{state.token_floor}:{resource}:{end}:{len(log)}"
            return JSONResponse({"data": data, "sync": new_token, "has_more": end < len(log)})

    # -- custom fields: the vocabulary v2mom-sync provisions -------------------------------------

    def refused(exc: VocabularyRefused) -> JSONResponse:
        return error(exc.status, exc.message)

    def data_of(body: Any) -> dict[str, Any] | None:
        data = body.get("data") if isinstance(body, dict) else None
        return data if isinstance(data, dict) else None

    def listing(request: Request, records: list[dict[str, Any]]) -> JSONResponse:
        """``records`` by ``limit`` and an opaque ``offset`` (the index of the next record)."""
        raw_limit = request.query_params.get("limit", "20")
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_LIMIT:
            return error(400, f"limit: must be between 1 and {MAX_LIMIT}")
        limit, start = int(raw_limit), 0
        if "offset" in request.query_params:
            decoded = _decode(request.query_params["offset"])
            if decoded is None or not 0 < decoded[0] <= len(records):
                return error(400, "offset: Your pagination token is invalid.")
            start = decoded[0]
        chosen = records[start : start + limit]
        fields = fields_of(request)
        data = [project_fields(fields, r) if fields else r for r in chosen]
        next_page = None
        if start + limit < len(records):
            token = _encode(str(start + limit), 0)
            params = {k: v for k, v in request.query_params.items() if k != "offset"} | {"offset": token}
            path = f"{request.url.path.removeprefix(PREFIX)}?{urlencode(params)}"
            next_page = {
                "offset": token,
                "path": path,
                "uri": f"{str(request.base_url).rstrip('/')}{PREFIX}{path}",
            }
        return JSONResponse({"data": data, "next_page": next_page})

    def one(request: Request, record: dict[str, Any], status: int = 200) -> JSONResponse:
        fields = fields_of(request)
        return JSONResponse(
            {"data": project_fields(fields, record) if fields else record}, status_code=status
        )

    def render_setting(setting: FieldSetting) -> dict[str, Any]:
        project_ref = {
            "gid": setting.project,
            "resource_type": "project",
            "name": state.projects[setting.project].name,
        }
        custom_field = state.field_by_gid(setting.field_gid)
        return {
            "gid": setting.gid,
            "resource_type": "custom_field_setting",
            "project": project_ref,
            "parent": project_ref,
            "is_important": False,
            "custom_field": render_field(custom_field) if custom_field is not None else None,
        }

    @app.get(f"{PREFIX}/workspaces/{{gid}}/custom_fields")
    def workspace_custom_fields(gid: str, request: Request) -> JSONResponse:
        """The workspace's custom fields, in creation order (compact unless ``opt_fields``)."""
        if gid != state.workspace_gid:
            return error(404, f"workspace: Unknown object: {gid}")
        fields = fields_of(request)
        with state.lock:
            records = [
                render_field(f) if fields else compact_field(f)
                for f in sorted(state.custom_fields.values(), key=lambda f: int(f.gid))
            ]
        return listing(request, records)

    @app.post(f"{PREFIX}/custom_fields")
    def create_custom_field(body: dict[str, Any], request: Request) -> JSONResponse:
        """A new workspace custom field (``workspace``, ``name``, ``resource_subtype``)."""
        data = data_of(body)
        if data is None:
            return error(400, "data: Missing input")
        if data.get("workspace") != state.workspace_gid:
            return error(400, "workspace: Not a recognized ID")
        name, subtype = data.get("name"), data.get("resource_subtype") or data.get("type")
        if not isinstance(name, str) or not isinstance(subtype, str):
            return error(400, "name, resource_subtype: Missing input")
        try:
            created = state.create_custom_field(name, subtype)
        except VocabularyRefused as exc:
            return refused(exc)
        return one(request, render_field(created), 201)

    @app.post(f"{PREFIX}/custom_fields/{{gid}}/enum_options")
    def create_enum_option(gid: str, body: dict[str, Any], request: Request) -> JSONResponse:
        """A new enum option at the end of the field's list, enabled."""
        data = data_of(body)
        name = data.get("name") if data is not None else None
        if not isinstance(name, str):
            return error(400, "name: Missing input")
        color = data.get("color") if data is not None else None
        try:
            option = state.add_enum_option(gid, name, color if isinstance(color, str) else "none")
        except VocabularyRefused as exc:
            return refused(exc)
        return one(request, render_option(option), 201)

    @app.put(f"{PREFIX}/enum_options/{{gid}}")
    def update_enum_option(gid: str, body: dict[str, Any], request: Request) -> JSONResponse:
        """Rename, enable or disable an enum option (never deleted)."""
        data = data_of(body)
        if data is None:
            return error(400, "data: Missing input")
        name, enabled, color = data.get("name"), data.get("enabled"), data.get("color")
        if (
            (name is not None and not isinstance(name, str))
            or (enabled is not None and not isinstance(enabled, bool))
            or (color is not None and not isinstance(color, str))
        ):
            return error(400, "data: Invalid field value")
        try:
            option = state.update_enum_option(gid, name=name, enabled=enabled, color=color)
        except VocabularyRefused as exc:
            return refused(exc)
        return one(request, render_option(option))

    @app.post(f"{PREFIX}/projects/{{gid}}/addCustomFieldSetting")
    def add_custom_field_setting(gid: str, body: dict[str, Any], request: Request) -> JSONResponse:
        """Add a workspace custom field to a project."""
        data = data_of(body)
        field_gid = data.get("custom_field") if data is not None else None
        if not isinstance(field_gid, str):
            return error(400, "custom_field: Missing input")
        try:
            setting = state.add_field_setting(gid, field_gid)
        except VocabularyRefused as exc:
            return refused(exc)
        with state.lock:
            return one(request, render_setting(setting))

    @app.get(f"{PREFIX}/projects/{{gid}}/custom_field_settings")
    def custom_field_settings(gid: str, request: Request) -> JSONResponse:
        """The custom fields added to a project, in the order they were added."""
        with state.lock:
            if gid not in state.projects:
                return error(404, f"project: Unknown object: {gid}")
            records = [render_setting(s) for s in state.field_settings.get(gid, [])]
        return listing(request, records)

    def render_user(gid: str) -> dict[str, Any]:
        name = state.people.get(gid) or (state.user["name"] if gid == state.user["gid"] else "")
        return {"gid": gid, "resource_type": "user", "name": name}

    def render_story(story: Story, compact: bool) -> dict[str, Any]:
        record: dict[str, Any] = {
            "gid": story.gid,
            "resource_type": "story",
            "created_at": asana_time(story.created_at),
            "created_by": render_user(story.author),
            "resource_subtype": story.subtype,
            "text": story.text,
        }
        if compact:
            return record
        record |= {"type": "comment" if story.subtype == "comment_added" else "system", "source": "web"}
        if story.assignee is not None:  # Asana's spec does not let assignee be null: absent otherwise
            record["assignee"] = render_user(story.assignee)
        return record

    @app.get(f"{PREFIX}/tasks/{{gid}}/stories")
    async def stories(gid: str, request: Request) -> JSONResponse:
        """A task's stories, oldest first (compact records unless ``opt_fields`` asks for more)."""
        with state.lock:
            found = state.tasks.get(gid)
            if found is None:
                return error(404, f"task: Unknown object: {gid}")
            compact = fields_of(request) is None
            records = [render_story(story, compact) for story in found.stories]
        return listing(request, records)

    http = Http(PREFIX, error, asana_time, fields_of, render_task, listing, one)
    register_write_routes(app, state, http)
    return app
