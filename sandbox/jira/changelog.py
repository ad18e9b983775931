"""The fake Jira's changelogs: ``POST /rest/api/3/changelog/bulkfetch`` (``getBulkChangelogs``).

The body is Jira's BulkChangelogRequestBean: ``issueIdsOrKeys`` (1 to 1,000 ids or keys),
optional ``fieldIds`` (up to 10: only those fields' changes, and only the changes holding one of
them), ``maxResults`` (1 to 10,000 changes per page, default 1,000) and ``nextPageToken``. The
answer is a BulkChangelogResponseBean: the changes of every named issue in one order, oldest first
and then by issue id, grouped per issue on each page (an issue's changes can run over several
pages), with a ``nextPageToken`` while more remain. Ids or keys of issues that do not exist (or were
deleted) are left out, as issues the account cannot see are. A value Jira sends as null (the
``from`` of a first assignment) is left out of the change item, which the spec types as a string.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from v2mom.sandbox.jira.http import error, jira_time, json_body
from v2mom.sandbox.jira.state import ChangeGroup, ChangeItem, Issue, JiraState

__all__ = ["MAX_CHANGELOG_ISSUES", "register_changelog_routes", "user_details"]

MAX_CHANGELOG_ISSUES = 1000
MAX_CHANGELOG_FIELDS = 10
MAX_CHANGELOG_PAGE = 10000
DEFAULT_CHANGELOG_PAGE = 1000
FIELD_NAMES = {"status": "status", "assignee": "assignee", "resolution": "resolution"}


def user_details(base: str, account_id: str, name: str) -> dict[str, Any]:
    """A person as Jira's UserDetails (no email: the privacy settings of most sites hide it)."""
    return {
        "self": f"{base}/rest/api/3/user?accountId={account_id}",
        "accountId": account_id,
        "accountType": "atlassian",
        "active": True,
        "displayName": name,
        "timeZone": "UTC",
    }


def _item(change: ChangeItem) -> dict[str, Any]:
    rendered: dict[str, Any] = {
        "field": FIELD_NAMES.get(change.field_id, change.field_id),
        "fieldtype": "jira",
        "fieldId": change.field_id,
        "from": change.before,
        "fromString": change.before_text,
        "to": change.after,
        "toString": change.after_text,
    }
    return {k: v for k, v in rendered.items() if v is not None}


def _request_key(ids: list[str], fields: list[str] | None) -> str:
    return hashlib.sha256(json.dumps([ids, fields]).encode()).hexdigest()[:16]


def _token(offset: int, key: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset, "q": key}).encode()).decode()


def _offset(token: str, key: str) -> int | None:
    try:
        payload = json.loads(base64.urlsafe_b64decode(token.encode()))
        offset = int(payload["o"])
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError):
        return None
    return offset if payload.get("q") == key and offset >= 0 else None


def _read(body: dict[str, Any]) -> tuple[list[str], list[str] | None, int] | str:
    """(ids or keys, field ids or None for all, page size), or what is wrong with the body."""
    ids = body.get("issueIdsOrKeys")
    if not isinstance(ids, list) or not all(isinstance(i, str) and i for i in ids):
        return "issueIdsOrKeys must be a list of issue ids or keys."
    if not 1 <= len(ids) <= MAX_CHANGELOG_ISSUES:
        return f"Provide between 1 and {MAX_CHANGELOG_ISSUES} issue ids or keys."
    fields = body.get("fieldIds")
    if fields is not None and (
        not isinstance(fields, list)
        or not all(isinstance(f, str) for f in fields)
        or len(fields) > MAX_CHANGELOG_FIELDS
        or len(set(fields)) != len(fields)
    ):
        return f"fieldIds must be a list of at most {MAX_CHANGELOG_FIELDS} distinct field ids."
    size = body.get("maxResults", DEFAULT_CHANGELOG_PAGE)
    if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= MAX_CHANGELOG_PAGE:
        return f"maxResults must be between 1 and {MAX_CHANGELOG_PAGE}."
    return ids, fields or None, size


def register_changelog_routes(app: FastAPI, state: JiraState) -> None:
    """Add ``POST /rest/api/3/changelog/bulkfetch`` to ``app``."""

    @app.post("/rest/api/3/changelog/bulkfetch")
    async def bulkfetch(request: Request) -> Response:
        body = await json_body(request)
        if isinstance(body, Response):
            return body
        read = _read(body)
        if isinstance(read, str):
            return error(400, read)
        ids, fields, size = read
        key = _request_key(ids, fields)
        offset = 0
        token = body.get("nextPageToken")
        if token is not None:
            found = _offset(token, key) if isinstance(token, str) else None
            if found is None:
                return error(400, "The provided next page token is invalid or expired.")
            offset = found
        base = str(request.base_url).rstrip("/")
        with state.lock:
            issues = {issue.id: issue for ref in ids if (issue := state.find(ref)) is not None}
            changes: list[tuple[Issue, ChangeGroup, list[ChangeItem]]] = []
            for issue in issues.values():
                for group in issue.changelog:
                    kept = [c for c in group.items if fields is None or c.field_id in fields]
                    if kept:
                        changes.append((issue, group, kept))
            changes.sort(key=lambda change: (change[1].created, change[0].id, change[1].id))
            page = changes[offset : offset + size]
            logs: dict[int, dict[str, Any]] = {}
            for issue, group, kept in page:
                log = logs.setdefault(issue.id, {"issueId": str(issue.id), "changeHistories": []})
                log["changeHistories"].append(
                    {
                        "id": str(group.id),
                        "author": user_details(base, group.author, state.people.get(group.author, "")),
                        "created": jira_time(group.created),
                        "items": [_item(c) for c in kept],
                    }
                )
        answer: dict[str, Any] = {"issueChangeLogs": list(logs.values())}
        if offset + size < len(changes):
            answer["nextPageToken"] = _token(offset + size, key)
        return JSONResponse(answer)
