"""The Linear sandbox answers write-back mutations as Linear does: batches, attachments."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from v2mom.connectors.linear.links import MARKER
from v2mom.connectors.linear.parse import query_text
from v2mom.sandbox.linear.app import create_linear_app
from v2mom.sandbox.linear.state import LinearState
from v2mom.sandbox.server import SandboxServer

UPDATE = """mutation IssueUpdate($id: String!, $added: [String!], $removed: [String!]) {
  issueUpdate(id: $id, input: {addedLabelIds: $added, removedLabelIds: $removed}) {
    success
    issue { id labels { nodes { name } } }
  }
}"""


@pytest.fixture
def site() -> Iterator[tuple[str, LinearState]]:
    state = LinearState()
    state.add_team("ENG", "Engineering")
    with SandboxServer(create_linear_app(state)) as url:
        yield url, state


def post(site: tuple[str, LinearState], document: str, variables: dict[str, Any]) -> requests.Response:
    url, state = site
    return requests.post(
        f"{url}/graphql",
        json={"query": document, "variables": variables},
        headers={"Authorization": state.api_key},
        timeout=10,
    )


def group_labels(state: LinearState) -> tuple[str, str, str]:
    """A ``Value`` group with labels ``A`` and ``B``: (group, a, b)."""
    group = state.create_label("Value", is_group=True).id
    return group, state.create_label("A", parent=group).id, state.create_label("B", parent=group).id


def test_a_batch_changes_every_issue_and_fires_update_events(site: tuple[str, LinearState]) -> None:
    _url, state = site
    _group, a, _b = group_labels(state)
    ids = [state.add_issue("ENG", f"I{n}") for n in range(3)]
    seen: list[tuple[str, str]] = []
    state.listeners.append(lambda action, kind, record: seen.append((action, record.id)))

    body = post(site, query_text("tags_batch_update"), {"ids": ids, "added": [a], "removed": []}).json()

    assert body["data"]["issueBatchUpdate"]["success"] is True
    assert {n["id"] for n in body["data"]["issueBatchUpdate"]["issues"]} == set(ids)
    assert all(state.issues[i].label_ids == [a] for i in ids)
    assert seen == [("update", i) for i in ids]


def test_a_batch_of_more_than_50_is_refused(site: tuple[str, LinearState]) -> None:
    _url, state = site
    _group, a, _b = group_labels(state)
    ids = [state.add_issue("ENG", f"I{n}") for n in range(51)]
    body = post(site, query_text("tags_batch_update"), {"ids": ids, "added": [a], "removed": []}).json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    assert all(state.issues[i].label_ids == [] for i in ids)


def test_an_unknown_id_fails_the_whole_batch(site: tuple[str, LinearState]) -> None:
    _url, state = site
    _group, a, _b = group_labels(state)
    known = state.add_issue("ENG", "Known")
    unknown = str(uuid.uuid4())
    answer = post(site, query_text("tags_batch_update"), {"ids": [known, unknown], "added": [a]})
    body = answer.json()
    assert answer.status_code == 200
    assert body["data"] is None
    assert body["errors"][0]["message"] == "Entity not found: Issue"
    assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    assert state.issues[known].label_ids == []  # all or nothing


def test_two_labels_of_one_group_are_refused(site: tuple[str, LinearState]) -> None:
    _url, state = site
    _group, a, b = group_labels(state)
    issue = state.add_issue("ENG", "One", labels=[a])
    body = post(site, UPDATE, {"id": issue, "added": [b]}).json()
    assert "only one label of group 'Value'" in body["errors"][0]["message"]
    assert state.issues[issue].label_ids == [a]

    swapped = post(site, UPDATE, {"id": issue, "added": [b], "removed": [a]}).json()
    assert swapped["data"]["issueUpdate"]["issue"]["labels"]["nodes"] == [{"name": "B"}]


def test_an_attachment_is_unique_per_issue_and_url(site: tuple[str, LinearState]) -> None:
    _url, state = site
    issue = state.add_issue("ENG", "One")
    made = {"issueId": issue, "url": "https://x/1", "title": "One", "subtitle": MARKER}
    first = post(site, query_text("link_create"), {"input": made}).json()["data"]["attachmentCreate"]
    again = post(site, query_text("link_create"), {"input": {**made, "title": "Two"}}).json()
    assert again["data"]["attachmentCreate"]["attachment"]["id"] == first["attachment"]["id"]
    assert [a.title for a in state.attachments_of(issue)] == ["Two"]
    state.attach_url(issue, "https://x/other", "Not ours")

    variables = {"ids": [issue, str(uuid.uuid4())], "first": 50, "marker": MARKER}
    listed = post(site, query_text("link_attachments"), variables).json()["data"]["issues"]["nodes"]
    assert [(n["id"], [a["url"] for a in n["attachments"]["nodes"]]) for n in listed] == [
        (issue, ["https://x/1"])
    ]

    gone = post(site, query_text("link_delete"), {"id": first["attachment"]["id"]}).json()
    assert gone["data"]["attachmentDelete"]["success"] is True
    twice = post(site, query_text("link_delete"), {"id": first["attachment"]["id"]}).json()
    assert twice["errors"][0]["message"] == "Entity not found: Attachment"


def test_write_mutations_take_injected_rate_limits(site: tuple[str, LinearState]) -> None:
    _url, state = site
    issue = state.add_issue("ENG", "One")
    state.inject_fault(400, kind="ratelimited", path_prefix="/graphql/IssueBatchUpdate")
    answer = post(site, query_text("tags_batch_update"), {"ids": [issue], "added": []})
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["extensions"]["code"] == "RATELIMITED"
    assert state.request_count("/graphql/IssueBatchUpdate") == 1
