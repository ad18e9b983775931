"""Run an ASGI app with uvicorn on 127.0.0.1 in a background thread (port 0: an ephemeral port)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn

CLOSE_WITHIN = 5.0  # seconds a stopping server waits for its connections to close


class _PromptServer(uvicorn.Server):
    """uvicorn's server, stopping as soon as it is told to: uvicorn checks every 0.1 s, and its shutdown
    pauses 0.1 s more. A test starts and stops hundreds of sandboxes, so the two pauses added up."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def main_loop(self) -> None:
        """uvicorn's loop (a tick every 0.1 s), whose wait ends early when :meth:`exit` is called."""
        self._wake = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), 0.1)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """Stop listening, ask every connection to close and wait until they have (at most
        :data:`CLOSE_WITHIN` seconds, then their tasks are cancelled) — without the fixed 0.1 s pause
        uvicorn's own shutdown takes. No lifespan runs (the sandboxes serve with ``lifespan="off"``)."""
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + CLOSE_WITHIN
        while (self.server_state.connections or self.server_state.tasks) and loop.time() < deadline:
            await asyncio.sleep(0.005)
        for task in self.server_state.tasks:
            task.cancel(msg="the sandbox server stopped")
        for server in self.servers:
            await server.wait_closed()

    def exit(self) -> None:
        """Ask the server to stop, from any thread; its loop wakes at once."""
        self.should_exit = True
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already ended
                loop.call_soon_threadsafe(wake.set)


class SandboxServer:
    """A uvicorn server in a daemon thread; ``start()`` returns its base URL once it answers."""

    def __init__(self, app: Any, *, host: str = "127.0.0.1", port: int = 0) -> None:
        """Bind lazily: nothing listens until :meth:`start`."""
        self.app = app
        self.host = host
        self.port = port
        self._server: _PromptServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    def start(self, timeout: float = 10.0) -> str:
        """Listen and serve; returns ``http://127.0.0.1:PORT``."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no 40 ms Nagle stalls on small answers
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning", access_log=False, lifespan="off")
        self._server = _PromptServer(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError(f"sandbox server did not start within {timeout} s")
            time.sleep(0.01)
        self.url = f"http://{self.host}:{self.port}"
        return self.url

    def stop(self) -> None:
        """Stop serving and wait for the thread."""
        if self._server is not None:
            self._server.exit()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None

    def __enter__(self) -> str:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
