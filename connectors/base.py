"""The small Protocol every tracker connector implements, and the data it returns."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar, runtime_checkable

from v2mom.connectors.retry import call_with_retries
from v2mom.errors import TrackerError, UnreachableError
from v2mom.events import WebhookEvent
from v2mom.models import ItemTransition, WorkItem
from v2mom.settings import SyncSettings
from v2mom.vocabulary import (
    AppliedVocabulary,
    LinkWrite,
    TagWrite,
    TrackerVocabulary,
    VocabularyChange,
    WriteOutcome,
)

T = TypeVar("T")


@dataclass(frozen=True)
class Discovery:
    """What a connector learned about the tracker before syncing.

    ``effort_field`` is the field id used for points (Jira: discovered story-points field);
    ``time_zone`` is the zone in which the tracker interprets query date literals (Jira JQL).
    """

    effort_field: str | None = None
    time_zone: str = "UTC"
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Page:
    """One committed unit of a sync: the items of one API page, in the order served.

    ``removed`` names records the listing returned as archived or trashed (Linear), which are
    deletions to us; ``newest`` is the latest update time on the page, removed records included
    (the items' own times are used when it is None). ``cursor_safe`` False: the page is not part of
    the ordered listing the cursor follows (Linear projects), so it never moves the cursor.
    """

    items: list[WorkItem]
    api_calls: int = 1
    removed: tuple[str, ...] = ()
    newest: datetime | None = None
    cursor_safe: bool = True

    @property
    def latest(self) -> datetime | None:
        """The newest update time this page saw."""
        times = [item.updated_at for item in self.items]
        if self.newest is not None:
            times.append(self.newest)
        return max(times) if times else None


@dataclass
class CallCounter:
    """Counts API calls per kind, so tests and benchmarks can assert O(k / page size) behaviour.

    Safe to share between threads: a sync reads histories while the next pages are being fetched.
    """

    calls: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, kind: str, n: int = 1) -> None:
        """Record ``n`` calls of ``kind``."""
        with self._lock:
            self.calls[kind] = self.calls.get(kind, 0) + n

    @property
    def total(self) -> int:
        """All calls recorded."""
        return sum(self.calls.values())


class ItemReader(Protocol):
    """Anything that reads one item back from its tracker (every :class:`Connector` and
    :class:`TagWriter`)."""

    def get_item(self, item_id: str) -> WorkItem:
        """One item in scope by stable id; NotFoundError when gone, OutOfScopeError when outside."""
        ...


class Connector(Protocol):
    """A tracker, seen through the operations sync needs.

    ``iter_pages(since)`` yields pages of items updated at or after ``since`` (all items when
    ``since`` is None), ordered by update time so that a cursor can advance page by page.
    ``iter_ids()`` yields every stable id in scope (the census that detects deletions).
    ``get_item(id)`` returns one item *in scope* or raises NotFoundError: OutOfScopeError
    (:mod:`connectors.errors`, a NotFoundError) when the item exists but lies outside the configured
    JQL / teams / projects. Scope is part of the answer, not a separate check, so that no caller (the
    webhook worker above all) can fetch an item and forget to ask; each tracker checks it in the same
    request where it can (Jira: one ``search/jql`` for ``(<jql>) AND id = N``).

    ``ordered`` tells the runner whether pages come oldest update first across the whole listing
    (Jira, Linear): then the cursor may advance after every committed page. When False (Asana lists
    tasks in project order), the cursor advances only once the whole listing has been committed.
    """

    tracker: str
    scope: str  # what is synced (e.g. the JQL); a cursor belongs to one scope
    calls: CallCounter
    ordered: bool
    state: dict[str, Any]  # kept between runs by the runner (Asana: Events API sync tokens)
    warnings: list[str]  # what a run must surface although it succeeded
    needs_census: bool  # the connector saw something only a census can settle

    def discover(self) -> Discovery:
        """Learn fields, hierarchy, effort field and time zone."""
        ...

    def iter_pages(self, since: datetime | None) -> Iterator[Page]:
        """Items updated at or after ``since``, page by page, oldest first."""
        ...

    def iter_ids(self) -> Iterator[str]:
        """Every stable id in scope (ids only: cheap)."""
        ...

    def get_item(self, item_id: str) -> WorkItem:
        """One item in scope by stable id; NotFoundError when gone, OutOfScopeError when outside."""
        ...

    def close(self) -> None:
        """Release HTTP sessions."""
        ...


@runtime_checkable
class HistoryReader(Protocol):
    """A tracker whose items' status and assignee changes can be read (the people's-time measures).

    ``read_history(ids)`` returns every status and assignee change the tracker's history holds for
    the items with those stable ids, as :class:`~v2mom.models.ItemTransition` records, oldest first:
    Jira from ``POST /rest/api/3/changelog/bulkfetch`` (1,000 issues a request), Linear from
    ``Issue.history``, Asana from each task's stories. Ids the tracker does not know (deleted since,
    or not items with a history, as Asana projects) yield nothing. Reading again yields the same
    records (their :attr:`~v2mom.models.ItemTransition.identity` names them). A malformed answer is
    a FatalError naming the item and the entry. It may be called while the connector's pages are
    being fetched on another thread (:mod:`sync.prefetch`), so it uses an HTTP client of its own.
    """

    tracker: str

    def read_history(self, item_ids: Sequence[str]) -> list[ItemTransition]:
        """The status and assignee changes of the items ``item_ids``, oldest first."""
        ...


@runtime_checkable
class WebhookHistory(Protocol):
    """A tracker whose webhooks report the status and assignee changes they announce (Jira's
    ``changelog``, Linear's ``updatedFrom``; Asana's compact events carry no values).

    ``webhook_history(item_id, event)`` returns the changes ``event`` reports, as changes of the
    stored item ``item_id`` (the re-fetched item's stable id): Jira under the changelog entry's id,
    which a history read gives the same change; Linear under an id of the delivery's, until the
    next history read of the item replaces it. A payload the receiver accepted reads the same here.
    """

    tracker: str

    def webhook_history(self, item_id: str, event: WebhookEvent) -> list[ItemTransition]:
        """The status and assignee changes ``event`` reports of item ``item_id``."""
        ...


class ConnectorRuntime:
    """What every connector keeps besides its client: the retry policy, state kept between runs,
    warnings to surface and whether it asks for a census (see :class:`Connector`)."""

    def __init__(self, sync: SyncSettings | None, sleep: Callable[[float], None] = time.sleep) -> None:
        """Read the retry budget from ``sync`` (defaults when None); ``sleep`` is injectable for tests."""
        sync = sync if sync is not None else SyncSettings()
        self._max_retries = sync.max_retries
        self._max_wait = sync.max_retry_wait_seconds
        self._connect_timeout = sync.connect_timeout_seconds  # for the connector's client
        self._sleep = sleep
        self._answered = False  # whether the tracker has answered this connector yet
        self.state: dict[str, Any] = {}
        self.warnings: list[str] = []
        self.needs_census = False

    def _warn_once(self, notes: Iterable[str]) -> None:
        """Add each of ``notes`` to :attr:`warnings` unless it is there already (a reader's notes are
        handed over after each of its reads, and repeat what it said before)."""
        self.warnings.extend(note for note in notes if note not in self.warnings)

    def _retrying(self, fn: Callable[[], T]) -> T:
        """``fn()`` with the retries of :mod:`connectors.retry` (retriable errors only).

        A tracker that could not be reached is retried only once it has answered this connector
        (any answer, an error status too): before that, a wrong URL or a tracker that is down fails
        at once, naming the URL, instead of after the whole retry budget.
        """

        def attempt() -> T:
            try:
                result = fn()
            except UnreachableError:
                raise
            except TrackerError:
                self._answered = True  # it answered, if only with an error
                raise
            self._answered = True
            return result

        return call_with_retries(
            attempt,
            max_retries=self._max_retries,
            max_wait=self._max_wait,
            sleep=self._sleep,
            retry_unreachable=lambda: self._answered,
        )


@runtime_checkable
class VocabularyWriter(Protocol):
    """A tracker that can offer the plan's values and methods as choices (``v2mom trackers provision``).

    ``read_vocabulary()`` reads what the tracker offers now (:class:`~v2mom.vocabulary.TrackerVocabulary`:
    the ``V2MOM Value`` / ``V2MOM Method`` fields or the Linear ``Value`` / ``Method`` label groups,
    and their options with their tracker ids). ``apply_vocabulary(changes)`` makes the changes in
    order and returns, per kind, the option id that now offers each plan id it created, renamed or
    enabled. Disabling never deletes. A refusal raises the connector's typed error (AuthError for a
    missing permission) naming the step; what was applied before it stays applied, and the next
    ``read_vocabulary()`` sees it (so a re-run resumes: the diff is computed from the tracker).
    ``warnings`` are what the run met and went on past (Jira Data Center refusing to put a new field
    on its Default Screen), for the provisioning's output.
    """

    tracker: str
    warnings: list[str]

    def read_vocabulary(self) -> TrackerVocabulary:
        """What the tracker offers now, per kind."""
        ...

    def apply_vocabulary(self, changes: list[VocabularyChange]) -> AppliedVocabulary:
        """Make ``changes`` in order; the option ids now offering the plan ids they touched."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...


@runtime_checkable
class TagWriter(Protocol):
    """A tracker that v2mom-sync can write values, methods and links into (``v2mom writeback``).

    ``write_tags(writes)`` sets each item's ``V2MOM Value`` / ``V2MOM Method`` choice (Jira select
    fields, Asana enum fields, Linear group labels) in as few calls as the tracker allows: Jira bulk
    edit (up to 1,000 issues per request, same value), Asana ``/batch`` (10 actions per request),
    Linear ``issueBatchUpdate`` (up to 50 ids, same input). ``write_links(links)`` gives each item one
    link to its explanation page, created once and updated in place (a Jira remote link with a stable
    ``globalId``, an Asana external attachment, a Linear URL attachment). Both answer one
    :class:`~v2mom.vocabulary.WriteOutcome` per item, in order: an item the tracker refused (deleted,
    no permission, a locked field) carries the reason and the rest still go through; 429 /
    RATELIMITED are retried with the connector's back-off. A whole-run failure (bad credentials, the
    tracker unreachable) raises the connector's typed error instead. ``calls`` counts requests.
    ``get_item(id)`` reads an item back (as :class:`Connector` does): what a write left in the tracker
    is settled from what it holds, never assumed.
    """

    tracker: str
    calls: CallCounter

    def get_item(self, item_id: str) -> WorkItem:
        """One item in scope by stable id; NotFoundError when gone, OutOfScopeError when outside."""
        ...

    def write_tags(self, writes: Sequence[TagWrite]) -> list[WriteOutcome]:
        """Set or clear each item's value / method option; one outcome per write, in order."""
        ...

    def write_links(self, links: Sequence[LinkWrite]) -> list[WriteOutcome]:
        """Create or update each item's explanation link; one outcome per link, in order."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...
