"""Sync every configured tracker, each independently, then re-resolve once.

After a good pass of a tracker with write-back enabled, the items whose last write-back is still
unconfirmed (a run failed, was cut short or killed) are read back, so every sync, the scheduled
reconcile at start included, settles them from what the tracker holds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import timedelta

from v2mom.clock import utcnow
from v2mom.connectors.base import Connector
from v2mom.connectors.registry import build_connector
from v2mom.connectors.retry import RetryListener, retries_reported
from v2mom.errors import RetriableError, V2momError
from v2mom.metrics import RERESOLVE_SECONDS, SYNC_ITEMS, SYNC_RUNS
from v2mom.redaction import mask_url
from v2mom.settings import Settings
from v2mom.store.database import Database
from v2mom.store.resolution.run import remap, remap_changed
from v2mom.sync.runner import ProgressFn, SyncResult, sync_tracker
from v2mom.sync.writeback import read_back_pending, write_back_settings

log = logging.getLogger(__name__)


@contextmanager
def _progress(enabled: bool, tracker: str) -> Iterator[ProgressFn | None]:
    if not enabled:
        yield None
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), transient=True) as bar:
        task = bar.add_task(f"{tracker}: 0 items", total=None)
        seen = 0

        def advance(n: int) -> None:
            nonlocal seen
            seen += n
            bar.update(task, description=f"{tracker}: {seen} items")

        yield advance


def run_sync(
    settings: Settings,
    store: Database,
    *,
    tracker: str | None = None,
    full: bool = False,
    show_progress: bool = False,
    connectors: dict[str, Connector] | None = None,
    census: bool | None = None,
    notify: Callable[[str], None] | None = None,
) -> list[SyncResult]:
    """Sync the configured trackers (or just ``tracker``); a failing tracker does not stop the rest.

    ``census`` forces (True) or skips (False) the deletion census; None leaves it to the runner.
    ``notify`` gets a line as each tracker starts (naming the URL it talks to) and one per retry
    (the error and the wait), so that no wait is silent.
    """
    names = settings.trackers.selected(tracker)
    results: list[SyncResult] = []
    for name in names:
        if notify is not None:
            endpoint = settings.trackers.endpoint(name)
            notify(f"{name}: syncing from {mask_url(endpoint)}" if endpoint else f"{name}: syncing")
        with retries_reported(_retry_note(notify)) if notify is not None else nullcontext():
            results.append(_sync_one(settings, store, name, full, show_progress, connectors, census))
    if any(r.kind == "full" and (r.upserted or r.deleted) for r in results):
        with RERESOLVE_SECONDS.labels(trigger="sync").time():
            remap(store)
    elif any(r.changed_ids for r in results):
        with RERESOLVE_SECONDS.labels(trigger="sync").time():
            remap_changed(store, {r.tracker: r.changed_ids for r in results})
    store.people_shares.refresh(settings.calendar(), utcnow())  # people's time follows what was stored
    return results


def _retry_note(notify: Callable[[str], None]) -> RetryListener:
    def note(error: RetriableError, attempt: int, retries: int, wait: float) -> None:
        notify(f"{error}; retry {attempt}/{retries} in {wait:.1f}s")

    return note


def _sync_one(
    settings: Settings,
    store: Database,
    name: str,
    full: bool,
    show_progress: bool,
    connectors: dict[str, Connector] | None,
    census: bool | None,
) -> SyncResult:
    """One tracker's pass (and the read-back of its unconfirmed writes); errors are on the result."""
    try:
        connector = connectors[name] if connectors and name in connectors else build_connector(name, settings)
    except V2momError as exc:
        result = SyncResult(tracker=name, kind="full" if full else "incremental", error=str(exc))
        _count(result)
        return result
    try:
        with _progress(show_progress, name) as progress:
            result = sync_tracker(
                store,
                connector,
                full=full,
                overlap=timedelta(seconds=settings.sync.overlap_seconds),
                census=census,
                progress=progress,
            )
        _settle_writes(settings, store, connector, result)
        _count(result)
        return result
    finally:
        if connectors is None or name not in connectors:
            connector.close()


def _settle_writes(settings: Settings, store: Database, connector: Connector, result: SyncResult) -> None:
    """After a good pass of a tracker v2mom-sync writes into, read back the items whose last write
    is still unconfirmed (failed or cut short), so the store settles them from what the tracker
    holds; they are re-resolved with the pass's own changes. A failure is the pass's error."""
    if not result.ok or not write_back_settings(settings, result.tracker).enabled:
        return
    try:
        read, _missing = read_back_pending(store, result.tracker, connector)
    except V2momError as exc:
        result.error = f"reading back unconfirmed writes: {exc}"
        return
    result.changed_ids |= read


def _count(result: SyncResult) -> None:
    """One pass in the metrics: its outcome, and the items it read."""
    SYNC_RUNS.labels(tracker=result.tracker, outcome="ok" if result.ok else "failed").inc()
    SYNC_ITEMS.labels(tracker=result.tracker).inc(result.seen)
