"""Injected failures and request counters, shared by every sandbox's state."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass


@dataclass
class Fault:
    """An injected failure for the next ``times`` requests under ``path_prefix``.

    ``kind`` lets a sandbox answer in its vendor's own way (Linear: ``"ratelimited"`` is a GraphQL
    error, ``"graphql"`` an ``errors`` body on HTTP 200); ``"http"`` is a plain status answer.
    """

    status: int
    times: int
    retry_after: float | None
    path_prefix: str
    after: int
    kind: str = "http"


class FaultBook:
    """Faults to answer with, and how many requests each path received. Thread-safe."""

    default_fault_prefix = "/"

    def __init__(self) -> None:
        """No faults, no requests yet."""
        self.faults: list[Fault] = []
        self.requests: Counter[str] = Counter()
        self._book_lock = threading.Lock()

    def inject_fault(
        self,
        status: int,
        times: int = 1,
        retry_after: float | None = None,
        path_prefix: str | None = None,
        after: int = 0,
        kind: str = "http",
    ) -> None:
        """Answer ``status`` to the next ``times`` requests under ``path_prefix`` (after ``after``)."""
        prefix = path_prefix if path_prefix is not None else self.default_fault_prefix
        with self._book_lock:
            self.faults.append(Fault(status, times, retry_after, prefix, after, kind))

    def take_fault(self, path: str) -> Fault | None:
        """The fault this request must answer with, if any (consumes one use)."""
        with self._book_lock:
            for fault in self.faults:
                if not path.startswith(fault.path_prefix):
                    continue
                if fault.after > 0:
                    fault.after -= 1
                    return None
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                return fault
            return None

    def record(self, path: str) -> None:
        """Count a request."""
        with self._book_lock:
            self.requests[path] += 1

    def request_count(self, path_prefix: str = "/") -> int:
        """Requests received under ``path_prefix`` (faulted ones included)."""
        with self._book_lock:
            return sum(n for path, n in self.requests.items() if path.startswith(path_prefix))
