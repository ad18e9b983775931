"""The Linear sandbox cannot drift from the real API: its schema is a subset of Linear's own."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache

import pytest
import requests
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
    parse,
    validate,
)

from tests.contracts import contracts_dir
from v2mom.connectors.linear.parse import query_names, query_text
from v2mom.sandbox.linear.app import SCHEMA_PATH, create_linear_app, sandbox_schema
from v2mom.sandbox.linear.generator import generate_linear_workspace
from v2mom.sandbox.linear.state import LinearState
from v2mom.sandbox.server import SandboxServer


@cache
def vendor_schema() -> GraphQLSchema:
    return build_schema((contracts_dir() / "linear" / "schema.graphql").read_text(encoding="utf-8"))


def subset_problems(subset: GraphQLSchema, vendor: GraphQLSchema) -> list[str]:
    """Every type, field, argument, input field and enum value of ``subset`` that ``vendor`` lacks."""
    problems: list[str] = []
    for name, kind in subset.type_map.items():
        if name.startswith("__"):
            continue
        theirs = vendor.type_map.get(name)
        if theirs is None or type(theirs) is not type(kind):
            problems.append(f"{name}: no such {type(kind).__name__} in Linear's schema")
            continue
        if isinstance(kind, GraphQLObjectType) and isinstance(theirs, GraphQLObjectType):
            for field_name, ours in kind.fields.items():
                their_field = theirs.fields.get(field_name)
                if their_field is None or str(their_field.type) != str(ours.type):
                    problems.append(f"{name}.{field_name}: {ours.type} is not Linear's")
                    continue
                for arg, arg_def in ours.args.items():
                    their_arg = their_field.args.get(arg)
                    if their_arg is None or str(their_arg.type) != str(arg_def.type):
                        problems.append(f"{name}.{field_name}({arg}): {arg_def.type} is not Linear's")
        elif isinstance(kind, GraphQLInputObjectType) and isinstance(theirs, GraphQLInputObjectType):
            for field_name, ours_input in kind.fields.items():
                their_input = theirs.fields.get(field_name)
                if their_input is None or str(their_input.type) != str(ours_input.type):
                    problems.append(f"{name}.{field_name}: {ours_input.type} is not Linear's")
        elif isinstance(kind, GraphQLEnumType) and isinstance(theirs, GraphQLEnumType):
            problems.extend(
                f"{name}.{v}: not a value of Linear's" for v in kind.values if v not in theirs.values
            )
    return problems


def test_the_sandbox_schema_is_a_subset_of_linears() -> None:
    assert subset_problems(sandbox_schema(), vendor_schema()) == []


def test_a_drifted_sandbox_schema_is_caught() -> None:
    drifted = SCHEMA_PATH.read_text(encoding="utf-8").replace("estimate: Float", "estimate: Int")
    drifted = drifted.replace("  slugId: String!", "  slug: String!")
    problems = subset_problems(build_schema(drifted), vendor_schema())
    assert "Issue.estimate: Int is not Linear's" in problems
    assert any(p.startswith("Project.slug:") for p in problems)


@pytest.mark.parametrize("name", query_names())
def test_every_connector_query_runs_on_the_sandbox_schema(name: str) -> None:
    assert [e.message for e in validate(sandbox_schema(), parse(query_text(name)))] == []


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[str, LinearState]]:
    state, _truth = generate_linear_workspace(seed=3, projects=6, issues=200)
    with SandboxServer(create_linear_app(state)) as url:
        yield url, state


def post(
    site: tuple[str, LinearState], query: str, variables: dict[str, object], key: str | None = None
) -> requests.Response:
    url, state = site
    return requests.post(
        f"{url}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": key if key is not None else state.api_key},
        timeout=10,
    )


def test_answers_validate_against_linears_schema(site: tuple[str, LinearState]) -> None:
    answer = post(site, query_text("issues"), {"filter": {"team": {"key": {"in": ["ENG"]}}}, "first": 20})
    assert answer.status_code == 200
    body = answer.json()
    assert "errors" not in body
    nodes = body["data"]["issues"]["nodes"]
    assert len(nodes) == 20
    assert {n["team"]["key"] for n in nodes} == {"ENG"}
    times = [n["updatedAt"] for n in nodes]
    assert times == sorted(times)  # orderBy updatedAt
    # The same document is valid on Linear's schema, so these shapes are what Linear would send.
    assert validate(vendor_schema(), parse(query_text("issues"))) == []


def test_issues_name_their_assignee(site: tuple[str, LinearState]) -> None:
    _, state = site
    answer = post(site, query_text("issues"), {"filter": {"team": {"key": {"in": ["ENG"]}}}, "first": 100})
    nodes = answer.json()["data"]["issues"]["nodes"]
    served = {n["id"]: n["assignee"]["id"] if n["assignee"] is not None else None for n in nodes}
    assert served == {i: state.issues[i].assignee_id for i in served}
    assert None in served.values()
    assert len({a for a in served.values() if a is not None}) > 1
    one = post(site, query_text("issue"), {"id": nodes[0]["id"]}).json()["data"]["issue"]
    assert one["assignee"] == nodes[0]["assignee"]


def test_a_wrong_key_is_an_authentication_error(site: tuple[str, LinearState]) -> None:
    answer = post(site, query_text("teams"), {"teams": ["ENG"]}, key="lin_api_wrong")
    assert answer.status_code == 401
    assert answer.json()["errors"][0]["extensions"]["code"] == "AUTHENTICATION_ERROR"


def test_an_invalid_query_is_rejected_with_errors(site: tuple[str, LinearState]) -> None:
    for _ in range(2):  # the second time from the documents already checked: the same answer
        answer = post(site, "query Bad { issues { nodes { storyPoints } } }", {})
        assert answer.status_code == 400
        assert "storyPoints" in answer.json()["errors"][0]["message"]
        unparsed = post(site, "query Bad { issues { nodes { id } ", {})
        assert unparsed.status_code == 400
        assert unparsed.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"


def test_a_page_larger_than_linear_allows_is_an_error(site: tuple[str, LinearState]) -> None:
    answer = post(site, query_text("issue_ids"), {"teams": ["ENG"], "first": 251})
    body = answer.json()
    assert body["data"] is None
    assert "first must be between 1 and 250" in body["errors"][0]["message"]


def test_issue_histories_are_served_in_pages_as_linear_serves_them(site: tuple[str, LinearState]) -> None:
    _, state = site
    assert validate(vendor_schema(), parse(query_text("issue_history"))) == []
    assert validate(vendor_schema(), parse(query_text("issue_history_page"))) == []
    ids = sorted(state.issues)[:30]
    answer = post(site, query_text("issue_history"), {"ids": ids, "first": 50, "historyFirst": 2})
    body = answer.json()
    assert "errors" not in body, body
    nodes = body["data"]["issues"]["nodes"]
    assert {n["id"] for n in nodes} == set(ids)  # archived ones too: includeArchived
    entries: dict[str, list[dict[str, object]]] = {}
    followed = 0
    for node in nodes:
        connection = node["history"]
        entries[node["id"]] = list(connection["nodes"])
        while connection["pageInfo"]["hasNextPage"]:
            followed += 1
            more = post(
                site,
                query_text("issue_history_page"),
                {"id": node["id"], "first": 2, "after": connection["pageInfo"]["endCursor"]},
            ).json()
            assert "errors" not in more, more
            connection = more["data"]["issue"]["history"]
            entries[node["id"]].extend(connection["nodes"])
    assert followed > 0
    for issue_id, served in entries.items():
        issue = state.issues[issue_id]
        assert [e["id"] for e in served] == [e.id for e in issue.history]
        for entry, recorded in zip(served, issue.history, strict=True):
            entered = entry["toState"]
            assert (entered is None) == (recorded.to_state is None)
            if isinstance(entered, dict):  # the state entered, with its type; the one left by its id
                assert (entered["type"], entered["id"]) == (
                    recorded.to_state[1],
                    state.workflow_state_id(*recorded.to_state),
                )
            left = state.workflow_state_id(*recorded.from_state) if recorded.from_state else None
            assert entry["fromStateId"] == left
            assert (entry["fromAssigneeId"], entry["toAssigneeId"]) == (
                recorded.from_assignee,
                recorded.to_assignee,
            )
    assert any(e["toAssigneeId"] is not None for es in entries.values() for e in es)
    assert any(e["fromStateId"] is not None for es in entries.values() for e in es)
