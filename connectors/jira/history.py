"""Jira issues' status and assignee history, from ``POST /rest/api/3/changelog/bulkfetch``.

Up to 1,000 issues a request (Jira's limit), only the ``status`` and ``assignee`` fields, pages
followed by ``nextPageToken`` through :func:`connectors.paging.cursor_pages` (a token seen twice is
a loop). A status change names the status ids left and entered; the category of the one entered
comes from ``GET /rest/api/3/status``, read once, and again once when a change names a status the
site did not list (one created since). A status the site no longer has (deleted since) keeps no
category, and the reader says so in ``notes``.

:func:`parse_changelogs` is pure: a malformed page raises :class:`~v2mom.errors.FatalError` naming
the issue, the changelog entry and what is wrong, never a bare ``KeyError``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from functools import partial
from typing import Any

from v2mom.connectors.jira.client import JiraClient
from v2mom.connectors.jira.parse import STATE_BY_CATEGORY
from v2mom.connectors.paging import cursor_pages
from v2mom.connectors.retry import Retrying
from v2mom.errors import FatalError
from v2mom.models import ItemTransition, State, oldest_first

__all__ = [
    "CHANGELOG_ISSUES",
    "HISTORY_FIELDS",
    "JiraHistory",
    "parse_change_group",
    "parse_changelogs",
    "status_categories",
]

TRACKER = "jira"
CHANGELOG_ISSUES = 1000  # issues per bulkfetch request: Jira's ceiling
CHANGELOG_PAGE = 10_000  # changes per page: Jira's ceiling (its default is 1,000)
HISTORY_FIELDS = ("status", "assignee")


def _fail(where: str, problem: str) -> FatalError:
    return FatalError(f"malformed changelog {where}: {problem}", tracker=TRACKER)


def _text(value: object, *, where: str, name: str) -> str | None:
    """A string value, None when absent or null; FatalError for anything else."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise _fail(where, f"'{name}' is not a string")
    return value or None


def _time(value: object, *, where: str) -> datetime:
    """A change's ``created`` (``2026-11-23T10:00:00.000+0000``) as an aware datetime."""
    if not isinstance(value, str):
        raise _fail(where, "'created' is missing or not a timestamp string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _fail(where, f"'created' has an unreadable timestamp {value[:40]!r}") from None
    if parsed.tzinfo is None:
        raise _fail(where, f"'created' timestamp {value[:40]!r} has no UTC offset")
    return parsed


def status_categories(statuses: Sequence[Mapping[str, Any]]) -> dict[str, State]:
    """``{status id: State}`` from a ``GET /rest/api/3/status`` answer (unknown category keys: todo)."""
    found: dict[str, State] = {}
    for status in statuses:
        status_id = _text(status.get("id"), where="of the site's statuses", name="id")
        category = status.get("statusCategory")
        key = category.get("key") if isinstance(category, Mapping) else None
        if status_id is None or not isinstance(key, str):
            raise _fail("of the site's statuses", f"status {status_id or '?'} has no id or category key")
        found[status_id] = STATE_BY_CATEGORY.get(key, State.TODO)
    return found


def parse_changelogs(
    page: Mapping[str, Any], categories: Callable[[str], State | None]
) -> list[ItemTransition]:
    """The status and assignee changes of one BulkChangelogResponseBean page, in page order.

    ``categories`` gives the category of a status id (None: unknown). Other fields' changes are
    skipped; a change group may hold both a status and an assignee change (two records, one entry id).
    """
    logs = page.get("issueChangeLogs")
    if not isinstance(logs, list):
        raise _fail("page", "'issueChangeLogs' is not a list")
    out: list[ItemTransition] = []
    for log in logs:
        if not isinstance(log, Mapping):
            raise _fail("page", "an issue's changelog is not an object")
        issue_id = _text(log.get("issueId"), where="page", name="issueId")
        if issue_id is None:
            raise _fail("page", "an issue's changelog has no 'issueId'")
        histories = log.get("changeHistories")
        if not isinstance(histories, list):
            raise _fail(f"of issue {issue_id}", "'changeHistories' is not a list")
        for history in histories:
            out.extend(parse_change_group(issue_id, history, categories))
    return out


def parse_change_group(
    issue_id: str,
    history: object,
    categories: Callable[[str], State | None],
    *,
    at: datetime | None = None,
) -> Iterator[ItemTransition]:
    """The status and assignee changes of one changelog entry (``{id, created, items}``) of issue
    ``issue_id``, under the entry's id.

    ``at`` dates a group that carries no ``created``: the ``changelog`` of a ``jira:issue_updated``
    webhook (``{id, items}``) is dated by its event. FatalError naming the entry when malformed.
    """
    if not isinstance(history, Mapping):
        raise _fail(f"of issue {issue_id}", "a change is not an object")
    entry_id = _text(history.get("id"), where=f"of issue {issue_id}", name="id")
    if entry_id is None:
        raise _fail(f"of issue {issue_id}", "a change has no 'id'")
    where = f"of issue {issue_id}, entry {entry_id}"
    if at is None:
        at = _time(history.get("created"), where=where)
    items = history.get("items")
    if not isinstance(items, list):
        raise _fail(where, "'items' is not a list")
    for item in items:
        if not isinstance(item, Mapping):
            raise _fail(where, "a changed field is not an object")
        field = item.get("fieldId") or item.get("field")
        if field not in HISTORY_FIELDS:
            continue
        before = _text(item.get("from"), where=where, name=f"{field}.from")
        after = _text(item.get("to"), where=where, name=f"{field}.to")
        if field == "status":
            if after is None:
                raise _fail(where, "a status change names no status entered ('to')")
            yield ItemTransition(
                tracker=TRACKER,
                item_id=issue_id,
                event_id=entry_id,
                at=at,
                field="status",
                from_value=before,
                to_value=after,
                to_category=categories(after),
            )
        else:
            yield ItemTransition(
                tracker=TRACKER,
                item_id=issue_id,
                event_id=entry_id,
                at=at,
                field="assignee",
                from_value=before,
                to_value=after,
            )


class JiraHistory:
    """Reads changelogs through its own :class:`JiraClient` (see :class:`connectors.base.HistoryReader`)."""

    def __init__(self, client: JiraClient, retrying: Retrying) -> None:
        """Read through ``client`` with the connector's retries."""
        self._client = client
        self._retrying = retrying
        self._categories: dict[str, State] | None = None
        self._refreshed = False
        self.notes: list[str] = []

    def _load_categories(self) -> dict[str, State]:
        return status_categories(self._retrying(self._client.statuses))

    def category(self, status_id: str) -> State | None:
        """The category of status ``status_id`` (the site's list read once, again for an unknown
        id; None, with a note, for a status the site does not have)."""
        if self._categories is None:
            self._categories = self._load_categories()
        if status_id not in self._categories and not self._refreshed:
            self._refreshed = True  # a status created since the site's list was read
            self._categories = self._load_categories()
        found = self._categories.get(status_id)
        if found is None:
            note = f"status {status_id} is not among the site's statuses: its changes keep no category"
            if note not in self.notes:
                self.notes.append(note)
        return found

    def read(self, item_ids: Sequence[str]) -> list[ItemTransition]:
        """Every status and assignee change of ``item_ids``, oldest first (then by issue and entry)."""
        ids = list(dict.fromkeys(item_ids))
        found: list[ItemTransition] = []
        for start in range(0, len(ids), CHANGELOG_ISSUES):
            batch = ids[start : start + CHANGELOG_ISSUES]

            def fetch(token: str | None, batch: list[str] = batch) -> dict[str, Any]:
                return self._retrying(
                    partial(self._client.changelog_page, batch, HISTORY_FIELDS, token, CHANGELOG_PAGE)
                )

            for page in cursor_pages(fetch, tracker=TRACKER, what="changelog"):
                found.extend(parse_changelogs(page, self.category))
        return oldest_first(found)

    def close(self) -> None:
        """Close its HTTP session."""
        self._client.close()
