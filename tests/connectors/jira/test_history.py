"""Jira issues' status and assignee history: the real connector against the sandbox, and the parser."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import orjson
import pytest

from tests.histories import as_recorded
from v2mom.connectors.ahead import FetchAhead
from v2mom.connectors.jira import datacenter_history, history
from v2mom.connectors.jira.client import JiraClient
from v2mom.connectors.jira.connector import JiraConnector
from v2mom.connectors.jira.datacenter import id_key, overlapping_pages
from v2mom.connectors.jira.history import parse_changelogs
from v2mom.errors import FatalError
from v2mom.models import State
from v2mom.sandbox.generator import generate_jira_workspace, jira_settings
from v2mom.sandbox.jira.app import create_jira_app
from v2mom.sandbox.jira.state import JiraState
from v2mom.sandbox.jira.truth import JiraGroundTruth
from v2mom.sandbox.server import SandboxServer
from v2mom.settings import SyncSettings


@pytest.fixture
def site() -> Iterator[tuple[JiraState, JiraGroundTruth, JiraConnector]]:
    state, truth = generate_jira_workspace(seed=5, epics=30, issues=400)
    with SandboxServer(create_jira_app(state)) as url:
        connector = JiraConnector(
            jira_settings(state, url), SyncSettings(max_retries=1), sleep=lambda _: None
        )
        yield state, truth, connector
        connector.close()


def test_every_recorded_change_is_read_in_batches_of_a_thousand_issues(
    site: tuple[JiraState, JiraGroundTruth, JiraConnector], monkeypatch: pytest.MonkeyPatch
) -> None:
    state, truth, connector = site
    monkeypatch.setattr(history, "CHANGELOG_PAGE", 1000)  # Jira's default page, so pages are followed
    live = [str(i) for i in truth.live()]
    # More ids than one request takes: deleted or unknown issues among them yield nothing.
    ids = live + [str(n) for n in range(900_000, 900_700)]
    found = connector.read_history(ids)
    assert as_recorded(found) == truth.transitions()
    assert [t.at for t in found] == sorted(t.at for t in found)
    # 1,100 ids: two requests (Jira refuses 1,001), the first one's 1,178 changes on two pages.
    assert connector.calls.calls["changelog"] == 3
    assert connector.calls.calls["status"] == 1
    assert state.request_count("/rest/api/3/changelog/bulkfetch") == 3
    assert {t.to_category for t in found if t.field == "status"} == {
        State.TODO,
        State.IN_PROGRESS,
        State.DONE,
    }


def test_changelogs_are_read_in_pages_of_ten_thousand_changes(
    site: tuple[JiraState, JiraGroundTruth, JiraConnector],
) -> None:
    """Jira's largest page: one request for the 1,178 changes of the first thousand issues."""
    state, truth, connector = site
    found = connector.read_history([str(i) for i in truth.live()][:1000])
    assert len(found) > 1000
    assert state.request_count("/rest/api/3/changelog/bulkfetch") == 1


def test_a_status_created_since_is_looked_up_once_and_a_deleted_one_keeps_no_category(
    site: tuple[JiraState, JiraGroundTruth, JiraConnector],
) -> None:
    state, truth, connector = site
    issue_id = next(i for i, issue in truth.live().items() if issue.category == "new")
    connector.read_history([str(i) for i in truth.live()])  # the site's statuses are read
    state.update_issue(issue_id, category="indeterminate", status="Blocked")  # a new status of the site
    (blocked,) = [
        t for t in connector.read_history([str(issue_id)]) if t.to_value == state.statuses["Blocked"][0]
    ]
    assert blocked.to_category is State.IN_PROGRESS
    assert connector.calls.calls["status"] == 2
    del state.statuses["Blocked"]  # the status is deleted from the site; its changes stay in the changelog
    fresh = JiraConnector(connector.settings, SyncSettings(max_retries=1))
    (orphan,) = [t for t in fresh.read_history([str(issue_id)]) if t.to_value == blocked.to_value]
    assert orphan.to_category is None
    fresh.read_history([str(issue_id)])  # read again: its note is surfaced once, not once per read
    assert fresh.warnings == [
        f"status {blocked.to_value} is not among the site's statuses: its changes keep no category"
    ]
    assert fresh.calls.calls["status"] == 2  # looked up again once, not once per change
    fresh.close()


def page(*histories: dict[str, Any], issue: object = "10001") -> dict[str, Any]:
    return {"issueChangeLogs": [{"issueId": issue, "changeHistories": list(histories)}]}


def change(
    *items: dict[str, Any], entry: object = "20001", created: object = "2026-11-02T09:30:00.000+0000"
) -> dict[str, Any]:
    return {"id": entry, "created": created, "items": list(items)}


STATUS = {"field": "status", "fieldtype": "jira", "fieldId": "status", "from": "10000", "to": "3"}
CATEGORIES = {"10000": State.TODO, "3": State.IN_PROGRESS}


def test_one_change_of_status_and_assignee_is_two_records_of_one_entry() -> None:
    assignee = {"field": "assignee", "fieldId": "assignee", "from": None, "to": "acc-1", "toString": "Ada"}
    resolution = {"field": "resolution", "fieldId": "resolution", "from": None, "to": "10000"}
    found = parse_changelogs(page(change(STATUS, assignee, resolution)), CATEGORIES.get)
    assert [(t.field, t.from_value, t.to_value, t.to_category) for t in found] == [
        ("status", "10000", "3", State.IN_PROGRESS),
        ("assignee", None, "acc-1", None),  # Jira sends null for nobody; the spec leaves it out
    ]
    assert {t.identity[:3] for t in found} == {("jira", "10001", "20001")}
    assert found[0].at.isoformat() == "2026-11-02T09:30:00+00:00"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"issueChangeLogs": {}}, "malformed changelog page: 'issueChangeLogs' is not a list"),
        (page(change(STATUS), issue=None), "malformed changelog page: an issue's changelog has no 'issueId'"),
        (page(change(STATUS, entry=None)), "malformed changelog of issue 10001: a change has no 'id'"),
        (
            page(change(STATUS, created="yesterday")),
            "malformed changelog of issue 10001, entry 20001: 'created' has an unreadable timestamp",
        ),
        (
            page(change({**STATUS, "to": None})),
            "malformed changelog of issue 10001, entry 20001: a status change names no status entered",
        ),
        (
            page(change({**STATUS, "to": ["3"]})),
            "malformed changelog of issue 10001, entry 20001: 'status.to' is not a string",
        ),
        (
            page({"id": "1", "created": "2026-11-02T09:30:00.000+0000", "items": "status"}),
            "'items' is not a list",
        ),
    ],
)
def test_a_malformed_page_is_refused_naming_the_issue_and_the_entry(
    body: dict[str, Any], problem: str
) -> None:
    with pytest.raises(FatalError, match=problem.replace("(", r"\(")):
        parse_changelogs(body, CATEGORIES.get)


# -- Data Center: changelogs expanded by search -----------------------------------------------


@pytest.fixture
def dc_site() -> Iterator[tuple[JiraState, JiraGroundTruth, JiraConnector]]:
    state, truth = generate_jira_workspace(seed=5, epics=12, issues=150, deployment="datacenter")
    with SandboxServer(create_jira_app(state)) as url:
        connector = JiraConnector(
            jira_settings(state, url), SyncSettings(max_retries=1), sleep=lambda _: None
        )
        yield state, truth, connector
        connector.close()


def test_data_center_changes_are_read_by_searching_ids_with_their_changelogs(
    dc_site: tuple[JiraState, JiraGroundTruth, JiraConnector],
) -> None:
    state, truth, connector = dc_site
    live = [str(i) for i in truth.live()]
    ids = live + [str(n) for n in range(900_000, 900_060)]  # deleted or unknown: left out, no 400
    found = connector.read_history(ids)
    assert as_recorded(found) == truth.transitions()
    assert [t.at for t in found] == sorted(t.at for t in found)
    assert {t.to_value for t in found if t.field == "assignee"} - {None} <= set(state.people)  # user keys
    batches = -(-len(ids) // datacenter_history.HISTORY_BATCH)
    assert connector.calls.calls == {"server-info": 1, "changelog": batches, "status": 1}
    assert state.request_count("/rest/api/2/search") == batches


def _listed_ids(connector: JiraConnector) -> list[str]:
    return [item.id for page in connector.iter_pages(None) for item in page.items]


def test_data_center_histories_come_with_the_listing_not_a_search_of_their_own(
    dc_site: tuple[JiraState, JiraGroundTruth, JiraConnector],
) -> None:
    state, truth, connector = dc_site
    listed = _listed_ids(connector)
    searches = state.request_count("/rest/api/2/search")
    found = connector.read_history(listed)
    assert as_recorded(found) == truth.transitions()
    assert "changelog" not in connector.calls.calls
    assert state.request_count("/rest/api/2/search") == searches  # nothing searched again
    assert connector.read_history(listed[:5]) == [c for c in found if c.item_id in listed[:5]]  # taken once


def test_a_listing_without_changelogs_leaves_the_histories_to_their_searches(
    dc_site: tuple[JiraState, JiraGroundTruth, JiraConnector],
) -> None:
    _state, truth, connector = dc_site
    connector.list_changelogs(False)
    listed = _listed_ids(connector)
    found = connector.read_history(listed)
    assert as_recorded(found) == truth.transitions()
    assert connector.calls.calls["changelog"] == -(-len(listed) // datacenter_history.HISTORY_BATCH)


@pytest.mark.parametrize("listed", [False, True], ids=["searched", "listed"])
def test_a_changelog_served_in_part_is_read_whole_from_its_issue(
    dc_site: tuple[JiraState, JiraGroundTruth, JiraConnector], listed: bool
) -> None:
    state, truth, connector = dc_site
    state.search_changelog_max = 3
    long = sum(1 for issue in truth.live().values() if len(issue.changelog) > 3)
    assert long > 0
    ids = _listed_ids(connector) if listed else [str(i) for i in truth.live()]
    found = connector.read_history(ids)
    assert as_recorded(found) == truth.transitions()
    assert state.request_count("/rest/api/2/issue/") == long  # one read for each cut changelog


def test_a_data_center_page_asked_for_ahead_lets_the_next_go_before_it_is_decoded(
    dc_site: tuple[JiraState, JiraGroundTruth, JiraConnector], monkeypatch: pytest.MonkeyPatch
) -> None:
    _state, _truth, connector = dc_site
    asking = threading.local()
    next_sent = threading.Event()
    decode = orjson.loads

    def loads(content: bytes) -> Any:  # page 18's decoding waits for page 27's request
        if getattr(asking, "start", None) == 18:
            assert next_sent.wait(5), "the next request waited for this page's decoding"
        return decode(content)

    def fetching(session: JiraClient) -> Callable[[int], dict[str, Any]]:
        def fetch(start: int) -> dict[str, Any]:
            asking.start = start
            if start == 27:
                next_sent.set()
            return session.search_offset_page("ORDER BY id ASC", ["status"], start, 10)

        return fetch

    monkeypatch.setattr(orjson, "loads", loads)
    sessions = [connector._client.spawn(), connector._client.spawn()]
    with FetchAhead([fetching(session) for session in sessions]) as ahead:
        pages = overlapping_pages(ahead, key=id_key, what="search", overlap=1)
        # pages at 0, 9, 18 and 27 (one issue read again each time); from the third on, two are
        # asked for at once
        assert [len(next(pages)[0]) for _ in range(4)] == [10, 9, 9, 9]
    for session in sessions:
        session.close()


def _issue(number: int, histories: list[Any], total: int | None = None) -> dict[str, Any]:
    changelog = {"startAt": 0, "maxResults": len(histories), "total": total or len(histories)}
    return {"id": str(number), "changelog": {**changelog, "histories": histories}}


def test_kept_changelogs_are_the_latest_listings_whole_ones_and_at_most_the_limit() -> None:
    kept = datacenter_history.ListedChangelogs(limit=3)
    kept.keep([_issue(1, ["old"]), _issue(2, ["a"], total=2), {"id": "3"}])
    kept.keep([_issue(1, ["new"])])  # listed again: its newer changelog replaces the first
    assert kept.take(["1", "2", "3"]) == {"1": ["new"]}  # 2 was cut short, 3 came without one
    assert kept.take(["1"]) == {}  # taken once
    kept.keep([_issue(n, [f"h{n}"]) for n in range(10, 15)])
    assert kept.take([str(n) for n in range(10, 15)]) == {"12": ["h12"], "13": ["h13"], "14": ["h14"]}


@pytest.mark.parametrize(
    ("issue", "problem"),
    [
        ({"id": "10001"}, "the search did not expand it"),
        ({"id": "10001", "changelog": {"histories": {}}}, "'histories' is not a list"),
        ({"changelog": {"histories": []}}, "without a numeric id"),
    ],
)
def test_a_malformed_expanded_changelog_is_refused_naming_the_issue(
    issue: dict[str, Any], problem: str
) -> None:
    with pytest.raises(FatalError, match=problem):
        datacenter_history.changelog_histories(issue)
