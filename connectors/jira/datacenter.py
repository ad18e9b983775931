"""Jira Data Center's read path: which Jira a URL names, offset pages that never skip an issue, and
epic keys resolved to ids.

Data Center searches (``POST /rest/api/2/search``) page by ``startAt`` over the JQL's ORDER BY, and
the order moves while a sync reads it: an issue updated between two page requests jumps to the end
of ``ORDER BY updated``, and every issue behind it moves one place forward, so a plain
``startAt += page`` would skip one. :func:`overlapping_pages` reads them through the shared
paginator's overlapping offset pages (:func:`connectors.paging.overlapping_offset_pages`), which
re-read a little of the previous page and back off until it reappears.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from functools import partial
from typing import Any

from v2mom.connectors.ahead import FetchAhead
from v2mom.connectors.jira.parse import ISSUE_KEY, parse_datetime
from v2mom.connectors.paging import OVERLAP, overlapping_offset_pages
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


def _issues(page: Mapping[str, Any], what: str) -> tuple[list[Any], int]:
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
    """The issues of a Data Center search, page by page, through
    :func:`connectors.paging.overlapping_offset_pages`: ``fetch(start_at)`` answers one
    SearchResultsBean, ``key`` is the sort key of its ORDER BY. A ``fetch`` that is a
    :class:`~v2mom.connectors.ahead.FetchAhead` is told each next page's offset, to ask for it (and
    those after it) while the caller handles the current one."""
    yield from overlapping_offset_pages(
        fetch,
        items=partial(_issues, what=what),
        identity=partial(issue_id, what=what),
        key=key,
        tracker=TRACKER,
        what=what,
        overlap=overlap,
        upcoming=fetch.upcoming if isinstance(fetch, FetchAhead) else None,
    )


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
        # Each of the page's keys is looked up in the dicts: a set difference with ``ids.keys()``
        # would walk every key the run has learnt, on every page (quadratic in the run's size).
        wanted = {k.upper() for k in keys if ISSUE_KEY.fullmatch(k)}
        unknown = sorted(k for k in wanted if k not in self.ids and k not in self._missing)
        if unknown:
            found = self._lookup(unknown)
            self.ids.update({k.upper(): v for k, v in found.items()})
            self._missing.update(k for k in unknown if k not in self.ids)
        return self.ids
