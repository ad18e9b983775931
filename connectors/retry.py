"""The one place retries live, shared by every tracker connector.

Only :class:`~v2mom.errors.RetriableError` is retried (429, 5xx, connection resets, timeouts);
everything else propagates at once. A server's ``Retry-After`` is honoured when it fits the retry
budget; a ``Retry-After`` longer than ``max_wait`` fails immediately instead of stalling a sync run.
Without one, waits grow exponentially from :data:`BASE_DELAY` with jitter, capped at ``max_wait``.
Vendor SDKs' own retry loops must be switched off so that attempts are not multiplied.

A tracker that cannot be reached at all (:class:`~v2mom.errors.UnreachableError`: connection
refused, host not found, no answer to connect) is retried only when the caller says it answered
before (a blip in the middle of a run); otherwise the error is a wrong URL or a tracker that is
down, and waiting out the budget would only delay saying so. Every retry is logged (info) and told
to the listener of :func:`retries_reported` (``v2mom sync`` prints them), so no wait is silent.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Protocol, TypeVar

from v2mom.errors import RetriableError, UnreachableError

__all__ = [
    "BASE_DELAY",
    "RetryListener",
    "Retrying",
    "backoff_delay",
    "call_with_retries",
    "parse_retry_after",
    "retries_reported",
]

T = TypeVar("T")
BASE_DELAY = 0.5  # seconds before the first retry (before jitter)
RetryListener = Callable[[RetriableError, int, int, float], None]  # error, retry number, of how many, wait


class Retrying(Protocol):
    """A connector's retry policy: ``fn()``, retried on retriable errors as its settings allow."""

    def __call__(self, fn: Callable[[], T]) -> T:
        """The result of ``fn``, retried as the connector's settings allow."""
        ...


log = logging.getLogger(__name__)
_listener: ContextVar[RetryListener | None] = ContextVar("v2mom_retry_listener", default=None)


@contextmanager
def retries_reported(listener: RetryListener) -> Iterator[None]:
    """Tell ``listener`` about every retry that :func:`call_with_retries` makes in this block (in
    this thread or task): the error, the retry's number, the retries allowed and the wait."""
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)


def backoff_delay(attempt: int, *, max_wait: float, rand: Callable[[], float] = random.random) -> float:
    """Seconds to wait before retry number ``attempt`` (0-based) when the server gave no hint.

    Exponential from :data:`BASE_DELAY`, capped at ``max_wait``, with "equal jitter": the wait is
    uniformly spread over the upper half of the capped delay, so clients that failed together do not
    retry together, yet every wait stays at least half the nominal delay.
    """
    nominal = min(max_wait, BASE_DELAY * (2.0 ** min(attempt, 32)))
    return nominal / 2.0 + rand() * nominal / 2.0


def call_with_retries(
    fn: Callable[[], T],
    *,
    max_retries: int,
    max_wait: float,
    sleep: Callable[[float], None] = time.sleep,
    on_retry: Callable[[RetriableError, float], None] | None = None,
    retry_unreachable: Callable[[], bool] = lambda: True,
) -> T:
    """Call ``fn`` and return its result, retrying up to ``max_retries`` times on RetriableError.

    A ``retry_after`` on the error is waited exactly (zero included); when it exceeds ``max_wait``
    a RetriableError saying "rate limited beyond the retry budget" (same status, request id and
    ``retry_after``) is raised immediately, without sleeping. Otherwise the wait is
    :func:`backoff_delay`. An :class:`UnreachableError` is raised at once unless
    ``retry_unreachable()`` (asked when it happens) says the tracker answered before.
    ``on_retry(error, wait)`` and the :func:`retries_reported` listener are called before each sleep.
    After the last retry the last RetriableError propagates unchanged; other exceptions are never
    retried.
    """
    if max_retries < 0:
        raise ValueError("max_retries must be >= 0")
    if max_wait < 0:
        raise ValueError("max_wait must be >= 0")
    attempt = 0
    while True:
        try:
            return fn()
        except RetriableError as error:
            if attempt >= max_retries:
                raise
            if isinstance(error, UnreachableError) and not retry_unreachable():
                raise
            if error.retry_after is not None:
                if error.retry_after > max_wait:
                    # Waiting would stall the run far longer than configured: fail now, clearly.
                    raise RetriableError(
                        f"rate limited beyond the retry budget: Retry-After {error.retry_after:g}s"
                        f" exceeds the maximum wait of {max_wait:g}s",
                        tracker=error.tracker,
                        status=error.status,
                        request_id=error.request_id,
                        retry_after=error.retry_after,
                    ) from error
                wait = max(0.0, float(error.retry_after))
            else:
                wait = backoff_delay(attempt, max_wait=max_wait)
            attempt += 1
            log.info("retry %d/%d in %.2fs after: %s", attempt, max_retries, wait, error)
            if on_retry is not None:
                on_retry(error, wait)
            listener = _listener.get()
            if listener is not None:
                listener(error, attempt, max_retries, wait)
        sleep(wait)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP-date; None if absent/bad."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)
