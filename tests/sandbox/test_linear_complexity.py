"""The Linear sandbox prices each query as Linear does and refuses one over Linear's ceiling, whole."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from graphql import parse

from tests.sandbox.test_linear_writes import post
from v2mom.connectors.linear import history
from v2mom.connectors.linear.connector import LinearConnector
from v2mom.errors import FatalError
from v2mom.sandbox.linear.app import create_linear_app, sandbox_schema
from v2mom.sandbox.linear.complexity import MAX_COMPLEXITY, query_complexity
from v2mom.sandbox.linear.generator import generate_linear_workspace, linear_settings
from v2mom.sandbox.linear.state import LinearState
from v2mom.sandbox.server import SandboxServer
from v2mom.settings import SyncSettings

NESTED = """
query Nested($first: Int!) {
  issues(first: $first) {
    nodes { id title labels(first: 20) { nodes { id parent { name } } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


def price(text: str, variables: dict[str, object] | None = None) -> float:
    return query_complexity(sandbox_schema(), parse(text), variables)


@pytest.mark.parametrize(
    ("text", "variables", "points"),
    [
        # an object 1, a property 0.1
        ("{ teams(first: 1) { nodes { id key } } }", None, 1 + 1 * (1 + 0.2)),
        # a connection without first/last: Linear's default page of 50 per row
        ("{ teams { nodes { id } } }", None, 1 + 50 * (1 + 0.1)),
        # nested pages multiply, pageInfo with them; a variable page is read from the variables
        (NESTED, {"first": 10}, 1 + 10 * ((1 + 0.2 + (1 + 20 * (1 + 0.1 + (1 + 0.1)))) + (1 + 0.2))),
        # a fragment costs what it selects
        (
            'query Q { issue(id: "x") { ...F } } fragment F on Issue { id state { type } }',
            None,
            1 + 0.1 + (1 + 0.1),
        ),
    ],
)
def test_a_query_is_priced_by_its_objects_properties_and_pages(
    text: str, variables: dict[str, object] | None, points: float
) -> None:
    assert price(text, variables) == pytest.approx(points)


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[str, LinearState]]:
    state, _ = generate_linear_workspace(seed=3, projects=4, issues=60)
    with SandboxServer(create_linear_app(state)) as url:
        yield url, state


def test_a_query_over_the_ceiling_is_refused_whole_as_linear_does(site: tuple[str, LinearState]) -> None:
    over = 250  # 1 + 250 x 47.4 = 11,851 points, whatever the workspace holds
    assert price(NESTED, {"first": over}) > MAX_COMPLEXITY
    answer = post(site, NESTED, {"first": over})
    assert answer.status_code == 400
    body = answer.json()
    assert "data" not in body
    (error,) = body["errors"]
    assert error["message"] == "Query too complex"
    assert error["extensions"]["code"] == "INPUT_ERROR"
    assert error["extensions"]["userPresentableMessage"] == (
        f"The query is too complex. Complexity: {price(NESTED, {'first': over})}. "
        f"Maximum allowed complexity: {MAX_COMPLEXITY}."
    )
    under = 200  # 9,481 points
    assert price(NESTED, {"first": under}) <= MAX_COMPLEXITY
    served = post(site, NESTED, {"first": under})
    assert served.status_code == 200
    assert "errors" not in served.json()
    assert len(served.json()["data"]["issues"]["nodes"]) > 0


def test_the_connector_names_a_refused_query_and_its_price(
    site: tuple[str, LinearState], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, state = site
    monkeypatch.setattr(history, "HISTORY_FIRST", 250)  # 50 issues x 250 entries: far over the ceiling
    connector = LinearConnector(linear_settings(state, url), SyncSettings(max_retries=1))
    try:
        with pytest.raises(FatalError, match=r"Query too complex \(The query is too complex\. Complexity: "):
            connector.read_history(sorted(state.issues)[:5])
    finally:
        connector.close()
