"""The fake Jira Data Center's admin webhooks: registration routes, and deliveries in its shape.

Data Center (10 and later) registers admin webhooks at ``/rest/jira-webhook/1.0/webhooks``
(GET lists, POST creates, GET/PUT/DELETE ``…/{id}``); the route is not in its OpenAPI. A webhook is
``{name, url, events, filters: {"issue-related-events-section": JQL}, excludeBody, enabled}`` and an
optional ``secret``, which is never shown again. Only an administrator may manage them
(``state.administrator``; 403 otherwise); authentication is the app's (Bearer on a Data Center
state).

:class:`DataCenterWebhookSender` delivers every change of the state to each enabled webhook that
asked for its event and whose JQL matches the issue (deleted issues as they were), in Data Center's
documented body: ``timestamp`` (ms), ``webhookEvent``, ``issue_event_type_name``, the actor as a
UserBean (``name``, ``key``, no ``accountId``), the whole issue as the REST v2 app renders it
(unless ``excludeBody``), and for a logged change its ``changelog`` ``{id, items}`` with items as
ChangeItemBean (``field``, ``fieldtype``, ``from``/``to`` — user keys for an assignee —
``fromString``/``toString``, a null left out; no ``fieldId``). A delivery is signed
(``X-Hub-Signature: sha256=<hex>``) when the webhook has a secret, unsigned otherwise, and carries
no delivery id header.
"""

from __future__ import annotations

import json
import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from v2mom.sandbox.jira.changelog import FIELD_NAMES
from v2mom.sandbox.jira.datacenter import dc_user
from v2mom.sandbox.jira.http import error, json_body, request_id_headers
from v2mom.sandbox.jira.jql import JqlError, parse
from v2mom.sandbox.jira.state import ChangeItem, Issue, JiraState
from v2mom.sandbox.jira.webhooks import logged_change
from v2mom.sandbox.webhooks import Chaos, HeadersFor, Sender, hex_hmac

__all__ = [
    "DataCenterWebhookSender",
    "DcWebhook",
    "add_webhook",
    "register_datacenter_webhook_routes",
    "webhooks_of",
]

WEBHOOKS_PATH = "/rest/jira-webhook/1.0/webhooks"
JQL_FILTER = "issue-related-events-section"
ISSUE_EVENTS = ("jira:issue_created", "jira:issue_updated", "jira:issue_deleted")
EVENT_TYPE_NAMES = {
    "jira:issue_created": "issue_created",
    "jira:issue_updated": "issue_generic",
    "jira:issue_deleted": "issue_deleted",
}
ADMIN_ONLY = "You must be a Jira administrator to manage webhooks."


@dataclass
class DcWebhook:
    """One registered admin webhook (``secret`` None: its deliveries go unsigned)."""

    id: int
    name: str
    url: str
    events: list[str]
    jql: str
    exclude_body: bool = False
    enabled: bool = True
    secret: str | None = None

    def rendered(self, base: str) -> dict[str, Any]:
        """The webhook as the REST resource answers it (never its secret)."""
        return {
            "id": self.id,
            "self": f"{base}{WEBHOOKS_PATH}/{self.id}",
            "name": self.name,
            "url": self.url,
            "events": list(self.events),
            "filters": {JQL_FILTER: self.jql},
            "excludeBody": self.exclude_body,
            "enabled": self.enabled,
        }


@dataclass
class DcWebhooks:
    """The webhooks registered on one state."""

    hooks: dict[int, DcWebhook] = field(default_factory=dict)
    next_id: int = 1
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, hook: DcWebhook) -> DcWebhook:
        """Register ``hook`` under the next id (set on it); returns it."""
        with self.lock:
            hook.id, self.next_id = self.next_id, self.next_id + 1
            self.hooks[hook.id] = hook
        return hook

    def find(self, hook_id: str) -> DcWebhook | None:
        """The webhook of id ``hook_id`` as a path gives it (None when none or not a number)."""
        return self.hooks.get(int(hook_id)) if hook_id.isdigit() else None


_REGISTRIES: weakref.WeakKeyDictionary[JiraState, DcWebhooks] = weakref.WeakKeyDictionary()


def webhooks_of(state: JiraState) -> DcWebhooks:
    """The admin webhooks registered on ``state`` (created empty on first use)."""
    found = _REGISTRIES.get(state)
    if found is None:
        found = _REGISTRIES.setdefault(state, DcWebhooks())
    return found


def add_webhook(
    state: JiraState, url: str, *, secret: str | None, jql: str = "", events: tuple[str, ...] = ISSUE_EVENTS
) -> DcWebhook:
    """Register a webhook on ``state`` as an admin would in Data Center's UI (tests, the demo)."""
    return webhooks_of(state).add(DcWebhook(0, "v2mom-sync", url, list(events), jql, secret=secret))


def _checked(body: dict[str, Any], state: JiraState, current: DcWebhook | None) -> DcWebhook | Response:
    """The webhook ``body`` describes (over ``current`` for a PUT), or Data Center's 400."""
    name, url = body.get("name", current and current.name), body.get("url", current and current.url)
    events = body.get("events", current and current.events)
    filters = body.get("filters", {JQL_FILTER: current.jql} if current else {})
    if not isinstance(name, str) or not name.strip():
        return error(400, "The webhook needs a name.")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return error(400, "The webhook URL must be an absolute http(s) URL.")
    if not isinstance(events, list) or not events or not all(isinstance(e, str) for e in events):
        return error(400, "The webhook needs a list of events.")
    jql = filters.get(JQL_FILTER, "") if isinstance(filters, dict) else None
    if not isinstance(jql, str):
        return error(400, f"filters.{JQL_FILTER} must be a JQL string.")
    if jql.strip():
        try:
            parse(jql, state.time_zone)
        except JqlError as exc:
            return error(400, f"The JQL filter is not valid: {exc}")
    secret = body.get("secret", current.secret if current else None)
    if secret is not None and not isinstance(secret, str):
        return error(400, "The webhook secret must be a string.")
    exclude_body = body.get("excludeBody", current.exclude_body if current else False)
    enabled = body.get("enabled", current.enabled if current else True)
    return DcWebhook(
        current.id if current else 0,
        name,
        url,
        list(events),
        jql,
        exclude_body is True,
        enabled is not False,
        secret or None,
    )


def register_datacenter_webhook_routes(app: FastAPI, state: JiraState) -> None:
    """Serve ``/rest/jira-webhook/1.0/webhooks`` for ``state`` on ``app`` (administrators only)."""
    registry = webhooks_of(state)

    def base(request: Request) -> str:
        return str(request.base_url).rstrip("/")

    def refused() -> Response | None:
        return None if state.administrator else error(403, ADMIN_ONLY)

    @app.get(WEBHOOKS_PATH, response_model=None)
    def list_webhooks(request: Request) -> Response:
        if (denied := refused()) is not None:
            return denied
        with registry.lock:
            hooks = [h.rendered(base(request)) for h in registry.hooks.values()]
        return JSONResponse(hooks, headers=request_id_headers())

    @app.post(WEBHOOKS_PATH, response_model=None)
    async def create_webhook(request: Request) -> Response:
        if (denied := refused()) is not None:
            return denied
        body = await json_body(request)
        if isinstance(body, Response):
            return body
        hook = _checked(body, state, None)
        if isinstance(hook, Response):
            return hook
        registry.add(hook)
        return JSONResponse(hook.rendered(base(request)), status_code=201, headers=request_id_headers())

    @app.get(WEBHOOKS_PATH + "/{hook_id}", response_model=None)
    def get_webhook(request: Request, hook_id: str) -> Response:
        if (denied := refused()) is not None:
            return denied
        hook = registry.find(hook_id)
        if hook is None:
            return error(404, f"No webhook with id {hook_id}.")
        return JSONResponse(hook.rendered(base(request)), headers=request_id_headers())

    @app.put(WEBHOOKS_PATH + "/{hook_id}", response_model=None)
    async def update_webhook(request: Request, hook_id: str) -> Response:
        if (denied := refused()) is not None:
            return denied
        current = registry.find(hook_id)
        if current is None:
            return error(404, f"No webhook with id {hook_id}.")
        body = await json_body(request)
        if isinstance(body, Response):
            return body
        hook = _checked(body, state, current)
        if isinstance(hook, Response):
            return hook
        with registry.lock:
            registry.hooks[current.id] = hook
        return JSONResponse(hook.rendered(base(request)), headers=request_id_headers())

    @app.delete(WEBHOOKS_PATH + "/{hook_id}", response_model=None)
    def delete_webhook(hook_id: str) -> Response:
        if (denied := refused()) is not None:
            return denied
        with registry.lock:
            gone = registry.hooks.pop(int(hook_id), None) if hook_id.isdigit() else None
        if gone is None:
            return error(404, f"No webhook with id {hook_id}.")
        return Response(status_code=204, headers=request_id_headers())


def _item(change: ChangeItem) -> dict[str, str]:
    """One changed field as Data Center's ChangeItemBean: no ``fieldId``, and a value that is
    null (the ``from`` of a first assignment) left out, as the spec types each as a string."""
    rendered = {
        "field": FIELD_NAMES.get(change.field_id, change.field_id),
        "fieldtype": "jira",
        "from": change.before,
        "fromString": change.before_text,
        "to": change.after,
        "toString": change.after_text,
    }
    return {name: value for name, value in rendered.items() if value is not None}


class DataCenterWebhookSender(Sender):
    """Listens to a Data Center JiraState and POSTs each change to the registered webhooks.

    ``site_url`` is the sandbox's own base URL (the ``self`` links of the bodies).
    """

    def __init__(self, state: JiraState, site_url: str, chaos: Chaos | None = None) -> None:
        """Subscribe to ``state``; call :meth:`start` to begin sending."""
        super().__init__(chaos)
        self.state = state
        self.site_url = site_url.rstrip("/")
        self.registry = webhooks_of(state)
        state.listeners.append(self._on_change)

    def _matches(self, hook: DcWebhook, event: str, issue: Issue) -> bool:
        if not hook.enabled or event not in hook.events:
            return False
        if not hook.jql.strip():
            return True
        return parse(hook.jql, self.state.time_zone).predicate(issue)

    def payload(self, event: str, issue: Issue, hook: DcWebhook) -> dict[str, Any]:
        """The body Data Center sends ``hook`` about ``event`` on ``issue``."""
        from v2mom.sandbox.jira.app import Renderer  # the app imports this module

        change = logged_change(self.state, event, issue)
        author = change.author if change is not None else self.state.account_id
        with self.state.lock:
            rendered = Renderer(self.state, self.site_url).issue(issue, None)
            actor = dc_user(self.site_url, self.state, author)
        body: dict[str, Any] = {
            "timestamp": int((change.created.timestamp() if change else time.time()) * 1000),
            "webhookEvent": event,
            "issue_event_type_name": EVENT_TYPE_NAMES.get(event, "issue_generic"),
            "user": actor,
            "issue": rendered if not hook.exclude_body else {"id": rendered["id"], "key": rendered["key"]},
        }
        if change is not None:
            body["changelog"] = {"id": str(change.id), "items": [_item(i) for i in change.items]}
        return body

    def _on_change(self, event: str, issue: Issue) -> None:
        with self.registry.lock:
            hooks = [h for h in self.registry.hooks.values() if self._matches(h, event, issue)]
        for hook in hooks:
            body = json.dumps(self.payload(event, issue, hook)).encode()
            self.enqueue(hook.url, f"dc-{hook.id}-{time.monotonic_ns()}", body, _signer(hook.secret))


def _signer(secret: str | None) -> HeadersFor:
    """The headers of a delivery: ``X-Hub-Signature`` when the webhook has a secret, else none."""

    def headers(_delivery_id: str, body: bytes) -> dict[str, str]:
        sent = {"Content-Type": "application/json"}
        if secret:
            sent["X-Hub-Signature"] = "sha256=" + hex_hmac(secret, body)
        return sent

    return headers
