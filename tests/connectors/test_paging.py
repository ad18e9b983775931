"""The paginator's three styles directly, over scripted pages: normal listings, short and empty
pages, a repeated token (a FatalError naming it), malformed pages and the max-pages bound."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest

from v2mom.connectors.paging import cursor_pages, offset_pages, paginate, relay_pages
from v2mom.errors import FatalError

Page = dict[str, Any]


class Script:
    """Answers ``fetch(token)`` from a table {token: page}; records the tokens asked for."""

    def __init__(self, pages: Mapping[str | None, Page]) -> None:
        self.pages = dict(pages)
        self.asked: list[str | None] = []

    def __call__(self, token: str | None) -> Page:
        self.asked.append(token)
        return self.pages[token]


# -- cursor (Jira: nextPageToken + isLast) ----------------------------------------------------------


def jira(issues: list[int], token: str | None, *, is_last: bool | None) -> Page:
    page: Page = {"issues": [{"id": str(i)} for i in issues]}
    if token is not None:
        page["nextPageToken"] = token
    if is_last is not None:
        page["isLast"] = is_last
    return page


def ids(pages: list[Mapping[str, Any]], key: str = "issues") -> list[str]:
    return [record["id"] for page in pages for record in page[key]]


def test_cursor_follows_tokens_until_is_last() -> None:
    fetch = Script(
        {
            None: jira([1, 2], "t1", is_last=False),
            "t1": jira([3, 4], "t2", is_last=False),
            "t2": jira([5], None, is_last=True),
        }
    )
    pages = list(cursor_pages(fetch, tracker="jira", what="search"))
    assert ids(pages) == ["1", "2", "3", "4", "5"]
    assert fetch.asked == [None, "t1", "t2"]


def test_cursor_follows_short_and_empty_pages_before_is_last() -> None:
    fetch = Script(
        {
            None: jira([1], "t1", is_last=False),  # short: fewer than asked is not the end
            "t1": jira([], "t2", is_last=False),  # empty, yet not the last
            "t2": jira([2], "t3", is_last=True),  # isLast wins over a token
        }
    )
    pages = list(cursor_pages(fetch, tracker="jira", what="search"))
    assert ids(pages) == ["1", "2"]
    assert fetch.asked == [None, "t1", "t2"]


def test_cursor_without_is_last_ends_when_no_token_is_given() -> None:
    fetch = Script({None: jira([1], "t1", is_last=None), "t1": jira([2], None, is_last=None)})
    assert ids(list(cursor_pages(fetch, tracker="jira", what="search"))) == ["1", "2"]


def test_cursor_empty_first_page_is_the_whole_listing() -> None:
    fetch = Script({None: jira([], None, is_last=True)})
    pages = list(cursor_pages(fetch, tracker="jira", what="search"))
    assert pages == [{"issues": [], "isLast": True}]
    assert fetch.asked == [None]


def test_cursor_repeated_token_is_a_fatal_error_naming_it() -> None:
    fetch = Script({None: jira([1], "tok-A", is_last=False), "tok-A": jira([2], "tok-A", is_last=False)})
    with pytest.raises(FatalError) as caught:
        list(cursor_pages(fetch, tracker="jira", what="search"))
    assert str(caught.value) == "jira: paginator loop: search returned the same nextPageToken 'tok-A' twice"
    assert caught.value.tracker == "jira"
    assert fetch.asked == [None, "tok-A"]


def test_cursor_token_repeated_after_others_is_caught_too() -> None:
    fetch = Script(
        {
            None: jira([1], "a", is_last=False),
            "a": jira([2], "b", is_last=False),
            "b": jira([3], "a", is_last=False),  # a cycle longer than one step
        }
    )
    with pytest.raises(FatalError, match="same nextPageToken 'a' twice"):
        list(cursor_pages(fetch, tracker="jira", what="census"))
    assert fetch.asked == [None, "a", "b"]


def test_cursor_not_last_without_a_token_is_fatal() -> None:
    fetch = Script({None: jira([1], None, is_last=False)})
    with pytest.raises(FatalError, match="isLast is false but no nextPageToken"):
        list(cursor_pages(fetch, tracker="jira", what="search"))


def test_a_long_repeated_token_is_named_shortened() -> None:
    token = "x" * 500
    fetch = Script({None: jira([1], token, is_last=False), token: jira([2], token, is_last=False)})
    with pytest.raises(FatalError) as caught:
        list(cursor_pages(fetch, tracker="jira", what="search"))
    assert "x" * 79 + "…" in str(caught.value)
    assert token not in str(caught.value)


# -- offset (Asana: next_page.offset; the Events API's has_more) -------------------------------------


def asana(gids: list[int], offset: str | None) -> Page:
    return {
        "data": [{"id": str(g)} for g in gids],
        "next_page": {"offset": offset, "path": "/tasks", "uri": "u"} if offset else None,
    }


def test_offset_follows_next_page_until_it_is_null() -> None:
    fetch = Script({None: asana([1, 2], "o1"), "o1": asana([3], "o2"), "o2": asana([4], None)})
    pages = list(offset_pages(fetch, tracker="asana", what="tasks"))
    assert ids(pages, "data") == ["1", "2", "3", "4"]
    assert fetch.asked == [None, "o1", "o2"]


def test_offset_follows_short_pages() -> None:
    fetch = Script({None: asana([1], "o1"), "o1": asana([], "o2"), "o2": asana([2], None)})
    assert ids(list(offset_pages(fetch, tracker="asana", what="tasks")), "data") == ["1", "2"]


def test_offset_empty_first_page_is_the_whole_listing() -> None:
    fetch = Script({None: {"data": []}})  # next_page absent altogether
    assert list(offset_pages(fetch, tracker="asana", what="tasks")) == [{"data": []}]
    assert fetch.asked == [None]


def test_offset_repeated_offset_is_a_fatal_error_naming_it() -> None:
    fetch = Script({None: asana([1], "off-9"), "off-9": asana([2], "off-9")})
    with pytest.raises(FatalError) as caught:
        list(offset_pages(fetch, tracker="asana", what="tasks of project 42"))
    assert str(caught.value) == (
        "asana: paginator loop: tasks of project 42 returned the same offset 'off-9' twice"
    )


@pytest.mark.parametrize("next_page", [{"offset": ""}, {"offset": None}, {"path": "/x"}, "o1"])
def test_offset_next_page_without_an_offset_is_fatal(next_page: object) -> None:
    fetch = Script({None: {"data": [], "next_page": next_page}})
    with pytest.raises(FatalError, match="next_page without an offset"):
        list(offset_pages(fetch, tracker="asana", what="tasks"))


def events_reader() -> Callable[[Mapping[str, Any]], str | None]:
    def next_sync(body: Mapping[str, Any]) -> str | None:
        return body["sync"] if body.get("has_more") else None

    return next_sync


def test_offset_events_follow_has_more_from_the_start_token() -> None:
    fetch = Script(
        {
            "s0": {"data": [1], "sync": "s1", "has_more": True},
            "s1": {"data": [2], "sync": "s2", "has_more": False},
        }
    )
    pages = list(offset_pages(fetch, tracker="asana", what="events", start="s0", next_offset=events_reader()))
    assert [p["data"] for p in pages] == [[1], [2]]
    assert fetch.asked == ["s0", "s1"]


def test_offset_events_handing_back_the_start_token_is_a_loop() -> None:
    fetch = Script({"s0": {"data": [], "sync": "s0", "has_more": True}})
    with pytest.raises(FatalError, match="events returned the same sync token 's0' twice"):
        list(
            offset_pages(
                fetch,
                tracker="asana",
                what="events",
                start="s0",
                next_offset=events_reader(),
                field="sync token",
            )
        )
    assert fetch.asked == ["s0"]


# -- relay (Linear: pageInfo.hasNextPage + endCursor) ------------------------------------------------


def relay(nodes: list[int], cursor: str | None, *, more: bool) -> Page:
    return {"nodes": [{"id": str(n)} for n in nodes], "pageInfo": {"hasNextPage": more, "endCursor": cursor}}


def test_relay_follows_end_cursor_until_no_next_page() -> None:
    fetch = Script({None: relay([1, 2], "c1", more=True), "c1": relay([3], "c2", more=False)})
    pages = list(relay_pages(fetch, tracker="linear", what="issues"))
    assert ids(pages, "nodes") == ["1", "2", "3"]
    assert fetch.asked == [None, "c1"]


def test_relay_follows_short_pages_and_a_start_cursor() -> None:
    fetch = Script(
        {
            "c0": relay([1], "c1", more=True),
            "c1": relay([], "c2", more=True),
            "c2": relay([2], None, more=False),
        }
    )
    pages = list(relay_pages(fetch, tracker="linear", what="labels of ENG-1", start="c0"))
    assert ids(pages, "nodes") == ["1", "2"]
    assert fetch.asked == ["c0", "c1", "c2"]


def test_relay_empty_first_page_is_the_whole_listing() -> None:
    fetch = Script({None: relay([], None, more=False)})
    assert list(relay_pages(fetch, tracker="linear", what="issues")) == [relay([], None, more=False)]
    fetch_without_info = Script({None: {"nodes": []}})
    assert len(list(relay_pages(fetch_without_info, tracker="linear", what="issues"))) == 1


def test_relay_repeated_cursor_is_a_fatal_error_naming_it() -> None:
    fetch = Script({None: relay([1], "cur-7", more=True), "cur-7": relay([2], "cur-7", more=True)})
    with pytest.raises(FatalError) as caught:
        list(relay_pages(fetch, tracker="linear", what="projects"))
    assert str(caught.value) == "linear: paginator loop: projects returned the same endCursor 'cur-7' twice"


def test_relay_start_cursor_handed_back_is_a_loop() -> None:
    fetch = Script({"c0": relay([1], "c0", more=True)})
    with pytest.raises(FatalError, match="same endCursor 'c0' twice"):
        list(relay_pages(fetch, tracker="linear", what="labels of ENG-1", start="c0"))


def test_relay_next_page_without_a_cursor_is_fatal() -> None:
    fetch = Script({None: relay([1], None, more=True)})
    with pytest.raises(FatalError, match="issues has a next page but no endCursor"):
        list(relay_pages(fetch, tracker="linear", what="issues"))


# -- the generic loop -------------------------------------------------------------------------------


def test_max_pages_stops_before_the_next_request() -> None:
    counter = iter(range(100))

    def fetch(token: str | None) -> int:
        return next(counter)

    pages = paginate(
        fetch,
        lambda n: f"t{n}",
        tracker="asana",
        what="events",
        field="sync token",
        max_pages=3,
        more="has_more",
    )
    assert [next(pages), next(pages), next(pages)] == [0, 1, 2]
    with pytest.raises(FatalError) as caught:
        next(pages)
    assert next(counter) == 3  # no fourth request was sent
    assert str(caught.value) == "asana: events: has_more never ended (loop guard)"


def test_max_pages_allows_a_listing_that_ends_in_time() -> None:
    fetch = Script({None: asana([1], "o1"), "o1": asana([2], None)})
    assert len(list(offset_pages(fetch, tracker="asana", what="tasks", max_pages=2))) == 2


def test_max_pages_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_pages"):
        list(paginate(lambda _: 1, lambda _: None, tracker="t", what="w", field="f", max_pages=0))


def test_pages_are_fetched_lazily() -> None:
    fetch = Script({None: asana([1], "o1"), "o1": asana([2], None)})
    pages = offset_pages(fetch, tracker="asana", what="tasks")
    assert fetch.asked == []
    next(pages)
    assert fetch.asked == [None]  # the next page is asked for only when the consumer wants it
