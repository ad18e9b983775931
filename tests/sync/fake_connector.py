"""An in-memory Connector for runner logic (cursor, resume, census) without HTTP.

HTTP-level behaviour (paging tokens, 429, time zones) is tested against the sandbox servers.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from v2mom.connectors.base import CallCounter, Discovery, Page
from v2mom.errors import NotFoundError, RetriableError
from v2mom.models import WorkItem


class FakeConnector:
    """Serves ``items`` ordered by (updated, id); can fail after a number of pages."""

    tracker = "jira"
    ordered = True
    scope = "fake"

    def __init__(self, items: list[WorkItem], *, page_size: int = 3, fail_after_pages: int | None = None):
        self.items = {i.id: i for i in items}
        self.page_size = page_size
        self.fail_after_pages = fail_after_pages
        self.calls = CallCounter()
        self.since_seen: list[datetime | None] = []
        self.state: dict[str, Any] = {}
        self.warnings: list[str] = []
        self.needs_census = False

    def discover(self) -> Discovery:
        self.calls.add("discover")
        return Discovery(effort_field="points", time_zone="UTC")

    def iter_pages(self, since: datetime | None) -> Iterator[Page]:
        self.since_seen.append(since)
        ordered = sorted(self.items.values(), key=lambda i: (i.updated_at, i.id))
        if since is not None:
            ordered = [i for i in ordered if i.updated_at >= since]
        for number, start in enumerate(range(0, len(ordered), self.page_size)):
            if self.fail_after_pages is not None and number >= self.fail_after_pages:
                raise RetriableError("connection reset", tracker="jira", status=503)
            self.calls.add("search")
            yield Page(items=ordered[start : start + self.page_size])

    def iter_ids(self) -> Iterator[str]:
        self.calls.add("census")
        yield from self.items

    def get_item(self, item_id: str) -> WorkItem:
        if item_id not in self.items:
            raise NotFoundError("gone", tracker="jira", status=404)
        return self.items[item_id]

    def close(self) -> None:
        self.calls.add("close")
