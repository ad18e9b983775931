"""Linear write-back (issue 12): group labels on issues, and one URL attachment per issue.

**Tags.** A :class:`~v2mom.vocabulary.TagWrite` selects, per kind, a child label of the workspace
label group ``Value`` / ``Method`` (or clears the kind). Writes with the same ``options`` share one
``IssueUpdateInput`` and go out in ``issueBatchUpdate`` calls of at most 50 ids: ``addedLabelIds`` is
the chosen labels, ``removedLabelIds`` every other label of the groups written (retired ones
included), so an issue never holds two labels of one group, as Linear requires, and a cleared kind
loses all of its group's labels. The group's labels come from the vocabulary, read once per
connector (again once when a write names a label it does not know).

Linear fails a whole batch when one id is unknown (a deleted issue) and does not say which: such a
batch is split in halves, each tried again, down to single issues, so the good ones land in
``O(log 50)`` extra calls per bad issue and the bad one gets a
:class:`~v2mom.vocabulary.WriteOutcome` naming its key. What splitting cannot fix raises: rate limits
once the connector's retries are spent, and failed authentication (a bad key fails every call). A
refusal of one issue (not found, invalid input, permission denied on its team) is its outcome.

**Links.** Each issue gets one URL attachment to its explanation page, marked as ours by its subtitle
:data:`MARKER` (and ``metadata.source``). Up to 50 issues are read in one ``issues`` query with their
marked attachments: an issue already holding exactly the wanted (url, title) costs nothing more;
otherwise ``attachmentCreate`` (which updates the attachment with the same (issue, url) in place),
then ``attachmentDelete`` of our attachments with another url (an attachment's url cannot be
changed; deleting after creating never leaves an issue without its link). An issue the query does not
return is deleted or archived: its outcome says so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from v2mom.connectors.linear.client import is_authentication_failure
from v2mom.connectors.linear.parse import TRACKER
from v2mom.errors import FatalError, NotFoundError, RetriableError, TrackerError
from v2mom.vocabulary import (
    KINDS,
    LABEL_GROUPS,
    Kind,
    LinkWrite,
    TagWrite,
    TrackerVocabulary,
    WriteOutcome,
)

__all__ = ["BATCH", "LINKS", "MARKER", "TAGS", "LinearWriteBack", "NotProvisionedError"]

BATCH = 50  # issueBatchUpdate takes at most 50 ids; links are read 50 issues at a time
TAGS = "writeback"  # the request kinds counted in ``calls``
LINKS = "links"
MARKER = "v2mom-sync"  # the subtitle of our attachments

Execute = Callable[[str, str, Mapping[str, Any]], dict[str, Any]]
Pages = Callable[
    [str, str, tuple[str, ...], Mapping[str, Any]], Iterator[tuple[list[Mapping[str, Any]], int]]
]


class NotProvisionedError(FatalError):
    """The ``Value`` / ``Method`` label groups are missing: nothing can be written until provisioned."""


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _reason(error: TrackerError) -> str:
    """The error's message without the ``linear: `` prefix (the outcome names the item instead)."""
    text = str(error)
    prefix = f"{TRACKER}: "
    return text[len(prefix) :] if text.startswith(prefix) else text


def _item_error(error: TrackerError) -> bool:
    """Whether ``error`` concerns the items of a call rather than the whole run."""
    return not isinstance(error, RetriableError) and not is_authentication_failure(error)


class LinearWriteBack:
    """Writes labels and links through the connector's retrying ``execute`` and ``pages``."""

    def __init__(self, execute: Execute, pages: Pages, vocabulary: Callable[[], TrackerVocabulary]) -> None:
        """``vocabulary()`` reads the label groups (the connector's ``read_vocabulary``)."""
        self._execute = execute
        self._pages = pages
        self._read = vocabulary
        self._groups: dict[Kind, tuple[str, ...]] | None = None

    # -- tags -----------------------------------------------------------------------------------

    def _group_labels(self, refresh: bool = False) -> dict[Kind, tuple[str, ...]]:
        """Per kind, the ids of every label of its group (read once; again with ``refresh``)."""
        if self._groups is None or refresh:
            vocabulary = self._read()
            missing = [LABEL_GROUPS[k] for k in KINDS if vocabulary.containers.get(k) is None]
            if missing:
                raise NotProvisionedError(
                    f"no label group {' / '.join(missing)} in the workspace: "
                    "run `v2mom trackers provision --apply` first",
                    tracker=TRACKER,
                )
            self._groups = {k: tuple(o.option_id for o in vocabulary.options[k]) for k in KINDS}
        return self._groups

    def _input(self, options: Mapping[Kind, str | None]) -> tuple[list[str], list[str]] | str:
        """(added, removed) label ids for ``options``, or why they cannot be written."""
        groups = self._group_labels()
        if any(o is not None and o not in groups[k] for k, o in options.items()):
            groups = self._group_labels(refresh=True)
        added: list[str] = []
        removed: list[str] = []
        for kind, option in options.items():
            if option is not None and option not in groups[kind]:
                return f"label {option} is not a label of the '{LABEL_GROUPS[kind]}' group"
            if option is not None:
                added.append(option)
            removed.extend(label for label in groups[kind] if label != option)
        return added, removed

    def write_tags(self, writes: Sequence[TagWrite]) -> list[WriteOutcome]:
        """Set or clear each issue's group labels (batches of 50 per same input); outcomes in order."""
        outcomes: dict[int, WriteOutcome] = {}
        by_input: dict[tuple[tuple[Kind, str | None], ...], list[int]] = {}
        for index, write in enumerate(writes):
            by_input.setdefault(tuple(sorted(write.options.items())), []).append(index)
        for options, indexes in by_input.items():
            labels = self._input(dict(options)) if options else ([], [])
            if isinstance(labels, str):
                outcomes.update(
                    {i: WriteOutcome(writes[i].item_id, f"{writes[i].key}: {labels}") for i in indexes}
                )
                continue
            added, removed = labels
            for chunk in _chunks(indexes, BATCH):
                if not added and not removed:
                    outcomes.update({i: WriteOutcome(writes[i].item_id) for i in chunk})
                    continue
                for i, error in self._batch([writes[i] for i in chunk], added, removed):
                    outcomes[chunk[i]] = WriteOutcome(writes[chunk[i]].item_id, error)
        return [outcomes[i] for i in range(len(writes))]

    def _batch(
        self, writes: Sequence[TagWrite], added: list[str], removed: list[str]
    ) -> Iterator[tuple[int, str | None]]:
        """(index, error) per write: one ``issueBatchUpdate``; halves again when Linear refuses it."""
        variables = {"ids": [w.item_id for w in writes], "added": added, "removed": removed}
        failure: TrackerError | None = None
        try:
            data = self._execute(TAGS, "tags_batch_update", variables)
        except TrackerError as exc:
            if not _item_error(exc):
                raise
            failure = exc
        else:
            payload = data.get("issueBatchUpdate")
            if not isinstance(payload, Mapping) or payload.get("success") is not True:
                failure = FatalError("Linear did not confirm the label change", tracker=TRACKER)
        if failure is None:
            yield from ((i, None) for i in range(len(writes)))
        elif len(writes) == 1:
            yield 0, f"{writes[0].key}: {_reason(failure)}"
        else:
            half = len(writes) // 2
            yield from self._batch(writes[:half], added, removed)
            yield from ((half + i, e) for i, e in self._batch(writes[half:], added, removed))

    # -- links ----------------------------------------------------------------------------------

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

    def write_links(self, links: Sequence[LinkWrite]) -> list[WriteOutcome]:
        """Give each issue one explanation link, created once and replaced when its url changes."""
        outcomes: list[WriteOutcome] = []
        for chunk in _chunks(links, BATCH):
            ours = self._ours(sorted({link.item_id for link in chunk}))
            for link in chunk:
                if link.item_id not in ours:
                    outcomes.append(
                        WriteOutcome(link.item_id, f"{link.key}: not found (deleted or archived)")
                    )
                    continue
                outcomes.append(WriteOutcome(link.item_id, self._link(link, ours[link.item_id])))
        return outcomes

    def _link(self, link: LinkWrite, existing: list[Mapping[str, Any]]) -> str | None:
        """Make ``existing`` exactly one attachment with the link's url and title; the error or None."""
        current = [a for a in existing if a.get("url") == link.url]
        stale = [a for a in existing if a.get("url") != link.url]
        try:
            if not current or any(a.get("title") != link.title for a in current):
                variables = {
                    "input": {
                        "issueId": link.item_id,
                        "url": link.url,
                        "title": link.title,
                        "subtitle": MARKER,
                        "metadata": {"source": MARKER, "key": link.key},
                    }
                }
                payload = self._execute(LINKS, "link_create", variables).get("attachmentCreate")
                if not isinstance(payload, Mapping) or payload.get("success") is not True:
                    return f"{link.key}: Linear did not confirm the link"
            for attachment in stale:
                self._delete(attachment)
        except TrackerError as exc:
            if not _item_error(exc):
                raise
            return f"{link.key}: {_reason(exc)}"
        return None

    def _delete(self, attachment: Mapping[str, Any]) -> None:
        """Delete one of our outdated attachments; one already gone is fine."""
        try:
            self._execute(LINKS, "link_delete", {"id": attachment.get("id")})
        except NotFoundError:
            return
