"""Helpers shared by tests: a free port on 127.0.0.1, waiting for a condition, stopping a process,
bearer headers, and finding text no store or JSON answer can hold."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import time
from collections.abc import Callable


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(predicate: Callable[[], object], timeout: float = 10.0, interval: float = 0.05) -> bool:
    """Poll ``predicate`` until it is truthy or ``timeout`` seconds pass; its last answer decides."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


def stop_process(process: subprocess.Popen[bytes] | subprocess.Popen[str], timeout: float = 60.0) -> None:
    """SIGTERM ``process`` and wait for it to end; killed if it has not after ``timeout`` seconds."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def auth(token: str) -> dict[str, str]:
    """The Authorization header for an API token."""
    return {"Authorization": f"Bearer {token}"}


# What neither database nor a JSON answer can hold (lone surrogates, NUL) and other control
# characters but tab, newline and carriage return: none of it may reach the store or an answer.
UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def unstorable_strings(node: object) -> list[str]:
    """Every string of a parsed JSON document (keys included) that holds an :data:`UNSTORABLE`
    character."""
    if isinstance(node, str):
        return [node] if UNSTORABLE.search(node) else []
    if isinstance(node, dict):
        return [
            s for key, value in node.items() for s in (*unstorable_strings(key), *unstorable_strings(value))
        ]
    if isinstance(node, list):
        return [s for value in node for s in unstorable_strings(value)]
    return []
