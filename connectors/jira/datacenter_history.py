"""Jira Data Center issues' status and assignee history, from searches with ``expand=changelog``.

Data Center has no bulk changelog endpoint: issues are searched by id (``id in (…)``, batches of
:data:`HISTORY_BATCH`, only the ``status`` field, ``validateQuery`` off so that an issue deleted
since is left out instead of refusing the batch) with their changelog expanded. Each issue's
ChangelogBean says how many changes it holds (``total``); when a search served fewer
(``histories`` shorter than ``total``), the issue's whole changelog is read from
``GET /rest/api/2/issue/{id}?expand=changelog`` — the 10.3 API offers no paged changelog of one issue
(Cloud's ``/issue/{id}/changelog`` is not in it), and the issue resource expands the whole of it.
Assignees are user keys; statuses' categories come from ``/rest/api/2/status`` as on Cloud.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from v2mom.connectors.jira.datacenter import id_key, issue_id, overlapping_pages
from v2mom.connectors.jira.history import JiraHistory, parse_change_group
from v2mom.errors import FatalError
from v2mom.models import ItemTransition, oldest_first

__all__ = ["HISTORY_BATCH", "DataCenterHistory", "changelog_histories"]

TRACKER = "jira"
HISTORY_BATCH = 100  # issues a search asks for: their changelogs make large pages


def changelog_histories(raw: Mapping[str, Any]) -> tuple[list[Any], bool]:
    """An issue's expanded changelog: its change groups, and whether they are all of them."""
    where = issue_id(raw, "changelog")
    changelog = raw.get("changelog")
    if not isinstance(changelog, Mapping):
        raise FatalError(
            f"malformed changelog of issue {where}: the search did not expand it", tracker=TRACKER
        )
    histories = changelog.get("histories")
    if not isinstance(histories, list):
        raise FatalError(f"malformed changelog of issue {where}: 'histories' is not a list", tracker=TRACKER)
    total = changelog.get("total")
    whole = not isinstance(total, int) or isinstance(total, bool) or len(histories) >= total
    return histories, whole and not changelog.get("startAt")


class DataCenterHistory(JiraHistory):
    """:class:`JiraHistory` for Data Center: the same categories, changelogs read by search."""

    def read(self, item_ids: Sequence[str]) -> list[ItemTransition]:
        """Every status and assignee change of ``item_ids``, oldest first (then by issue and entry)."""
        ids = [i for i in dict.fromkeys(item_ids) if i.isdigit()]
        found: list[ItemTransition] = []
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
        return [
            change for history in histories for change in parse_change_group(where, history, self.category)
        ]
