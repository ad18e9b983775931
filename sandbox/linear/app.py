"""The fake Linear GraphQL API: ``POST /graphql``, executed by graphql-core over a LinearState.

The schema is ``schema.graphql`` beside this module, a subset of Linear's own (a test checks it
against the vendor's). Connections are relay-style with keyset cursors over (updatedAt, id); every
third page is short although more remain. Errors look like Linear's: ``{"errors": [{"message",
"extensions": {"code"}}]}``; a rate limit is a ``RATELIMITED`` error on HTTP 400 with
``X-RateLimit-Requests-*`` headers, an injected ``forbidden`` fault is a ``FORBIDDEN`` error, and
injected ``graphql`` faults answer HTTP 200 with ``errors``. A query priced over Linear's ceiling
(:mod:`.complexity`) is refused whole as ``Query too complex``, as Linear refuses it. Labels
(``issueLabels`` and the label mutations) keep ids, parents, groups and ``retiredAt``; a duplicate
name in a group is refused with ``INVALID_INPUT``, as Linear does. Label write-back and URL
attachments: :mod:`.writes`. Faults and stalls (:mod:`sandbox.faults`) see each request as
``/graphql/<operationName>``.
About 400 lines because one module holds every resolver of that schema over one shared state.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import secrets
import time
from datetime import UTC, datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    build_schema,
    execute_sync,
    parse,
    validate,
)

from v2mom.sandbox.faults import Fault
from v2mom.sandbox.linear.complexity import MAX_COMPLEXITY, query_complexity
from v2mom.sandbox.linear.state import (
    STATE_NAMES,
    HistoryEntry,
    Issue,
    Label,
    LabelRefused,
    LinearState,
    Project,
    Record,
    Webhook,
)
from v2mom.sandbox.linear.writes import WriteResolvers

SCHEMA_PATH = Path(__file__).resolve().parent / "schema.graphql"
DEFAULT_PAGE = 50
MAX_PAGE = 250
SHORT_EVERY = 3
RATE_LIMIT_REQUESTS = 1500


@cache
def sandbox_schema() -> GraphQLSchema:
    """The served schema (built once)."""
    return build_schema(SCHEMA_PATH.read_text(encoding="utf-8"))


def linear_time(moment: datetime | None) -> str | None:
    """Linear's timestamp format: ``2026-11-20T12:00:00.000Z``."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse_time(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise GraphQLError(f"Argument Validation Error: '{text}' is not a DateTime") from None


def _encode_cursor(record: Record, page: int) -> str:
    raw = json.dumps([record.updated.isoformat(), record.id, page])
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _decode_cursor(cursor: str) -> tuple[tuple[datetime, str], int]:
    try:
        updated, record_id, page = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return (datetime.fromisoformat(updated), str(record_id)), int(page)
    except (binascii.Error, ValueError, TypeError, json.JSONDecodeError):
        raise GraphQLError("Argument Validation Error: invalid cursor") from None


def _page_size(first: int | None) -> int:
    size = DEFAULT_PAGE if first is None else first
    if not 1 <= size <= MAX_PAGE:
        raise GraphQLError(f"Argument Validation Error: first must be between 1 and {MAX_PAGE}")
    return size


def _compare(comparator: dict[str, Any] | None, value: Any) -> bool:
    """A ``StringComparator`` / ``IDComparator`` / ``BooleanComparator`` (``eq``, ``in``) on ``value``."""
    if not comparator:
        return True
    if "eq" in comparator and comparator["eq"] is not None and value != comparator["eq"]:
        return False
    return not (comparator.get("in") is not None and value not in comparator["in"])


def _listed(comparator: dict[str, Any] | None) -> set[str] | None:
    """The ids an ``IDComparator`` names (``eq`` / ``in``), to look up instead of scanning; None: any."""
    if not comparator:
        return None
    listed: set[str] | None = None
    if comparator.get("in") is not None:
        listed = set(comparator["in"])
    if comparator.get("eq") is not None:
        listed = {comparator["eq"]} if listed is None else listed & {comparator["eq"]}
    return listed


def _label_matches(labels: dict[str, Label], label: Label, wanted: dict[str, Any] | None) -> bool:
    """Whether ``label`` passes an ``IssueLabelFilter`` (and / or / id / name / isGroup / parent / team)."""
    if not wanted:
        return True
    if wanted.get("and") and not all(_label_matches(labels, label, f) for f in wanted["and"]):
        return False
    if wanted.get("or") and not any(_label_matches(labels, label, f) for f in wanted["or"]):
        return False
    if not (
        _compare(wanted.get("id"), label.id)
        and _compare(wanted.get("name"), label.name)
        and _compare(wanted.get("isGroup"), label.is_group)
    ):
        return False
    team = wanted.get("team")
    if team and (team.get("null") is False or team.get("key")):
        return False  # every sandbox label is a workspace label: it has no team
    if "parent" in wanted and wanted["parent"] is not None:
        parent = labels.get(label.parent) if label.parent else None
        if parent is None or not _label_matches(labels, parent, wanted["parent"]):
            return False
    return True


def _label_refused(exc: LabelRefused) -> GraphQLError:
    return GraphQLError(str(exc), extensions={"code": "INVALID_INPUT"})


def _teams_wanted(team_filter: dict[str, Any] | None) -> set[str] | None:
    """Team keys a ``TeamFilter`` admits (None: all)."""
    if not team_filter:
        return None
    key = team_filter.get("key") or {}
    wanted: set[str] = set(key.get("in") or [])
    if key.get("eq"):
        wanted.add(key["eq"])
    return wanted


class Root(WriteResolvers):
    """The Query type's resolvers, and the rendering of records to GraphQL-shaped dicts (the
    write-back mutations come from :class:`~v2mom.sandbox.linear.writes.WriteResolvers`)."""

    def __init__(self, state: LinearState, base_url: str) -> None:
        self.state = state
        self.base = base_url

    # -- connections ---------------------------------------------------------------------------

    def _connection(
        self,
        records: Any,
        admit: Any,
        render: Any,
        first: int | None,
        after: str | None,
    ) -> dict[str, Any]:
        size = _page_size(first)
        start, page = _decode_cursor(after) if after else (None, 0)
        if (page + 1) % SHORT_EVERY == 0:
            size = max(1, size // 2)
        nodes: list[Record] = []
        more = False
        for record in records(start):
            if not admit(record):
                continue
            if len(nodes) == size:
                more = True
                break
            nodes.append(record)
        cursor = _encode_cursor(nodes[-1], page + 1) if nodes else None
        return {"nodes": [render(n) for n in nodes], "pageInfo": {"hasNextPage": more, "endCursor": cursor}}

    def issues(
        self,
        info: Any,
        filter: dict[str, Any] | None = None,
        first: int | None = None,
        after: str | None = None,
        orderBy: str | None = None,
        includeArchived: bool | None = None,
    ) -> dict[str, Any]:
        """``issues``: team and updatedAt filters, keyset pages in (updatedAt, id) order."""
        del info, orderBy  # always updatedAt order: what the connector asks for
        filter = filter or {}
        teams = _teams_wanted(filter.get("team"))
        since = (filter.get("updatedAt") or {}).get("gte")
        since_time = _parse_time(since) if since else None
        ids = filter.get("id")

        def admit(issue: Issue) -> bool:
            return (
                (teams is None or issue.team_key in teams)
                and _compare(ids, issue.id)
                and (since_time is None or issue.updated >= since_time)
                and (bool(includeArchived) or not issue.removed)
            )

        start_from = None if since_time is None else (since_time, "")
        only = _listed(ids)
        return self._connection(
            lambda start: self.state.iter_issues(start or start_from, only),
            admit,
            self.render_issue,
            first,
            after,
        )

    def projects(
        self,
        info: Any,
        filter: dict[str, Any] | None = None,
        first: int | None = None,
        after: str | None = None,
        orderBy: str | None = None,
        includeArchived: bool | None = None,
    ) -> dict[str, Any]:
        """``projects``: accessible-team and updatedAt filters, keyset pages."""
        del info, orderBy
        filter = filter or {}
        teams = _teams_wanted(((filter.get("accessibleTeams") or {}).get("some")) or None)
        since = (filter.get("updatedAt") or {}).get("gte")
        since_time = _parse_time(since) if since else None
        ids = filter.get("id")

        def admit(project: Project) -> bool:
            return (
                (teams is None or project.team_key in teams)
                and _compare(ids, project.id)
                and (since_time is None or project.updated >= since_time)
                and (bool(includeArchived) or not project.removed)
            )

        only = _listed(ids)
        return self._connection(
            lambda start: self.state.iter_projects(start, only), admit, self.render_project, first, after
        )

    def teams(
        self,
        info: Any,
        filter: dict[str, Any] | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> dict[str, Any]:
        """``teams`` with a key filter (one page: workspaces have few teams)."""
        del info, first, after
        wanted = _teams_wanted(filter)
        teams = [t for t in self.state.teams.values() if wanted is None or t.key in wanted]
        return {
            "nodes": [{"id": t.id, "key": t.key, "name": t.name} for t in teams],
            "pageInfo": {"hasNextPage": False, "endCursor": None},
        }

    def webhooks(self, info: Any, first: int | None = None, after: str | None = None) -> dict[str, Any]:
        """``webhooks``: every registered webhook (one page)."""
        del info, first, after
        return {
            "nodes": [self.render_webhook(h) for h in self.state.webhooks.values()],
            "pageInfo": {"hasNextPage": False, "endCursor": None},
        }

    def webhookCreate(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        """``webhookCreate``: register a webhook of one team (by id) or of all public teams."""
        del info
        team_key: str | None = None
        if input.get("teamId"):
            team_key = next((t.key for t in self.state.teams.values() if t.id == input["teamId"]), None)
            if team_key is None:
                raise GraphQLError("Entity not found: Team", extensions={"code": "INVALID_INPUT"})
        elif not input.get("allPublicTeams"):
            raise GraphQLError("teamId or allPublicTeams is required", extensions={"code": "INVALID_INPUT"})
        hook = self.state.add_webhook(
            input["url"],
            input.get("secret") or secrets.token_hex(16),
            team_key=team_key,
            resource_types=list(input["resourceTypes"]),
            label=input.get("label"),
        )
        return {"success": True, "webhook": self.render_webhook(hook)}

    def render_webhook(self, hook: Webhook) -> dict[str, Any]:
        """A webhook as the schema's Webhook."""
        team = self.state.teams.get(hook.team_key) if hook.team_key else None
        return {
            "id": hook.id,
            "url": hook.url,
            "enabled": True,
            "label": hook.label,
            "resourceTypes": hook.resource_types,
            "allPublicTeams": hook.team_key is None,
            "team": {"id": team.id, "key": team.key, "name": team.name} if team else None,
        }

    # -- labels --------------------------------------------------------------------------------

    def issueLabels(
        self,
        info: Any,
        filter: dict[str, Any] | None = None,
        first: int | None = None,
        after: str | None = None,
        includeArchived: bool | None = None,
    ) -> dict[str, Any]:
        """``issueLabels``: workspace labels in creation order, filtered; retired ones are listed
        (Linear shows them), deleted (archived) ones only with ``includeArchived``."""
        del info
        size = _page_size(first)
        start, page = None, 0
        if after:
            try:
                start, page = json.loads(base64.urlsafe_b64decode(after.encode()))
            except (binascii.Error, ValueError, TypeError):
                raise GraphQLError("Argument Validation Error: invalid cursor") from None
        if (page + 1) % SHORT_EVERY == 0:
            size = max(1, size // 2)
        with self.state.lock:
            labels = list(self.state.labels.values())
            ids = [label.id for label in labels]
            offset = ids.index(start) + 1 if start in ids else 0
            admitted = [
                label
                for label in labels[offset:]
                if (includeArchived or label.archived is None)
                and _label_matches(self.state.labels, label, filter)
            ]
            nodes = admitted[:size]
            rendered = [self.render_label(label) for label in nodes]
        cursor = None
        if nodes:
            cursor = base64.urlsafe_b64encode(json.dumps([nodes[-1].id, page + 1]).encode()).decode()
        return {"nodes": rendered, "pageInfo": {"hasNextPage": len(admitted) > size, "endCursor": cursor}}

    def _label_payload(self, change: Any) -> dict[str, Any]:
        try:
            label = change()
        except LabelRefused as exc:
            raise _label_refused(exc) from None
        return {"success": True, "lastSyncId": 1.0, "issueLabel": self.render_label(label)}

    def issueLabelCreate(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        """``issueLabelCreate``: a workspace label, a label group (``isGroup``) or a group's child."""
        del info
        if input.get("teamId"):
            raise GraphQLError("the sandbox has workspace labels only", extensions={"code": "INVALID_INPUT"})
        return self._label_payload(
            lambda: self.state.create_label(
                input["name"], is_group=bool(input.get("isGroup")), parent=input.get("parentId")
            )
        )

    def issueLabelUpdate(self, info: Any, id: str, input: dict[str, Any]) -> dict[str, Any]:
        """``issueLabelUpdate``: renames, keeping the id."""
        del info
        if input.get("name") is None:
            return self._label_payload(lambda: self.state.live_label(id))
        return self._label_payload(lambda: self.state.rename_label(id, input["name"]))

    def issueLabelRetire(self, info: Any, id: str) -> dict[str, Any]:
        """``issueLabelRetire``: the label stays, listed with its ``retiredAt``."""
        del info
        return self._label_payload(lambda: self.state.retire_label(id))

    def issueLabelRestore(self, info: Any, id: str) -> dict[str, Any]:
        """``issueLabelRestore``: a retired label becomes applicable again."""
        del info
        return self._label_payload(lambda: self.state.restore_label(id))

    def render_label(self, label: Label) -> dict[str, Any]:
        """A label as the schema's IssueLabel (its parent resolves lazily)."""
        labels = self.state.labels
        parent = labels.get(label.parent) if label.parent else None
        return {
            "id": label.id,
            "name": label.name,
            "isGroup": label.is_group,
            "retiredAt": linear_time(label.retired),
            "archivedAt": linear_time(label.archived),
            "team": None,
            "parent": (lambda info: self.render_label(parent)) if parent else None,
        }

    def issue(self, info: Any, id: str) -> dict[str, Any]:
        """One issue by id or identifier (archived ones too, as Linear does)."""
        del info
        with self.state.lock:
            found = self.state.issues.get(id) or next(
                (i for i in self.state.issues.values() if i.identifier == id.upper()), None
            )
        if found is None:
            raise GraphQLError("Entity not found: Issue", extensions={"code": "INVALID_INPUT"})
        return self.render_issue(found)

    def project(self, info: Any, id: str) -> dict[str, Any]:
        """One project by id."""
        del info
        found = self.state.projects.get(id)
        if found is None:
            raise GraphQLError("Entity not found: Project", extensions={"code": "INVALID_INPUT"})
        return self.render_project(found)

    # -- rendering -----------------------------------------------------------------------------

    def render_issue(self, issue: Issue) -> dict[str, Any]:
        """An issue as the schema's Issue (nested records resolve lazily)."""
        state = self.state
        team = state.teams[issue.team_key]
        parent = state.issues.get(issue.parent_id) if issue.parent_id else None
        project = state.projects.get(issue.project_id) if issue.project_id else None
        labels = [state.labels[i] for i in issue.label_ids if i in state.labels]

        def label_connection(info: Any, first: int | None = None, after: str | None = None) -> dict[str, Any]:
            del info
            size = _page_size(first)
            offset = int(after) if after and after.isdigit() else 0
            chunk = labels[offset : offset + size]
            more = offset + size < len(labels)
            return {
                "nodes": [self.render_label(label) for label in chunk],
                "pageInfo": {"hasNextPage": more, "endCursor": str(offset + len(chunk)) if chunk else None},
            }

        return {
            "id": issue.id,
            "identifier": issue.identifier,
            "title": issue.title,
            "description": issue.description,
            "url": f"{self.base}/{state.url_key}/issue/{issue.identifier}",
            "estimate": issue.estimate,
            "createdAt": linear_time(issue.created),
            "updatedAt": linear_time(issue.updated),
            "completedAt": linear_time(issue.completed),
            "canceledAt": linear_time(issue.canceled),
            "archivedAt": linear_time(issue.archived),
            "trashed": issue.trashed if issue.trashed else None,
            "state": self.render_state(issue.team_key, issue.state_type),
            "team": {"id": team.id, "key": team.key, "name": team.name},
            "parent": (lambda info: self.render_issue(parent)) if parent else None,
            "project": (lambda info: self.render_project(project)) if project else None,
            "assignee": self._render_user(issue.assignee_id),
            "labels": label_connection,
            "attachments": self.attachment_connection(issue),
            "history": self.history_connection(issue),
        }

    def render_state(self, team_key: str, state_type: str) -> dict[str, Any]:
        """Team ``team_key``'s workflow state of ``state_type`` as the schema's WorkflowState."""
        return {
            "id": self.state.workflow_state_id(team_key, state_type),
            "name": STATE_NAMES[state_type],
            "type": state_type,
        }

    def _render_user(self, user_id: str | None) -> dict[str, Any] | None:
        return {"id": user_id, "name": self.state.users.get(user_id, "")} if user_id is not None else None

    def render_history(self, entry: HistoryEntry) -> dict[str, Any]:
        """A history entry as the schema's IssueHistory: each state and person as an object and by
        its id, as Linear offers both."""
        left = self.render_state(*entry.from_state) if entry.from_state else None
        entered = self.render_state(*entry.to_state) if entry.to_state else None
        return {
            "id": entry.id,
            "createdAt": linear_time(entry.created),
            "fromState": left,
            "toState": entered,
            "fromStateId": left["id"] if left else None,
            "toStateId": entered["id"] if entered else None,
            "fromAssignee": self._render_user(entry.from_assignee),
            "toAssignee": self._render_user(entry.to_assignee),
            "fromAssigneeId": entry.from_assignee,
            "toAssigneeId": entry.to_assignee,
        }

    def history_connection(self, issue: Issue) -> Any:
        """``Issue.history``: the issue's entries oldest first, in pages (cursor: the offset);
        every third page is short although more remain."""

        def connection(info: Any, first: int | None = None, after: str | None = None) -> dict[str, Any]:
            del info
            size = _page_size(first)
            offset, page = 0, 0
            if after:
                try:
                    offset, page = json.loads(base64.urlsafe_b64decode(after.encode()))
                except (binascii.Error, ValueError, TypeError):
                    raise GraphQLError("Argument Validation Error: invalid cursor") from None
            if (page + 1) % SHORT_EVERY == 0:
                size = max(1, size // 2)
            with self.state.lock:
                entries = list(issue.history)
            chunk = entries[offset : offset + size]
            end = offset + len(chunk)
            cursor = (
                base64.urlsafe_b64encode(json.dumps([end, page + 1]).encode()).decode() if chunk else None
            )
            return {
                "nodes": [self.render_history(entry) for entry in chunk],
                "pageInfo": {"hasNextPage": end < len(entries), "endCursor": cursor},
            }

        return connection

    def render_project(self, project: Project) -> dict[str, Any]:
        """A project as the schema's Project."""
        team = self.state.teams[project.team_key]
        return {
            "id": project.id,
            "name": project.name,
            "slugId": project.slug_id,
            "url": f"{self.base}/{self.state.url_key}/project/{project.slug_id}",
            "createdAt": linear_time(project.created),
            "updatedAt": linear_time(project.updated),
            "completedAt": linear_time(project.completed),
            "canceledAt": linear_time(project.canceled),
            "archivedAt": linear_time(project.archived),
            "trashed": project.trashed if project.trashed else None,
            "status": {"type": project.status},
            "teams": lambda info, first=None, after=None: {
                "nodes": [{"id": team.id, "key": team.key, "name": team.name}],
                "pageInfo": {"hasNextPage": False, "endCursor": None},
            },
        }


def _errors(status: int, message: str, code: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": code}}]}, status_code=status, headers=headers
    )


def _too_complex(points: float) -> JSONResponse:
    """Linear's answer to a query priced over its ceiling: refused whole, on HTTP 400."""
    presented = (
        f"The query is too complex. Complexity: {points}. Maximum allowed complexity: {MAX_COMPLEXITY}."
    )
    error = {
        "message": "Query too complex",
        "extensions": {
            "type": "invalid input",
            "code": "INPUT_ERROR",
            "statusCode": 400,
            "userError": True,
            "userPresentableMessage": presented,
            "http": {"status": 400},
        },
    }
    return JSONResponse({"errors": [error]}, status_code=400)


def _rate_limited(wait: float) -> JSONResponse:
    """Linear's answer over a limit: a RATELIMITED GraphQL error on HTTP 400, the reset in epoch ms."""
    reset_ms = math.ceil((time.time() + wait) * 1000)
    headers = {
        "X-RateLimit-Requests-Limit": str(RATE_LIMIT_REQUESTS),
        "X-RateLimit-Requests-Remaining": "0",
        "X-RateLimit-Requests-Reset": str(reset_ms),
    }
    return _errors(400, "Rate limit exceeded", "RATELIMITED", headers)


def _fault_answer(fault: Fault) -> JSONResponse:
    wait = fault.retry_after if fault.retry_after is not None else 1.0
    if fault.kind == "ratelimited":
        return _rate_limited(wait)
    if fault.kind == "forbidden":  # a permission Linear refuses: a GraphQL error, HTTP 400 as Linear
        return _errors(400, "You do not have permission to perform this action", "FORBIDDEN")
    if fault.kind == "graphql":
        return JSONResponse(
            {
                "data": None,
                "errors": [{"message": "Internal error", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}],
            }
        )
    retry = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else None
    return _errors(fault.status, "injected fault", "INTERNAL_SERVER_ERROR", retry)


def create_linear_app(state: LinearState) -> FastAPI:
    """The ASGI app serving ``state`` at ``POST /graphql``."""
    app = FastAPI(title="Linear sandbox", openapi_url=None, docs_url=None, redoc_url=None)
    schema = sandbox_schema()

    @lru_cache(maxsize=256)
    def checked(query: str) -> tuple[DocumentNode, tuple[Any, ...]]:
        """A query document parsed and validated once, as a GraphQL server keeps its documents: a
        client sends the same few documents again and again (GraphQLError when it does not parse)."""
        document = parse(query)
        return document, tuple(problem.formatted for problem in validate(schema, document))

    @app.post("/graphql")
    async def graphql_endpoint(request: Request) -> JSONResponse:
        try:
            body = json.loads(await request.body())
        except ValueError:
            return _errors(400, "Body is not JSON", "BAD_REQUEST")
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return _errors(400, "Body must be a JSON object with a query", "BAD_REQUEST")
        operation = body.get("operationName")
        try:
            document, problems = checked(body["query"])
        except GraphQLError as exc:
            return _errors(400, exc.message, "GRAPHQL_PARSE_FAILED")
        if not isinstance(operation, str):
            names = [
                d.name.value
                for d in document.definitions
                if isinstance(d, OperationDefinitionNode) and d.name is not None
            ]
            operation = names[0] if names else "anonymous"
        state.record(f"/graphql/{operation}")
        if request.headers.get("authorization") != state.api_key:
            return _errors(401, "Authentication required, not authenticated", "AUTHENTICATION_ERROR")
        fault = state.take_fault(f"/graphql/{operation}")
        if fault is not None:
            return _fault_answer(fault)
        stall = state.take_stall(f"/graphql/{operation}", request.method)
        if stall is not None and not await stall.hold_before():
            return _errors(503, "sandbox stall: the request was dropped", "INTERNAL_SERVER_ERROR")
        wait = state.throttle()
        if wait is not None:
            return _rate_limited(wait)
        if problems:
            return JSONResponse({"errors": list(problems)}, status_code=400)
        variables = body.get("variables") if isinstance(body.get("variables"), dict) else None
        named = body.get("operationName")
        points = query_complexity(schema, document, variables, named if isinstance(named, str) else None)
        if points > MAX_COMPLEXITY:
            return _too_complex(points)
        root = Root(state, str(request.base_url).rstrip("/"))
        result = execute_sync(schema, document, root_value=root, variable_values=variables)
        payload: dict[str, Any] = {"data": result.data}
        if result.errors:
            payload["errors"] = [e.formatted for e in result.errors]
        headers = {
            "X-RateLimit-Requests-Limit": str(RATE_LIMIT_REQUESTS),
            "X-RateLimit-Requests-Remaining": str(RATE_LIMIT_REQUESTS - 1),
        }
        if stall is not None:
            await stall.hold_after()
        return JSONResponse(payload, headers=headers)

    return app
