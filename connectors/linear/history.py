"""Linear issues' status and assignee history, from ``Issue.history`` (``IssueHistory`` entries).

Issues are read 50 ids a request (``issue_history.graphql``: ``issues(filter: {id: {in: …}})``, the
paged shape of the listings), each with its first page of history entries; an issue with more
entries is completed page by page with ``issue_history_page.graphql``. The connector reads
:data:`HISTORY_READERS` such batches at once (:class:`connectors.reader_pool.ReaderPool`): one
after the other, the history's requests of a sync outnumber its listing's and made the longer chain
of waits. Linear limits requests and query complexity per hour, not requests in flight. Both connections page
through :func:`connectors.paging.relay_pages` (a cursor seen twice is a loop). An entry names the
workflow state left by its id (``fromStateId``) and the one entered with its ``type`` (``toState``),
and the people by their ids (``fromAssigneeId`` / ``toAssigneeId``) when it changed them; an entry
that changed neither (a title, a label) is skipped. An id that is no issue (a project, a deleted
issue) yields nothing.

Linear prices a query before running it and refuses one over 10,000 points, each nested object a
point per row of every page above it: the ids are scalars (a tenth of a point) where an object
would cost a point per entry, and :data:`HISTORY_ISSUES` issues of :data:`HISTORY_FIRST` entries
keep one request near 8,000 points (the sandbox prices queries as Linear does).

:func:`parse_history` is pure: a malformed entry raises :class:`~v2mom.errors.FatalError` naming the
issue, the entry and what is wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import partial
from typing import Any

from v2mom.connectors.entry_time import entry_time
from v2mom.connectors.linear.parse import STATE_TYPES, TRACKER
from v2mom.connectors.paging import relay_pages
from v2mom.connectors.reader_pool import Spread, in_turn
from v2mom.errors import FatalError
from v2mom.models import ItemTransition, oldest_first

__all__ = [
    "HISTORY_FIRST",
    "HISTORY_ISSUES",
    "HISTORY_PAGE",
    "HISTORY_READERS",
    "LinearHistory",
    "parse_history",
]

HISTORY_ISSUES = 50  # issues per request (their first history pages nest in it)
HISTORY_FIRST = 40  # entries of each issue's first page, nested: 50 x 40 keeps a request near 8,000 points
HISTORY_PAGE = 50  # entries per page of one issue's rest (Linear's default)
HISTORY_READERS = 2  # batches read at once (connector.read_history)
Execute = Callable[[str, str, Mapping[str, Any]], dict[str, Any]]


def _fail(where: str, problem: str) -> FatalError:
    return FatalError(f"malformed history {where}: {problem}", tracker=TRACKER)


def _id(value: object, *, where: str, name: str) -> str | None:
    """The ``id`` of a nested object (None when the object is null); FatalError when it has none."""
    if value is None:
        return None
    found = value.get("id") if isinstance(value, Mapping) else None
    if not isinstance(found, str) or not found:
        raise _fail(where, f"'{name}' has no id")
    return found


def _scalar_id(entry: Mapping[str, Any], name: str, *, where: str) -> str | None:
    """Field ``name`` of ``entry``, an id or null; FatalError when it is anything else."""
    value = entry.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise _fail(where, f"'{name}' is not an id")
    return value


def parse_history(issue_id: str, entries: Sequence[object]) -> Iterator[ItemTransition]:
    """The status and assignee changes among ``entries`` (IssueHistory nodes) of issue ``issue_id``."""
    for entry in entries:
        if not isinstance(entry, Mapping):
            raise _fail(f"of issue {issue_id}", "an entry is not an object")
        entry_id = entry.get("id")
        if not isinstance(entry_id, str) or not entry_id:
            raise _fail(f"of issue {issue_id}", "an entry has no id")
        where = f"of issue {issue_id}, entry {entry_id}"
        at = entry_time(entry.get("createdAt"), name="createdAt", fail=partial(_fail, where))
        entered = entry.get("toState")
        if entered is not None:
            state_type = entered.get("type") if isinstance(entered, Mapping) else None
            if not isinstance(state_type, str):
                raise _fail(where, "'toState' has no type")
            yield ItemTransition(
                tracker=TRACKER,
                item_id=issue_id,
                event_id=entry_id,
                at=at,
                field="status",
                from_value=_scalar_id(entry, "fromStateId", where=where),
                to_value=_id(entered, where=where, name="toState"),
                to_category=STATE_TYPES.get(state_type),
            )
        before = _scalar_id(entry, "fromAssigneeId", where=where)
        after = _scalar_id(entry, "toAssigneeId", where=where)
        if before is not None or after is not None:
            yield ItemTransition(
                tracker=TRACKER,
                item_id=issue_id,
                event_id=entry_id,
                at=at,
                field="assignee",
                from_value=before,
                to_value=after,
            )


def _connection(value: object, *, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping) or not isinstance(value.get("nodes"), list):
        raise _fail(where, "the answer has no history.nodes list")
    return value


class LinearHistory:
    """Reads issue histories through ``execute`` (the connector's retries over a client of its own;
    see :class:`connectors.base.HistoryReader`), batch by batch through ``spread``."""

    def __init__(self, execute: Execute, spread: Spread = in_turn) -> None:
        """Run every request through ``execute(kind, query name, variables)`` (on the thread that
        reads the batch), the batches through ``spread`` (one after the other by default)."""
        self._execute = execute
        self._spread = spread

    def _rest(self, issue_id: str, after: str) -> Iterator[object]:
        """The entries of issue ``issue_id`` after cursor ``after``."""

        def fetch(cursor: str | None) -> Mapping[str, Any]:
            data = self._execute(
                "history", "issue_history_page", {"id": issue_id, "first": HISTORY_PAGE, "after": cursor}
            )
            issue = data.get("issue")
            return _connection(
                issue.get("history") if isinstance(issue, Mapping) else None, where=f"of issue {issue_id}"
            )

        for connection in relay_pages(
            fetch, tracker=TRACKER, what=f"history of issue {issue_id}", start=after
        ):
            yield from connection["nodes"]

    def read(self, item_ids: Sequence[str]) -> list[ItemTransition]:
        """Every state and assignee change of the issues ``item_ids``, oldest first."""
        ids = list(dict.fromkeys(item_ids))
        batches = [ids[start : start + HISTORY_ISSUES] for start in range(0, len(ids), HISTORY_ISSUES)]
        return oldest_first(self._spread(self._batch, batches))

    def _batch(self, batch: list[str]) -> list[ItemTransition]:
        """The changes of the issues ``batch`` (at most :data:`HISTORY_ISSUES`), in page order."""

        def fetch(after: str | None) -> Mapping[str, Any]:
            variables = {
                "ids": batch,
                "first": HISTORY_ISSUES,
                "after": after,
                "historyFirst": HISTORY_FIRST,
            }
            issues = self._execute("history", "issue_history", variables).get("issues")
            if not isinstance(issues, Mapping) or not isinstance(issues.get("nodes"), list):
                raise _fail("page", "the answer has no issues.nodes list")
            return issues

        found: list[ItemTransition] = []
        for connection in relay_pages(fetch, tracker=TRACKER, what="issue history"):
            for node in connection["nodes"]:
                issue_id = node.get("id") if isinstance(node, Mapping) else None
                if not isinstance(issue_id, str) or not issue_id:
                    raise _fail("page", "an issue has no id")
                history = _connection(node.get("history"), where=f"of issue {issue_id}")
                entries: list[object] = list(history["nodes"])
                info = history.get("pageInfo")
                if isinstance(info, Mapping) and info.get("hasNextPage"):
                    cursor = info.get("endCursor")
                    if not isinstance(cursor, str) or not cursor:
                        raise _fail(f"of issue {issue_id}", "a next page but no endCursor")
                    entries.extend(self._rest(issue_id, cursor))
                found.extend(parse_history(issue_id, entries))
        return found
