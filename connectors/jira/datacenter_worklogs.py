"""Which Jira Data Center issues' logged time changed since a moment, from the worklog feeds.

An app or an import (a time-tracking add-on above all) can change a worklog, and with it an issue's
``timespent``, without moving the issue's ``updated``: an incremental ``updated >= …`` search never
sees it. ``GET /rest/api/2/worklog/updated?since=<ms>`` lists the worklogs changed since then
(pages chained by ``until`` until ``lastPage``), ``POST /rest/api/2/worklog/list`` names their
issues (1,000 ids a request). ``/worklog/deleted`` lists deleted worklogs by id only: Jira no longer
says which issue held one, so those are counted, not named. A feed page chains to the next by the
time of its last change: when a whole page changed in the same millisecond (a bulk import) the feed
cannot move on from it, so the reading steps one millisecond past it and says that some worklogs of
that moment may have been missed, rather than failing every run from then on.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from functools import partial
from typing import Any

from v2mom.connectors.jira.client import JiraClient
from v2mom.connectors.paging import paginate
from v2mom.connectors.retry import Retrying
from v2mom.errors import FatalError

__all__ = ["WORKLOG_IDS", "deleted_worklogs", "worklog_issue_ids"]

TRACKER = "jira"
WORKLOG_IDS = 1000  # ids per /worklog/list request: Jira's ceiling


def _feed(
    client: JiraClient, retrying: Retrying, feed: str, since: datetime, notes: list[str]
) -> Iterator[Mapping[str, Any]]:
    """The ``values`` of a worklog feed since ``since``, every page (what it had to skip: ``notes``)."""

    def fetch(token: str | None) -> dict[str, Any]:
        start = int(token) if token is not None else int(since.timestamp() * 1000)
        return retrying(partial(client.worklog_changes, feed, start))

    def following(page: Mapping[str, Any]) -> str | None:
        if page.get("lastPage") is not False and page.get("isLastPage") is not False:
            return None
        until, asked = page.get("until"), page.get("since")
        if not isinstance(until, int) or isinstance(until, bool):
            raise FatalError(f"worklog/{feed}: a page that is not the last has no 'until'", tracker=TRACKER)
        if isinstance(asked, int) and until <= asked:  # a page-full changed in one millisecond
            notes.append(
                f"worklog/{feed}: more worklogs changed at {until} ms than a page holds; "
                "some of that moment may have been missed"
            )
            return str(until + 1)
        return str(until)

    for page in paginate(fetch, following, tracker=TRACKER, what=f"worklog/{feed}", field="until"):
        yield from (v for v in page.get("values") or [] if isinstance(v, Mapping))


def _worklog_id(value: Mapping[str, Any], feed: str) -> int:
    found = value.get("worklogId")
    if not isinstance(found, int) or isinstance(found, bool):
        raise FatalError(f"worklog/{feed}: an entry without a numeric 'worklogId'", tracker=TRACKER)
    return found


def worklog_issue_ids(client: JiraClient, retrying: Retrying, since: datetime, notes: list[str]) -> set[str]:
    """The ids of the issues holding a worklog created or changed at or after ``since``."""
    ids = sorted({_worklog_id(v, "updated") for v in _feed(client, retrying, "updated", since, notes)})
    issues: set[str] = set()
    for start in range(0, len(ids), WORKLOG_IDS):
        for worklog in retrying(partial(client.worklogs, ids[start : start + WORKLOG_IDS])):
            issue = worklog.get("issueId")
            if not isinstance(issue, int | str) or isinstance(issue, bool) or not str(issue).isdigit():
                raise FatalError("worklog/list: a worklog without its 'issueId'", tracker=TRACKER)
            issues.add(str(issue))
    return issues


def deleted_worklogs(client: JiraClient, retrying: Retrying, since: datetime, notes: list[str]) -> int:
    """How many worklogs were deleted at or after ``since`` (Jira does not say from which issues)."""
    return len({_worklog_id(v, "deleted") for v in _feed(client, retrying, "deleted", since, notes)})
