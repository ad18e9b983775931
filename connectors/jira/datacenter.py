"""Jira Data Center's read path: which Jira a URL names, offset pages that never skip an issue, and
epic keys resolved to ids.

Data Center searches (``POST /rest/api/2/search``) page by ``startAt`` over the JQL's ORDER BY, and
the order moves while a sync reads it: an issue updated between two page requests jumps to the end
of ``ORDER BY updated``, and every issue behind it moves one place forward, so a plain
``startAt += page`` would skip one. :func:`overlapping_pages` asks each page from a little before
where the previous one ended and checks *continuity*: the page must begin at or before the last
issue handed on (by its sort key). When it does not, issues moved away in front of the position; the
request backs off further (doubling) until it does, down to ``startAt`` 0. Issues seen twice are
handed on once, unless their sort key changed (an update: the newer version is handed on too).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from v2mom.connectors.jira.parse import ISSUE_KEY, parse_datetime
from v2mom.errors import ConfigError, FatalError

__all__ = [
    "DEPLOYMENT_TYPES",
    "OVERLAP",
    "EpicKeys",
    "SortKey",
    "check_deployment",
    "id_key",
    "issue_id",
    "overlapping_pages",
    "updated_key",
]

TRACKER = "jira"
OVERLAP = 5  # issues each page re-reads of the previous one (halved on pages too short for it)
_STALLS = 3  # accepted pages in a row that end no further than the previous one: a loop
#: serverInfo's ``deploymentType`` -> the ``deployment`` setting that talks to it.
DEPLOYMENT_TYPES = {"cloud": "cloud", "datacenter": "datacenter", "server": "datacenter"}

SortKey = tuple[Any, ...]


def check_deployment(info: Mapping[str, Any], configured: str, url: str) -> None:
    """Refuse a site of the other deployment than ``configured``, in one line naming the setting.

    ``info`` is ``/rest/api/2/serverInfo``; its ``deploymentType`` is "Cloud", "Server" or
    "DataCenter" (absent on old servers, which are never Cloud).
    """
    raw = info.get("deploymentType")
    kind = raw.strip().casefold() if isinstance(raw, str) else "server"
    wanted = DEPLOYMENT_TYPES.get(kind)
    if wanted is None or wanted == configured:
        return
    named = "Jira Cloud" if wanted == "cloud" else f"Jira {raw if isinstance(raw, str) else 'Server'}"
    raise ConfigError(
        f"trackers.jira.deployment: {url} is {named}, not {configured}: set deployment: {wanted}"
        + (" with email and api_token" if wanted == "cloud" else " with token (a personal access token)")
    )


def issue_id(raw: Mapping[str, Any], what: str) -> str:
    """An issue's id as a string; FatalError when the search returned one without it."""
    value = raw.get("id")
    if isinstance(value, int | str) and not isinstance(value, bool) and str(value).isdigit():
        return str(value)
    raise FatalError(f"{what}: an issue without a numeric id was returned", tracker=TRACKER)


def id_key(raw: Mapping[str, Any]) -> SortKey:
    """The sort key of ``ORDER BY id ASC``."""
    return (int(issue_id(raw, "search")),)


def updated_key(raw: Mapping[str, Any]) -> SortKey:
    """The sort key of ``ORDER BY updated ASC, id ASC``."""
    fields = raw.get("fields")
    value = fields.get("updated") if isinstance(fields, Mapping) else None
    where = issue_id(raw, "search")
    moment: datetime | None = parse_datetime(value, where=where, field="updated")
    if moment is None:
        raise FatalError(f"search: issue {where} came without 'updated'", tracker=TRACKER)
    return (moment, int(where))


def _issues(page: Mapping[str, Any], what: str) -> tuple[list[dict[str, Any]], int]:
    issues = page.get("issues")
    total = page.get("total")
    if not isinstance(issues, list) or not isinstance(total, int) or isinstance(total, bool):
        raise FatalError(f"{what}: the search answered without 'issues' and 'total'", tracker=TRACKER)
    return [i for i in issues if isinstance(i, dict)], total


def overlapping_pages(
    fetch: Callable[[int], Mapping[str, Any]],
    *,
    key: Callable[[Mapping[str, Any]], SortKey],
    what: str,
    overlap: int = OVERLAP,
) -> Iterator[tuple[list[dict[str, Any]], int]]:
    """The issues of an offset listing, page by page, each once per version, with the number of
    requests each page took (its back-offs included).

    ``fetch(start_at)`` answers one SearchResultsBean; ``key`` is the sort key of the listing's
    ORDER BY. Pages that bring nothing past the furthest issue served, several times in a row, are a
    FatalError (loop guard), and so is a listing that ends having served fewer issues than its
    ``total`` (a server that ignores ``startAt``): every issue matching at the end was served once.
    """
    served: dict[str, SortKey] = {}
    anchor: SortKey | None = None  # the furthest sort key handed on
    position = 0  # where the previous accepted page ended
    back = 0
    stalls = requests = 0
    while True:
        start = max(0, position - back)
        page = fetch(start)
        requests += 1
        issues, total = _issues(page, what)
        if anchor is not None and start > 0 and (not issues or key(issues[0]) > anchor):
            back = max(1, back * 2)  # issues moved away in front of the position: re-read more
            continue
        fresh = []
        for raw in issues:
            found, sort = issue_id(raw, what), key(raw)
            if served.get(found) != sort:
                served[found] = sort
                fresh.append(raw)
        if fresh:
            yield fresh, requests
            requests = 0
        end = start + len(issues)
        if not issues or end >= total:
            if len(served) < total:
                raise FatalError(
                    f"{what}: offset paging ended with {len(served)} of {total} issues served "
                    "(does the server ignore startAt?)",
                    tracker=TRACKER,
                )
            return
        last = key(issues[-1])
        stalls = stalls + 1 if anchor is not None and last <= anchor else 0
        if stalls >= _STALLS:
            raise FatalError(
                f"{what}: offset paging stopped moving at startAt {start} (loop guard)", tracker=TRACKER
            )
        anchor = last if anchor is None or last > anchor else anchor
        position = end
        back = min(overlap, max(1, len(issues) - 1))


class EpicKeys:
    """Epic keys -> issue ids, for Data Center's Epic Link (which holds a key).

    Every issue a sync parses teaches its own key; keys still unknown on a page are looked up in
    one search (``lookup``: keys -> ``{key: id}``, keys that no longer exist left out).
    """

    def __init__(self, lookup: Callable[[Sequence[str]], dict[str, str]]) -> None:
        """Resolve unknown keys through ``lookup``."""
        self._lookup = lookup
        self.ids: dict[str, str] = {}
        self._missing: set[str] = set()

    def learn(self, issues: Sequence[Mapping[str, Any]]) -> None:
        """Remember the key and id of each issue served."""
        for raw in issues:
            key, found = raw.get("key"), raw.get("id")
            if isinstance(key, str) and isinstance(found, int | str) and not isinstance(found, bool):
                self.ids[key.upper()] = str(found)

    def resolve(self, keys: Sequence[str]) -> dict[str, str]:
        """``ids`` after one lookup of the keys among ``keys`` not known yet (each asked once a run)."""
        unknown = sorted(
            {k.upper() for k in keys if ISSUE_KEY.fullmatch(k)} - self.ids.keys() - self._missing
        )
        if unknown:
            found = self._lookup(unknown)
            self.ids.update({k.upper(): v for k, v in found.items()})
            self._missing.update(k for k in unknown if k not in self.ids)
        return self.ids
