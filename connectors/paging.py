"""The one paginator every connector pages through, and its loop guard.

Each tracker pages its own way, but every loop is the same: fetch a page with a token, hand the page
on, read the next token from it, stop when there is none. :func:`paginate` is that loop; it holds
the guard, so no connector keeps its own:

- a token seen twice (the start token included) is a :class:`~v2mom.errors.FatalError` naming the
  tracker, the listing and the repeated token: a server that hands back a token it already gave
  would otherwise be followed forever;
- ``max_pages`` optionally bounds the number of requests (a listing that claims more forever).

The three styles the trackers use read the next token from a page:

- :func:`cursor_pages` — an opaque token and a last-page flag (Jira ``/search/jql``:
  ``nextPageToken`` until ``isLast``; short pages are allowed, never an end signal);
- :func:`offset_pages` — an offset object that is absent on the last page (Asana ``next_page``),
  or any "has more + token" pair through ``next_offset`` (Asana's Events API: ``has_more`` + ``sync``);
- :func:`relay_pages` — a relay connection's ``pageInfo`` (Linear ``hasNextPage`` + ``endCursor``).

Offsets over an order that moves while it is read (Jira Data Center's ``startAt`` over
``ORDER BY updated``) cannot be followed blindly: :func:`overlapping_offset_pages` re-reads a little
of each previous page and checks that nothing shifted past it; its loop guard watches what the pages
bring, not the offsets asked.

Pages are handed on as fetched; what a page holds (and its validation) stays with the connector.
Singer SDK's ``BaseAPIPaginator`` gave the shape (fetch, advance, detect a repeated token); here
every token of the listing is remembered, not only the previous one, so longer cycles are caught too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

from v2mom.errors import FatalError

__all__ = [
    "OVERLAP",
    "cursor_pages",
    "next_page_offset",
    "offset_pages",
    "overlapping_offset_pages",
    "paginate",
    "relay_pages",
]

P = TypeVar("P")
T = TypeVar("T")
OVERLAP = 5  # records each offset page re-reads of the previous one (fewer on pages too short for it)
_STALLS = 3  # offset pages in a row bringing nothing past the furthest record served: a loop
_MAX_TOKEN_SHOWN = 80  # a repeated token is named, but a long one is shortened


def _shown(token: str) -> str:
    """``token`` quoted for an error message, shortened when long."""
    if len(token) > _MAX_TOKEN_SHOWN:
        token = token[: _MAX_TOKEN_SHOWN - 1] + "…"
    return repr(token)


def paginate(
    fetch: Callable[[str | None], P],
    next_token: Callable[[P], str | None],
    *,
    tracker: str,
    what: str,
    field: str,
    start: str | None = None,
    max_pages: int | None = None,
    more: str = "paging",
) -> Iterator[P]:
    """Pages from ``fetch(token)``, starting at ``start``, following ``next_token(page)`` until None.

    ``next_token`` reads the token of the page after ``page`` (None: that was the last page) and may
    raise FatalError for a malformed page. A token returned twice, or equal to ``start``, raises
    FatalError ("paginator loop: <what> returned the same <field> '<token>' twice"). With
    ``max_pages``, a listing still going after that many requests raises FatalError
    ("<what>: <more> never ended (loop guard)") before the next request is sent.
    """
    if max_pages is not None and max_pages < 1:
        raise ValueError("max_pages must be >= 1")
    token = start
    seen: set[str] = {start} if start is not None else set()
    pages = 0
    while True:
        if max_pages is not None and pages >= max_pages:
            raise FatalError(f"{what}: {more} never ended (loop guard)", tracker=tracker)
        page = fetch(token)
        pages += 1
        yield page
        following = next_token(page)
        if following is None:
            return
        if following in seen:
            raise FatalError(
                f"paginator loop: {what} returned the same {field} {_shown(following)} twice",
                tracker=tracker,
            )
        seen.add(following)
        token = following


def cursor_pages(
    fetch: Callable[[str | None], Mapping[str, Any]],
    *,
    tracker: str,
    what: str,
    max_pages: int | None = None,
) -> Iterator[Mapping[str, Any]]:
    """Token-and-flag pages (Jira ``nextPageToken`` / ``isLast``): the first page is fetched with None.

    The last page is the one with ``isLast`` true, or, when ``isLast`` is absent, the one without a
    ``nextPageToken``. Short (even empty) pages with ``isLast`` false are followed. ``isLast`` false
    without a token is a FatalError.
    """

    def next_token(page: Mapping[str, Any]) -> str | None:
        token = page.get("nextPageToken")
        is_last = page.get("isLast")
        if is_last is True or (is_last is None and not token):
            return None
        if not isinstance(token, str) or not token:
            raise FatalError("paginator: isLast is false but no nextPageToken was given", tracker=tracker)
        return token

    return paginate(
        fetch,
        next_token,
        tracker=tracker,
        what=what,
        field="nextPageToken",
        max_pages=max_pages,
        more="isLast",
    )


def next_page_offset(tracker: str) -> Callable[[Mapping[str, Any]], str | None]:
    """Reads Asana's ``next_page.offset``: None when ``next_page`` is absent or null (the last page).

    A ``next_page`` without a usable offset is a FatalError.
    """

    def next_offset(page: Mapping[str, Any]) -> str | None:
        next_page = page.get("next_page")
        if not next_page:
            return None
        offset = next_page.get("offset") if isinstance(next_page, Mapping) else None
        if not isinstance(offset, str) or not offset:
            raise FatalError("paginator: next_page without an offset", tracker=tracker)
        return offset

    return next_offset


def offset_pages(
    fetch: Callable[[str | None], Mapping[str, Any]],
    *,
    tracker: str,
    what: str,
    start: str | None = None,
    max_pages: int | None = None,
    next_offset: Callable[[Mapping[str, Any]], str | None] | None = None,
    field: str = "offset",
    more: str = "next_page",
) -> Iterator[Mapping[str, Any]]:
    """Offset pages (Asana ``next_page.offset`` by default), starting at ``start``.

    ``next_offset`` replaces how the next offset is read, for listings that signal "more" another way
    (Asana's Events API: ``has_more`` and a new ``sync`` token); ``field`` and ``more`` name them
    in error messages.
    """
    reader = next_offset if next_offset is not None else next_page_offset(tracker)
    return paginate(
        fetch,
        reader,
        tracker=tracker,
        what=what,
        field=field,
        start=start,
        max_pages=max_pages,
        more=more,
    )


def relay_pages(
    fetch: Callable[[str | None], Mapping[str, Any]],
    *,
    tracker: str,
    what: str,
    start: str | None = None,
    max_pages: int | None = None,
) -> Iterator[Mapping[str, Any]]:
    """Relay connections (Linear ``pageInfo.hasNextPage`` / ``endCursor``), ``fetch(after)`` each.

    ``fetch`` returns the connection itself (``nodes`` and ``pageInfo``). A connection without
    ``pageInfo`` or with ``hasNextPage`` false is the last; ``hasNextPage`` without an ``endCursor``
    is a FatalError. ``start`` is the cursor to read after (None: from the beginning).
    """

    def next_cursor(connection: Mapping[str, Any]) -> str | None:
        info = connection.get("pageInfo")
        if not isinstance(info, Mapping) or not info.get("hasNextPage"):
            return None
        cursor = info.get("endCursor")
        if not isinstance(cursor, str) or not cursor:
            raise FatalError(f"paginator: {what} has a next page but no endCursor", tracker=tracker)
        return cursor

    return paginate(
        fetch,
        next_cursor,
        tracker=tracker,
        what=what,
        field="endCursor",
        start=start,
        max_pages=max_pages,
        more="hasNextPage",
    )


def overlapping_offset_pages(
    fetch: Callable[[int], P],
    *,
    items: Callable[[P], tuple[list[T], int]],
    identity: Callable[[T], str],
    key: Callable[[T], tuple[Any, ...]],
    tracker: str,
    what: str,
    overlap: int = OVERLAP,
    upcoming: Callable[[int, int], None] | None = None,
) -> Iterator[tuple[list[T], int]]:
    """The records of an offset listing whose order moves while it is read, page by page, each once
    per version, with the number of requests each page took (its back-offs included).

    ``fetch(start)`` answers the page at offset ``start``; ``items(page)`` reads its records and the
    listing's ``total``; ``identity`` names a record and ``key`` is its sort key in the listing's
    order. A record moved away in front of the position (updated to the end, deleted) shifts the
    later pages: each page is asked from ``overlap`` records before where the previous one ended
    and must begin at or before the furthest record handed on (*continuity*); else the request backs
    off further (doubling), down to offset 0. A record seen again is handed on again only when its
    sort key changed (a newer version). Pages that bring nothing past the furthest record served,
    several times in a row, are a FatalError (loop guard), and so is a listing that ends having
    served fewer records than its ``total`` (a server that ignores the offset): every record
    matching at the end was served once. ``upcoming(start, total)``, when given, is told the offset
    the next request will ask for (and the listing's size, as that page said) before a page is
    handed on (:class:`~v2mom.connectors.ahead.FetchAhead` asks for it meanwhile); a back-off then
    asks afresh.
    """
    served: dict[str, tuple[Any, ...]] = {}
    anchor: tuple[Any, ...] | None = None  # the furthest sort key handed on
    position = 0  # where the previous accepted page ended
    back = 0
    stalls = requests = 0
    while True:
        start = max(0, position - back)
        page = fetch(start)
        requests += 1
        records, total = items(page)
        if anchor is not None and start > 0 and (not records or key(records[0]) > anchor):
            back = max(1, back * 2)  # records moved away in front: re-read more
            continue
        fresh = []
        for record in records:
            found, sort = identity(record), key(record)
            if served.get(found) != sort:
                served[found] = sort
                fresh.append(record)
        end = start + len(records)
        last_page = not records or end >= total
        stalled = False
        if not last_page:
            last = key(records[-1])
            stalls = stalls + 1 if anchor is not None and last <= anchor else 0
            stalled = stalls >= _STALLS
            anchor = last if anchor is None or last > anchor else anchor
            position = end
            back = min(overlap, max(1, len(records) - 1))
            if upcoming is not None and not stalled:
                upcoming(max(0, position - back), total)
        if fresh:
            yield fresh, requests
            requests = 0
        if last_page:
            if len(served) < total:
                raise FatalError(
                    f"{what}: offset paging ended with {len(served)} of {total} records served "
                    "(does the server ignore the offset?)",
                    tracker=tracker,
                )
            return
        if stalled:
            raise FatalError(
                f"{what}: offset paging stopped moving at offset {start} (loop guard)", tracker=tracker
            )
