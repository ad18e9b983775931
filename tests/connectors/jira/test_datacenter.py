"""connectors/jira/datacenter.py and the Data Center half of parse.py, without a server.

The offset pager is exercised against a list that moves between requests as Data Center's
``ORDER BY updated`` does (issues updated jump to the end, deleted ones leave a gap), and the parser
against Data Center's issue shapes (user keys, Epic Link keys, no ``hierarchyLevel``).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from v2mom.connectors.ahead import FetchAhead, answered
from v2mom.connectors.jira.datacenter import EpicKeys, check_deployment, id_key, overlapping_pages
from v2mom.connectors.jira.parse import (
    EPIC_LINK_TYPE,
    EPIC_NAME_TYPE,
    EpicFields,
    discover_epic_fields,
    parse_issue,
)
from v2mom.errors import ConfigError, FatalError
from v2mom.models import Level

BASE_URL = "https://jira.example.com"
EPIC = EpicFields(link="customfield_10100", name="customfield_10101")


class MovingList:
    """Issues in ``(updated, id)`` order that change between page requests: before each request
    ``churn`` issues are updated (to the end) or deleted, drawn from ``seed``."""

    def __init__(self, size: int, *, seed: int, churn: int, page: int = 50) -> None:
        self.rng = random.Random(seed)
        self.order = [(n, n) for n in range(1, size + 1)]
        self.clock = size
        self.churn = churn
        self.page = page
        self.requests = 0
        self.lock = threading.Lock()  # fetched ahead, requests come from several threads

    def fetch(self, start: int) -> dict[str, Any]:
        with self.lock:
            self.requests += 1
            for _ in range(self.rng.randrange(self.churn + 1)):
                _updated, issue = self.order.pop(self.rng.randrange(len(self.order)))
                if self.rng.random() < 0.8:
                    self.clock += 1
                    self.order.append((self.clock, issue))
            self.order.sort()
            served = self.order[start : start + self.page]
            return {"issues": [{"id": str(i), "at": u} for u, i in served], "total": len(self.order)}

    def live(self) -> set[str]:
        return {str(i) for _, i in self.order}


def _by_updated(raw: Any) -> tuple[int, int]:
    return (raw["at"], int(raw["id"]))


def _pages(
    fetch: Callable[[int], dict[str, Any]], ahead: int, **options: Any
) -> Iterator[tuple[list[dict[str, Any]], int]]:
    """overlapping_pages through ``fetch``, or with ``ahead`` pages asked for at once."""
    if not ahead:
        yield from overlapping_pages(fetch, **options)
        return
    with FetchAhead([fetch] * ahead) as fetching:
        yield from overlapping_pages(fetching, **options)


@pytest.mark.parametrize("ahead", [0, 1, 3])
@pytest.mark.parametrize("seed", range(12))
def test_an_issue_updated_or_deleted_between_pages_never_makes_another_skipped(seed: int, ahead: int) -> None:
    listing = MovingList(400, seed=seed, churn=6)
    handed: list[tuple[str, int]] = []
    for issues, _ in _pages(listing.fetch, ahead, key=_by_updated, what="search"):
        handed += [(raw["id"], raw["at"]) for raw in issues]
    assert listing.live() <= {issue for issue, _ in handed}
    assert len(handed) == len(set(handed))  # an issue comes again only as a newer version


@pytest.mark.parametrize("ahead", [0, 1, 2, 3])
def test_a_still_listing_is_read_once_with_a_few_overlapping_requests(ahead: int) -> None:
    listing = MovingList(400, seed=1, churn=0)
    handed = [
        raw["id"] for issues, _ in _pages(listing.fetch, ahead, key=_by_updated, what="s") for raw in issues
    ]
    assert sorted(handed, key=int) == [str(n) for n in range(1, 401)]
    # 400 issues, 50 a page, 5 re-read a page: 9 requests, not 8; pages asked for ahead guess
    # none past the listing's total
    assert listing.requests == 9


@pytest.mark.parametrize("ahead", [0, 1, 2])
def test_a_listing_that_stops_moving_is_a_loop(ahead: int) -> None:
    def fetch(start: int) -> dict[str, Any]:
        return {"issues": [{"id": "7"}], "total": 10}  # always the same single issue

    with pytest.raises(FatalError, match="stopped moving"):
        list(_pages(fetch, ahead, key=id_key, what="census"))


def test_ahead_the_next_page_is_asked_for_while_the_caller_holds_this_one() -> None:
    listing = MovingList(120, seed=1, churn=0)
    asked: dict[int, threading.Event] = {}

    def fetch(start: int) -> dict[str, Any]:
        asked.setdefault(start, threading.Event()).set()
        return listing.fetch(start)

    pages = _pages(fetch, 1, key=_by_updated, what="search")
    first, _ = next(pages)
    assert [raw["id"] for raw in first][-1] == "50"
    assert asked.setdefault(45, threading.Event()).wait(5)  # asked before the caller wants it
    second, _ = next(pages)
    assert [raw["id"] for raw in second] == [str(n) for n in range(51, 96)]
    assert listing.requests == 2
    pages.close()  # a listing stopped early: the page asked for ahead is dropped
    assert listing.requests <= 3


def test_with_two_fetches_the_page_after_next_is_asked_for_on_the_other_one() -> None:
    listing = MovingList(400, seed=1, churn=0)
    asked: dict[int, threading.Event] = {}
    busy: dict[str, bool] = {}

    def fetching(name: str) -> Callable[[int], dict[str, Any]]:
        def fetch(start: int) -> dict[str, Any]:
            assert not busy.get(name), f"fetch {name} used by two threads at once"
            busy[name] = True
            try:
                asked.setdefault(start, threading.Event()).set()
                return listing.fetch(start)
            finally:
                busy[name] = False

        return fetch

    with FetchAhead([fetching("a"), fetching("b")]) as ahead:
        pages = overlapping_pages(ahead, key=_by_updated, what="search")
        next(pages)
        next(pages)  # the step between the pages' starts (45) is known from here on
        assert asked.setdefault(135, threading.Event()).wait(5)  # the page after next, asked already
        handed = [raw["id"] for issues, _ in pages for raw in issues]
    assert handed[-1] == "400"
    assert listing.requests == 9  # no guess past the listing's total


@pytest.mark.parametrize("says_answered", [False, True], ids=["unanswered", "answered"])
def test_a_page_asked_for_ahead_is_sent_only_once_the_one_before_it_is_answered(says_answered: bool) -> None:
    # pages read out of order would be snapshots out of order, and could miss an issue that moved;
    # a page whose body is in (answered) lets the next request go while it is decoded
    listing = MovingList(400, seed=1, churn=0)
    release = threading.Event()
    sent: dict[int, threading.Event] = {}

    def fetch(start: int) -> dict[str, Any]:
        sent.setdefault(start, threading.Event()).set()
        page = listing.fetch(start)
        if start == 90:
            if says_answered:
                answered()  # its body is in: what follows is decoding it
            assert release.wait(5)
        return page

    with FetchAhead([fetch, fetch]) as ahead:
        pages = overlapping_pages(ahead, key=_by_updated, what="search")
        next(pages)
        next(pages)  # from here on, pages 90 and 135 are asked for at once
        assert sent.setdefault(90, threading.Event()).wait(5)
        next_sent = sent.setdefault(135, threading.Event())
        if says_answered:
            assert next_sent.wait(5)  # sent while 90 is still decoded
        else:
            assert not next_sent.wait(0.2)  # not while 90 is unanswered
        release.set()
        assert next_sent.wait(5)
        assert len([raw for issues, _ in pages for raw in issues]) == 400 - 95


def test_ahead_a_failed_request_is_raised_where_its_page_is_asked_for() -> None:
    listing = MovingList(120, seed=1, churn=0)

    def fetch(start: int) -> dict[str, Any]:
        if start == 45:
            raise FatalError("search: the server answered 500", tracker="jira")
        return listing.fetch(start)

    pages = _pages(fetch, 1, key=_by_updated, what="search")
    first, _ = next(pages)  # its successor already failed, on the other thread
    assert len(first) == 50
    with pytest.raises(FatalError, match="answered 500"):
        next(pages)


def test_a_server_that_ignores_start_at_is_refused_not_taken_for_the_whole_listing() -> None:
    def fetch(start: int) -> dict[str, Any]:  # always the first ten of fifteen
        return {"issues": [{"id": str(n)} for n in range(1, 11)], "total": 15}

    with pytest.raises(FatalError, match="ended with 10 of 15 records served"):
        list(overlapping_pages(fetch, key=id_key, what="census"))


def test_a_page_without_total_is_refused() -> None:
    with pytest.raises(FatalError, match="'total'"):
        list(overlapping_pages(lambda start: {"issues": []}, key=id_key, what="search"))


@pytest.mark.parametrize(
    ("deployment_type", "configured", "wanted"),
    [
        ("DataCenter", "cloud", "datacenter"),
        ("Server", "cloud", "datacenter"),
        ("Cloud", "datacenter", "cloud"),
    ],
)
def test_the_other_deployments_site_is_refused_naming_the_setting(
    deployment_type: str, configured: str, wanted: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        check_deployment({"deploymentType": deployment_type}, configured, BASE_URL)
    message = str(refused.value)
    assert "\n" not in message
    assert f"set deployment: {wanted}" in message
    assert "trackers.jira.deployment" in message


def test_a_site_of_the_configured_deployment_passes() -> None:
    check_deployment({"deploymentType": "Cloud"}, "cloud", BASE_URL)
    check_deployment({"deploymentType": "DataCenter"}, "datacenter", BASE_URL)


def test_epic_keys_are_looked_up_once_each_and_a_gone_key_stays_unknown() -> None:
    asked: list[list[str]] = []

    def lookup(keys: Any) -> dict[str, str]:
        asked.append(list(keys))
        return {"ONB-1": "10001"}

    epics = EpicKeys(lookup)
    epics.learn([{"id": "10005", "key": "PLAT-3"}])
    assert epics.resolve(["ONB-1", "PLAT-3", "GONE-9"]) == {"PLAT-3": "10005", "ONB-1": "10001"}
    assert epics.resolve(["ONB-1", "GONE-9"])["ONB-1"] == "10001"
    assert asked == [["GONE-9", "ONB-1"]]  # PLAT-3 was learned; nothing asked twice


def _dc_issue(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "summary": "Self-serve signup",
        "description": "Plain text\n\nacross two paragraphs",
        "issuetype": {"name": "Story", "subtask": False},
        "status": {"name": "To Do", "statusCategory": {"key": "new"}},
        "updated": "2026-11-20T10:00:00.000+0000",
        "assignee": {"key": "JIRAUSER10003", "name": "ada", "displayName": "Ada Lovelace"},
    }
    base.update(fields)
    return {"id": "10010", "key": "ONB-10", "fields": base}


def _dc_parse(raw: dict[str, Any], ids: dict[str, str] | None = None) -> Any:
    return parse_issue(
        raw, base_url=BASE_URL, points_fields=(), custom_field_names={}, epic=EPIC, epic_ids=ids or {}
    )


def test_a_data_center_story_takes_its_epic_from_the_epic_link_key() -> None:
    item = _dc_parse(_dc_issue(customfield_10100="ONB-1"), {"ONB-1": "10001"})
    assert (item.parent_id, item.parent_key, item.level) == ("10001", "ONB-1", Level.STANDARD)
    assert item.assignee == "JIRAUSER10003"  # the user's key, not the renamable name
    assert item.description == "Plain text\n\nacross two paragraphs"


def test_an_epic_link_to_an_epic_that_no_longer_exists_leaves_the_parent_unknown() -> None:
    item = _dc_parse(_dc_issue(customfield_10100="GONE-9"))
    assert (item.parent_id, item.parent_key) == (None, None)


@pytest.mark.parametrize(
    ("fields", "level"),
    [
        ({"customfield_10101": "Onboarding"}, Level.EPIC),  # an Epic Name, whatever the type is called
        ({"issuetype": {"name": "Epic", "subtask": False}}, Level.EPIC),
        ({"issuetype": {"name": "Sub-task", "subtask": True}, "parent": {"id": "10010"}}, Level.SUBTASK),
        ({"customfield_10101": None}, Level.STANDARD),
    ],
)
def test_data_center_levels_without_a_hierarchy_level(fields: dict[str, Any], level: Level) -> None:
    assert _dc_parse(_dc_issue(**fields)).level == level


def test_a_sub_task_keeps_its_parent_field_over_any_epic_link() -> None:
    raw = _dc_issue(parent={"id": "10020", "key": "ONB-20"}, customfield_10100="ONB-1")
    item = _dc_parse(raw, {"ONB-1": "10001"})
    assert (item.parent_id, item.parent_key) == ("10020", "ONB-20")


def test_epic_fields_are_found_by_schema_not_by_name() -> None:
    fields = [
        {"id": "customfield_1", "name": "Epic Link", "schema": {"type": "string", "custom": "x:textfield"}},
        {"id": "customfield_2", "name": "Lien d'epic", "schema": {"type": "any", "custom": EPIC_LINK_TYPE}},
        {"id": "customfield_3", "name": "Nom d'epic", "schema": {"type": "string", "custom": EPIC_NAME_TYPE}},
    ]
    assert discover_epic_fields(fields) == EpicFields(link="customfield_2", name="customfield_3")
    assert discover_epic_fields(fields[:1]) == EpicFields()
