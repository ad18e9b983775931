"""The fake Asana's write endpoints: ``PUT /tasks/{gid}``, ``addProject``, attachments, ``POST /batch``.

``PUT /tasks/{gid}`` sets enum / multi_enum custom fields by option gid (``null`` clears), refusing
a field on none of the task's projects as Asana does (a subtask outside every project holds no
project field), and fires the state's change listeners (webhooks echo the write).
``POST /tasks/{gid}/addProject`` makes a task, or a subtask, a member of a project: from then on it
holds that project's custom fields (and a ``PUT`` of them is taken); adding it again changes
nothing, as Asana only moves it within the project then. Attachments are
external links only (``POST /attachments`` as ``multipart/form-data``, Asana's upload endpoint;
list by ``parent``, get, delete): the sandbox stores no files. ``POST /batch``: see
:mod:`sandbox.asana.batch`. Every answer has the shape of Asana's OpenAPI (the contract tests
validate them).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from v2mom.sandbox.asana.batch import BatchError, form_fields, parse_actions, run_action
from v2mom.sandbox.asana.state import AsanaState, Attachment, Task, VocabularyRefused
from v2mom.sandbox.faults import whole_seconds

__all__ = ["Http", "register_write_routes"]

RATE_LIMITED = "You have made too many requests recently. Please, be chill."
BATCH_PARTS = ("status_code", "headers", "body")


@dataclass(frozen=True)
class Http:
    """What the write routes share with the app: its prefix, error bodies and renderers."""

    prefix: str
    error: Callable[..., JSONResponse]  # (status, message, headers=None)
    time: Callable[[Any], str | None]  # Asana's timestamp format
    fields_of: Callable[[Request], list[str] | None]
    render_task: Callable[[Request, Task], dict[str, Any]]
    listing: Callable[[Request, list[dict[str, Any]]], JSONResponse]
    one: Callable[..., JSONResponse]  # (request, record, status=200)


def _render_attachment(
    state: AsanaState, attachment: Attachment, base: str, created: str | None
) -> dict[str, Any]:
    """An external attachment as Asana's ``AttachmentResponse`` (the link is its ``view_url``)."""
    parent = state.tasks.get(attachment.parent)
    return {
        "gid": attachment.gid,
        "resource_type": "attachment",
        "name": attachment.name,
        "resource_subtype": "external",
        "created_at": created,
        "download_url": attachment.url,
        "permanent_url": f"{base}/app/asana/-/get_asset?asset_id={attachment.gid}",
        "host": "external",
        "view_url": attachment.url,
        "connected_to_app": False,
        "parent": {
            "gid": attachment.parent,
            "resource_type": "task",
            "name": parent.name if parent is not None else "",
            "resource_subtype": "default_task",
        },
    }


def _compact_attachment(attachment: Attachment) -> dict[str, Any]:
    return {
        "gid": attachment.gid,
        "resource_type": "attachment",
        "name": attachment.name,
        "resource_subtype": "external",
    }


def register_write_routes(app: FastAPI, state: AsanaState, http: Http) -> None:
    """Add the write-back endpoints to ``app`` (the sandbox of ``state``)."""
    prefix = http.prefix

    def refused(exc: VocabularyRefused) -> JSONResponse:
        return http.error(exc.status, exc.message)

    def attachment_record(request: Request, attachment: Attachment) -> dict[str, Any]:
        base = str(request.base_url).rstrip("/")
        return _render_attachment(state, attachment, base, http.time(attachment.created_at))

    @app.put(f"{prefix}/tasks/{{gid}}")
    def update_task(gid: str, body: dict[str, Any], request: Request) -> JSONResponse:
        """Set or clear enum custom fields of a task (the sandbox updates ``custom_fields`` only)."""
        data = body.get("data")
        if not isinstance(data, dict):
            return http.error(400, "data: Missing input")
        other = sorted(set(data) - {"custom_fields"})
        if other:
            return http.error(400, f"{', '.join(other)}: the sandbox updates custom_fields only")
        values = data.get("custom_fields") or {}
        if not isinstance(values, dict):
            return http.error(400, "custom_fields: Must be an object")
        try:
            task = state.set_custom_fields(gid, values)
        except VocabularyRefused as exc:
            return refused(exc)
        with state.lock:
            return JSONResponse({"data": http.render_task(request, task)})

    @app.post(f"{prefix}/tasks/{{gid}}/addProject")
    def add_project(gid: str, body: dict[str, Any]) -> JSONResponse:
        """Add the task to ``data.project`` (positioning arguments are accepted and ignored)."""
        data = body.get("data")
        project = data.get("project") if isinstance(data, dict) else None
        if not isinstance(project, str) or not project:
            return http.error(400, "project: Missing input")
        with state.lock:
            task = state.tasks.get(gid)
            if task is None:
                return http.error(404, f"task: Unknown object: {gid}")
            if project not in state.projects:
                return http.error(400, f"project: Not a recognized ID: {project}")
            member = project in task.projects
        if not member:
            state.add_to_project(gid, project)
        return JSONResponse({"data": {}})

    @app.post(f"{prefix}/attachments")
    async def create_attachment(request: Request) -> JSONResponse:
        """An external attachment (``resource_subtype=external``, ``parent``, ``url``, ``name``)."""
        form = form_fields(request.headers.get("content-type", ""), await request.body())
        if form.get("resource_subtype") != "external":
            return http.error(400, "file: Missing input (the sandbox stores external attachments only)")
        missing = [key for key in ("parent", "url", "name") if not form.get(key)]
        if missing:
            return http.error(400, f"{', '.join(missing)}: Missing input")
        try:
            attachment = state.add_attachment(form["parent"], form["name"], form["url"])
        except VocabularyRefused as exc:
            return refused(exc)
        return http.one(request, attachment_record(request, attachment))

    @app.get(f"{prefix}/attachments")
    def list_attachments(request: Request) -> JSONResponse:
        """The attachments of a task (``parent``), compact unless ``opt_fields``."""
        parent = request.query_params.get("parent")
        if not parent:
            return http.error(400, "parent: Missing input")
        try:
            found = state.attachments_of(parent)
        except VocabularyRefused as exc:
            return refused(exc)
        full = http.fields_of(request) is not None
        records = [attachment_record(request, a) if full else _compact_attachment(a) for a in found]
        return http.listing(request, records)

    @app.get(f"{prefix}/attachments/{{gid}}")
    def get_attachment(gid: str, request: Request) -> JSONResponse:
        """One attachment, in full."""
        found = state.attachments.get(gid)
        if found is None:
            return http.error(404, f"attachment: Unknown object: {gid}")
        return http.one(request, attachment_record(request, found))

    @app.delete(f"{prefix}/attachments/{{gid}}")
    def delete_attachment(gid: str) -> JSONResponse:
        """Delete an attachment; an empty data record."""
        try:
            state.delete_attachment(gid)
        except VocabularyRefused as exc:
            return refused(exc)
        return JSONResponse({"data": {}})

    @app.post(f"{prefix}/batch")
    async def batch(request: Request) -> JSONResponse:
        """Up to 10 actions in one request; one result per action, in order, on a 200."""
        try:
            actions = parse_actions(json.loads(await request.body()))
        except ValueError:
            return http.error(400, "Could not parse the request body as JSON")
        except BatchError as exc:
            return http.error(400, str(exc))
        wait = state.throttle(len(actions))  # "as though you had made a separate HTTP request" each
        if wait is not None:
            return http.error(429, RATE_LIMITED, {"Retry-After": whole_seconds(wait)})
        faults = []
        for action in actions:  # any action over a rate limit fails the entire batch, before running
            fault = state.take_fault(prefix + action.relative_path.partition("?")[0])
            if fault is not None and fault.status == 429:
                retry = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else None
                return http.error(429, RATE_LIMITED, retry)
            faults.append(fault)
        reads = sum(action.method == "get" for action in actions)  # in flight at once, as Asana runs them
        if reads and not state.reads.enter(reads):
            return http.error(429, RATE_LIMITED, {"Retry-After": "1"})
        wanted = http.fields_of(request) or list(BATCH_PARTS)
        results: list[dict[str, Any]] = []
        try:
            if state.reads.batch_seconds:
                await asyncio.sleep(state.reads.batch_seconds)
            for action, fault in zip(actions, faults, strict=True):
                headers: dict[str, str] = {}
                refusal = action.refusal(prefix)
                if refusal is not None:
                    status, body = 400, {"errors": [{"message": refusal}]}
                elif fault is not None:
                    status, body = fault.status, {"errors": [{"message": "injected fault"}]}
                else:
                    status, headers, body = await run_action(app, request.scope, action, prefix=prefix)
                result = {"status_code": status, "headers": headers, "body": body}
                results.append({k: v for k, v in result.items() if k in wanted})
        finally:
            state.reads.leave(reads)
        return JSONResponse({"data": results})
