"""The Linear client over respx-mocked httpx: rate limits, errors on HTTP 200, auth, no secrets."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest
import respx

from v2mom.connectors.linear.client import LinearClient, rate_limit_wait
from v2mom.connectors.linear.connector import LinearConnector
from v2mom.errors import AuthError, FatalError, NotFoundError, RetriableError
from v2mom.settings import LinearSettings, SyncSettings

URL = "http://127.0.0.1:9/graphql"
KEY = "lin_api_secret_value_123"
TEAMS = {"data": {"teams": {"nodes": [{"id": "t1", "key": "ENG", "name": "Engineering"}]}}}


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


def client() -> LinearClient:
    return LinearClient(URL, api_key=KEY)


def test_gql_really_goes_through_httpx() -> None:
    import gql.transport.httpx as transport

    assert transport.httpx is httpx  # not httpx2: respx sees every request


def test_the_api_key_is_sent_as_is_and_data_returned(mock: respx.MockRouter) -> None:
    route = mock.post(URL).respond(json=TEAMS)
    data = client().execute("teams", "teams", {"teams": ["ENG"]})
    assert data["teams"]["nodes"][0]["key"] == "ENG"
    request = route.calls.last.request
    assert request.headers["Authorization"] == KEY
    body = json.loads(request.content)
    assert body["variables"] == {"teams": ["ENG"]}
    assert "query Teams" in body["query"]


def test_ratelimited_error_waits_until_the_reset_header(mock: respx.MockRouter) -> None:
    reset_ms = int((time.time() + 7) * 1000)
    mock.post(URL).respond(
        400,
        json={"errors": [{"message": "Rate limit exceeded", "extensions": {"code": "RATELIMITED"}}]},
        headers={"X-RateLimit-Requests-Reset": str(reset_ms), "X-RateLimit-Requests-Remaining": "0"},
    )
    with pytest.raises(RetriableError) as caught:
        client().execute("teams", "teams", {"teams": ["ENG"]})
    assert caught.value.retry_after == pytest.approx(7, abs=1.5)


def test_http_429_honours_retry_after(mock: respx.MockRouter) -> None:
    mock.post(URL).respond(429, text="slow down", headers={"Retry-After": "12"})
    with pytest.raises(RetriableError) as caught:
        client().execute("teams", "teams", {"teams": ["ENG"]})
    assert caught.value.retry_after == 12
    assert caught.value.status == 429


def test_errors_on_http_200_are_errors_not_empty_pages(mock: respx.MockRouter) -> None:
    mock.post(URL).respond(200, json={"data": None, "errors": [{"message": "Cannot query field"}]})
    with pytest.raises(FatalError, match="GraphQL error: Cannot query field"):
        client().execute("teams", "teams", {"teams": ["ENG"]})


def test_partial_data_with_errors_is_still_an_error(mock: respx.MockRouter) -> None:
    mock.post(URL).respond(
        200, json={"data": {"teams": {"nodes": []}}, "errors": [{"message": "teams: partial failure"}]}
    )
    with pytest.raises(FatalError, match="partial failure"):
        client().execute("teams", "teams", {"teams": ["ENG"]})


def test_authentication_errors_name_the_key_but_never_show_it(mock: respx.MockRouter) -> None:
    mock.post(URL).respond(
        400,
        json={
            "errors": [{"message": "Authentication required", "extensions": {"code": "AUTHENTICATION_ERROR"}}]
        },
    )
    with pytest.raises(AuthError) as caught:
        client().execute("teams", "teams", {"teams": ["ENG"]})
    assert "check the API key" in str(caught.value)
    assert KEY not in str(caught.value)
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None


def test_not_found_entities_are_not_found(mock: respx.MockRouter) -> None:
    mock.post(URL).respond(
        200,
        json={
            "data": None,
            "errors": [{"message": "Entity not found: Issue", "extensions": {"code": "INVALID_INPUT"}}],
        },
    )
    with pytest.raises(NotFoundError):
        client().execute("issue", "issue", {"id": "nope"})


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_retriable(mock: respx.MockRouter, status: int) -> None:
    mock.post(URL).respond(status, text="<html>oops</html>")
    with pytest.raises(RetriableError):
        client().execute("teams", "teams", {"teams": ["ENG"]})


def test_an_unreachable_host_is_retriable_and_names_no_secret(mock: respx.MockRouter) -> None:
    mock.post(URL).mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(RetriableError) as caught:
        client().execute("teams", "teams", {"teams": ["ENG"]})
    assert "connection failed" in str(caught.value)
    assert KEY not in str(caught.value)


def test_a_non_graphql_answer_is_fatal(mock: respx.MockRouter) -> None:
    mock.post(URL).respond(200, text="<html>proxy login</html>")
    with pytest.raises(FatalError):
        client().execute("teams", "teams", {"teams": ["ENG"]})


def test_the_connector_retries_a_rate_limit_then_succeeds(mock: respx.MockRouter) -> None:
    mock.post(URL).side_effect = [
        httpx.Response(
            400,
            json={"errors": [{"message": "Rate limit exceeded", "extensions": {"code": "RATELIMITED"}}]},
            headers={"Retry-After": "3"},
        ),
        httpx.Response(200, json=TEAMS),
    ]
    waits: list[float] = []
    settings = LinearSettings(api_url=URL, api_key=KEY, teams=["ENG"])  # type: ignore[arg-type]
    connector = LinearConnector(settings, SyncSettings(max_retries=2), sleep=waits.append)
    assert connector.discover().effort_field == "estimate"
    assert waits == [3.0]
    assert connector.calls.calls["teams"] == 2


def test_a_missing_team_is_a_config_error(mock: respx.MockRouter) -> None:
    mock.post(URL).respond(json=TEAMS)
    settings = LinearSettings(api_url=URL, api_key=KEY, teams=["ENG", "NOPE"])  # type: ignore[arg-type]
    with pytest.raises(Exception, match="NOPE not found"):
        LinearConnector(settings).discover()


def test_a_cursor_returned_twice_is_a_paginator_loop(mock: respx.MockRouter) -> None:
    page = {
        "data": {"projects": {"nodes": [], "pageInfo": {"hasNextPage": True, "endCursor": "same"}}},
    }
    mock.post(URL).respond(json=page)
    settings = LinearSettings(api_url=URL, api_key=KEY, teams=["ENG"])  # type: ignore[arg-type]
    with pytest.raises(FatalError, match="paginator loop"):
        list(LinearConnector(settings).iter_pages(None))


def test_rate_limit_wait_reads_the_latest_reset() -> None:
    now = 1_000.0
    headers = {"X-RateLimit-Requests-Reset": "1005000", "X-RateLimit-Complexity-Reset": "1009000"}
    assert rate_limit_wait(headers, now=now) == pytest.approx(9.0)
    assert rate_limit_wait({}, now=now) is None
    assert rate_limit_wait({"Retry-After": "2"}, now=now) == 2.0
