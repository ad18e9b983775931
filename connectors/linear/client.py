"""The Linear GraphQL client: the only module that imports gql (over its httpx transport).

Every request goes through :meth:`LinearClient.execute`, which counts it and maps what went wrong
to our error tree, keeping only the HTTP status and Linear's error codes and messages, never the
API key, headers or the body:

- a ``RATELIMITED`` GraphQL error (whatever the HTTP status) or HTTP 429 is retriable after the
  wait the headers name: ``Retry-After``, else the latest ``X-RateLimit-*-Reset`` (epoch ms);
- ``AUTHENTICATION_ERROR`` / HTTP 401 and ``FORBIDDEN`` / HTTP 403 are :class:`AuthError`;
- any other ``errors`` body, on HTTP 200 too, is a :class:`FatalError`: never an empty page;
- 5xx, timeouts and refused connections are retriable.

The status is classified by :mod:`connectors.errors` (shared by every client); reading Linear's
codes and headers stays here; a 404 of the endpoint is fatal (a wrong URL, not a deleted item).
Retries themselves live in :mod:`connectors.retry`. Mapped errors are raised outside the ``except``
block so they carry neither ``__cause__`` nor ``__context__``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from gql import Client, GraphQLRequest
from gql.transport.exceptions import (
    TransportConnectionFailed,
    TransportProtocolError,
    TransportQueryError,
    TransportServerError,
)
from gql.transport.httpx import HTTPXTransport

from v2mom.connectors.base import CallCounter
from v2mom.connectors.errors import ErrorTexts, connect_failed, error_for_status, unreachable
from v2mom.connectors.linear.aliases import alias_index, aliased_text, split_data
from v2mom.connectors.linear.parse import TRACKER, query_text
from v2mom.connectors.retry import parse_retry_after
from v2mom.errors import AuthError, FatalError, RetriableError, TrackerError

__all__ = ["DEFAULT_TIMEOUT", "Aliased", "LinearClient", "is_authentication_failure", "rate_limit_wait"]

DEFAULT_TIMEOUT = 30.0
CONNECT_TIMEOUT = 5.0  # seconds to open a connection (sync.connect_timeout_seconds)
RESET_HEADERS = ("x-ratelimit-requests-reset", "x-ratelimit-complexity-reset", "x-ratelimit-endpoint-reset")
_MAX_MESSAGE = 300
# Linear's GraphQL error codes that stand for an HTTP status, in the order they are checked.
_CODES = (("RATELIMITED", 429), ("AUTHENTICATION_ERROR", 401), ("FORBIDDEN", 403))
_AUTH_FAILED = "authentication failed: check the API key"
_FORBIDDEN = "permission denied: the API key may not read this team"


def rate_limit_wait(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds to wait from ``Retry-After`` or, failing that, the latest ``X-RateLimit-*-Reset``."""
    lowered = {k.lower(): v for k, v in headers.items()}
    retry_after = parse_retry_after(lowered.get("retry-after"))
    if retry_after is not None:
        return retry_after
    moment = time.time() if now is None else now
    waits: list[float] = []
    for name in RESET_HEADERS:
        raw = lowered.get(name)
        try:
            reset_ms = float(raw) if raw is not None else None
        except ValueError:
            reset_ms = None
        if reset_ms is not None:
            waits.append(max(0.0, reset_ms / 1000 - moment))
    return max(waits) if waits else None


@dataclass(frozen=True)
class Aliased:
    """What one request of aliased copies did: the data of each copy that ran, in order (keyed by
    the template's field names); when Linear refused a copy, its index and error (later copies did
    not run). A copy that ran before a refused one may have an empty dict: a failed non-null
    mutation field nulls the whole answer's ``data``, though the earlier copies took effect."""

    data: list[dict[str, Any]]
    failed: int | None = None
    error: TrackerError | None = None


def is_authentication_failure(error: TrackerError) -> bool:
    """Whether ``error`` is Linear refusing the API key itself (every call will fail: the whole run),
    as opposed to a permission refused on one team or issue (``FORBIDDEN``)."""
    return isinstance(error, AuthError) and _AUTH_FAILED in str(error)


def _error_code(error: Any) -> str:
    """Linear's error code: ``extensions.code`` (else ``extensions.type``), upper-cased."""
    extensions = error.get("extensions") if isinstance(error, Mapping) else None
    if not isinstance(extensions, Mapping):
        return ""
    code = extensions.get("code") or extensions.get("type") or ""
    return str(code).upper()


def _message(error: Mapping[str, Any]) -> str:
    """An error's ``message``, with Linear's ``userPresentableMessage`` when it says more (a query
    refused as too complex names its price and the ceiling only there)."""
    text = str(error.get("message") or "")
    extensions = error.get("extensions")
    presented = extensions.get("userPresentableMessage") if isinstance(extensions, Mapping) else None
    if isinstance(presented, str) and presented and presented != text:
        return f"{text} ({presented})" if text else presented
    return text


def _messages(errors: list[Any]) -> str:
    texts = [text for e in errors if isinstance(e, Mapping) and (text := _message(e))]
    text = "; ".join(dict.fromkeys(texts)) or "unknown GraphQL error"
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


class LinearClient:
    """A gql client over ``HTTPXTransport`` with a personal API key (``Authorization: <key>``).

    ``execute(kind, name, variables)`` runs ``queries/<name>.graphql`` and returns its ``data``.
    Each request is counted in ``calls`` under ``kind``. No retries happen here.
    """

    def __init__(
        self,
        url: str,
        *,
        api_key: str,
        timeout: float = DEFAULT_TIMEOUT,
        connect_timeout: float = CONNECT_TIMEOUT,
        calls: CallCounter | None = None,
    ) -> None:
        """Build the transport; the connection opens on the first request."""
        self.url = url
        self._connect_timeout = connect_timeout
        self.calls = calls if calls is not None else CallCounter()
        self._last_status = 0
        self._last_headers: dict[str, str] = {}
        transport = HTTPXTransport(
            url=url,
            headers={"Authorization": api_key},
            timeout=httpx.Timeout(timeout, connect=connect_timeout),  # unreachable: fail in seconds
            event_hooks={"response": [self._remember]},
        )
        self._client = Client(transport=transport, fetch_schema_from_transport=False)
        self._session: Any = None
        self._documents: dict[str, GraphQLRequest] = {}

    def _remember(self, response: httpx.Response) -> None:
        self._last_status = response.status_code
        self._last_headers = dict(response.headers)

    def _document(self, name: str) -> GraphQLRequest:
        if name not in self._documents:
            self._documents[name] = GraphQLRequest(query_text(name))
        return self._documents[name]

    def _send(
        self, kind: str, document: GraphQLRequest, variables: Mapping[str, Any]
    ) -> tuple[Any, list[Any] | None]:
        """One counted request: (data, None), or (partial data, GraphQL errors); other failures raise."""
        self.calls.add(kind)
        if self._session is None:
            self._session = self._client.connect_sync()  # type: ignore[no-untyped-call]
        request = GraphQLRequest(document, variable_values=dict(variables))
        self._last_status, self._last_headers = 0, {}
        error: TrackerError | None = None
        try:
            return self._session.execute(request), None
        except TransportQueryError as exc:
            return exc.data, list(exc.errors or [{}])
        except TransportServerError as exc:
            error = self._status_error(exc.code or self._last_status)
        except TransportConnectionFailed as exc:
            if connect_failed(exc, (httpx.ConnectError, httpx.ConnectTimeout)):
                error = unreachable(TRACKER, self.url, exc, self._connect_timeout)
            else:
                error = RetriableError(f"connection failed ({_cause_name(exc)})", tracker=TRACKER)
        except TransportProtocolError:
            error = self._status_error(self._last_status, fallback="the answer is not a GraphQL result")
        raise error

    def execute(self, kind: str, name: str, variables: Mapping[str, Any]) -> dict[str, Any]:
        """Run query ``name`` with ``variables``; its ``data`` or one of our errors."""
        data, errors = self._send(kind, self._document(name), variables)
        if errors is not None:
            raise self._query_error(errors)
        if not isinstance(data, dict):
            raise FatalError(f"{name}: the answer holds no data", tracker=TRACKER, status=self._last_status)
        return data

    def execute_aliased(self, kind: str, name: str, variables: Sequence[Mapping[str, Any]]) -> Aliased:
        """Run ``len(variables)`` copies of mutation ``name`` in one request (:mod:`.aliases`).

        The copies run in order; when Linear refuses one, the ones before it ran, it did not, and
        the ones after it did not run either (GraphQL stops a mutation at a failed non-null field):
        :class:`Aliased` says which. Errors that are not one copy's (rate limits, a refused API key,
        a server error, an error without a copy's path) raise as :meth:`execute` does.
        """
        count = len(variables)
        key = f"{name}*{count}"
        if key not in self._documents:
            self._documents[key] = GraphQLRequest(aliased_text(query_text(name), count))
        merged = {f"{k}_{i}": v for i, each in enumerate(variables) for k, v in each.items()}
        data, errors = self._send(kind, self._documents[key], merged)
        parts = split_data(data, count) if isinstance(data, dict) else None
        if errors is None:
            if parts is None:
                raise FatalError(
                    f"{name}: the answer holds no data", tracker=TRACKER, status=self._last_status
                )
            return Aliased(parts)
        indexes = [_copy_index(e) for e in errors]
        if any(index is None for index in indexes):
            raise self._query_error(errors)
        failed = min(i for i in indexes if i is not None)
        error = self._query_error([e for e, i in zip(errors, indexes, strict=True) if i == failed])
        if isinstance(error, RetriableError) or is_authentication_failure(error):
            raise error
        done = parts[:failed] if parts is not None else [{} for _ in range(failed)]
        return Aliased(done, failed=failed, error=error)

    def _retry_after(self, rate_limited: bool) -> float | None:
        """The wait the last answer's headers name: the rate-limit resets only when rate limited."""
        if rate_limited:
            return rate_limit_wait(self._last_headers)
        lowered = {k.lower(): v for k, v in self._last_headers.items()}
        return parse_retry_after(lowered.get("retry-after"))

    def _status_error(self, status: int, *, fallback: str = "request rejected") -> TrackerError:
        """An HTTP error without a GraphQL body, classified by :func:`connectors.errors.error_for_status`.

        A 404 from the GraphQL endpoint means a wrong URL, not a missing entity: it stays fatal
        (a NotFoundError would read as a deleted item).
        """
        texts = ErrorTexts(unauthorized=_AUTH_FAILED, forbidden=_FORBIDDEN, rejected=fallback)
        return error_for_status(
            status,
            tracker=TRACKER,
            retry_after=self._retry_after(status == 429),
            texts=texts,
            classify_as=400 if status == 404 else None,
        )

    def _query_error(self, errors: list[Any]) -> TrackerError:
        """GraphQL ``errors``: Linear's codes (else the HTTP status) choose the error; it keeps the status."""
        codes = {_error_code(e) for e in errors}
        status = self._last_status
        kind = next(
            (code_status for code, code_status in _CODES if code in codes or status == code_status), 0
        )
        if not kind:
            if status >= 500:
                kind = status
            elif any(
                "not found" in str(e.get("message", "")).lower() for e in errors if isinstance(e, Mapping)
            ):
                kind = 404
            else:
                kind = 400
        messages = _messages(errors)
        texts = ErrorTexts(
            unauthorized=_AUTH_FAILED,
            forbidden=f"permission denied: {messages}",
            not_found=messages,
            server=f"server error: {messages}",
            rejected=f"GraphQL error: {messages}",
        )
        return error_for_status(
            status, tracker=TRACKER, retry_after=self._retry_after(kind == 429), texts=texts, classify_as=kind
        )

    def close(self) -> None:
        """Close the HTTP connection."""
        if self._session is not None:
            self._client.close_sync()  # type: ignore[no-untyped-call]
            self._session = None

    def __repr__(self) -> str:
        return f"LinearClient({self.url!r})"


def _copy_index(error: Any) -> int | None:
    """The index of the aliased copy a GraphQL error's ``path`` names (None: not one copy's)."""
    path = error.get("path") if isinstance(error, Mapping) else None
    return alias_index(path[0]) if isinstance(path, list) and path else None


def _cause_name(exc: BaseException) -> str:
    cause = exc.__cause__
    return type(cause).__name__ if cause is not None else type(exc).__name__
