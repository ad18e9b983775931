"""The sandbox server stops cleanly: answers in flight are finished, then nothing listens."""

from __future__ import annotations

import asyncio
import socket
import threading
from typing import Any

import pytest
import requests
from fastapi import FastAPI

from v2mom.sandbox.server import SandboxServer


def slow_app(started: threading.Event) -> FastAPI:
    app = FastAPI()

    @app.get("/slow")
    async def slow() -> dict[str, str]:
        started.set()
        await asyncio.sleep(0.3)
        return {"answer": "finished"}

    @app.get("/fast")
    async def fast() -> dict[str, str]:
        return {"answer": "now"}

    return app


def test_stop_finishes_the_answer_in_flight_closes_idle_connections_and_stops_listening() -> None:
    started = threading.Event()
    server = SandboxServer(slow_app(started))
    url = server.start()
    idle = requests.Session()
    assert idle.get(f"{url}/fast", timeout=5).json() == {"answer": "now"}  # kept alive, then idle
    answers: list[Any] = []
    asking = threading.Thread(target=lambda: answers.append(requests.get(f"{url}/slow", timeout=5)))
    asking.start()
    assert started.wait(5)
    server.stop()
    asking.join(5)
    assert [(a.status_code, a.json()) for a in answers] == [(200, {"answer": "finished"})]
    with pytest.raises(requests.ConnectionError):
        idle.get(f"{url}/fast", timeout=5)  # its connection was closed and the port no longer listens
    with socket.socket() as probe, pytest.raises(ConnectionRefusedError):
        probe.connect(("127.0.0.1", int(url.rsplit(":", 1)[1])))


def test_a_server_stopped_twice_or_before_serving_raises_nothing() -> None:
    server = SandboxServer(slow_app(threading.Event()))
    server.stop()  # never started
    url = server.start()
    assert requests.get(f"{url}/fast", timeout=5).status_code == 200
    server.stop()
    server.stop()
