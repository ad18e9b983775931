"""The fake Jira's write-back endpoints: bulk edit of single selects, its task queue, remote links.

- ``POST /rest/api/3/bulk/issues/fields`` (IssueBulkEditPayload, ``singleSelectFields`` only): up to
  1,000 issues (more: 400 with Jira's BulkOperationErrorResponse), every ``editedFieldsInput`` field
  listed in ``selectedActions`` and back. Applied at once; ``201 {"taskId"}``.
- ``GET /rest/api/3/bulk/queue/{taskId}`` (BulkOperationProgress): ``RUNNING`` for the first
  ``state.bulk_running_polls`` looks, then ``COMPLETE`` with ``processedAccessibleIssues``,
  ``failedAccessibleIssues`` (issue id -> reasons: an option that is not the field's, or disabled) and
  ``invalidOrInaccessibleIssueCount`` (issues that do not exist or were deleted).
- ``POST /rest/api/3/issue/{idOrKey}/remotelink``: creates a link (201), or updates the issue's link
  holding the same ``globalId`` in place (200; fields left out become null); ``GET`` lists them (or
  answers the one with ``?globalId=``).

An edit that changes an issue bumps ``updated`` and fires ``jira:issue_updated`` to the listeners
(webhooks echo it), as every other edit does; an edit that changes nothing leaves the issue alone.
Remote links change no issue field, so they fire nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from v2mom.sandbox.jira.http import error, json_body, request_id_headers
from v2mom.sandbox.jira.state import SELECT_TYPE, BulkTask, Issue, JiraState, RemoteLink

__all__ = [
    "MAX_BULK_ISSUES",
    "MAX_GLOBAL_ID",
    "apply_bulk_edit",
    "link_json",
    "register_remote_link_routes",
    "register_write_routes",
    "remote_link_refusal",
    "upsert_remote_link",
]

MAX_BULK_ISSUES = 1000
MAX_GLOBAL_ID = 255
CLEAR = -1


class BulkEditError(Exception):
    """A bulk edit Jira refuses as a whole (400, BulkOperationErrorResponse)."""


def bulk_error(status: int, *messages: str) -> JSONResponse:
    """Jira's BulkOperationErrorResponse: ``{"errors": [{"message": …}]}``."""
    return JSONResponse(
        {"errors": [{"message": m} for m in messages]}, status_code=status, headers=request_id_headers()
    )


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds")


def _selections(state: JiraState, body: dict[str, Any]) -> dict[str, int]:
    """Field id -> option id to set (-1: clear), checked against ``selectedActions``."""
    edited = body.get("editedFieldsInput")
    actions = body.get("selectedActions")
    if not isinstance(edited, dict) or not isinstance(actions, list) or not actions:
        raise BulkEditError("editedFieldsInput and selectedActions are required.")
    unsupported = sorted(set(edited) - {"singleSelectFields"})
    if unsupported:
        raise BulkEditError(f"The sandbox bulk edit supports singleSelectFields only, not: {unsupported}")
    chosen: dict[str, int] = {}
    for entry in edited.get("singleSelectFields") or []:
        field_id = entry.get("fieldId") if isinstance(entry, dict) else None
        option = entry.get("option") if isinstance(entry, dict) else None
        option_id = option.get("optionId") if isinstance(option, dict) else None
        if not isinstance(field_id, str) or not isinstance(option_id, int) or isinstance(option_id, bool):
            raise BulkEditError("Each singleSelectFields entry needs a fieldId and an option.optionId.")
        described = state.field_by_id(field_id)
        if described is None or (described.get("schema") or {}).get("custom") != SELECT_TYPE:
            raise BulkEditError(f"The field {field_id} is not a single select field.")
        chosen[field_id] = option_id
    not_selected = sorted(set(chosen) - {str(a) for a in actions})
    if not_selected:
        raise BulkEditError(
            "The following editedFieldInput values are not listed as selectedActions : "
            + ", ".join(not_selected)
        )
    not_edited = sorted({str(a) for a in actions} - set(chosen))
    if not_edited:
        raise BulkEditError(
            "The following selectedActions have no editedFieldsInput: " + ", ".join(not_edited)
        )
    return chosen


def _edit_issue(state: JiraState, issue: Issue, chosen: dict[str, int]) -> list[str]:
    """Apply ``chosen`` to ``issue`` (all or nothing); the reasons it was refused, if any."""
    selects, select_ids = dict(issue.selects), dict(issue.select_ids)
    reasons: list[str] = []
    for field_id, option_id in chosen.items():
        if option_id == CLEAR:
            selects.pop(field_id, None)
            select_ids.pop(field_id, None)
            continue
        option = state.option_of(field_id, str(option_id))
        if option is None:
            reasons.append(f"The option id {option_id} is not valid for the field {field_id}.")
        elif option.disabled:
            reasons.append(f"The option '{option.value}' of the field {field_id} is disabled.")
        else:
            selects[field_id], select_ids[field_id] = option.value, option.id
    if not reasons and (selects != issue.selects or select_ids != issue.select_ids):
        state.update_issue(issue.id, selects=selects, select_ids=select_ids)  # fires jira:issue_updated
    return reasons


def apply_bulk_edit(state: JiraState, body: dict[str, Any]) -> BulkTask:
    """Validate and apply an IssueBulkEditPayload; the task reporting it. BulkEditError when refused."""
    refs = body.get("selectedIssueIdsOrKeys")
    if not isinstance(refs, list) or not refs or not all(isinstance(r, str) for r in refs):
        raise BulkEditError("selectedIssueIdsOrKeys must list at least one issue id or key.")
    if len(refs) > MAX_BULK_ISSUES:
        raise BulkEditError(
            f"The number of issues selected ({len(refs)}) exceeds the limit of {MAX_BULK_ISSUES} issues."
        )
    chosen = _selections(state, body)
    task = BulkTask(state.next_task_id(), state.clock(), len(refs), running_polls=state.bulk_running_polls)
    for ref in dict.fromkeys(refs):
        issue = state.find(ref)
        if issue is None:
            task.invalid += 1
            continue
        reasons = _edit_issue(state, issue, chosen)
        if reasons:
            task.failed[str(issue.id)] = reasons
        else:
            task.processed.append(issue.id)
    with state.lock:
        state.bulk_tasks[task.id] = task
    return task


def progress_json(state: JiraState, task: BulkTask) -> dict[str, Any]:
    """The BulkOperationProgress of ``task`` at this look (consumes one ``RUNNING`` answer)."""
    base: dict[str, Any] = {
        "taskId": task.id,
        "created": _iso(task.created),
        "started": _iso(task.created),
        "submittedBy": {"accountId": state.account_id},
        "updated": _iso(state.clock()),
    }
    if task.running_polls > 0:
        task.running_polls -= 1
        return {**base, "status": "RUNNING", "progressPercent": 50}
    return {
        **base,
        "status": "COMPLETE",
        "progressPercent": 100,
        "totalIssueCount": task.total,
        "processedAccessibleIssues": list(task.processed),
        "failedAccessibleIssues": {k: list(v) for k, v in task.failed.items()},
        "invalidOrInaccessibleIssueCount": task.invalid,
    }


def link_json(base: str, issue: Issue, link: RemoteLink, *, version: int = 3) -> dict[str, Any]:
    """A RemoteIssueLink as ``GET …/remotelink`` lists it (on REST ``version``)."""
    out: dict[str, Any] = {
        "id": link.id,
        "self": f"{base}/rest/api/{version}/issue/{issue.key}/remotelink/{link.id}",
    }
    if link.global_id is not None:
        out["globalId"] = link.global_id
    if link.application is not None:
        out["application"] = link.application
    if link.relationship is not None:
        out["relationship"] = link.relationship
    out["object"] = link.object
    return out


def remote_link_refusal(body: dict[str, Any]) -> Response | None:
    """The 400 Jira answers to a remote link body without ``object.title`` / ``object.url`` or with
    a bad ``globalId``; None when it is acceptable."""
    linked = body.get("object")
    for name in ("title", "url"):
        if not isinstance(linked, dict) or not isinstance(linked.get(name), str) or not linked[name]:
            return JSONResponse(
                {"errorMessages": [], "errors": {name: f"'{name}' is required."}},
                status_code=400,
                headers=request_id_headers(),
            )
    global_id = body.get("globalId")
    if global_id is not None and (not isinstance(global_id, str) or len(global_id) > MAX_GLOBAL_ID):
        return error(400, f"The globalId must be a string of at most {MAX_GLOBAL_ID} characters.")
    return None


def upsert_remote_link(state: JiraState, issue: Issue, body: dict[str, Any]) -> tuple[RemoteLink, bool]:
    """Create the link, or update the issue's link with the same ``globalId``; (link, created)."""
    global_id = body.get("globalId") if isinstance(body.get("globalId"), str) else None
    application = body.get("application") if isinstance(body.get("application"), dict) else None
    relationship = body.get("relationship") if isinstance(body.get("relationship"), str) else None
    with state.lock:
        links = state.remote_links.setdefault(issue.id, [])
        for link in links:
            if global_id is not None and link.global_id == global_id:
                link.object, link.application, link.relationship = body["object"], application, relationship
                return link, False
        link = RemoteLink(
            state.next_link_id(), issue.id, global_id, body["object"], application, relationship
        )
        links.append(link)
        return link, True


def register_write_routes(app: FastAPI, state: JiraState) -> None:
    """Serve bulk edit, its queue and remote links from ``state`` on ``app``."""

    @app.post("/rest/api/3/bulk/issues/fields")
    async def submit_bulk_edit(request: Request) -> Response:
        body = await json_body(request)
        if isinstance(body, Response):
            return body
        try:
            task = apply_bulk_edit(state, body)
        except BulkEditError as refused:
            return bulk_error(400, str(refused))
        return JSONResponse({"taskId": task.id}, status_code=201)

    @app.get("/rest/api/3/bulk/queue/{task_id}")
    def bulk_progress(task_id: str) -> Response:
        with state.lock:
            task = state.bulk_tasks.get(task_id)
            if task is None:
                return error(404, f"The bulk operation task {task_id} was not found.")
            return JSONResponse(progress_json(state, task))

    register_remote_link_routes(
        app, state, version=3, not_found="Issue does not exist or you do not have permission to see it."
    )


def register_remote_link_routes(
    app: FastAPI, state: JiraState, *, version: int, not_found: str, disabled: str | None = None
) -> None:
    """``POST`` (create, or update in place by ``globalId``) and ``GET`` (all, or one by
    ``globalId``) ``/rest/api/{version}/issue/{id}/remotelink``: Cloud's (3) and Data Center's (2),
    which answer ``not_found`` for a missing issue in their own words and, with ``disabled`` given,
    403 it while ``state.remote_links_disabled`` (a Data Center admin turned remote linking off)."""
    path = f"/rest/api/{version}/issue/{{id_or_key}}/remotelink"

    def issue_or_refusal(id_or_key: str) -> Response | Issue:
        if disabled is not None and state.remote_links_disabled:
            return error(403, disabled)
        issue = state.find(id_or_key)
        return issue if issue is not None else error(404, not_found)

    @app.post(path)
    async def put_remote_link(id_or_key: str, request: Request) -> Response:
        issue = issue_or_refusal(id_or_key)
        if isinstance(issue, Response):
            return issue
        body = await json_body(request)
        if isinstance(body, Response):
            return body
        refused = remote_link_refusal(body)
        if refused is not None:
            return refused
        link, created = upsert_remote_link(state, issue, body)
        base = str(request.base_url).rstrip("/")
        answer = {"id": link.id, "self": f"{base}/rest/api/{version}/issue/{issue.key}/remotelink/{link.id}"}
        return JSONResponse(answer, status_code=201 if created else 200)

    @app.get(path)
    def remote_links(id_or_key: str, request: Request) -> Response:
        issue = issue_or_refusal(id_or_key)
        if isinstance(issue, Response):
            return issue
        base = str(request.base_url).rstrip("/")
        wanted = request.query_params.get("globalId")
        with state.lock:
            links = [
                link_json(base, issue, link, version=version) for link in state.remote_links.get(issue.id, [])
            ]
        if wanted is None:
            return JSONResponse(links)
        found = [link for link in links if link.get("globalId") == wanted]
        if not found:
            return error(404, f"No remote link with the global id {wanted} exists on this issue.")
        return JSONResponse(found[0])
