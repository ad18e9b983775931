"""Injected failures, stalls, a rate limit and request counters, shared by every sandbox's state.

A *stall* holds one request until the test releases it, so a test can act while a client waits: kill
the client's process, start a concurrent run, edit the tracker. It holds the first request under its
path prefix (after ``after`` of them went through), either ``before`` the sandbox handles it (the
tracker has not taken it) or ``after`` (the tracker took it; the answer is not sent yet). The held
request waits on the server's event loop without blocking it, and the test learns that it is held
from :attr:`Stall.reached`::

    stall = state.stall("/rest/api/3/bulk/issues/fields", after=1, when="after")
    ...  # start the client
    assert stall.reached.wait(30)
    ...  # kill it, then
    stall.release()

Linear's paths are ``/graphql/<operationName>``. A sandbox app asks :meth:`FaultBook.take_stall` for
each request and calls :meth:`Stall.hold_before` before handling it and :meth:`Stall.hold_after`
before answering.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

StallWhen = Literal["before", "after"]
STALL_POLL_SECONDS = 0.01  # how often a held request looks whether it was released


@dataclass
class Fault:
    """An injected failure for the next ``times`` requests under ``path_prefix`` (to it alone when
    ``exact``: a listing whose path is the prefix of others', as Asana's ``/tasks``).

    ``kind`` lets a sandbox answer in its vendor's own way (Linear: ``"ratelimited"`` is a GraphQL
    error, ``"graphql"`` an ``errors`` body on HTTP 200); ``"http"`` is a plain status answer.
    """

    status: int
    times: int
    retry_after: float | None
    path_prefix: str
    after: int
    kind: str = "http"
    exact: bool = False

    def matches(self, path: str) -> bool:
        """Whether a request to ``path`` is one this fault counts."""
        return path == self.path_prefix if self.exact else path.startswith(self.path_prefix)


class Stall:
    """One request held at ``path_prefix`` (of ``method``, any when None) until :meth:`release`.

    ``after`` matching requests go through first; the next one is held, ``when`` ``"before"`` the
    sandbox handles it or ``"after"``, before its answer is sent. Later requests are not held.
    """

    def __init__(self, path_prefix: str, *, after: int, when: StallWhen, method: str | None) -> None:
        """Armed: nothing is held until a matching request comes."""
        if when not in ("before", "after"):
            raise ValueError("a stall holds a request 'before' or 'after' it is handled")
        self.path_prefix = path_prefix
        self.after = after
        self.when: StallWhen = when
        self.method = method
        self.reached = threading.Event()  # set once a request is held
        self._released = threading.Event()
        self._handle = True
        self.taken = False  # a request was picked to be held (reached is set once it waits)

    def matches(self, path: str, method: str) -> bool:
        """Whether a request of ``method`` to ``path`` is one this stall counts."""
        return path.startswith(self.path_prefix) and (self.method is None or self.method == method)

    def release(self, *, handle: bool = True) -> None:
        """Let the held request go on (and disarm the stall if none is held yet).

        ``handle=False`` answers a request held ``before`` with 503 without handling it, as a tracker
        that never received it (its client is gone); a request held ``after`` was handled already.
        """
        self._handle = handle
        self._released.set()

    @property
    def released(self) -> bool:
        """Whether :meth:`release` was called."""
        return self._released.is_set()

    async def _hold(self) -> None:
        self.reached.set()
        while not self._released.is_set():
            await asyncio.sleep(STALL_POLL_SECONDS)

    async def hold_before(self) -> bool:
        """Hold a ``before`` stall until released; whether the sandbox should handle the request."""
        if self.when != "before":
            return True
        await self._hold()
        return self._handle

    async def hold_after(self) -> None:
        """Hold an ``after`` stall (the request was handled) until released."""
        if self.when == "after":
            await self._hold()


class RateLimit:
    """A token bucket: ``per_second`` requests on average, at most ``burst`` at once.

    The vendors limit by a rolling window (Asana: 1,500 a minute on paid plans; Linear: requests and
    complexity per hour; Jira: a cost budget); a bucket refilled continuously is the same contract
    seen from a client: send too fast and you get 429 with the wait until you may send again.
    ``spend`` is not thread-safe on its own; :class:`FaultBook` calls it under its lock.
    """

    def __init__(self, per_second: float, burst: float, clock: Callable[[], float] = time.monotonic) -> None:
        """A full bucket."""
        if per_second <= 0 or burst < 1:
            raise ValueError("a rate limit needs per_second > 0 and burst >= 1")
        self.per_second = per_second
        self.burst = burst
        self.clock = clock
        self.tokens = burst
        self.stamp = clock()
        self.accepted = 0  # units of cost let through
        self.refused = 0  # requests answered 429

    def spend(self, cost: int = 1) -> float | None:
        """Take ``cost`` tokens and return None, or return the seconds until they are there (taking none)."""
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.per_second)
        self.stamp = now
        if self.tokens >= cost:
            self.tokens -= cost
            self.accepted += cost
            return None
        self.refused += 1
        return (min(cost, self.burst) - self.tokens) / self.per_second

    def floor_seconds(self) -> float:
        """The time the accepted cost takes at the sustained rate (a first burst can beat it by
        ``burst / per_second``): the floor a benchmark compares its wall time with."""
        return self.accepted / self.per_second


def whole_seconds(wait: float) -> str:
    """A ``Retry-After`` value as Jira and Asana send it: whole seconds, rounded up, at least 1."""
    return str(max(1, math.ceil(wait)))


class FaultBook:
    """Faults to answer with, an optional rate limit, and how many requests each path received.

    Thread-safe.
    """

    default_fault_prefix = "/"

    def __init__(self) -> None:
        """No faults, no rate limit, no requests yet."""
        self.faults: list[Fault] = []
        self.requests: Counter[str] = Counter()
        self.rate_limit: RateLimit | None = None
        self.stalls: list[Stall] = []
        self._book_lock = threading.Lock()

    def limit_rate(self, per_second: float | None, burst: float | None = None) -> None:
        """Answer 429 beyond ``per_second`` requests (``burst`` at once; default one second's worth).

        ``None`` lifts the limit. A sandbox calls :meth:`throttle` for each request it counts.
        """
        with self._book_lock:
            if per_second is None:
                self.rate_limit = None
            else:
                self.rate_limit = RateLimit(per_second, burst if burst is not None else max(1.0, per_second))

    def throttle(self, cost: int = 1) -> float | None:
        """None when the request may run (its cost is spent), else the seconds to wait before retrying."""
        with self._book_lock:
            return None if self.rate_limit is None else self.rate_limit.spend(cost)

    def bucket(self) -> tuple[float, float, float] | None:
        """The rate limit as a client may be told of it: (most tokens, tokens left, tokens a second);
        None without a limit."""
        with self._book_lock:
            limit = self.rate_limit
            return None if limit is None else (limit.burst, limit.tokens, limit.per_second)

    def inject_fault(
        self,
        status: int,
        times: int = 1,
        retry_after: float | None = None,
        path_prefix: str | None = None,
        after: int = 0,
        kind: str = "http",
        exact: bool = False,
    ) -> None:
        """Answer ``status`` to the next ``times`` requests under ``path_prefix`` (after ``after``),
        or to ``path_prefix`` alone when ``exact``."""
        prefix = path_prefix if path_prefix is not None else self.default_fault_prefix
        with self._book_lock:
            self.faults.append(Fault(status, times, retry_after, prefix, after, kind, exact))

    def take_fault(self, path: str) -> Fault | None:
        """The fault this request must answer with, if any (consumes one use)."""
        with self._book_lock:
            for fault in self.faults:
                if not fault.matches(path):
                    continue
                if fault.after > 0:
                    fault.after -= 1
                    return None
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                return fault
            return None

    def stall(
        self, path_prefix: str, *, after: int = 0, when: StallWhen = "before", method: str | None = None
    ) -> Stall:
        """Hold the next request under ``path_prefix`` after ``after`` of them (see :class:`Stall`)."""
        made = Stall(path_prefix, after=after, when=when, method=method)
        with self._book_lock:
            self.stalls.append(made)
        return made

    def take_stall(self, path: str, method: str) -> Stall | None:
        """The stall that holds this request, if any (a stall holds one request, then is spent)."""
        with self._book_lock:
            for armed in self.stalls:
                if armed.taken or armed.released or not armed.matches(path, method):
                    continue
                if armed.after > 0:
                    armed.after -= 1
                    continue
                armed.taken = True
                return armed
            return None

    def release_stalls(self) -> None:
        """Release every stall without handling what it holds (a test's teardown: the server can stop)."""
        with self._book_lock:
            stalls, self.stalls = self.stalls, []
        for each in stalls:
            each.release(handle=False)

    def record(self, path: str) -> None:
        """Count a request."""
        with self._book_lock:
            self.requests[path] += 1

    def request_count(self, path_prefix: str = "/") -> int:
        """Requests received under ``path_prefix`` (faulted ones included)."""
        with self._book_lock:
            return sum(n for path, n in self.requests.items() if path.startswith(path_prefix))
