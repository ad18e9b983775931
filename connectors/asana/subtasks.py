"""Asana subtasks, the first pages of ten parents' in one ``POST /batch``.

Subtasks are in no project listing: a full listing (and the census) asks each task that has some for
its own, ``GET /tasks/{gid}/subtasks``. One request a parent made a full sync wait on one round trip
after the other for every such task, thousands in a workspace where one task in six has subtasks.
The first pages of ten parents' subtasks are asked in one ``/batch`` request (Asana's Batch API: a
tenth of the round trips, each action still counted against the rate limit); a parent whose subtasks
go on past that page is read on from its ``next_page`` offset alone. The tree is read level by level:
the subtasks that have subtasks of their own are read with the rest of their level, after the level
above. An action is answered as the same request alone would be: any refusal is that request's
error (a parent deleted since it was listed is :class:`~v2mom.errors.NotFoundError`, as alone).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Protocol

from v2mom.connectors.asana.batch import Answer, Batch, chunks
from v2mom.connectors.asana.client import TRACKER, AsanaClient, action_error
from v2mom.connectors.asana.parse import listing_records
from v2mom.connectors.paging import next_page_offset

__all__ = ["OffsetPages", "SubtaskReader"]


class OffsetPages(Protocol):
    """The connector's offset listing: the records of each page ``fetch`` answers, from ``start``."""

    def __call__(
        self, fetch: Callable[[str | None], dict[str, Any]], *, what: str, start: str | None = None
    ) -> Iterator[list[Mapping[str, Any]]]:
        """Records page by page; ``what`` names the listing in its errors."""
        ...


class SubtaskReader:
    """Reads the subtasks below listed tasks through ``client`` and its ``batch``, ``page_size``
    subtasks a page; a longer list is read on through ``pages``, the connector's offset listing
    (its retries, its loop guard)."""

    def __init__(self, client: AsanaClient, batch: Batch, pages: OffsetPages, *, page_size: int) -> None:
        """Nothing is sent before :meth:`below`."""
        self._client = client
        self._batch = batch
        self._pages = pages
        self._page_size = page_size

    def below(
        self, parents: Sequence[Mapping[str, Any]], *, fields: str, kind: str
    ) -> Iterator[Mapping[str, Any]]:
        """Every subtask below ``parents`` (any depth), for those with subtasks (``num_subtasks``),
        each with ``fields``; ``kind`` names the requests made alone (``subtasks``, ``census``)."""
        level = [str(parent.get("gid")) for parent in parents if parent.get("num_subtasks")]
        while level:
            deeper: list[str] = []
            for group in chunks(level):
                answers = self._batch.run([self._action(parent, fields) for parent in group])
                for parent, answer in zip(group, answers, strict=True):
                    for child in self._children(parent, answer, fields=fields, kind=kind):
                        yield child
                        if child.get("num_subtasks"):
                            deeper.append(str(child.get("gid")))
            level = deeper

    def _action(self, parent: str, fields: str) -> dict[str, Any]:
        """The ``/batch`` action asking for the first page of ``parent``'s subtasks."""
        return {
            "relative_path": f"/tasks/{parent}/subtasks",
            "method": "get",
            "options": {"limit": self._page_size, "fields": fields.split(",")},
        }

    def _children(self, parent: str, first: Answer, *, fields: str, kind: str) -> Iterator[Mapping[str, Any]]:
        """``parent``'s subtasks: those of the answer to its first page, then the following pages."""
        if not 200 <= first.status < 300:
            raise action_error(first.status, first.body, first.retry_after)
        yield from listing_records(first.body)
        following = next_page_offset(TRACKER)(first.body)
        if following is None:
            return

        def fetch(offset: str | None) -> dict[str, Any]:
            return self._client.subtasks_page(
                parent, opt_fields=fields, limit=self._page_size, offset=offset, kind=kind
            )

        for records in self._pages(fetch, what=f"{kind} of task {parent}", start=following):
            yield from records
