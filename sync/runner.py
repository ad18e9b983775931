"""One sync pass of one tracker: pages upserted and committed with the cursor they cover.

Pages are grouped into transactions of about :data:`COMMIT_EVERY` items; the cursor commits in the
same transaction as the items it covers. It is the ``updated`` time of the newest item committed,
never later than the run's start, and the next run asks for ``updated >= cursor - overlap``;
upserts are idempotent, so an interrupted run resumes with nothing lost or duplicated. An id-only
census marks items the tracker no longer returns as deleted.

Each transaction is stored on a thread of its own while the next pages are read
(:mod:`sync.commits_behind`), one at a time and in order. A transaction that fails to commit stops
the pass at the next hand-over, and the history reads of every item not committed are dropped.

A connector that reads histories (:class:`~v2mom.connectors.base.HistoryReader`) has the status and
assignee changes of its items read as their pages arrive, :data:`HISTORY_EVERY` items at a time, on
a thread of its own while the next pages are fetched (:mod:`sync.history_reads`), and stored in the
transaction that commits them or a later one:
every item's on a full pass; on an incremental one only the items whose updated time moved since
their history was last read (an Asana task whose ``modified_at`` moved, whoever stored the item in
between: a webhook stores an item and at most the one change it reported, never its history read).
A read is the item's whole history: it replaces what was stored for the item (a Linear webhook's
provisional change included), so nothing counts twice. An item's changes commit with the
``history_reads`` row that marks them read, and the cursor commits only with the histories of the
items it covers, so a pass that fails reading a history keeps its items but leaves them unread, and
the cursor where the next pass finds them again.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from v2mom.clock import utcnow
from v2mom.connectors.base import Connector, HistoryReader
from v2mom.errors import V2momError
from v2mom.models import ItemTransition, WorkItem
from v2mom.store.database import Database
from v2mom.store.workers import WorkerLease
from v2mom.sync.commits_behind import CommitsBehind
from v2mom.sync.gc_pace import fewer_collections
from v2mom.sync.history_reads import HistoryReads, Taken
from v2mom.sync.prefetch import prefetch

log = logging.getLogger(__name__)
CENSUS_EVERY = timedelta(hours=1)
# Items per transaction: pages are grouped, the cursor commits with them. Each transaction rewrites
# every index page its items land on (the items' keys are in no order), so fewer, larger ones write
# far less: a 100,000-issue sync wrote 2.1 GB to SQLite at 1,000 items a transaction, 0.8 GB at 5,000.
COMMIT_EVERY = 5000
HISTORY_EVERY = 1000  # items whose histories are read together, as their pages arrive


@dataclass
class _Batch:
    """Pages read but not yet committed, and how many of their items' histories were asked for."""

    items: list[WorkItem] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    sent: int = 0  # items[:sent] have had their histories asked for
    reads: int = 0  # the history reads asked for them

    @property
    def size(self) -> int:
        return len(self.items) + len(self.removed)

    def unsent(self) -> list[WorkItem]:
        """The items whose histories are not asked for yet; they are counted as asked for now."""
        fresh = self.items[self.sent :]
        self.sent = len(self.items)
        self.reads += 1
        return fresh

    def renew(self) -> None:
        """Start the next transaction's batch (new lists: the commit of this one may still hold them)."""
        self.items, self.removed = [], []
        self.sent = self.reads = 0


@dataclass
class SyncResult:
    """What one pass did, for the summary line and the run log."""

    tracker: str
    kind: str
    upserted: int = 0
    seen: int = 0
    deleted: int = 0
    pages: int = 0
    api_calls: int = 0
    census: bool = False
    error: str | None = None
    calls: dict[str, int] = field(default_factory=dict)
    changed_ids: set[str] = field(default_factory=set)  # seen or deleted: what re-resolution must revisit
    histories: int = 0  # items whose status and assignee history was read
    transitions: int = 0  # the changes those histories held
    future_changes: int = 0  # of those, dated after they were stored: counted as made then
    completed_before_start: int = 0  # items seen marked complete before their own start
    warnings: list[str] = field(default_factory=list)  # surfaced although the pass succeeded

    @property
    def ok(self) -> bool:
        """True when the pass finished without error."""
        return self.error is None

    def summary(self) -> str:
        """One human line: ``jira: ok, 1200 items (1200 written), 3 deleted, 14 API calls``."""
        status = "ok" if self.ok else f"FAILED: {self.error}"
        census = ", census" if self.census else ""
        warnings = "".join(f"; warning: {w}" for w in self.warnings)
        return (
            f"{self.tracker}: {status} — {self.kind}, {self.seen} items seen ({self.upserted} written), "
            f"{self.deleted} deleted{census}, {self.api_calls} API calls{warnings}"
        )


ProgressFn = Callable[[int], None]


def future_changes_warning(count: int) -> str:
    """The warning of a pass whose histories held ``count`` changes dated after they were stored."""
    return (
        f"{count} status or assignee change(s) dated in the future (the tracker's clock ahead?): "
        "people's time counts each as made when it is computed, never a negative day"
    )


def completed_before_start_warning(count: int) -> str:
    """The warning of a pass that saw ``count`` items marked complete before their own start."""
    return (
        f"{count} item(s) marked complete before their own start date: people's time counts no day "
        "of work on them before they were completed, never a negative day"
    )


def completed_before_start(items: Sequence[WorkItem]) -> int:
    """How many of ``items`` were completed before their start (an Asana ``start_on`` / ``start_at``
    after ``completed_at``): history that contradicts itself, which people's time clamps to nothing."""
    return sum(
        1
        for item in items
        if item.started_at is not None
        and item.completed_at is not None
        and item.completed_at < item.started_at
    )


def sync_tracker(
    store: Database,
    connector: Connector,
    *,
    full: bool = False,
    overlap: timedelta = timedelta(minutes=5),
    census: bool | None = None,
    progress: ProgressFn | None = None,
    now: Callable[[], datetime] = utcnow,
    commit_every: int = COMMIT_EVERY,
) -> SyncResult:
    """Run one pass for ``connector``'s tracker; errors are recorded on the result, not raised.

    ``census`` None means: when ``full``, or when the last census is older than an hour.
    ``commit_every`` items (pages are not split) make one transaction. The run holds a lease of its
    own while it runs, so one left ``running`` by a killed process is marked interrupted by the next.
    """
    with WorkerLease(store.workers, "sync") as lease, fewer_collections():
        return _sync_tracker(store, connector, full, overlap, census, progress, now, commit_every, lease.id)


def _sync_tracker(
    store: Database,
    connector: Connector,
    full: bool,
    overlap: timedelta,
    census: bool | None,
    progress: ProgressFn | None,
    now: Callable[[], datetime],
    commit_every: int,
    owner: str,
) -> SyncResult:
    tracker = connector.tracker
    started = now()
    written_before = utcnow()  # the store's own clock, which stamps synced_at
    cursor = None if full else store.sync_state.get_cursor(tracker, connector.scope)
    since = cursor - overlap if cursor is not None else None
    result = SyncResult(tracker=tracker, kind="full" if since is None else "incremental")
    run_id = store.sync_state.start_run(tracker, result.kind, owner=owner)
    state: dict[str, Any] = store.sync_state.get_tracker_state(tracker)
    histories = HistoryReads(
        connector.read_history if isinstance(connector, HistoryReader) else _no_history,
        depth=2 * math.ceil(commit_every / HISTORY_EVERY),  # two transactions' worth of reads ahead
    )
    batch = _Batch()
    committer = CommitsBehind(on_committed=progress)
    try:
        connector.state = dict(state.get("connector") or {})
        discovery = connector.discover()
        state.update(
            effort_field=discovery.effort_field, time_zone=discovery.time_zone, notes=list(discovery.notes)
        )
        newest_seen: datetime | None = None
        listed: set[str] = set()  # on a full listing: every live id, so the census comes for free

        def commit(items: list[WorkItem], removed: list[str], taken: Taken) -> None:
            _store_pages(store, connector, items, removed, taken, result)
            if taken.error is not None:
                raise taken.error

        def read_histories(cursor_at: datetime | None = None) -> None:
            histories.submit(_unread(store, connector, batch.unsent(), full=since is None), cursor_at)

        def commit_batch() -> None:
            cursor_at = min(newest_seen, started) if connector.ordered and newest_seen is not None else None
            read_histories(cursor_at)
            items, removed, taken = batch.items, batch.removed, histories.take()
            committer.submit(partial(commit, items, removed, taken), items=len(items), reads=batch.reads)
            batch.renew()

        for page in prefetch(connector.iter_pages(since)):
            batch.items.extend(page.items)
            batch.removed.extend(page.removed)
            result.seen += len(page.items)
            result.completed_before_start += completed_before_start(page.items)
            result.changed_ids.update(item.id for item in page.items)
            result.changed_ids.update(page.removed)
            if since is None:
                listed.update(item.id for item in page.items)
            latest = page.latest if page.cursor_safe else None
            if latest is not None:
                newest_seen = latest if newest_seen is None else max(newest_seen, latest)
            result.pages += 1
            if batch.size >= commit_every:
                commit_batch()
            elif len(batch.items) - batch.sent >= HISTORY_EVERY:
                read_histories()
        commit_batch()
        committer.wait()
        commit([], [], histories.take(wait=True))
        if not connector.ordered and newest_seen is not None:
            store.sync_state.set_cursor(tracker, connector.scope, min(newest_seen, started))
        elif cursor is None and newest_seen is None:
            store.sync_state.set_cursor(tracker, connector.scope, started)
        last_census = state.get("last_census")
        due = last_census is None or started - datetime.fromisoformat(last_census) >= CENSUS_EVERY
        wanted = census if census is not None else (full or due)
        if wanted or connector.needs_census:
            if since is None and not connector.needs_census:
                gone = _mark_gone(store, tracker, listed, written_before)
            else:
                gone = _mark_gone(store, tracker, set(connector.iter_ids()), written_before)
            result.deleted += len(gone)
            result.changed_ids |= gone
            result.census = True
            state["last_census"] = started.isoformat()
        state["connector"] = connector.state
        store.sync_state.set_tracker_state(tracker, state)
    except V2momError as exc:
        _settle_in_flight(committer, tracker)
        # Their items are not committed: the next pass reads them.
        histories.drop_newest(batch.reads + committer.unsettled_reads)
        _keep_what_was_read(store, connector, histories, result)
        result.error = str(exc)  # said once, by the caller: the CLI's summary line, the reconcile's log
        log.info("sync of %s failed: %s", tracker, exc)
    finally:
        committer.close()
        histories.close()
        result.warnings = list(connector.warnings)
        if result.future_changes:
            result.warnings.append(future_changes_warning(result.future_changes))
        if result.completed_before_start:
            result.warnings.append(completed_before_start_warning(result.completed_before_start))
        result.calls = dict(connector.calls.calls)
        result.api_calls = connector.calls.total
        store.sync_state.finish_run(
            run_id,
            status="ok" if result.ok else "failed",
            upserted=result.upserted,
            deleted=result.deleted,
            api_calls=result.api_calls,
            error=result.error,
        )
    return result


def _store_pages(
    store: Database,
    connector: Connector,
    items: list[WorkItem],
    removed: list[str],
    taken: Taken,
    result: SyncResult,
) -> None:
    """Commit ``items``, ``removed`` and the histories ``taken`` (with the cursor they allow) in one
    transaction, counted on ``result``; nothing when there is nothing to commit."""
    if not (items or removed or taken.read or taken.cursor is not None):
        return
    written, deleted = store.sync_state.commit_pages(
        connector.tracker,
        items,
        removed,
        cursor=(connector.scope, taken.cursor) if taken.cursor is not None else None,
        transitions=taken.transitions,
        history_read=taken.read,
    )
    result.upserted += written
    result.deleted += deleted
    result.histories += len(taken.read)
    result.transitions += len(taken.transitions)
    stored_at = utcnow()
    result.future_changes += sum(1 for change in taken.transitions if change.at > stored_at)


def _settle_in_flight(committer: CommitsBehind, tracker: str) -> None:
    """On a pass that fails, wait for the transaction still committing; its own failure is logged
    (the pass's is the one reported) and its history reads counted as unsettled."""
    try:
        committer.wait()
    except V2momError as exc:
        log.info("sync of %s: the transaction committing when it failed did not commit: %s", tracker, exc)


def _keep_what_was_read(
    store: Database, connector: Connector, histories: HistoryReads, result: SyncResult
) -> None:
    """On a pass that fails, store the histories read before the failure (the reads still running
    are waited for) with the cursor they allow, as a pass reading them in line would have."""
    try:
        _store_pages(store, connector, [], [], histories.take(wait=True), result)
    except V2momError as exc:  # the pass's own failure is the one reported
        log.info(
            "sync of %s: the histories read before it failed were not stored: %s", connector.tracker, exc
        )


def _no_history(item_ids: Sequence[str]) -> list[ItemTransition]:
    return []


def _unread(
    store: Database, connector: Connector, items: list[WorkItem], *, full: bool
) -> dict[str, datetime]:
    """The items among ``items`` whose status and assignee history must be read, each with the
    updated time it is read for (none when the connector reads no history).

    A full pass reads every item's; an incremental one only those whose updated time moved since
    their history was last read.
    """
    if not isinstance(connector, HistoryReader) or not items:
        return {}
    updated: dict[str, datetime] = {}
    for item in items:  # an item seen twice in one transaction: its newest reading
        updated[item.id] = max(item.updated_at, updated.get(item.id, item.updated_at))
    wanted = set(updated) if full else store.history.unread(connector.tracker, updated)
    return {item_id: updated[item_id] for item_id in sorted(wanted)}


def _mark_gone(store: Database, tracker: str, present: set[str], started: datetime) -> set[str]:
    """Mark stored items absent from ``present`` as deleted; returns their ids.

    Items written since the run started (a webhook, a concurrent sync) are left alone: the listing
    or census may have passed before they existed.
    """
    gone = store.items.live_ids(tracker, synced_before=started) - present
    store.items.mark_deleted(tracker, gone)
    return gone
