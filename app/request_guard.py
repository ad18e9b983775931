"""The API edge's guard on request bodies, before any route parses them (an ASGI middleware).

Every request except the webhooks' (which verify their raw bytes and have their own limit in
``v2mom.app.routes.webhooks.read_limited``) passes through it:

- **Size**: a body over ``max_body_bytes`` (default :data:`DEFAULT_MAX_BODY_BYTES`, 1 MiB, the
  webhooks' default too) is refused with 413, by its ``Content-Length`` before a byte is read, and
  by counting the streamed bytes when the length is not declared (or is a lie). The largest
  legitimate body is a whole plan (``PUT /api/plan``), a few kilobytes; 1 MiB leaves 100× headroom
  while a 64 MiB body can no longer make the app parse it.
- **JSON that Python accepts but JSON does not**: ``NaN``, ``Infinity``, ``-Infinity``, numbers
  that overflow a float (``1e400`` reads as infinity) and integers beyond 64 bits are refused with
  422 naming where they are (``json.loads`` takes them all, and a non-finite float later fails to
  serialise, 500).
- **Text that cannot be UTF-8**: a lone UTF-16 surrogate (``"\\ud800"`` is valid JSON) is refused
  with 422 naming the field; stored, it would break every later read of it.

A 422 has the shape of the app's others (``{"detail": [{"loc", "msg", "type"}]}``) and never
repeats the offending text (it may be a secret: ``POST /api/session`` carries a token). A body that
is not JSON at all is left to FastAPI, which answers 422 ``json_invalid`` as before.
"""

from __future__ import annotations

import email.message
import json
import math
from typing import Any

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from v2mom.yamlio import find_problems, unencodable

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
EXEMPT_PREFIXES = ("/webhooks/",)
INT_LIMIT = 2**63  # the database's BIGINT; no field of ours needs more
MAX_DIGITS = 30  # longer integer literals are refused before Python converts them


class _BadNumber:
    """Stands in for a number JSON does not allow, so the walk can say where it was."""

    def __init__(self, message: str) -> None:
        self.message = message


def _parse_constant(name: str) -> _BadNumber:
    return _BadNumber(f"{name} is not a JSON number (finite numbers only)")


def _parse_float(text: str) -> float | _BadNumber:
    value = float(text)
    return value if math.isfinite(value) else _BadNumber("number out of range (finite numbers only)")


def _parse_int(text: str) -> int | _BadNumber:
    if len(text.lstrip("-")) <= MAX_DIGITS:
        value = int(text)
        if -INT_LIMIT <= value < INT_LIMIT:
            return value
    return _BadNumber("integer out of range (64-bit integers only)")


def _check(value: object) -> str | None:
    if isinstance(value, _BadNumber):
        return value.message
    return unencodable(value)


def json_body_problems(body: bytes) -> list[dict[str, Any]]:
    """The 422 entries for a JSON body's non-finite numbers and unencodable text; [] when it has
    none or is not JSON at all (FastAPI reports that itself)."""
    try:
        data = json.loads(
            body, parse_constant=_parse_constant, parse_float=_parse_float, parse_int=_parse_int
        )
    except (ValueError, RecursionError):  # not JSON (JSONDecodeError, bad UTF-8 …): FastAPI's 4xx
        return []
    problems = find_problems(data, _check)
    return [{"loc": ["body", *loc], "msg": msg, "type": "value_error"} for loc, msg in problems]


def _is_json(content_type: str | None) -> bool:
    """What FastAPI parses as JSON (``application/json``, ``application/*+json``), or no type."""
    if not content_type:
        return True
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    is_json = subtype == "json" or subtype.endswith("+json")
    return message.get_content_maintype() == "application" and is_json


class RequestGuard:
    """ASGI middleware: 413 over ``max_body_bytes``, 422 for JSON bodies we could not store or send."""

    def __init__(self, app: ASGIApp, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        """Wrap ``app``; bodies up to ``max_body_bytes`` bytes pass."""
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Read and check the body, then hand the request on with the body replayed."""
        if scope["type"] != "http" or scope["path"].startswith(EXEMPT_PREFIXES):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        declared = headers.get("content-length", "").strip()
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._too_large(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: nothing to answer
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                await self._too_large(scope, receive, send)
                return
            chunks.append(chunk)
            more = bool(message.get("more_body", False))
        body = b"".join(chunks)
        if body and _is_json(headers.get("content-type")):
            problems = json_body_problems(body)
            if problems:
                await JSONResponse({"detail": problems}, status_code=422)(scope, receive, send)
                return
        await self.app(scope, _replay(body, receive), send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        detail = f"request body larger than {self.max_body_bytes} bytes"
        response = JSONResponse({"detail": detail}, status_code=413, headers={"Connection": "close"})
        await response(scope, receive, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that answers the body once, then defers to the server (disconnects …)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
