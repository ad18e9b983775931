"""A shallow error tree, classified by what the caller should do next.

Vendor exceptions never escape ``connectors/``: they are wrapped into one of these, keeping only the
HTTP status and the request id, never headers, tokens or bodies.
"""

from __future__ import annotations


class V2momError(Exception):
    """Base class of every error this project raises on purpose."""


class ConfigError(V2momError):
    """Settings or a plan file are invalid; the message names the file, the path and the problem."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems: list[str] = problems if problems is not None else [message]


class MappingError(ConfigError):
    """A plan or rule is inconsistent (unknown ids, bad weights, an empty rule)."""


class TrackerError(V2momError):
    """A tracker API call failed; carries the status and request id, never credentials."""

    def __init__(
        self,
        message: str,
        *,
        tracker: str,
        status: int | None = None,
        request_id: str | None = None,
    ) -> None:
        details = [f"{tracker}: {message}"]
        if status is not None:
            details.append(f"HTTP {status}")
        if request_id:
            details.append(f"request id {request_id}")
        super().__init__(" — ".join(details))
        self.tracker = tracker
        self.status = status
        self.request_id = request_id


class AuthError(TrackerError):
    """The tracker refused our credentials (401) or our access (403)."""


class RetriableError(TrackerError):
    """A transient failure (429, 5xx, connection reset); ``retry_after`` is in seconds when known."""

    def __init__(
        self,
        message: str,
        *,
        tracker: str,
        status: int | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, tracker=tracker, status=status, request_id=request_id)
        self.retry_after = retry_after


class UnreachableError(RetriableError):
    """No connection could be opened to the tracker (refused, host not found, no answer to connect
    in time); the message names the URL. Not retried before the tracker has answered once."""


class FatalError(TrackerError):
    """A failure that retrying will not fix (400, 404 on a listing, a paginator loop)."""


class NotFoundError(TrackerError):
    """The tracker says the object does not exist (or is invisible to us)."""


class WebhookVerificationError(V2momError):
    """A webhook delivery failed signature or freshness checks; nothing is stored."""


class DatabaseUnavailableError(V2momError):
    """The database cannot be reached or opened; the message names it without its password."""
