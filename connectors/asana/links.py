"""Asana explanation links: one external attachment per task to its explanation page.

Asana cannot edit an external attachment. *Ours* on a task is an ``external`` attachment whose
``view_url`` has the same path as the link's URL (the explanation page ``/items/asana/<key>``, so a
move of ``public_url`` to another host is recognised) or whose name is the link's title. Per task:
ours with the same URL is kept and nothing is sent; every other of ours is deleted *before* the new
one is created, so a task never holds two (a failed creation leaves none, and the next run creates
it). Listing and deleting go through ``/batch`` (:mod:`connectors.asana.batch`); creating cannot
(``POST /attachments`` is Asana's multipart upload endpoint, which the Batch API refuses), so it is
one request per created link, retried with the connector's back-off.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from v2mom.connectors.asana.batch import Answer, Batch, chunks, reason
from v2mom.connectors.asana.client import TRACKER, AsanaClient
from v2mom.connectors.paging import offset_pages
from v2mom.errors import RetriableError, TrackerError
from v2mom.vocabulary import LinkWrite, WriteOutcome

__all__ = ["ATTACHMENT_FIELDS", "AsanaLinks"]

ATTACHMENT_FIELDS = "name,resource_subtype,view_url"


class AsanaLinks:
    """Writes explanation links as external attachments (the ``write_links`` half of the
    connector's TagWriter). ``page_size`` is the ``limit`` of attachment listings."""

    def __init__(
        self,
        client: AsanaClient,
        batch: Batch,
        *,
        retrying: Callable[[Callable[[], Any]], Any],
        page_size: int = 100,
    ) -> None:
        """Nothing is sent until a write."""
        self._client = client
        self._batch = batch
        self._retrying = retrying
        self._page_size = min(max(page_size, 1), 100)

    def _more_attachments(self, parent: str, offset: str) -> Iterator[Mapping[str, Any]]:
        """The attachments of ``parent`` after the first page (read directly: pages follow offsets)."""

        def fetch(after: str | None) -> dict[str, Any]:
            page = partial(
                self._client.attachments_page,
                parent,
                opt_fields=ATTACHMENT_FIELDS,
                limit=self._page_size,
                offset=after,
            )
            result: dict[str, Any] = self._retrying(page)
            return result

        for body in offset_pages(fetch, tracker=TRACKER, what=f"attachments of task {parent}", start=offset):
            yield from (r for r in body.get("data") or [] if isinstance(r, Mapping))

    def _listed(self, link: LinkWrite, answer: Answer) -> list[Mapping[str, Any]]:
        records = [r for r in answer.body.get("data") or [] if isinstance(r, Mapping)]
        next_page = answer.body.get("next_page")
        offset = next_page.get("offset") if isinstance(next_page, Mapping) else None
        if isinstance(offset, str) and offset:
            records.extend(self._more_attachments(link.item_id, offset))
        return records

    @staticmethod
    def _ours(record: Mapping[str, Any], link: LinkWrite) -> bool:
        """True for the explanation link v2mom-sync made (see the module's docstring)."""
        if record.get("resource_subtype") != "external":
            return False
        url = record.get("view_url")
        same_page = isinstance(url, str) and urlsplit(url).path == urlsplit(link.url).path
        return same_page or record.get("name") == link.title

    def write_links(self, links: Sequence[LinkWrite]) -> list[WriteOutcome]:
        """Give each task one external attachment to its explanation page (created once, replaced
        when the URL changed, never two)."""
        outcomes: dict[int, WriteOutcome] = {}
        stale: list[tuple[int, str]] = []  # (link index, attachment gid) to delete
        create: list[int] = []
        listing = {
            "relative_path": "/attachments",
            "method": "get",
            "options": {"fields": ATTACHMENT_FIELDS.split(","), "limit": self._page_size},
        }
        for chunk in chunks(list(range(len(links)))):
            answers = self._batch.run([{**listing, "data": {"parent": links[i].item_id}} for i in chunk])
            for index, answer in zip(chunk, answers, strict=True):
                link = links[index]
                if not 200 <= answer.status < 300:
                    outcomes[index] = WriteOutcome(link.item_id, reason(link.item_id, link.key, answer))
                    continue
                ours = [r for r in self._listed(link, answer) if self._ours(r, link)]
                keep = next((r for r in ours if r.get("view_url") == link.url), None)
                stale.extend((index, str(r.get("gid"))) for r in ours if r is not keep)
                if keep is None:
                    create.append(index)
        self._delete(links, stale, outcomes)
        for index in create:
            if index not in outcomes:
                outcomes[index] = self._create(links[index])
        return [outcomes.get(i, WriteOutcome(links[i].item_id)) for i in range(len(links))]

    def _delete(
        self, links: Sequence[LinkWrite], stale: list[tuple[int, str]], outcomes: dict[int, WriteOutcome]
    ) -> None:
        """Delete the replaced attachments (a 404 is already gone); a failure is the link's error."""
        for chunk in chunks(stale):
            answers = self._batch.run(
                [{"relative_path": f"/attachments/{gid}", "method": "delete"} for _i, gid in chunk]
            )
            for (index, gid), answer in zip(chunk, answers, strict=True):
                if 200 <= answer.status < 300 or answer.status == 404 or index in outcomes:
                    continue
                link = links[index]
                outcomes[index] = WriteOutcome(
                    link.item_id, reason(link.item_id, link.key, answer, f" (deleting its old link {gid})")
                )

    def _create(self, link: LinkWrite) -> WriteOutcome:
        """Create the link; a refusal of this task (not of the token) is its outcome."""
        create = partial(self._client.create_external_attachment, link.item_id, url=link.url, name=link.title)
        try:
            self._retrying(create)
        except TrackerError as error:
            if isinstance(error, RetriableError) or error.status == 401:
                raise
            message = str(error).removeprefix(f"{TRACKER}: ")
            return WriteOutcome(link.item_id, f"task {link.key} ({link.item_id}): {message}")
        return WriteOutcome(link.item_id)
