"""Request bodies are limited before they are parsed (413), on every route but the
webhooks' (which keep their own limit): by ``Content-Length`` before a byte of the body is read, and
by counting the streamed bytes when no length is declared. The default is 1 MiB."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

from fastapi.testclient import TestClient

from tests.support import auth
from v2mom.app.factory import create_app
from v2mom.app.request_guard import DEFAULT_MAX_BODY_BYTES
from v2mom.sandbox.server import SandboxServer
from v2mom.settings import Settings
from v2mom.store.database import Database

JSON = {"content-type": "application/json"}


def test_the_default_limit_is_1_mib_and_an_oversized_login_is_refused_unread(seeded: Database) -> None:
    assert DEFAULT_MAX_BODY_BYTES == 1024 * 1024
    with SandboxServer(create_app(Settings(), seeded)) as url:
        address = urlsplit(url)
        with socket.create_connection((address.hostname or "", address.port or 0), timeout=10) as conn:
            # Claims 64 MiB and sends none of it: the answer comes from the header alone.
            conn.sendall(
                b"POST /api/session HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                b"Content-Length: 67108864\r\n\r\n"
            )
            answer = b""
            while chunk := conn.recv(4096):  # the server closes the connection after a 413
                answer += chunk
    text = answer.decode("latin-1")
    assert text.startswith("HTTP/1.1 413 "), text
    assert f"request body larger than {DEFAULT_MAX_BODY_BYTES} bytes" in text
    with TestClient(create_app(Settings(), seeded)) as client:
        over = b'{"token": "' + b"x" * DEFAULT_MAX_BODY_BYTES + b'"}'
        assert client.post("/api/session", content=over, headers=JSON).status_code == 413
        assert client.post("/api/session", content=b'{"token": "v2m_nope"}', headers=JSON).status_code == 401


def chunks(total: int, size: int = 1000) -> Iterator[bytes]:
    """A JSON rule whose label is ``total`` bytes long, streamed without a Content-Length."""
    yield b'{"when": {"tracker": "jira", "label": "'
    for start in range(0, total, size):
        yield b"x" * min(size, total - start)
    yield b'"}, "value": "reliability"}'


def test_a_streamed_body_is_counted_and_the_limit_is_a_factory_argument(seeded: Database) -> None:
    admin = auth(seeded.tokens.create("admin", "alice"))
    with TestClient(create_app(Settings(), seeded, max_body_bytes=4096)) as client:
        big = client.post("/api/rules/preview", content=chunks(10_000), headers={**JSON, **admin})
        assert big.status_code == 413
        assert big.json() == {"detail": "request body larger than 4096 bytes"}
        small = client.post("/api/rules/preview", content=chunks(100), headers={**JSON, **admin})
        assert small.status_code == 200, small.text
        exactly = b'{"token": "' + b"x" * (4096 - 13) + b'"}'
        assert len(exactly) == 4096
        assert client.post("/api/session", content=exactly, headers=JSON).status_code == 401
        assert client.post("/api/session", content=exactly + b" ", headers=JSON).status_code == 413
        # Webhooks verify their raw bytes under their own limit: this one is read, then refused
        # for its missing signature (401), not for its size.
        hook = client.post("/webhooks/jira", content=b"{}" + b" " * 10_000, headers=JSON)
        assert hook.status_code == 401
