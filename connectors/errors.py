"""The one mapping from a tracker's HTTP status to our error tree, shared by every client.

==========  ===============================================================
status      error
==========  ===============================================================
401         :class:`~v2mom.errors.AuthError` (``texts.unauthorized``)
403         :class:`~v2mom.errors.AuthError` (``texts.forbidden`` + detail)
404         :class:`~v2mom.errors.NotFoundError` (detail, else ``texts.not_found``)
429         :class:`~v2mom.errors.RetriableError` with ``retry_after``
5xx         :class:`~v2mom.errors.RetriableError` with ``retry_after``
otherwise   :class:`~v2mom.errors.FatalError` (detail, else ``texts.rejected``)
==========  ===============================================================

The error keeps the status and the request id only: never headers, tokens or bodies. What a vendor
puts in its error bodies (Jira ``errorMessages``, Asana ``errors[].message``, Linear GraphQL error
codes) is read by its client, which passes a short ``detail`` and its own wording in
:class:`ErrorTexts`; statuses a vendor gives another meaning (Asana's 412, Linear's 404 from a
GraphQL endpoint) are handled by the client before it calls :func:`error_for_status`.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass

from v2mom.errors import AuthError, FatalError, NotFoundError, RetriableError, TrackerError, UnreachableError
from v2mom.redaction import mask_url

__all__ = [
    "ErrorTexts",
    "OutOfScopeError",
    "causes",
    "connect_failed",
    "error_for_status",
    "unreachable",
]


class OutOfScopeError(NotFoundError):
    """The item exists (or may) but lies outside the configured scope (JQL, teams, projects).

    A :class:`~v2mom.errors.NotFoundError` because, to us, an item outside the scope is an item we do
    not have: whoever treats "not found" as "remove it from the store" handles it correctly without
    knowing about scopes ("scope is the settings, never the event").

    ``cascade`` True: the items below this one were in scope only through it (Asana subtasks belong
    to the scope through their parent task), so each of them must be checked again; False when every
    item carries its own scope (a Jira issue its project, a Linear issue its team).
    """

    def __init__(self, message: str, *, tracker: str, cascade: bool = False) -> None:
        """``message`` names the item and why it is out of scope."""
        super().__init__(message, tracker=tracker)
        self.cascade = cascade


@dataclass(frozen=True)
class ErrorTexts:
    """The message of each kind of error, in a client's own words (the defaults are generic)."""

    unauthorized: str = "authentication failed"
    forbidden: str = "permission denied"
    not_found: str = "not found"
    rate_limited: str = "rate limited"
    server: str = "server error"
    rejected: str = "request rejected"


DEFAULT_TEXTS = ErrorTexts()


def error_for_status(
    status: int | None,
    *,
    tracker: str,
    request_id: str | None = None,
    retry_after: float | None = None,
    detail: str = "",
    texts: ErrorTexts = DEFAULT_TEXTS,
    classify_as: int | None = None,
) -> TrackerError:
    """Our error for an HTTP error answer with ``status`` from ``tracker`` (see the module's table).

    ``detail`` is the vendor's short explanation (already extracted and truncated by the client): it
    is added to a 403 in parentheses and replaces the text of a 404 or another 4xx. ``retry_after``
    (seconds) is kept on 429 and 5xx only. ``classify_as`` chooses the error by another status than
    the one reported (Linear: a ``RATELIMITED`` GraphQL error on HTTP 400 is a 429); the error still
    carries ``status``. A status of 0 or None is reported as no status.
    """
    reported = status or None
    kind = classify_as if classify_as is not None else (status or 0)
    if kind == 401:
        return AuthError(texts.unauthorized, tracker=tracker, status=reported, request_id=request_id)
    if kind == 403:
        message = texts.forbidden + (f" ({detail})" if detail else "")
        return AuthError(message, tracker=tracker, status=reported, request_id=request_id)
    if kind == 404:
        return NotFoundError(
            detail or texts.not_found, tracker=tracker, status=reported, request_id=request_id
        )
    if kind == 429:
        return RetriableError(
            texts.rate_limited,
            tracker=tracker,
            status=reported,
            request_id=request_id,
            retry_after=retry_after,
        )
    if kind >= 500:
        return RetriableError(
            texts.server, tracker=tracker, status=reported, request_id=request_id, retry_after=retry_after
        )
    return FatalError(detail or texts.rejected, tracker=tracker, status=reported, request_id=request_id)


def causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what it wraps: its ``__cause__`` / ``__context__`` chain and, where an HTTP library
    keeps one (urllib3's ``MaxRetryError``), its ``reason``; each exception once."""
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        reason = getattr(current, "reason", None)
        for wrapped in (reason, current.__cause__, current.__context__):
            if isinstance(wrapped, BaseException):
                pending.append(wrapped)


def connect_failed(exc: BaseException, kinds: tuple[type[BaseException], ...]) -> bool:
    """True when ``exc`` (or what it wraps) is one of the HTTP library's "could not connect" ``kinds``."""
    return any(isinstance(cause, kinds) for cause in causes(exc))


def unreachable(tracker: str, url: str, exc: BaseException, connect_timeout: float) -> UnreachableError:
    """The error for a connection to ``url`` that could not be opened, with the operating system's
    reason found in ``exc``'s chain ("connection refused", "host name not found", no answer within
    ``connect_timeout`` seconds)."""
    reason = "connection failed"
    for cause in causes(exc):
        if isinstance(cause, ConnectionRefusedError):
            reason = "connection refused"
        elif isinstance(cause, socket.gaierror):
            reason = "host name not found"
        elif isinstance(cause, TimeoutError) or "timeout" in type(cause).__name__.lower():
            reason = f"no answer to connect within {connect_timeout:g} s"
        elif isinstance(cause, OSError) and cause.strerror:
            reason = cause.strerror.lower()
        else:
            continue
        break
    return UnreachableError(f"cannot connect to {mask_url(url)}: {reason}", tracker=tracker)
