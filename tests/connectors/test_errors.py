"""The one status-to-error table (connectors/errors.py), and that each client keeps its own wording."""

from __future__ import annotations

import pytest
import requests

from v2mom.connectors.errors import ErrorTexts, error_for_status
from v2mom.connectors.jira.client import map_http_error
from v2mom.errors import AuthError, FatalError, NotFoundError, RetriableError, TrackerError


@pytest.mark.parametrize(
    ("status", "kind", "message"),
    [
        (401, AuthError, "authentication failed"),
        (403, AuthError, "permission denied"),
        (404, NotFoundError, "not found"),
        (429, RetriableError, "rate limited"),
        (500, RetriableError, "server error"),
        (502, RetriableError, "server error"),
        (503, RetriableError, "server error"),
        (599, RetriableError, "server error"),
        (400, FatalError, "request rejected"),
        (405, FatalError, "request rejected"),
        (409, FatalError, "request rejected"),
        (410, FatalError, "request rejected"),
        (422, FatalError, "request rejected"),
        (302, FatalError, "request rejected"),
    ],
)
def test_status_table(status: int, kind: type[TrackerError], message: str) -> None:
    error = error_for_status(status, tracker="jira", request_id="req-1")
    assert type(error) is kind
    assert str(error) == f"jira: {message} — HTTP {status} — request id req-1"
    assert error.status == status
    assert error.request_id == "req-1"
    assert error.tracker == "jira"


@pytest.mark.parametrize("status", [429, 500, 503])
def test_retry_after_is_kept_on_retriable_errors(status: int) -> None:
    error = error_for_status(status, tracker="asana", retry_after=7.5)
    assert isinstance(error, RetriableError)
    assert error.retry_after == 7.5


def test_retry_after_defaults_to_none() -> None:
    error = error_for_status(429, tracker="asana")
    assert isinstance(error, RetriableError)
    assert error.retry_after is None


def test_detail_is_added_to_a_403_and_replaces_404_and_other_texts() -> None:
    assert str(error_for_status(403, tracker="t", detail="no access")) == (
        "t: permission denied (no access) — HTTP 403"
    )
    assert str(error_for_status(404, tracker="t", detail="Issue does not exist")) == (
        "t: Issue does not exist — HTTP 404"
    )
    assert str(error_for_status(400, tracker="t", detail="bad JQL")) == "t: bad JQL — HTTP 400"
    assert str(error_for_status(401, tracker="t", detail="ignored")) == "t: authentication failed — HTTP 401"
    assert str(error_for_status(503, tracker="t", detail="ignored")) == "t: server error — HTTP 503"


def test_texts_give_a_client_its_own_wording() -> None:
    texts = ErrorTexts(unauthorized="check the key", not_found="gone", rejected="GraphQL error: x")
    assert str(error_for_status(401, tracker="t", texts=texts)) == "t: check the key — HTTP 401"
    assert str(error_for_status(404, tracker="t", texts=texts)) == "t: gone — HTTP 404"
    assert str(error_for_status(418, tracker="t", texts=texts)) == "t: GraphQL error: x — HTTP 418"


def test_classify_as_chooses_the_error_but_keeps_the_reported_status() -> None:
    error = error_for_status(400, tracker="linear", classify_as=429, retry_after=3.0)
    assert isinstance(error, RetriableError)
    assert error.status == 400
    assert error.retry_after == 3.0
    assert isinstance(error_for_status(404, tracker="linear", classify_as=400), FatalError)
    assert not isinstance(error_for_status(404, tracker="linear", classify_as=400), NotFoundError)


@pytest.mark.parametrize("status", [0, None])
def test_no_status_is_reported_as_none(status: int | None) -> None:
    error = error_for_status(status, tracker="t")
    assert type(error) is FatalError
    assert error.status is None
    assert str(error) == "t: request rejected"


def test_retry_after_is_not_kept_on_other_errors() -> None:
    for status in (400, 401, 403, 404):
        error = error_for_status(status, tracker="t", retry_after=5.0)
        assert not hasattr(error, "retry_after")


def _jira_response(status: int, body: bytes, headers: dict[str, str]) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body
    response.headers.update(headers)
    return response


def test_the_jira_client_keeps_errorMessages_and_the_request_id_but_no_body_or_header() -> None:
    body = b'{"errorMessages": ["The value \'X\' does not exist"], "errors": {"secret": "s3cr3t-body"}}'
    headers = {"X-Arequestid": "abc-123", "Authorization": "Basic c2VjcmV0", "Retry-After": "4"}
    error = map_http_error(_jira_response(400, body, headers))
    assert type(error) is FatalError
    assert str(error) == "jira: The value 'X' does not exist — HTTP 400 — request id abc-123"
    assert "s3cr3t" not in str(error)
    assert "Basic" not in str(error)
    forbidden = map_http_error(_jira_response(403, body, headers))
    assert isinstance(forbidden, AuthError)
    assert str(forbidden).startswith("jira: permission denied: the account may not read this resource (")
    limited = map_http_error(_jira_response(429, b"", headers))
    assert isinstance(limited, RetriableError)
    assert limited.retry_after == 4.0
