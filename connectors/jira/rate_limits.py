"""Data Center's rate limit, read from every answer so that a sync slows down instead of being refused.

A Jira Data Center admin can limit each user's REST calls with a token bucket. Every answer then
says where the bucket stands: ``X-RateLimit-Limit`` (the most tokens it holds),
``X-RateLimit-Remaining``, ``X-RateLimit-FillRate`` (tokens added every interval) and
``X-RateLimit-Interval-Seconds``; a call with no token left is refused with 429 and ``Retry-After``.
:class:`RateBudget` keeps what the last answer said, and asks for a pause before the next call when
the bucket is empty, so a long sync spends its tokens as they come instead of collecting 429s (which
each cost a retry and count against the retry budget). It is shared by the connector's clients
(history reads and write-back run on threads of their own) and is thread-safe. Jira Cloud sends none
of these headers, so nothing is paced there.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Mapping

__all__ = ["RateBudget", "interval_retry_after"]

log = logging.getLogger(__name__)
REMAINING = "X-RateLimit-Remaining"
FILL_RATE = "X-RateLimit-FillRate"
INTERVAL = "X-RateLimit-Interval-Seconds"


def _number(headers: Mapping[str, str], name: str) -> float | None:
    raw = headers.get(name)
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


def interval_retry_after(headers: Mapping[str, str]) -> float | None:
    """The wait a 429 without ``Retry-After`` implies: one refill interval (None: no rate-limit headers)."""
    interval = _number(headers, INTERVAL)
    return interval if interval is not None and interval > 0 else None


class RateBudget:
    """The bucket as the last answer described it; :meth:`pause` before each call."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        """An unknown bucket: nothing is paced until an answer carries the headers."""
        self._clock = clock
        self._lock = threading.Lock()
        self._remaining: float | None = None
        self._interval = 0.0
        self._fill_rate = 0.0
        self._seen_at = 0.0
        self._in_flight = 0  # calls let through (pause) and not yet finished
        self.paused_seconds = 0.0  # waited so far, in all
        self.pauses = 0

    def observe(self, headers: Mapping[str, str]) -> None:
        """Remember what an answer's ``X-RateLimit-*`` headers say (answers without them change nothing)."""
        remaining = _number(headers, REMAINING)
        interval = _number(headers, INTERVAL)
        fill_rate = _number(headers, FILL_RATE)
        if remaining is None or interval is None or fill_rate is None or fill_rate == 0:
            return
        with self._lock:
            # The other calls in flight were let through on tokens this answer may not count yet
            # (a listing asks for its next page while the last is parsed): taken as spent.
            others = max(0, self._in_flight - 1)
            self._remaining = max(0.0, remaining - others)
            self._interval, self._fill_rate = interval, fill_rate
            self._seen_at = self._clock()

    def pause(self) -> float:
        """Seconds to wait before the next call: none while the bucket holds a token, else what is
        left of the interval since the answer that found it empty (one refill of ``FillRate`` tokens).

        The wait is counted as taken: until an answer says otherwise, the refill is assumed spent
        one token per call, so concurrent callers do not all wait for the same token, and none is
        let through before the refill it takes is due. Every call paused for is in flight until
        :meth:`finished`.
        """
        with self._lock:
            self._in_flight += 1
            if self._remaining is None:
                return 0.0
            if self._remaining >= 1:
                self._remaining -= 1
                # A refill another caller waits for is not there before its moment (seen_at).
                return self._paused(max(0.0, self._seen_at - self._clock()))
            wait = max(0.0, self._interval - (self._clock() - self._seen_at))
            self._remaining = self._fill_rate - 1
            self._seen_at = self._clock() + wait
            return self._paused(wait)

    def _paused(self, wait: float) -> float:
        if wait > 0:
            self.paused_seconds += wait
            self.pauses += 1
        return wait

    def finished(self) -> None:
        """A call :meth:`pause` let through has its answer (or failed): it is no longer in flight."""
        with self._lock:
            self._in_flight = max(0, self._in_flight - 1)

    def note(self) -> str | None:
        """A line for the run's warnings when calls were paced (None when none was)."""
        if not self.pauses:
            return None
        return f"paced by the tracker's rate limit: {self.pauses} pauses, {self.paused_seconds:.1f} s in all"
