"""An ASGI wrapper that edits a sandbox's JSON answers, so a real sandbox can misbehave on purpose.

The connectors' loop guards are tested through their real path (SDK, HTTP on 127.0.0.1, sandbox):
the wrapper lets the sandbox answer normally, then ``rewrite`` may change the decoded answer, seeing
the request's path, query and JSON body (e.g. to hand back the page token the request sent).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl

# (path, query parameters, request JSON or None, answer JSON) -> the answer to send
Rewrite = Callable[[str, Mapping[str, str], Any, Any], Any]
Message = dict[str, Any]


class RewriteAnswers:
    """Wraps ``app``; every JSON answer of HTTP status 200 passes through ``rewrite``."""

    def __init__(self, app: Any, rewrite: Rewrite) -> None:
        """Keep the wrapped ASGI app and the rewrite function."""
        self.app = app
        self.rewrite = rewrite

    async def __call__(
        self, scope: Message, receive: Callable[[], Any], send: Callable[[Message], Any]
    ) -> None:
        """Serve one request through the wrapped app, editing its answer."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        raw_request = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": raw_request, "more_body": False}
            result: Message = await receive()
            return result

        start: Message = {}
        body: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            body.append(message.get("body", b""))
            if message.get("more_body"):
                return
            answer = b"".join(body)
            if start.get("status") == 200:
                request_json = json.loads(raw_request) if raw_request else None
                query = dict(parse_qsl(scope.get("query_string", b"").decode()))
                answer = json.dumps(
                    self.rewrite(scope["path"], query, request_json, json.loads(answer))
                ).encode()
            headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(answer)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": answer, "more_body": False})

        await self.app(scope, replay, capture)
