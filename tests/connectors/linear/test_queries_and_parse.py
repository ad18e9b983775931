"""Linear: every query validates against the vendor schema; parsing of real and synthetic records."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest
from graphql import GraphQLSchema, build_schema, parse, validate

from tests.contracts import contracts_dir
from v2mom.connectors.linear.parse import (
    is_removed,
    parse_issue,
    parse_project,
    query_names,
    query_text,
    read_labels,
)
from v2mom.errors import FatalError
from v2mom.models import Level, State


@cache
def vendor_schema() -> GraphQLSchema:
    return build_schema((contracts_dir() / "linear" / "schema.graphql").read_text(encoding="utf-8"))


QUERY_NAMES = query_names()


def test_there_are_queries() -> None:
    assert set(QUERY_NAMES) >= {
        "issues",
        "issue_labels",
        "projects",
        "issue",
        "project",
        "issue_ids",
        "teams",
        "issue_history",
        "issue_history_page",
    }
    assert "fragments" not in QUERY_NAMES
    assert "fragment IssueFields" in query_text("issues")
    assert "fragment ProjectFields" not in query_text("issues")  # only the fragments it spreads


@pytest.mark.parametrize("name", QUERY_NAMES)
def test_query_validates_against_the_vendor_schema(name: str) -> None:
    errors = validate(vendor_schema(), parse(query_text(name)))
    assert not errors, [e.message for e in errors]


def test_a_broken_query_is_caught() -> None:
    broken = query_text("issues").replace("estimate", "storyPoints")
    assert validate(vendor_schema(), parse(broken))
    # a scalar asked with a selection is refused too
    assert validate(vendor_schema(), parse(query_text("issue_history").replace("toState {", "toStateId {")))


def test_real_webhook_issue_parses() -> None:
    body = json.loads(
        (contracts_dir() / "linear" / "examples" / "port-docs" / "webhook_issue_create.json").read_text()
    )
    item = parse_issue(body["data"])
    assert (item.id, item.key, item.container) == ("d62a755d-5389-4dbd-98bb-3db03f239d9d", "POR-5", "POR")
    assert item.state is State.TODO
    assert item.status_name == "Todo"
    assert item.level is Level.STANDARD
    assert item.parent_id is None
    assert item.updated_at.isoformat() == "2024-05-19T17:55:29.277000+00:00"
    assert not is_removed(body["data"])


def issue(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "i-1",
        "identifier": "ENG-1",
        "title": "Make it fast",
        "url": "https://linear.app/x/issue/ENG-1",
        "estimate": 3,
        "updatedAt": "2026-11-20T10:00:00.000Z",
        "state": {"name": "In Progress", "type": "started"},
        "team": {"key": "ENG"},
        "labels": {"nodes": [], "pageInfo": {"hasNextPage": False, "endCursor": None}},
    }
    base.update(overrides)
    return base


@pytest.mark.parametrize(
    ("state_type", "expected"),
    [
        ("triage", State.TODO),
        ("backlog", State.TODO),
        ("unstarted", State.TODO),
        ("started", State.IN_PROGRESS),
        ("completed", State.DONE),
        ("canceled", State.CANCELED),
        ("duplicate", State.CANCELED),
    ],
)
def test_state_types(state_type: str, expected: State) -> None:
    assert parse_issue(issue(state={"name": "x", "type": state_type})).state is expected


def test_hierarchy_sub_issue_and_project() -> None:
    sub = parse_issue(issue(parent={"id": "i-0"}, project={"id": "p-1"}))
    assert (sub.level, sub.parent_id) == (Level.SUBTASK, "i-0")
    top = parse_issue(issue(project={"id": "p-1"}))
    assert (top.level, top.parent_id) == (Level.STANDARD, "p-1")
    assert top.points == 3.0


def test_label_groups_become_conventions_and_extra_pages_are_kept() -> None:
    labels = {
        "nodes": [
            {"id": "l-rel", "name": "Reliability", "parent": {"name": "Value"}},
            {"id": "l-fe", "name": "frontend", "parent": None},
            {"id": "l-web", "name": "web", "parent": {"name": "Platform"}},
        ]
    }
    extra = {"nodes": [{"id": "l-slo", "name": "slo-program", "parent": {"name": "Method"}}]}
    item = parse_issue(issue(labels=labels), extra_labels=extra)
    # A plan choice is named only in its group (a rule on the plain label "Reliability" must not
    # match it); other groups' labels keep both names.
    assert item.labels == ("Value/Reliability", "frontend", "Platform/web", "web", "Method/slo-program")
    assert item.choice_options == {
        "value": (("l-rel", "Reliability"),),
        "method": (("l-slo", "slo-program"),),
    }
    assert read_labels([{"name": "a"}, {"name": "a"}])[0] == ("a",)  # webhook lists, deduplicated


def test_archived_and_trashed_are_removed() -> None:
    assert is_removed(issue(archivedAt="2026-11-01T00:00:00Z"))
    assert is_removed(issue(trashed=True))
    assert not is_removed(issue(trashed=False, archivedAt=None))


def test_project_is_an_epic() -> None:
    project = parse_project(
        {
            "id": "p-1",
            "name": "Onboarding v2",
            "slugId": "abc123",
            "url": "https://linear.app/x/project/abc123",
            "updatedAt": "2026-11-20T10:00:00Z",
            "status": {"type": "started"},
            "teams": {"nodes": [{"key": "ENG"}]},
        }
    )
    assert (project.key, project.level, project.container, project.state) == (
        "project:abc123",
        Level.CONTAINER,
        "ENG",
        State.IN_PROGRESS,
    )


def test_the_assignee_is_the_users_id_from_the_query_or_a_webhook() -> None:
    assert parse_issue(issue(assignee={"id": "u-1"})).assignee == "u-1"
    assert parse_issue(issue(assignee=None)).assignee is None  # unassigned
    assert parse_issue(issue()).assignee is None  # not asked for
    assert parse_issue(issue(assigneeId="u-2")).assignee == "u-2"  # a webhook's data
    assert parse_issue(issue(assignee=None, assigneeId="u-2")).assignee is None  # the query's wins
    assert "assignee {" in query_text("issues")
    assert "assignee {" in query_text("issue")
    assert parse_issue(issue(assignee={"id": "u-1"})).started_at is None  # Asana only


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        ({"assignee": "u-1"}, "record ENG-1: assignee has no id"),
        ({"assignee": {"name": "Ada"}}, "record ENG-1: assignee has no id"),
        ({"assignee": {"id": ""}}, "record ENG-1: assignee has no id"),
        ({"assigneeId": 7}, "record ENG-1: assigneeId is not a user id"),
        ({"id": None}, "missing id"),
        ({"updatedAt": None}, "missing updatedAt"),
        ({"updatedAt": "yesterday"}, "is not ISO 8601"),
        ({"state": {"type": "limbo"}}, "unknown state type 'limbo'"),
    ],
)
def test_malformed_records_fail_clearly(broken: dict[str, Any], message: str) -> None:
    with pytest.raises(FatalError, match=message):
        parse_issue(issue(**broken))


def test_an_issue_names_its_parent_by_key() -> None:
    """The parent issue's identifier, else the project's key: what a message shows when the parent is
    not stored."""
    sub = parse_issue(
        issue(parent={"id": "p-1", "identifier": "ENG-3"}, project={"id": "pr-1", "slugId": "s1"})
    )
    assert (sub.parent_id, sub.parent_key) == ("p-1", "ENG-3")
    top = parse_issue(issue(project={"id": "pr-1", "slugId": "s1"}))
    assert (top.parent_id, top.parent_key) == ("pr-1", "project:s1")
    assert parse_issue(issue()).parent_key is None
