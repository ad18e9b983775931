"""Database outages for tests: one at the store's engine, one on the wire.

:class:`EngineOutage` makes every statement of one engine fail for a while with the driver's own
``OperationalError`` (both backends, no server involved). :class:`TcpProxy` sits between a process
and PostgreSQL on 127.0.0.1 and can cut every connection and refuse new ones, as a database that
went away does, until it is restored.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from types import TracebackType
from typing import Any

from sqlalchemy import Engine, event


class EngineOutage:
    """While it lasts, every statement on ``engine`` raises the driver's ``OperationalError``.

    SQLAlchemy wraps it as it wraps a real one (``sqlalchemy.exc.OperationalError``); the
    transaction it was in rolls back. :meth:`begin` starts one lasting ``seconds``.
    """

    def __init__(self, engine: Engine) -> None:
        """Watch every statement of ``engine`` (until :meth:`close`)."""
        self.engine = engine
        self.began = 0
        self._until = 0.0
        event.listen(engine, "before_cursor_execute", self._refuse)

    def begin(self, seconds: float) -> None:
        """Take the database away for ``seconds`` from now."""
        self._until = time.monotonic() + seconds
        self.began += 1

    @property
    def down(self) -> bool:
        """Whether the outage is on."""
        return time.monotonic() < self._until

    def error(self) -> Exception:
        """The driver's error for a server that went away."""
        dbapi_error: type[Exception] = self.engine.dialect.loaded_dbapi.OperationalError
        return dbapi_error("server closed the connection unexpectedly (test outage)")

    def close(self) -> None:
        """Stop watching the engine."""
        event.remove(self.engine, "before_cursor_execute", self._refuse)

    def _refuse(self, *_args: Any) -> None:
        if self.down:
            raise self.error()


class TcpProxy:
    """Forwards TCP connections from ``127.0.0.1:port`` to ``upstream``; :meth:`cut` and :meth:`restore`.

    While cut, every forwarded connection is closed and each new one is accepted and closed at
    once, so a client sees its server go away and cannot reconnect.
    """

    def __init__(self, upstream: tuple[str, int]) -> None:
        """Listen on an ephemeral port of 127.0.0.1 (nothing is forwarded until :meth:`start`)."""
        self.upstream = upstream
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.port = int(self._listener.getsockname()[1])
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._cut = threading.Event()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop, name="tcp-proxy", daemon=True)
        self.refused = 0

    def start(self) -> TcpProxy:
        """Start forwarding."""
        self._thread.start()
        return self

    def cut(self) -> None:
        """Close every forwarded connection and refuse new ones until :meth:`restore`."""
        self._cut.set()
        with self._lock:
            open_now, self._sockets = self._sockets, set()
        for sock in open_now:
            _close(sock)

    def restore(self) -> None:
        """Forward new connections again."""
        self._cut.clear()

    def close(self) -> None:
        """Stop listening and close every connection."""
        self._closed.set()
        self.cut()
        self._thread.join(timeout=5)
        self._listener.close()

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _accept_loop(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            if self._cut.is_set():
                self.refused += 1
                _close(client)
                continue
            self._forward(client)

    def _forward(self, client: socket.socket) -> None:
        try:
            server = socket.create_connection(self.upstream, timeout=5)
        except OSError:
            _close(client)
            return
        server.settimeout(None)
        client.settimeout(None)
        with self._lock:
            self._sockets |= {client, server}
        for source, sink in ((client, server), (server, client)):
            threading.Thread(
                target=self._pump, args=(source, sink), name="tcp-proxy-pump", daemon=True
            ).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):  # either side closed, or cut() closed both
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        with self._lock:
            self._sockets -= {source, sink}
        _close(source)
        _close(sink)


def _close(sock: socket.socket) -> None:
    """Shut ``sock`` down (waking a thread blocked reading it) and close it."""
    with contextlib.suppress(OSError):  # already closed or never connected
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
