"""The fake Jira Data Center's search and worklog feeds (REST v2), as Data Center 10.3 answers them.

``GET`` and ``POST /rest/api/2/search`` answer a SearchResultsBean (``expand``, ``startAt``,
``maxResults``, ``total``, ``issues``): offset pages over the JQL's ORDER BY, computed afresh for
each request, so an issue updated between two page requests moves and shifts the later pages (real
behaviour, which the connector must survive). ``maxResults`` defaults to 50 and is capped at
``state.search_max`` (1,000: Data Center's ``jira.search.views.default.max``) whatever is asked;
``fields`` absent means every field; ``validateQuery`` false turns issue keys and ids that do not
exist into ``warningMessages`` instead of a 400, and Data Center does not refuse unbounded queries.
``expand=changelog`` puts each issue's ChangelogBean in it (``state.search_changelog_max`` bounds
the histories served, ``total`` says how many there are). Before answering, each search calls the
state's ``search_hooks`` with a :class:`~v2mom.sandbox.jira.state.SearchCall` (``startAt``, JQL,
expansions): tests change issues between page requests there, and a hook answering an HTTP status
makes the search answer it (one listing page or one history read refused, and only it).

Worklogs: ``GET /rest/api/2/worklog/updated`` and ``/worklog/deleted`` (``since`` in epoch
milliseconds; WorklogChangedSinceBean pages of ``state.worklog_page`` chained by ``until`` until
``lastPage``) and ``POST /rest/api/2/worklog/list`` (``{"ids": [...]}``, at most 1,000).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from v2mom.sandbox.jira.datacenter import dc_user
from v2mom.sandbox.jira.http import error, jira_time, json_body
from v2mom.sandbox.jira.jql import JqlError, Query, parse
from v2mom.sandbox.jira.state import ChangeGroup, ChangeItem, Issue, JiraState, SearchCall, Worklog

__all__ = ["DEFAULT_SEARCH_PAGE", "changelog_bean", "register_datacenter_search_routes", "worklog_json"]

DEFAULT_SEARCH_PAGE = 50
MAX_WORKLOG_IDS = 1000
ID_FIELDS = {"id", "key"}
SEARCH_EXPAND = "schema,names"


class IssueRenderer(Protocol):
    """What renders an issue as the app serves it (:class:`sandbox.jira.app.Renderer`)."""

    def issue(self, issue: Issue, fields: set[str] | None) -> dict[str, Any]:
        """The IssueBean; ``fields`` None means every field."""
        ...

    def value(self, issue: Issue, field_id: str) -> object:
        """The issue's value of one field as served (None: no value)."""
        ...


Renderers = Callable[[JiraState, str], IssueRenderer]  # (state, base URL) -> a renderer


def _number(value: object, name: str, default: int) -> int | str:
    """An integer parameter (a string in a query, an int in a body), or what is wrong with it."""
    if value is None or value == "":
        return default
    if isinstance(value, bool) or not isinstance(value, int | str):
        return f"{name} must be a number."
    try:
        return int(value)
    except ValueError:
        return f"{name} must be a number."


def _names(raw: object) -> list[str] | None:
    """A list parameter: a JSON list, or comma-separated (repeatable) query values; None: absent."""
    if raw is None:
        return None
    parts = raw if isinstance(raw, list) else [raw]
    return [n.strip() for part in parts for n in str(part).split(",") if n.strip()]


def _wanted_fields(raw: object) -> set[str] | None:
    """Data Center's ``fields``: absent (or ``*all`` / ``*navigable``) means every field."""
    names = _names(raw)
    if not names or "*all" in names or "*navigable" in names:
        return None
    return {n for n in names if not n.startswith("-")}


def _change_item(change: ChangeItem) -> dict[str, Any]:
    rendered = {
        "field": change.field_id,
        "fieldtype": "jira",
        "from": change.before,
        "fromString": change.before_text,
        "to": change.after,
        "toString": change.after_text,
    }
    return {k: v for k, v in rendered.items() if v is not None}  # the spec types them as strings


def _history(base: str, state: JiraState, group: ChangeGroup) -> dict[str, Any]:
    return {
        "id": str(group.id),
        "author": dc_user(base, state, group.author),
        "created": jira_time(group.created),
        "items": [_change_item(c) for c in group.items],
    }


def changelog_bean(base: str, state: JiraState, issue: Issue, limit: int | None) -> dict[str, Any]:
    """The issue's ChangelogBean, oldest change first, at most ``limit`` histories (None: all)."""
    groups = issue.changelog if limit is None else issue.changelog[:limit]
    return {
        "startAt": 0,
        "maxResults": len(groups),
        "total": len(issue.changelog),
        "histories": [_history(base, state, g) for g in groups],
    }


def _ordered(state: JiraState, query: Query) -> list[Issue]:
    """Every issue the query matches, in its ORDER BY (by (updated, id) when it names none)."""
    if query.only_ids is not None:
        with state.lock:
            candidates = [state.issues[i] for i in query.only_ids if i in state.issues]
    elif query.by_updated_ascending:
        start = (query.updated_from.astimezone(UTC), 0) if query.updated_from is not None else None
        candidates = list(state.iter_from(start, inclusive=True))
    else:
        with state.lock:
            candidates = list(state.issues.values())
    matched = [i for i in candidates if query.predicate(i)]
    if query.by_updated_ascending:
        return sorted(matched, key=lambda i: i.order)
    for field, descending in reversed(query.order):
        matched.sort(key=lambda i, f=field: getattr(i, f), reverse=descending)  # type: ignore[misc]
    return matched


def _search(state: JiraState, renderers: Renderers, request: Request, params: dict[str, Any]) -> Response:
    jql = params.get("jql")
    if jql is not None and not isinstance(jql, str):
        return error(400, "The JQL query must be a string.")
    start = _number(params.get("startAt"), "startAt", 0)
    if isinstance(start, str):
        return error(400, start)
    size = _number(params.get("maxResults"), "maxResults", DEFAULT_SEARCH_PAGE)
    if isinstance(size, str):
        return error(400, size)
    if start < 0 or size < 0:
        return error(400, "startAt and maxResults must not be negative.")
    validate = params.get("validateQuery")
    lenient = validate is False or (isinstance(validate, str) and validate.strip().lower() == "false")
    missing: list[str] = []
    base = str(request.base_url).rstrip("/")
    renderer = renderers(state, base)
    try:
        query = parse(
            jql or "",
            state.time_zone,
            exists=lambda ref: state.find(ref) is not None,
            missing=missing if lenient else None,
            bounded=False,
            project_exists=lambda key: key in state.projects,
            key_id=lambda key: found.id if (found := state.find(key)) is not None else None,
            field_value=renderer.value,
        )
    except JqlError as exc:
        return error(400, str(exc))
    size = min(size, state.search_max)
    expand = set(_names(params.get("expand")) or ())
    wanted = _wanted_fields(params.get("fields"))
    call = SearchCall(start, jql or "", frozenset(expand))
    for hook in list(state.search_hooks):
        status = hook(call)
        if status is not None:
            return error(status, f"The search at startAt {start} failed (sandbox hook).")
    with state.lock:
        cached = state.search_cache
        if query.only_ids is not None:  # a lookup by ids or keys: cheap, and the listing stays cached
            matched = _ordered(state, query)
        elif cached is not None and cached[:2] == (jql or "", state.revision):
            matched = cached[2]
        else:
            matched = _ordered(state, query)
            state.search_cache = (jql or "", state.revision, matched)
        issues = []
        for issue in matched[start : start + size]:
            rendered = renderer.issue(issue, wanted)
            if "changelog" in expand:
                rendered["changelog"] = changelog_bean(base, state, issue, state.search_changelog_max)
            issues.append(rendered)
    body: dict[str, Any] = {
        "expand": SEARCH_EXPAND,
        "startAt": start,
        "maxResults": size,
        "total": len(matched),
        "issues": issues,
    }
    if missing:
        body["warningMessages"] = missing
    return JSONResponse(body)


def _since(request: Request) -> int | Response:
    found = _number(request.query_params.get("since"), "since", 0)
    if isinstance(found, str):
        return error(400, found)
    return found


def _millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _changed_since(request: Request, state: JiraState, changes: list[tuple[int, int]]) -> Response:
    """A WorklogChangedSinceBean of ``changes`` ((updated ms, worklog id)) at or after ``since``."""
    since = _since(request)
    if isinstance(since, Response):
        return since
    kept = sorted(c for c in changes if c[0] >= since)
    page = kept[: state.worklog_page]
    last = len(kept) <= state.worklog_page
    until = page[-1][0] if page else since
    here = str(request.url.remove_query_params(["since"]))
    body: dict[str, Any] = {
        "self": f"{here}?since={since}",
        "since": since,
        "until": until,
        "lastPage": last,
        "values": [{"worklogId": w, "updatedTime": t, "properties": []} for t, w in page],
    }
    if not last:
        body["nextPage"] = f"{here}?since={until}"
    return JSONResponse(body)


def worklog_json(base: str, state: JiraState, worklog: Worklog) -> dict[str, Any]:
    """A worklog as Data Center serves it (the spec's ``worklog`` schema)."""
    hours, minutes = divmod(worklog.seconds // 60, 60)
    return {
        "self": f"{base}/rest/api/2/issue/{worklog.issue_id}/worklog/{worklog.id}",
        "author": dc_user(base, state, worklog.author),
        "updateAuthor": dc_user(base, state, worklog.author),
        "comment": "",
        "created": jira_time(worklog.created),
        "updated": jira_time(worklog.updated),
        "started": jira_time(worklog.started),
        "timeSpent": " ".join(
            p for p in (f"{hours}h" if hours else "", f"{minutes}m" if minutes else "") if p
        )
        or "0m",
        "timeSpentSeconds": worklog.seconds,
        "id": str(worklog.id),
        "issueId": str(worklog.issue_id),
    }


def register_datacenter_search_routes(app: FastAPI, state: JiraState, renderers: Renderers) -> None:
    """Add the Data Center search and worklog routes to ``app``; issues render through ``renderers``."""

    @app.get("/rest/api/2/search")
    def search_get(request: Request) -> Response:
        params: dict[str, Any] = dict(request.query_params)
        params["fields"] = request.query_params.getlist("fields") or None
        return _search(state, renderers, request, params)

    @app.post("/rest/api/2/search")
    async def search_post(request: Request) -> Response:
        body = await json_body(request)
        if isinstance(body, Response):
            return body
        return _search(state, renderers, request, body)

    @app.get("/rest/api/2/worklog/updated")
    def worklogs_updated(request: Request) -> Response:
        with state.lock:
            changes = [(_millis(w.updated), w.id) for w in state.worklogs.values()]
        return _changed_since(request, state, changes)

    @app.get("/rest/api/2/worklog/deleted")
    def worklogs_deleted(request: Request) -> Response:
        with state.lock:
            changes = [(_millis(at), w) for w, at in state.deleted_worklogs.items()]
        return _changed_since(request, state, changes)

    @app.post("/rest/api/2/worklog/list")
    async def worklog_list(request: Request) -> Response:
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return error(400, "Request body is not valid JSON.")
        ids = body.get("ids") if isinstance(body, dict) else None
        if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
            return error(400, "ids must be a list of worklog ids.")
        if len(ids) > MAX_WORKLOG_IDS:
            return error(400, f"At most {MAX_WORKLOG_IDS} worklog ids can be requested at once.")
        base = str(request.base_url).rstrip("/")
        with state.lock:
            found = [
                worklog_json(base, state, state.worklogs[i])
                for i in dict.fromkeys(ids)
                if i in state.worklogs
            ]
        return JSONResponse(found)
