"""The Linear sandbox keeps labels as Linear does: groups, children, retiring, refusals."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from v2mom.connectors.linear.parse import query_text
from v2mom.connectors.linear.vocabulary import vocabulary_filter
from v2mom.sandbox.linear.app import create_linear_app
from v2mom.sandbox.linear.state import LabelRefused, LinearState
from v2mom.sandbox.server import SandboxServer


@pytest.fixture
def site() -> Iterator[tuple[str, LinearState]]:
    state = LinearState()
    state.add_team("ENG", "Engineering")
    with SandboxServer(create_linear_app(state)) as url:
        yield url, state


def post(site: tuple[str, LinearState], document: str, variables: dict[str, Any]) -> dict[str, Any]:
    url, state = site
    answer = requests.post(
        f"{url}/graphql",
        json={"query": query_text(document), "variables": variables},
        headers={"Authorization": state.api_key},
        timeout=10,
    )
    body: dict[str, Any] = answer.json()
    return body


def test_groups_children_and_retired_labels_are_listed(site: tuple[str, LinearState]) -> None:
    group = post(site, "label_group_create", {"name": "Value"})["data"]["issueLabelCreate"]["issueLabel"]
    assert group["isGroup"] is True
    assert group["team"] is None
    child = post(site, "label_create", {"name": "Speed", "parentId": group["id"]})["data"]
    label = child["issueLabelCreate"]["issueLabel"]
    assert label["parent"] == {"id": group["id"]}
    retired = post(site, "label_retire", {"id": label["id"]})["data"]["issueLabelRetire"]["issueLabel"]
    assert retired["retiredAt"] is not None

    listed = post(site, "vocabulary_labels", {"filter": vocabulary_filter(), "first": 50})["data"]
    nodes = {n["id"]: n for n in listed["issueLabels"]["nodes"]}
    assert set(nodes) == {group["id"], label["id"]}
    assert nodes[label["id"]]["retiredAt"] == retired["retiredAt"]

    restored = post(site, "label_restore", {"id": label["id"]})["data"]["issueLabelRestore"]["issueLabel"]
    assert restored["retiredAt"] is None


def test_a_duplicate_name_in_a_group_is_refused_as_invalid_input(site: tuple[str, LinearState]) -> None:
    _url, state = site
    group = state.create_label("Value", is_group=True).id
    state.create_label("Speed", parent=group)
    body = post(site, "label_create", {"name": "speed", "parentId": group})
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    assert "duplicate label name" in body["errors"][0]["message"]
    # the same name in another group, or at the top level, is fine
    other = state.create_label("Method", is_group=True).id
    assert post(site, "label_create", {"name": "Speed", "parentId": other})["data"] is not None
    assert len([label for label in state.labels.values() if label.name == "Speed"]) == 2


def test_a_rename_to_a_taken_name_is_refused_and_keeps_the_label(site: tuple[str, LinearState]) -> None:
    _url, state = site
    group = state.create_label("Value", is_group=True).id
    state.create_label("Speed", parent=group)
    quality = state.create_label("Quality", parent=group).id
    body = post(site, "label_rename", {"id": quality, "name": "SPEED"})
    assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    assert state.labels[quality].name == "Quality"


def test_a_forbidden_fault_answers_like_linear(site: tuple[str, LinearState]) -> None:
    _url, state = site
    state.inject_fault(400, kind="forbidden", path_prefix="/graphql/LabelGroupCreate")
    body = post(site, "label_group_create", {"name": "Value"})
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert state.labels == {}


def test_issues_take_one_label_per_group_and_no_group_or_retired_label(site: tuple[str, LinearState]) -> None:
    _url, state = site
    speed = state.label("Speed", group="Value")
    quality = state.label("Quality", group="Value")
    assert state.labels[state.label("Value")].is_group
    with pytest.raises(LabelRefused, match="only one label of group 'Value'"):
        state.add_issue("ENG", "Two values", labels=[speed, quality])
    with pytest.raises(LabelRefused, match="cannot be applied"):
        state.add_issue("ENG", "A group", labels=[state.label("Value")])
    issue = state.add_issue("ENG", "One value", labels=[speed])
    state.retire_label(speed)
    state.update_issue(issue, title="still tagged", label_ids=[speed])  # kept: Linear leaves it on
    with pytest.raises(LabelRefused, match="cannot be applied"):
        state.add_issue("ENG", "A retired label", labels=[speed])
