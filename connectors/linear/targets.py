"""Which ids a Linear write can reach, and how an item's refusal is told from the whole run's.

Tags and links both go to issues only: before writing, one ``write_targets`` query per 250 ids
finds the ids that are not live issues: a project (Linear's epics take project labels and no
attachments: its outcome is ``unsupported``) or a deleted / archived issue, whose outcome is set
without sending anything. A refusal that concerns the items of a call (not found, invalid input,
permission denied on a team) becomes their outcome; rate limits once the connector's retries are
spent, and failed authentication (a bad key fails every call), concern the whole run and raise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from v2mom.connectors.linear.client import is_authentication_failure
from v2mom.connectors.linear.parse import TRACKER
from v2mom.errors import FatalError, RetriableError, TrackerError

__all__ = ["GONE", "PROJECT", "TARGETS", "Execute", "chunks", "item_error", "not_issues", "reason"]

TARGETS = 250  # ids checked per write_targets query
GONE = "not found (deleted or archived)"
PROJECT = "a Linear project: projects hold project labels, not the Value / Method issue labels"

Execute = Callable[[str, str, Mapping[str, Any]], dict[str, Any]]


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    """``items`` in consecutive slices of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def reason(error: TrackerError) -> str:
    """The error's message without the ``linear: `` prefix (the outcome names the item instead)."""
    text = str(error)
    prefix = f"{TRACKER}: "
    return text[len(prefix) :] if text.startswith(prefix) else text


def item_error(error: TrackerError) -> bool:
    """Whether ``error`` concerns the items of a call rather than the whole run."""
    return not isinstance(error, RetriableError) and not is_authentication_failure(error)


def not_issues(execute: Execute, kind: str, ids: Sequence[str]) -> dict[str, str]:
    """Why each of ``ids`` that is not a live issue cannot be written: a project, or gone.

    One ``write_targets`` query per 250 ids (Linear's largest page, so one page answers it).
    """
    absent: dict[str, str] = {}
    for chunk in chunks(sorted(set(ids)), TARGETS):
        data = execute(kind, "write_targets", {"ids": list(chunk), "first": TARGETS})
        found: dict[str, set[str]] = {}
        for field in ("issues", "projects"):
            connection = data.get(field)
            nodes = connection.get("nodes") if isinstance(connection, Mapping) else None
            info = connection.get("pageInfo") if isinstance(connection, Mapping) else None
            if not isinstance(nodes, list) or not isinstance(info, Mapping) or info.get("hasNextPage"):
                raise FatalError(f"write_targets: a malformed {field} answer", tracker=TRACKER)
            found[field] = {n["id"] for n in nodes if isinstance(n, Mapping) and isinstance(n.get("id"), str)}
        for item_id in chunk:
            if item_id in found["projects"]:
                absent[item_id] = PROJECT
            elif item_id not in found["issues"]:
                absent[item_id] = GONE
    return absent
