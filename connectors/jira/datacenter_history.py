"""Jira Data Center issues' status and assignee history, from searches with ``expand=changelog``.

Data Center has no bulk changelog endpoint: issues are searched by id (``id in (…)``, batches of
:data:`HISTORY_BATCH`, only the ``status`` field, ``validateQuery`` off so that an issue deleted
since is left out instead of refusing the batch) with their changelog expanded. Each issue's
ChangelogBean says how many changes it holds (``total``); when a search served fewer
(``histories`` shorter than ``total``), the issue's whole changelog is read from
``GET /rest/api/2/issue/{id}?expand=changelog`` — the 10.3 API offers no paged changelog of one issue
(Cloud's ``/issue/{id}/changelog`` is not in it), and the issue resource expands the whole of it.
Assignees are user keys; statuses' categories come from ``/rest/api/2/status`` as on Cloud.

A listing can carry its issues' changelogs itself (the connector's listing asks for
``expand=changelog``): one request and one answer per page instead of a page and then a search of
the same issues by id. :class:`ListedChangelogs` keeps, per issue, the change groups of its latest
listing (the one that read the updated time its history is read for) until the reader takes them;
an issue whose listed changelog was cut short is not kept. What is kept is bounded
(:data:`KEPT_ISSUES`, the first listed dropped first): a sync asks for histories a few pages behind
its listing, and an issue whose history is never asked for (an incremental pass's issue already read
for its updated time) must not hold memory. An issue not kept is searched for, as above.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from v2mom.connectors.jira.client import JiraClient
from v2mom.connectors.jira.datacenter import id_key, issue_id, overlapping_pages
from v2mom.connectors.jira.history import JiraHistory, parse_change_group
from v2mom.connectors.retry import Retrying
from v2mom.errors import FatalError
from v2mom.models import ItemTransition, oldest_first

__all__ = ["HISTORY_BATCH", "KEPT_ISSUES", "DataCenterHistory", "ListedChangelogs", "changelog_histories"]

TRACKER = "jira"
HISTORY_BATCH = 100  # issues a search asks for: their changelogs make large pages
KEPT_ISSUES = 5000  # listed changelogs kept: about fifty pages, more than the reads run behind


def _expanded(raw: Mapping[str, Any]) -> tuple[list[Any], bool] | str:
    """An issue's expanded changelog (its change groups, and whether they are all of them), or what
    is wrong with it."""
    changelog = raw.get("changelog")
    if not isinstance(changelog, Mapping):
        return "the search did not expand it"
    histories = changelog.get("histories")
    if not isinstance(histories, list):
        return "'histories' is not a list"
    total = changelog.get("total")
    whole = not isinstance(total, int) or isinstance(total, bool) or len(histories) >= total
    return histories, whole and not changelog.get("startAt")


def changelog_histories(raw: Mapping[str, Any]) -> tuple[list[Any], bool]:
    """An issue's expanded changelog: its change groups, and whether they are all of them."""
    where = issue_id(raw, "changelog")
    found = _expanded(raw)
    if isinstance(found, str):
        raise FatalError(f"malformed changelog of issue {where}: {found}", tracker=TRACKER)
    return found


class ListedChangelogs:
    """Issue id -> the whole change groups its latest listing expanded, for :class:`DataCenterHistory`
    to take (thread-safe: pages are parsed on one thread, histories read on another)."""

    def __init__(self, limit: int = KEPT_ISSUES) -> None:
        """Keep at most ``limit`` issues' changelogs."""
        self._limit = limit
        self._kept: OrderedDict[str, list[Any]] = OrderedDict()
        self._lock = threading.Lock()

    def keep(self, issues: Sequence[Mapping[str, Any]]) -> None:
        """Keep the changelogs of a listed page's ``issues``, each replacing the issue's earlier one;
        an issue whose changelog is cut short or missing has none kept."""
        with self._lock:
            for raw in issues:
                key = issue_id(raw, "search")
                self._kept.pop(key, None)
                found = _expanded(raw)
                if not isinstance(found, str) and found[1]:
                    self._kept[key] = found[0]
            while len(self._kept) > self._limit:
                self._kept.popitem(last=False)

    def take(self, item_ids: Sequence[str]) -> dict[str, list[Any]]:
        """The change groups kept for those of ``item_ids`` that have them, no longer kept."""
        with self._lock:
            return {i: found for i in item_ids if (found := self._kept.pop(i, None)) is not None}


class DataCenterHistory(JiraHistory):
    """:class:`JiraHistory` for Data Center: the same categories, changelogs taken from the listing
    (``listed``) or read by search."""

    def __init__(self, client: JiraClient, retrying: Retrying, listed: ListedChangelogs) -> None:
        """Read through ``client`` with the connector's retries, first taking what ``listed`` kept."""
        super().__init__(client, retrying)
        self._listed = listed

    def read(self, item_ids: Sequence[str]) -> list[ItemTransition]:
        """Every status and assignee change of ``item_ids``, oldest first (then by issue and entry)."""
        wanted = [i for i in dict.fromkeys(item_ids) if i.isdigit()]
        listed = self._listed.take(wanted)
        found = [change for where, histories in listed.items() for change in self._parse(where, histories)]
        ids = [i for i in wanted if i not in listed]
        for start in range(0, len(ids), HISTORY_BATCH):
            batch = ids[start : start + HISTORY_BATCH]
            jql = f"id in ({', '.join(batch)}) ORDER BY id ASC"

            def fetch(start_at: int, jql: str = jql, size: int = len(batch)) -> dict[str, Any]:
                return self._retrying(
                    partial(
                        self._client.search_offset_page,
                        jql,
                        ["status"],
                        start_at,
                        size,
                        expand=("changelog",),
                        kind="changelog",
                    )
                )

            for issues, _ in overlapping_pages(fetch, key=id_key, what="changelog"):
                for raw in issues:
                    found.extend(self._changes(raw))
        return oldest_first(found)

    def _changes(self, raw: Mapping[str, Any]) -> list[ItemTransition]:
        where = issue_id(raw, "changelog")
        histories, whole = changelog_histories(raw)
        if not whole:
            full = self._retrying(partial(self._client.issue_changelog, where))
            histories, _ = changelog_histories(full)
        return self._parse(where, histories)

    def _parse(self, where: str, histories: list[Any]) -> list[ItemTransition]:
        return [
            change for history in histories for change in parse_change_group(where, history, self.category)
        ]
