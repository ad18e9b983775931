"""The Jira Cloud REST v3 client: the only module that imports the vendor SDK.

Every call goes through :meth:`JiraClient._call`, which counts it and maps every vendor or
``requests`` exception to our error tree (httpx's ``map_exceptions`` idea). Mapped errors keep only
the HTTP status, the request id (``X-Arequestid``) and, for client errors, Jira's ``errorMessages``;
never headers, the URL, the email, the token or the body. They are raised *after* the vendor
exception has been handled, so they carry neither ``__cause__`` nor ``__context__``: the vendor
exception holds the prepared request, whose ``Authorization`` header encodes the credentials.

The SDK's own retries (``backoff_and_retry`` and the 429 ``retry_with_header`` loop, which is on by
default and sleeps up to 30 minutes) are switched off: retries live in :mod:`connectors.retry`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import quote

import orjson
import requests
from atlassian import JiraCloud

from v2mom.connectors.base import CallCounter
from v2mom.connectors.retry import parse_retry_after
from v2mom.errors import AuthError, FatalError, NotFoundError, RetriableError, TrackerError

__all__ = ["DEFAULT_TIMEOUT", "TRACKER", "JiraClient", "map_http_error"]

TRACKER = "jira"
DEFAULT_TIMEOUT = 30  # seconds; the SDK coerces its timeout to int
REQUEST_ID_HEADER = "X-Arequestid"
_MAX_MESSAGE = 500


def _error_messages(response: requests.Response) -> str:
    """Jira's ``errorMessages`` (never the rest of the body), joined and truncated."""
    try:
        body = response.json()
    except ValueError:
        return ""
    messages = body.get("errorMessages") if isinstance(body, dict) else None
    if not isinstance(messages, list):
        return ""
    text = "; ".join(str(m) for m in messages if isinstance(m, str | int | float) and str(m).strip())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def map_http_error(response: requests.Response) -> TrackerError:
    """Translate an HTTP error response into our error tree, keeping status and request id only."""
    status = response.status_code
    request_id = response.headers.get(REQUEST_ID_HEADER) or None
    common: dict[str, Any] = {"tracker": TRACKER, "status": status, "request_id": request_id}
    if status == 401:
        return AuthError("authentication failed: check email and API token", **common)
    if status == 403:
        detail = _error_messages(response)
        return AuthError(
            "permission denied: the account may not read this resource" + (f" ({detail})" if detail else ""),
            **common,
        )
    if status == 404:
        return NotFoundError(
            _error_messages(response) or "not found (or not visible to this account)", **common
        )
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return RetriableError("rate limited", retry_after=retry_after, **common)
    if status >= 500:
        return RetriableError("server error", **common)
    return FatalError(_error_messages(response) or "request rejected", **common)


def _map_exception(exc: Exception) -> TrackerError | None:
    """Our error for a vendor/requests exception, or None when it is not one of theirs."""
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return map_http_error(exc.response)
    if isinstance(exc, requests.exceptions.SSLError):
        return FatalError("TLS handshake failed (check the Jira URL and certificates)", tracker=TRACKER)
    if isinstance(exc, requests.Timeout):
        return RetriableError("request timed out", tracker=TRACKER)
    if isinstance(exc, requests.ConnectionError | requests.exceptions.ChunkedEncodingError):
        return RetriableError(f"connection failed ({type(exc).__name__})", tracker=TRACKER)
    if isinstance(exc, requests.RequestException):
        return FatalError(f"request failed ({type(exc).__name__})", tracker=TRACKER)
    return None


class JiraClient:
    """Thin, typed wrapper over ``atlassian.JiraCloud`` (REST v3, basic auth with an API token).

    Methods return decoded JSON and raise only :class:`~v2mom.errors.TrackerError` subclasses. Each
    HTTP request is counted in ``calls`` under its kind ("search", "census", "field", "myself",
    "issue"). No retries happen here.
    """

    def __init__(
        self,
        url: str,
        *,
        email: str,
        api_token: str,
        timeout: int = DEFAULT_TIMEOUT,
        calls: CallCounter | None = None,
    ) -> None:
        """Build the SDK client; nothing is sent until the first call."""
        self.base_url = url.rstrip("/")
        self.calls = calls if calls is not None else CallCounter()
        self._sdk = JiraCloud(
            self.base_url,
            username=email,
            password=api_token,
            cloud=True,
            api_version=3,
            timeout=int(timeout),
            backoff_and_retry=False,  # retries are ours (connectors/retry.py)
            retry_with_header=False,  # else the SDK sleeps on 429 Retry-After by itself
        )

    def _call(self, kind: str, fn: Callable[[], object]) -> object:
        """Count one request of ``kind``, run it and map any vendor exception.

        The mapped error is raised outside the ``except`` block so that it carries no chained
        vendor exception (equivalent to ``raise … from None`` without even a ``__context__``).
        """
        self.calls.add(kind)
        error: TrackerError | None = None
        try:
            return fn()
        except Exception as exc:  # narrowed below: anything not ours to map is re-raised
            error = _map_exception(exc)
            if error is None:
                raise
        raise error

    def _json_object(self, kind: str, fn: Callable[[], object]) -> dict[str, Any]:
        result = self._call(kind, fn)
        if not isinstance(result, dict):
            raise FatalError(f"unexpected {kind} response: expected a JSON object", tracker=TRACKER)
        return result

    def myself(self) -> dict[str, Any]:
        """``GET /rest/api/3/myself``: the account (its ``timeZone`` drives JQL date literals)."""
        return self._json_object("myself", lambda: self._sdk.get(self._sdk.endpoint("myself")))

    def fields(self) -> list[dict[str, Any]]:
        """``GET /rest/api/3/field``: every system and custom field with its schema."""
        result = self._call("field", lambda: self._sdk.get(self._sdk.endpoint("field")))
        if not isinstance(result, list) or not all(isinstance(f, dict) for f in result):
            raise FatalError("unexpected field response: expected a JSON array of objects", tracker=TRACKER)
        return result

    def search_page(
        self,
        jql: str,
        fields: Sequence[str],
        next_page_token: str | None,
        max_results: int,
        *,
        kind: str = "search",
    ) -> dict[str, Any]:
        """One page of ``POST /rest/api/3/search/jql`` (``issues``, ``nextPageToken``, ``isLast``)."""
        body: dict[str, object] = {"jql": jql, "fields": list(fields), "maxResults": int(max_results)}
        if next_page_token is not None:
            body["nextPageToken"] = next_page_token
        endpoint = self._sdk.endpoint("search/jql", api_version=3)

        def fetch() -> object:
            # POST with the raw response (the SDK's advanced mode): the long field list stays out of
            # the URL, and orjson decodes the pages, which are the bulk of a sync.
            response = self._sdk.post(endpoint, data=body, advanced_mode=True)
            response.raise_for_status()
            try:
                return orjson.loads(response.content)
            except orjson.JSONDecodeError:
                raise FatalError("search answered with a body that is not JSON", tracker=TRACKER) from None

        page = self._json_object(kind, fetch)
        if not isinstance(page.get("issues", []), list):
            raise FatalError("unexpected search response: 'issues' is not a list", tracker=TRACKER)
        return page

    def get_issue(self, id_or_key: str, fields: Sequence[str]) -> dict[str, Any]:
        """``GET /rest/api/3/issue/{idOrKey}`` with only ``fields``; NotFoundError when gone."""
        joined = ",".join(fields)
        safe_id = quote(str(id_or_key), safe="")
        return self._json_object(
            "issue", lambda: self._sdk.get(self._sdk.endpoint(f"issue/{safe_id}"), params={"fields": joined})
        )

    def close(self) -> None:
        """Close the HTTP session."""
        self._sdk.close()

    def __repr__(self) -> str:
        return f"JiraClient({self.base_url!r})"
