"""The Asana REST client over the official SDK (v5): the only module that imports ``asana``.

``asana.Configuration().host`` points it at ``base_url``. The SDK's own retries are configured
deliberately: ``urllib3.Retry(0)`` (its default retries 429 and 5xx five times with backoff and hides
``Retry-After``); retries live in :mod:`connectors.retry`. Its page and event iterators are not
used: they follow pages we want to commit one by one, and the event iterator swallows the 412 of an
expired sync token, which we must surface. Every call asks for ``full_payload`` and returns the
decoded body.

Errors keep only the HTTP status and Asana's error messages; never the token, headers or the
request. A 412 on the Events API is :class:`SyncTokenExpired`, carrying the fresh token Asana sent.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import asana
import urllib3
from asana.rest import ApiException

from v2mom.connectors.base import CallCounter
from v2mom.connectors.errors import ErrorTexts, connect_failed, error_for_status, unreachable
from v2mom.connectors.retry import parse_retry_after
from v2mom.errors import FatalError, RetriableError, TrackerError

__all__ = [
    "DEFAULT_TIMEOUT",
    "TRACKER",
    "AsanaClient",
    "SyncTokenExpired",
    "action_error",
    "error_messages",
]

TRACKER = "asana"
DEFAULT_TIMEOUT = 30.0
CONNECT_TIMEOUT = 5.0  # seconds to open a connection (sync.connect_timeout_seconds)
_MAX_MESSAGE = 300


class SyncTokenExpired(FatalError):
    """The Events API answered 412: the sync token is unknown or too old; ``sync`` is a fresh one."""

    def __init__(self, sync: str | None) -> None:
        """Keep the fresh token Asana sent with the 412."""
        super().__init__("events: sync token expired (412)", tracker=TRACKER, status=412)
        self.sync = sync


def _body(exc: ApiException) -> Mapping[str, Any]:
    try:
        decoded = json.loads(exc.body) if exc.body else {}
    except (ValueError, TypeError):
        return {}
    return decoded if isinstance(decoded, Mapping) else {}


def error_messages(body: Mapping[str, Any]) -> str:
    """Asana's ``errors[].message`` of an error body, joined and truncated ("" when none)."""
    errors = body.get("errors")
    if not isinstance(errors, list):
        return ""
    text = "; ".join(str(e.get("message")) for e in errors if isinstance(e, Mapping) and e.get("message"))
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


_TEXTS = ErrorTexts(
    unauthorized="authentication failed: check the personal access token",
    not_found="not found (or not visible to this token)",
)


def action_error(status: int, body: Mapping[str, Any], retry_after: float | None = None) -> TrackerError:
    """Our error for one ``/batch`` action answered ``status`` with ``body``: what the same request
    sent alone would have raised (see :func:`map_api_exception`)."""
    return error_for_status(
        status, tracker=TRACKER, retry_after=retry_after, detail=error_messages(body), texts=_TEXTS
    )


def map_api_exception(exc: ApiException) -> TrackerError:
    """Our error for an SDK ``ApiException`` (status and Asana's messages only).

    Asana's own cases stay here: a 412 is :class:`SyncTokenExpired` with the fresh token, and no
    status at all is a failed connection; every other status is classified by
    :func:`connectors.errors.error_for_status`.
    """
    status = int(exc.status or 0)
    body = _body(exc)
    if status == 412:
        sync = body.get("sync")
        return SyncTokenExpired(sync if isinstance(sync, str) else None)
    if status == 0:
        return RetriableError("connection failed", tracker=TRACKER)
    headers = exc.headers or {}
    return error_for_status(
        status,
        tracker=TRACKER,
        retry_after=parse_retry_after(headers.get("Retry-After")),
        detail=error_messages(body),
        texts=_TEXTS,
    )


class AsanaClient:
    """Typed calls over the SDK; each HTTP request is counted in ``calls`` under its kind."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str,
        timeout: float = DEFAULT_TIMEOUT,
        connect_timeout: float = CONNECT_TIMEOUT,
        calls: CallCounter | None = None,
    ) -> None:
        """Configure the SDK; nothing is sent until the first call."""
        self.base_url = base_url.rstrip("/")
        self._connect_timeout = connect_timeout
        self.calls = calls if calls is not None else CallCounter()
        self._timeout = timeout
        configuration = asana.Configuration()
        configuration.host = self.base_url
        configuration.access_token = token
        configuration.retry_strategy = urllib3.Retry(0)  # retries are ours (connectors/retry.py)
        configuration.return_page_iterator = False
        self._api = asana.ApiClient(configuration)
        self._users = asana.UsersApi(self._api)
        self._projects = asana.ProjectsApi(self._api)
        self._tasks = asana.TasksApi(self._api)
        self._events = asana.EventsApi(self._api)
        self._webhooks = asana.WebhooksApi(self._api)
        self._custom_fields = asana.CustomFieldsApi(self._api)
        self._field_settings = asana.CustomFieldSettingsApi(self._api)
        self._batch = asana.BatchAPIApi(self._api)
        self._attachments = asana.AttachmentsApi(self._api)
        self._stories = asana.StoriesApi(self._api)

    def _call(self, kind: str, fn: Callable[[], Any]) -> dict[str, Any]:
        """Count, run and map; the mapped error carries no chained SDK exception."""
        self.calls.add(kind)
        error: TrackerError | None = None
        try:
            result = fn()
        except ApiException as exc:
            error = map_api_exception(exc)
        except urllib3.exceptions.HTTPError as exc:
            if connect_failed(exc, (urllib3.exceptions.ConnectTimeoutError,)):  # NewConnectionError too
                error = unreachable(TRACKER, self.base_url, exc, self._connect_timeout)
            else:
                error = RetriableError(f"connection failed ({type(exc).__name__})", tracker=TRACKER)
        if error is not None:
            raise error
        if not isinstance(result, dict):
            raise FatalError(f"unexpected {kind} response: expected a JSON object", tracker=TRACKER)
        return result

    def _kwargs(self) -> dict[str, Any]:
        # (connect, read): an unreachable host fails in seconds, a slow answer may take the timeout.
        return {"full_payload": True, "_request_timeout": (self._connect_timeout, self._timeout)}

    def me(self) -> dict[str, Any]:
        """``GET /users/me`` (checks the token; names the workspaces)."""
        return self._call(
            "me", lambda: self._users.get_user("me", {"opt_fields": "name,workspaces"}, **self._kwargs())
        )

    def project(self, gid: str, opt_fields: str) -> dict[str, Any]:
        """``GET /projects/{gid}``."""
        return self._call(
            "project", lambda: self._projects.get_project(gid, {"opt_fields": opt_fields}, **self._kwargs())
        )

    def tasks_page(
        self,
        project: str,
        *,
        opt_fields: str,
        limit: int,
        offset: str | None,
        modified_since: str | None,
        kind: str,
    ) -> dict[str, Any]:
        """One page of ``GET /tasks?project=`` (``data``, ``next_page``)."""
        opts: dict[str, Any] = {"project": project, "limit": limit, "opt_fields": opt_fields}
        if offset:
            opts["offset"] = offset
        if modified_since:
            opts["modified_since"] = modified_since
        return self._call(kind, lambda: self._tasks.get_tasks(opts, **self._kwargs()))

    def subtasks_page(
        self, task: str, *, opt_fields: str, limit: int, offset: str | None, kind: str
    ) -> dict[str, Any]:
        """One page of ``GET /tasks/{gid}/subtasks``."""
        opts: dict[str, Any] = {"limit": limit, "opt_fields": opt_fields}
        if offset:
            opts["offset"] = offset
        return self._call(kind, lambda: self._tasks.get_subtasks_for_task(task, opts, **self._kwargs()))

    def task(self, gid: str, opt_fields: str) -> dict[str, Any]:
        """``GET /tasks/{gid}``; NotFoundError when deleted."""
        return self._call(
            "task", lambda: self._tasks.get_task(gid, {"opt_fields": opt_fields}, **self._kwargs())
        )

    def stories_page(self, task: str, *, opt_fields: str, limit: int, offset: str | None) -> dict[str, Any]:
        """One page of ``GET /tasks/{gid}/stories`` (``data``, ``next_page``), oldest first."""
        opts: dict[str, Any] = {"limit": limit, "opt_fields": opt_fields}
        if offset:
            opts["offset"] = offset
        return self._call("stories", lambda: self._stories.get_stories_for_task(task, opts, **self._kwargs()))

    def events(self, resource: str, sync: str | None) -> dict[str, Any]:
        """``GET /events``; SyncTokenExpired (with a fresh token) on 412."""
        opts: dict[str, Any] = {"sync": sync} if sync else {}
        return self._call("events", lambda: self._events.get_events(resource, opts, **self._kwargs()))

    def create_webhook(self, resource: str, target: str) -> dict[str, Any]:
        """``POST /webhooks``: Asana performs the ``X-Hook-Secret`` handshake with ``target`` first."""
        body = {"data": {"resource": resource, "target": target, "filters": [{"resource_type": "task"}]}}
        return self._call("webhook", lambda: self._webhooks.create_webhook(body, {}, **self._kwargs()))

    def webhooks(self, workspace: str) -> dict[str, Any]:
        """``GET /webhooks?workspace=``: this token's webhooks."""
        return self._call("webhook", lambda: self._webhooks.get_webhooks(workspace, {}, **self._kwargs()))

    # -- the vocabulary: workspace enum custom fields and their options -------------------------

    def custom_fields_page(
        self, workspace: str, *, opt_fields: str, limit: int, offset: str | None
    ) -> dict[str, Any]:
        """One page of ``GET /workspaces/{gid}/custom_fields`` (``data``, ``next_page``)."""
        opts: dict[str, Any] = {"limit": limit, "opt_fields": opt_fields}
        if offset:
            opts["offset"] = offset
        return self._call(
            "custom_fields",
            lambda: self._custom_fields.get_custom_fields_for_workspace(workspace, opts, **self._kwargs()),
        )

    def create_custom_field(self, workspace: str, name: str, *, opt_fields: str) -> dict[str, Any]:
        """``POST /custom_fields``: a workspace enum custom field named ``name``."""
        body = {"data": {"workspace": workspace, "name": name, "resource_subtype": "enum"}}
        return self._call(
            "custom_field_write",
            lambda: self._custom_fields.create_custom_field(
                body, {"opt_fields": opt_fields}, **self._kwargs()
            ),
        )

    def field_settings_page(
        self, project: str, *, opt_fields: str, limit: int, offset: str | None
    ) -> dict[str, Any]:
        """One page of ``GET /projects/{gid}/custom_field_settings`` (the fields on a project)."""
        opts: dict[str, Any] = {"limit": limit, "opt_fields": opt_fields}
        if offset:
            opts["offset"] = offset
        return self._call(
            "custom_field_settings",
            lambda: self._field_settings.get_custom_field_settings_for_project(
                project, opts, **self._kwargs()
            ),
        )

    def add_field_to_project(self, project: str, custom_field: str) -> dict[str, Any]:
        """``POST /projects/{gid}/addCustomFieldSetting``: the field joins the project."""
        body = {"data": {"custom_field": custom_field}}
        return self._call(
            "custom_field_write",
            lambda: self._projects.add_custom_field_setting_for_project(
                body, project, {"opt_fields": "custom_field"}, **self._kwargs()
            ),
        )

    def create_enum_option(self, custom_field: str, name: str) -> dict[str, Any]:
        """``POST /custom_fields/{gid}/enum_options``: appended to the field's options, enabled."""
        opts: dict[str, Any] = {"body": {"data": {"name": name}}, "opt_fields": "name,enabled"}
        return self._call(
            "enum_option_write",
            lambda: self._custom_fields.create_enum_option_for_custom_field(
                custom_field, opts, **self._kwargs()
            ),
        )

    def update_enum_option(
        self, option: str, *, name: str | None = None, enabled: bool | None = None
    ) -> dict[str, Any]:
        """``PUT /enum_options/{gid}``: rename, enable or disable (Asana never deletes an option)."""
        data: dict[str, Any] = {}
        if name is not None:
            data["name"] = name
        if enabled is not None:
            data["enabled"] = enabled
        opts: dict[str, Any] = {"body": {"data": data}, "opt_fields": "name,enabled"}
        return self._call(
            "enum_option_write",
            lambda: self._custom_fields.update_enum_option(option, opts, **self._kwargs()),
        )

    # -- write-back: /batch and external attachments ----------------------------------------------

    def batch(self, actions: list[dict[str, Any]]) -> dict[str, Any]:
        """``POST /batch``: up to 10 actions; ``data`` holds one result per action, in order."""
        body = {"data": {"actions": actions}}
        return self._call("batch", lambda: self._batch.create_batch_request(body, {}, **self._kwargs()))

    def attachments_page(
        self, parent: str, *, opt_fields: str, limit: int, offset: str | None
    ) -> dict[str, Any]:
        """One page of ``GET /attachments?parent=`` (``data``, ``next_page``)."""
        opts: dict[str, Any] = {"limit": limit, "opt_fields": opt_fields}
        if offset:
            opts["offset"] = offset
        return self._call(
            "attachments",
            lambda: self._attachments.get_attachments_for_object(parent, opts, **self._kwargs()),
        )

    def create_external_attachment(self, parent: str, *, url: str, name: str) -> dict[str, Any]:
        """``POST /attachments`` (multipart, so never through ``/batch``): a link on task ``parent``."""

        def create() -> Any:
            opts = {"resource_subtype": "external", "parent": parent, "url": url, "name": name}
            return self._attachments.create_attachment_for_object(opts, **self._kwargs())

        return self._call("attachment_write", create)

    def close(self) -> None:
        """Release the connection pool and the SDK's thread pool (it starts one per client)."""
        self._api.rest_client.pool_manager.clear()
        pool = getattr(self._api, "pool", None)
        if pool is not None:
            pool.close()
            pool.join()
            del self._api.pool

    def __repr__(self) -> str:
        return f"AsanaClient({self.base_url!r})"
