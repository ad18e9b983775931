"""Linear explanation links: one URL attachment per issue to its explanation page.

Our attachments are marked by their subtitle :data:`MARKER` (and ``metadata.source``), so that they
are found again whatever their url. For up to 50 issues at a time:

1. one ``issues`` query (``link_attachments``) returns the issues with our attachments; for an id it
   does not return, one ``write_targets`` query tells a project (Linear's projects take no
   attachments: its outcome is ``unsupported``) from a deleted or archived issue;
2. an issue already holding exactly the wanted (url, title), and nothing else of ours, costs nothing
   more; for the others, ``attachmentCreate`` copies (aliased, :data:`ALIASES` per request):
   Linear keeps one attachment per (issue, url), so this creates the link or updates it in place;
3. ``attachmentDelete`` copies remove our attachments with another url (the key or ``public_url``
   changed: an attachment's url cannot be updated). Deleting after creating never leaves an issue
   without its link; one already gone is fine.

A copy Linear refuses (say, the issue was deleted meanwhile) becomes that issue's outcome, and the
copies after it are sent again (GraphQL stops a mutation at the failed field).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from v2mom.connectors.linear.client import Aliased
from v2mom.connectors.linear.parse import TRACKER
from v2mom.connectors.linear.targets import GONE, PROJECT, Execute, chunks, item_error, not_issues, reason
from v2mom.errors import FatalError, NotFoundError, TrackerError
from v2mom.vocabulary import LinkWrite, WriteOutcome

__all__ = ["ALIASES", "BATCH", "LINKS", "MARKER", "LinearLinks"]

LINKS = "links"  # the request kind counted in ``calls``
MARKER = "v2mom-sync"  # the subtitle of our attachments
ALIASES = 25  # mutation copies per request: well inside Linear's complexity limit
BATCH = 50  # issues whose attachments one link_attachments query reads

Pages = Callable[
    [str, str, tuple[str, ...], Mapping[str, Any]], Iterator[tuple[list[Mapping[str, Any]], int]]
]
ExecuteAliased = Callable[[str, str, Sequence[Mapping[str, Any]]], Aliased]
Job = tuple[int, dict[str, Any]]  # (the link's index, the copy's variables)


class LinearLinks:
    """Writes explanation links through the connector's retrying ``pages`` and ``execute_aliased``."""

    def __init__(self, execute: Execute, pages: Pages, execute_aliased: ExecuteAliased) -> None:
        """``execute_aliased(kind, name, variables)`` runs copies of one mutation in one request."""
        self._execute = execute
        self._pages = pages
        self._aliased = execute_aliased

    def write_links(self, links: Sequence[LinkWrite]) -> list[WriteOutcome]:
        """Give each issue one explanation link, created once and replaced when its url changes."""
        errors: dict[int, str] = {}
        unsupported: set[int] = set()  # projects: they take no attachments
        for offset in range(0, len(links), BATCH):
            chunk = links[offset : offset + BATCH]
            ours = self._ours(sorted({link.item_id for link in chunk}))
            creates: list[Job] = []
            deletes: list[tuple[int, str]] = []
            missing: list[int] = []
            for n, link in enumerate(chunk, start=offset):
                if link.item_id not in ours:
                    missing.append(n)
                    continue
                existing = ours[link.item_id]
                if not any(a.get("url") == link.url and a.get("title") == link.title for a in existing):
                    creates.append((n, {"input": _attachment(link)}))
                deletes.extend((n, str(a.get("id"))) for a in existing if a.get("url") != link.url)
            if missing:
                absent = not_issues(self._execute, LINKS, [links[n].item_id for n in missing])
                errors.update({n: f"{links[n].key}: {absent.get(links[n].item_id, GONE)}" for n in missing})
                unsupported.update(n for n in missing if absent.get(links[n].item_id) == PROJECT)
            errors.update(self._run("link_create", "attachmentCreate", creates, links))
            jobs = [(n, {"id": aid}) for n, aid in deletes if n not in errors]
            errors.update(self._run("link_delete", "attachmentDelete", jobs, links, gone_ok=True))
        return [
            WriteOutcome(link.item_id, errors.get(n), unsupported=n in unsupported)
            for n, link in enumerate(links)
        ]

    def _ours(self, ids: list[str]) -> dict[str, list[Mapping[str, Any]]]:
        """Per live issue id among ``ids``, our attachments on it (one ``issues`` query per 50)."""
        found: dict[str, list[Mapping[str, Any]]] = {}
        variables = {"ids": ids, "first": BATCH, "marker": MARKER}
        for nodes, _ in self._pages(LINKS, "link_attachments", ("issues",), variables):
            for node in nodes:
                attachments = node.get("attachments")
                listed = attachments.get("nodes") if isinstance(attachments, Mapping) else None
                if isinstance(node.get("id"), str):
                    found[node["id"]] = [a for a in listed or [] if isinstance(a, Mapping)]
        return found

    def _run(
        self, name: str, field: str, jobs: list[Job], links: Sequence[LinkWrite], *, gone_ok: bool = False
    ) -> dict[int, str]:
        """Run ``jobs`` as aliased copies of mutation ``name``; the error per link index that failed.

        ``gone_ok``: a copy refused as not found is fine (deleting what is already gone).
        """
        errors: dict[int, str] = {}
        for batch in chunks(jobs, ALIASES):
            pending = list(batch)
            while pending:
                result = self._aliased(LINKS, name, [variables for _, variables in pending])
                for (n, _), data in zip(pending, result.data, strict=False):
                    payload = data.get(field)
                    if data and (not isinstance(payload, Mapping) or payload.get("success") is not True):
                        errors.setdefault(n, f"{links[n].key}: Linear did not confirm the link")
                if result.failed is None:
                    break
                n = pending[result.failed][0]
                error = result.error or FatalError("refused", tracker=TRACKER)
                if not (gone_ok and isinstance(error, NotFoundError)):
                    _refuse(errors, n, links[n].key, error)
                pending = pending[result.failed + 1 :]
        return errors


def _refuse(errors: dict[int, str], n: int, key: str, error: TrackerError) -> None:
    """Record ``error`` as link ``n``'s outcome, unless it is one for the whole run (then raise)."""
    if not item_error(error):
        raise error
    errors.setdefault(n, f"{key}: {reason(error)}")


def _attachment(link: LinkWrite) -> dict[str, Any]:
    """The ``AttachmentCreateInput`` of ``link``, marked as ours."""
    return {
        "issueId": link.item_id,
        "url": link.url,
        "title": link.title,
        "subtitle": MARKER,
        "metadata": {"source": MARKER, "key": link.key},
    }
