"""Asana tasks' completion and assignee history, from each task's stories.

Asana has no bulk history: each task's stories are read page by page (``GET /tasks/{gid}/stories``,
offset pages through :func:`connectors.paging.offset_pages`, an offset seen twice is a loop), oldest
first. ``assigned`` and ``unassigned`` stories are assignee changes (an ``assigned`` story names the
new assignee; the previous one is the assignee of the story before it, nobody before the first),
``marked_complete`` and ``marked_incomplete`` are status changes between ``incomplete`` (todo) and
``completed`` (done); every other story (comments, project moves …) is skipped. Asana has no started
status: when a task was started is its ``start_on`` / ``start_at``, or else its assignment. A task
deleted since it was listed yields nothing; the configured projects have no stories to read.

:func:`parse_stories` is pure: a malformed story raises :class:`~v2mom.errors.FatalError` naming the
task, the story and what is wrong. It checks all that :class:`~v2mom.models.ItemTransition` requires
(an aware time), so its records are built without being validated a second time.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from functools import partial
from typing import Any

from v2mom.connectors.asana.client import TRACKER, AsanaClient
from v2mom.connectors.asana.parse import STORY_FIELDS
from v2mom.connectors.entry_time import entry_time
from v2mom.connectors.paging import offset_pages
from v2mom.connectors.retry import Retrying
from v2mom.errors import FatalError, NotFoundError
from v2mom.models import ItemTransition, State

__all__ = ["COMPLETED", "INCOMPLETE", "AsanaHistory", "parse_stories"]

COMPLETED, INCOMPLETE = "completed", "incomplete"  # a task's two statuses, as status values
STORY_PAGE = 100  # Asana's largest page
_COMPLETION = {
    "marked_complete": (INCOMPLETE, COMPLETED, State.DONE),
    "marked_incomplete": (COMPLETED, INCOMPLETE, State.TODO),
}


def _fail(where: str, problem: str) -> FatalError:
    return FatalError(f"malformed story {where}: {problem}", tracker=TRACKER)


def parse_stories(task: str, stories: Sequence[object]) -> list[ItemTransition]:
    """The completion and assignee changes among task ``task``'s ``stories`` (in Asana's order)."""
    out: list[ItemTransition] = []
    assignee: str | None = None
    for story in stories:
        if not isinstance(story, Mapping):
            raise _fail(f"of task {task}", "a story is not an object")
        gid = story.get("gid")
        if not isinstance(gid, str) or not gid:
            raise _fail(f"of task {task}", "a story has no gid")
        subtype = story.get("resource_subtype")
        if subtype not in _COMPLETION and subtype not in ("assigned", "unassigned"):
            continue
        where = f"{gid} of task {task}"
        at = entry_time(story.get("created_at"), name="created_at", fail=partial(_fail, where))
        if subtype in _COMPLETION:
            before, after, category = _COMPLETION[subtype]
            out.append(
                ItemTransition.model_construct(
                    tracker=TRACKER,
                    item_id=task,
                    event_id=gid,
                    at=at,
                    field="status",
                    from_value=before,
                    to_value=after,
                    to_category=category,
                )
            )
            continue
        new: str | None = None
        if subtype == "assigned":
            person = story.get("assignee")
            new = person.get("gid") if isinstance(person, Mapping) else None
            if not isinstance(new, str) or not new:
                raise _fail(where, "an 'assigned' story names no assignee gid")
        out.append(
            ItemTransition.model_construct(
                tracker=TRACKER,
                item_id=task,
                event_id=gid,
                at=at,
                field="assignee",
                from_value=assignee,
                to_value=new,
            )
        )
        assignee = new
    return out


class AsanaHistory:
    """Reads task stories through its own :class:`AsanaClient` (see
    :class:`connectors.base.HistoryReader`); ``projects`` are the configured project gids."""

    def __init__(self, client: AsanaClient, retrying: Retrying, projects: Sequence[str]) -> None:
        """Read through ``client`` with the connector's retries."""
        self._client = client
        self._retrying = retrying
        self._projects = set(projects)

    def _stories(self, task: str) -> Iterator[object]:
        def fetch(offset: str | None) -> Mapping[str, Any]:
            return self._retrying(
                partial(
                    self._client.stories_page, task, opt_fields=STORY_FIELDS, limit=STORY_PAGE, offset=offset
                )
            )

        for body in offset_pages(fetch, tracker=TRACKER, what=f"stories of task {task}"):
            data = body.get("data")
            if not isinstance(data, list):
                raise _fail(f"page of task {task}", "'data' is not a list")
            yield from data

    def read(self, item_ids: Sequence[str]) -> list[ItemTransition]:
        """Every completion and assignee change of the tasks ``item_ids``, oldest first."""
        found: list[ItemTransition] = []
        for task in dict.fromkeys(item_ids):
            if task in self._projects:
                continue
            try:
                stories = list(self._stories(task))
            except NotFoundError:
                continue  # deleted since it was listed: the sync's events or census remove it
            found.extend(parse_stories(task, stories))
        return sorted(found, key=lambda t: (t.at, t.item_id, t.event_id, t.field))

    def close(self) -> None:
        """Release its connections."""
        self._client.close()
