"""Asana write-back (:class:`~v2mom.connectors.base.TagWriter`): enum values and explanation links.

**Values and methods** go through ``POST /batch``, 10 actions a request, each a
``PUT /tasks/{gid}`` with ``custom_fields: {<field gid>: <enum option gid or null>}`` (a list for a
``multi_enum`` field a team made before us). The field gids are those of the workspace fields
``V2MOM Value`` / ``V2MOM Method``, found as ``read_vocabulary`` finds them and kept for the
connector's life; absent fields raise :class:`FieldsNotProvisioned`. Each action's own answer
becomes the item's outcome: a deleted task (404), no permission (403), a task on none of the
projects holding the field (400: Asana refuses a field not on one of the task's projects, and a
subtask outside every project holds none) are errors naming the task, the rest are written.

**Links** are external attachments, which Asana cannot edit. *Ours* on a task is an ``external``
attachment whose ``view_url`` has the same path as the link's URL (the explanation page
``/items/asana/<key>``, so a move of ``public_url`` to another host is recognised) or whose name is
the link's title. Per task: ours with the same URL is kept and nothing is sent; every other of ours
is deleted *before* the new one is created, so a task never holds two (a failed creation leaves
none, and the next run creates it). Listing and deleting go through ``/batch``; creating cannot
(``POST /attachments`` is Asana's multipart upload endpoint, which the Batch API refuses), so it is
one request per created link.

Retries: a 429 (or 5xx) of ``/batch`` itself, and actions answered 429 / 5xx inside a batch, are
retried with the connector's back-off; only the actions still pending are sent again. A 401 (the
token) fails the whole run with :class:`~v2mom.errors.AuthError`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar
from urllib.parse import urlsplit

from v2mom.connectors.asana.client import TRACKER, AsanaClient, error_messages
from v2mom.connectors.asana.write import AsanaVocabulary
from v2mom.connectors.paging import offset_pages
from v2mom.connectors.retry import parse_retry_after
from v2mom.errors import AuthError, FatalError, RetriableError, TrackerError
from v2mom.vocabulary import FIELD_NAMES, Kind, LinkWrite, TagWrite, WriteOutcome

__all__ = ["BATCH_SIZE", "AsanaWriteBack", "FieldsNotProvisioned"]

BATCH_SIZE = 10  # Asana's limit of actions per /batch request
ATTACHMENT_FIELDS = "name,resource_subtype,view_url"
NOT_ON_PROJECT = "is not on given object"
T = TypeVar("T")


class FieldsNotProvisioned(FatalError):
    """The ``V2MOM Value`` / ``V2MOM Method`` enum fields do not exist in the workspace yet."""


@dataclass(frozen=True)
class Answer:
    """One action's answer inside a batch."""

    status: int
    body: Mapping[str, Any]
    retry_after: float | None = None

    @property
    def retriable(self) -> bool:
        """Rate limited or a server error: worth sending again."""
        return self.status == 429 or self.status >= 500


def _chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), BATCH_SIZE):
        yield items[start : start + BATCH_SIZE]


def _answer(raw: Any) -> Answer:
    if not isinstance(raw, Mapping):
        return Answer(0, {})
    body, headers = raw.get("body"), raw.get("headers")
    body = body if isinstance(body, Mapping) else {}
    headers = headers if isinstance(headers, Mapping) else {}
    retry = {str(k).lower(): v for k, v in headers.items()}.get("retry-after")
    wait = parse_retry_after(retry if isinstance(retry, str) else None)
    return Answer(int(raw.get("status_code") or 0), body, wait)


def _reason(task: str, key: str, answer: Answer, hint: str = "") -> str:
    """Why the task's write was refused, naming the task."""
    detail = error_messages(answer.body) or "refused"
    return f"task {key} ({task}): HTTP {answer.status}: {detail}{hint}"


class AsanaWriteBack:
    """Writes enum values and links for :class:`~v2mom.connectors.asana.connector.AsanaConnector`.

    ``retrying`` is the connector's retry policy; ``page_size`` the ``limit`` of attachment listings.
    """

    def __init__(
        self,
        client: AsanaClient,
        vocabulary: AsanaVocabulary,
        *,
        workspace: str,
        retrying: Callable[[Callable[[], Any]], Any],
        page_size: int = 100,
    ) -> None:
        """Nothing is sent until a write."""
        self._client = client
        self._vocabulary = vocabulary
        self._workspace = workspace
        self._retrying = retrying
        self._page_size = min(max(page_size, 1), 100)
        self._fields: dict[Kind, tuple[str, str]] = {}

    # -- /batch ------------------------------------------------------------------------------------

    def _run(self, actions: list[dict[str, Any]]) -> list[Answer]:
        """The answers of ``actions`` (at most 10), retrying the batch and its retriable actions.

        A retried round sends only the actions still pending; when the retry budget is spent on
        actions, their last answers are returned (the batch request itself failing raises).
        """
        answers: list[Answer | None] = [None] * len(actions)

        def attempt() -> list[Answer]:
            pending = [i for i, a in enumerate(answers) if a is None or a.retriable]
            body = self._client.batch([actions[i] for i in pending])
            data = body.get("data")
            if not isinstance(data, list) or len(data) != len(pending):
                raise FatalError("batch: the answer does not hold one result per action", tracker=TRACKER)
            for index, raw in zip(pending, data, strict=True):
                answers[index] = _answer(raw)
            again = [a for a in answers if a is not None and a.retriable]
            if again:
                waits = [a.retry_after for a in again if a.retry_after is not None]
                raise RetriableError(
                    f"batch: {len(again)} action(s) answered HTTP {again[0].status}",
                    tracker=TRACKER,
                    status=again[0].status,
                    retry_after=max(waits) if waits else None,
                )
            return [a for a in answers if a is not None]

        try:
            result: list[Answer] = self._retrying(attempt)
        except RetriableError:
            if any(a is None for a in answers):
                raise
            result = [a for a in answers if a is not None]
        if any(a.status == 401 for a in result):
            raise AuthError(
                "authentication failed: check the personal access token", tracker=TRACKER, status=401
            )
        return result

    # -- values and methods ------------------------------------------------------------------------

    def _field(self, kind: Kind) -> tuple[str, str]:
        """The gid and type of the ``kind`` field (read once, then kept)."""
        if kind not in self._fields:
            self._fields.update(self._vocabulary.fields())
        if kind not in self._fields:
            raise FieldsNotProvisioned(
                f"the enum custom field '{FIELD_NAMES[kind]}' does not exist in workspace {self._workspace}:"
                " run `v2mom trackers provision --apply` first",
                tracker=TRACKER,
            )
        return self._fields[kind]

    def _values(self, write: TagWrite) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for kind, option in write.options.items():
            gid, subtype = self._field(kind)
            if subtype == "multi_enum":
                values[gid] = [option] if option is not None else []
            else:
                values[gid] = option
        return values

    def write_tags(self, writes: Sequence[TagWrite]) -> list[WriteOutcome]:
        """Set or clear each task's value / method option, 10 tasks per ``/batch`` request."""
        outcomes: dict[int, WriteOutcome] = {}
        todo = [(i, w) for i, w in enumerate(writes) if w.options]
        for i, write in enumerate(writes):
            if not write.options:
                outcomes[i] = WriteOutcome(write.item_id)
        actions = [
            {
                "relative_path": f"/tasks/{write.item_id}",
                "method": "put",
                "data": {"custom_fields": self._values(write)},
                "options": {"fields": ["gid"]},
            }
            for _i, write in todo
        ]
        for chunk in _chunks(list(range(len(todo)))):
            answers = self._run([actions[n] for n in chunk])
            for n, answer in zip(chunk, answers, strict=True):
                index, write = todo[n]
                if 200 <= answer.status < 300:
                    outcomes[index] = WriteOutcome(write.item_id)
                    continue
                hint = ""
                unsupported = NOT_ON_PROJECT in error_messages(answer.body)
                if unsupported:
                    hint = (
                        " (the field is on none of the task's projects: a subtask outside every"
                        " project, or a project not in trackers.asana.projects and not provisioned)"
                    )
                outcomes[index] = WriteOutcome(
                    write.item_id, _reason(write.item_id, write.key, answer, hint), unsupported=unsupported
                )
        return [outcomes[i] for i in range(len(writes))]

    # -- links -------------------------------------------------------------------------------------

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
        for chunk in _chunks(list(range(len(links)))):
            answers = self._run([{**listing, "data": {"parent": links[i].item_id}} for i in chunk])
            for index, answer in zip(chunk, answers, strict=True):
                link = links[index]
                if not 200 <= answer.status < 300:
                    outcomes[index] = WriteOutcome(link.item_id, _reason(link.item_id, link.key, answer))
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
        for chunk in _chunks(stale):
            answers = self._run(
                [{"relative_path": f"/attachments/{gid}", "method": "delete"} for _i, gid in chunk]
            )
            for (index, gid), answer in zip(chunk, answers, strict=True):
                if 200 <= answer.status < 300 or answer.status == 404 or index in outcomes:
                    continue
                link = links[index]
                outcomes[index] = WriteOutcome(
                    link.item_id, _reason(link.item_id, link.key, answer, f" (deleting its old link {gid})")
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
