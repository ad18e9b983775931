"""Asana tasks' completion and assignee history, from each task's stories.

Asana has no bulk history: each task's stories are read page by page (``GET /tasks/{gid}/stories``),
oldest first. The first pages of ten tasks are asked in one ``POST /batch`` (Asana's Batch API, ten
actions a request: a tenth of the requests, each action still counted against the rate limit); a
task whose stories go on past that page is read on from its ``next_page`` offset alone (offset pages
through :func:`connectors.paging.offset_pages`, an offset seen twice is a loop). An action is
answered as the same request alone would be: a task deleted since it was listed (404) yields
nothing, any other refusal is that request's error. :data:`STORY_READERS` batches run at a time
(:class:`connectors.reader_pool.ReaderPool`), each reader thread with an HTTP client of its own.
Asana counts each GET action of a batch as a request in flight, 50 at most a token: three readers'
30, with the 10 of the listing's subtask batch running beside them, leave 10 for the server's other
reads. Every request still goes through the connector's retries (a 429's ``Retry-After`` is waited
out by the thread that got it; a batch retries only its refused actions).

``assigned`` and ``unassigned`` stories are assignee changes (an ``assigned`` story names the new
assignee; the previous one is the assignee of the story before it, nobody before the first),
``marked_complete`` and ``marked_incomplete`` are status changes between ``incomplete`` (todo) and
``completed`` (done); every other story (comments, project moves …) is skipped. Asana has no started
status: when a task was started is its ``start_on`` / ``start_at``, or else its assignment. A task
deleted since it was listed yields nothing; the configured projects have no stories to read.

:func:`parse_stories` is pure: a malformed story raises :class:`~v2mom.errors.FatalError` naming the
task, the story and what is wrong.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import partial
from typing import Any

from v2mom.connectors.asana.batch import Answer, Batch, chunks
from v2mom.connectors.asana.client import TRACKER, AsanaClient, action_error
from v2mom.connectors.asana.parse import STORY_FIELDS
from v2mom.connectors.entry_time import entry_time
from v2mom.connectors.paging import next_page_offset, offset_pages
from v2mom.connectors.reader_pool import ReaderPool
from v2mom.connectors.retry import Retrying
from v2mom.errors import FatalError, NotFoundError
from v2mom.models import ItemTransition, State, oldest_first

__all__ = ["COMPLETED", "INCOMPLETE", "AsanaHistory", "parse_stories"]

COMPLETED, INCOMPLETE = "completed", "incomplete"  # a task's two statuses, as status values
STORY_PAGE = 100  # Asana's largest page
STORY_READERS = 3  # batches of ten tasks read at once: 30 of Asana's 50 concurrent GETs a token
_COMPLETION = {
    "marked_complete": (INCOMPLETE, COMPLETED, State.DONE),
    "marked_incomplete": (COMPLETED, INCOMPLETE, State.TODO),
}


def _fail(where: str, problem: str) -> FatalError:
    return FatalError(f"malformed story {where}: {problem}", tracker=TRACKER)


def parse_stories(
    task: str, stories: Sequence[object], *, unnamed: list[str] | None = None
) -> list[ItemTransition]:
    """The completion and assignee changes among task ``task``'s ``stories`` (in Asana's order).

    An ``assigned`` story whose ``assignee`` is null (Asana's spec makes it conditional: an account
    removed from the workspace) is kept as an assignment to nobody, and its gid is added to
    ``unnamed``: the task's time is then nobody's, and the pass says how many there were.
    """
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
                ItemTransition(
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
            if person is None:  # the assignee is gone: nobody holds the task from here on
                if unnamed is not None:
                    unnamed.append(gid)
            else:
                new = person.get("gid") if isinstance(person, Mapping) else None
                if not isinstance(new, str) or not new:
                    raise _fail(where, "an 'assigned' story names no assignee gid")
        out.append(
            ItemTransition(
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
    """Reads task stories, :data:`STORY_READERS` tasks at a time, each reader thread through an
    :class:`AsanaClient` of its own made by ``new_client`` (see :class:`connectors.base.HistoryReader`);
    ``projects`` are the configured project gids."""

    def __init__(
        self,
        new_client: Callable[[], AsanaClient],
        retrying: Retrying,
        projects: Sequence[str],
        *,
        readers: int = STORY_READERS,
    ) -> None:
        """Read with the connector's retries; no thread or client is made before the first read."""
        self._retrying = retrying
        self._projects = set(projects)
        self._readers = ReaderPool(new_client, readers, "asana-stories")
        self._lock = threading.Lock()
        self.unnamed_assignments = 0  # assignment stories read that named nobody (parse_stories)

    def _stories(self, task: str, start: str) -> Iterator[object]:
        """Task ``task``'s stories from the page at offset ``start`` on, one request a page."""
        client = self._readers.client()

        def fetch(offset: str | None) -> Mapping[str, Any]:
            return self._retrying(
                partial(client.stories_page, task, opt_fields=STORY_FIELDS, limit=STORY_PAGE, offset=offset)
            )

        for body in offset_pages(fetch, tracker=TRACKER, what=f"stories of task {task}", start=start):
            yield from _page_stories(task, body)

    def _tasks(self, tasks: Sequence[str]) -> list[ItemTransition]:
        """The changes of ``tasks`` (at most ten): their first pages in one batch, the rest alone."""
        actions = [_first_page(task) for task in tasks]
        answers = Batch(self._readers.client(), self._retrying).run(actions)
        found: list[ItemTransition] = []
        unnamed: list[str] = []
        for task, answer in zip(tasks, answers, strict=True):
            stories = self._task_stories(task, answer)
            if stories is not None:
                found.extend(parse_stories(task, stories, unnamed=unnamed))
        if unnamed:
            with self._lock:
                self.unnamed_assignments += len(unnamed)
        return found

    def _task_stories(self, task: str, first: Answer) -> list[object] | None:
        """Every story of ``task`` from the answer to its first page (None: deleted since listed)."""
        if first.status == 404:
            return None  # the sync's events or census remove it
        if not 200 <= first.status < 300:
            raise action_error(first.status, first.body, first.retry_after)
        stories = _page_stories(task, first.body)
        following = next_page_offset(TRACKER)(first.body)
        if following is None:
            return stories
        try:
            return [*stories, *self._stories(task, following)]
        except NotFoundError:
            return None  # deleted between its pages

    def read(self, item_ids: Sequence[str]) -> list[ItemTransition]:
        """Every completion and assignee change of the tasks ``item_ids``, oldest first.

        The first failure (past the retries) is raised once its batch ends; the batches not started
        by then are not read.
        """
        tasks = [task for task in dict.fromkeys(item_ids) if task not in self._projects]
        return oldest_first(self._readers.run(self._tasks, chunks(tasks)))

    def close(self) -> None:
        """Stop the reader threads (once their requests end) and release their connections."""
        self._readers.close()


def _first_page(task: str) -> dict[str, Any]:
    """The ``/batch`` action asking for the first page of task ``task``'s stories."""
    return {
        "relative_path": f"/tasks/{task}/stories",
        "method": "get",
        "options": {"limit": STORY_PAGE, "fields": STORY_FIELDS.split(",")},
    }


def _page_stories(task: str, body: Mapping[str, Any]) -> list[object]:
    """The stories of one page of task ``task``'s stories."""
    data = body.get("data")
    if not isinstance(data, list):
        raise _fail(f"page of task {task}", "'data' is not a list")
    return data
