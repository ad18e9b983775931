"""Asana's Batch API for the sandbox: ``POST /batch`` runs up to 10 actions through the app itself.

Each action (``relative_path``, ``method``, ``data``, ``options``) becomes an in-process request to
the same ASGI app, so it is answered by the very handlers that serve the plain endpoint: ``data`` is
the query of a GET and the ``data`` envelope of a body otherwise; ``options`` (``fields``,
``limit``, ``offset``) become ``opt_fields``, ``limit`` and ``offset``. The request is marked with
:data:`BATCH_ACTION` in its ASGI scope so that the app's guard neither counts it nor answers it with
an injected fault: the batch decides that before running anything (Asana: when any action would
exceed a rate limit, the *entire* batch is a 429). Per Asana's restrictions, an action whose path
holds a query string, a nested ``/batch`` or an upload (``POST /attachments``) answers 400.

Also here: :func:`form_fields`, the ``multipart/form-data`` reader of ``POST /attachments``
(stdlib ``email`` parser; the sandbox has no ``python-multipart``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from email import policy
from email.parser import BytesParser
from typing import Any
from urllib.parse import parse_qsl, urlencode

import anyio
from starlette.types import ASGIApp, Message, Scope

__all__ = [
    "BATCH_ACTION",
    "MAX_ACTIONS",
    "Action",
    "BatchError",
    "form_fields",
    "parse_actions",
    "run_action",
]

MAX_ACTIONS = 10
BATCH_ACTION = "v2mom.sandbox.batch_action"
METHODS = frozenset({"get", "post", "put", "delete", "patch", "head"})


class BatchError(Exception):
    """The whole batch request is malformed (Asana answers 400 to it)."""


@dataclass(frozen=True)
class Action:
    """One action of a batch request, as Asana's ``BatchRequestAction``."""

    relative_path: str
    method: str
    data: Mapping[str, Any]
    options: Mapping[str, Any]

    def refusal(self, prefix: str) -> str | None:
        """Why Asana would not run this action through the batch API (None: it runs)."""
        path = self.relative_path
        if "?" in path:
            return "relative_path: Query parameters are not accepted here; put them in data instead"
        if path.rstrip("/") == "/batch":
            return "relative_path: Nested calls to the batch API are not allowed"
        if self.method == "post" and path.rstrip("/") == "/attachments":
            return "relative_path: Uploading attachments is not supported by the batch API"
        if not path.startswith("/") or path.startswith(prefix):
            return f"relative_path: Not a valid path relative to the API's base URL: {path}"
        return None


def parse_actions(body: Any) -> list[Action]:
    """The actions of a batch body ``{"data": {"actions": [...]}}``; BatchError when malformed."""
    data = body.get("data") if isinstance(body, Mapping) else None
    actions = data.get("actions") if isinstance(data, Mapping) else None
    if not isinstance(actions, list) or not actions:
        raise BatchError("actions: Missing input: a batch request needs at least one action")
    if len(actions) > MAX_ACTIONS:
        raise BatchError(f"actions: A batch request may contain at most {MAX_ACTIONS} actions")
    parsed: list[Action] = []
    for index, raw in enumerate(actions):
        if not isinstance(raw, Mapping):
            raise BatchError(f"actions[{index}]: Not an object")
        path, method = raw.get("relative_path"), raw.get("method")
        if not isinstance(path, str) or not isinstance(method, str) or method.lower() not in METHODS:
            raise BatchError(f"actions[{index}]: relative_path and a valid method are required")
        data, options = raw.get("data") or {}, raw.get("options") or {}
        if not isinstance(data, Mapping) or not isinstance(options, Mapping):
            raise BatchError(f"actions[{index}]: data and options must be objects")
        parsed.append(Action(path, method.lower(), data, options))
    return parsed


def _query(action: Action) -> str:
    params: dict[str, str] = {}
    if action.method == "get":
        for key, value in action.data.items():
            params[key] = ",".join(map(str, value)) if isinstance(value, list) else str(value)
    fields = action.options.get("fields")
    if isinstance(fields, list) and fields:
        params["opt_fields"] = ",".join(map(str, fields))
    for key in ("limit", "offset"):
        if action.options.get(key) is not None:
            params[key] = str(action.options[key])
    return urlencode(params)


def _asana_body(status: int, raw: bytes) -> dict[str, Any]:
    """The JSON body of an action's answer; an error that is not Asana's shape gets that shape."""
    try:
        decoded = json.loads(raw) if raw else {}
    except ValueError:
        decoded = None
    if status < 400 and isinstance(decoded, dict):
        return decoded
    if isinstance(decoded, dict) and isinstance(decoded.get("errors"), list):
        return decoded
    detail = decoded.get("detail") if isinstance(decoded, dict) else None
    message = detail if isinstance(detail, str) else f"the request was answered with HTTP {status}"
    return {"errors": [{"message": message}]}


async def run_action(
    app: ASGIApp, outer: Scope, action: Action, *, prefix: str
) -> tuple[int, dict[str, str], dict[str, Any]]:
    """Run ``action`` through ``app`` in process: its status, headers (``location`` of a 201) and body.

    The request carries the outer request's ``authorization`` header; a 422 of the framework's own
    input validation is reported as Asana's 400.
    """
    bodiless = action.method in ("get", "head", "delete")
    payload = b"" if bodiless else json.dumps({"data": action.data}).encode()
    headers = [(k, v) for k, v in outer["headers"] if k in (b"authorization", b"host")]
    headers += [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    path = prefix + action.relative_path
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": action.method.upper(),
        "scheme": outer.get("scheme", "http"),
        "server": outer.get("server"),
        "client": outer.get("client"),
        "root_path": "",
        "path": path,
        "raw_path": path.encode(),
        "query_string": _query(action).encode(),
        "headers": headers,
        "state": dict(outer.get("state") or {}),
        BATCH_ACTION: True,
    }
    done = anyio.Event()
    sent = False
    status, chunks = 500, []

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": payload, "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])
        elif message["type"] == "http.response.body":
            chunks.append(bytes(message.get("body", b"")))
            if not message.get("more_body"):
                done.set()

    await app(scope, receive, send)
    done.set()
    body = _asana_body(status, b"".join(chunks))
    status = 400 if status == 422 else status
    result_headers: dict[str, str] = {}
    data = body.get("data")
    if status == 201 and isinstance(data, dict) and data.get("gid") and data.get("resource_type"):
        result_headers["location"] = f"/{data['resource_type']}s/{data['gid']}"
    return status, result_headers, body


def form_fields(content_type: str, body: bytes) -> dict[str, str]:
    """The text fields of a ``multipart/form-data`` or urlencoded body (files are not read)."""
    if content_type.startswith("application/x-www-form-urlencoded"):
        return dict(parse_qsl(body.decode("utf-8")))
    if not content_type.startswith("multipart/form-data"):
        return {}
    message = BytesParser(policy=policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    fields: dict[str, str] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes) and part.get_filename() is None:
            fields[name] = payload.decode("utf-8")
    return fields
