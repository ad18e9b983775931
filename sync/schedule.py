"""The reconcile schedule: an incremental sync every ``sync.reconcile_every`` inside ``v2mom serve``.

Webhooks are hints and can be missed (Asana's are at-most-once); this pass is what makes the store
converge on the trackers anyway. It always includes the id-only census, since a missed deletion is
caught by nothing else.

Several ``v2mom serve`` processes (hosts, or ``serve --workers N``) on one database run it once
cluster-wide: each pass takes the ``reconcile`` lock (``store.locks``: a PostgreSQL advisory lock,
a file lock beside an SQLite database) without waiting and, holding it, reads when the last pass
started and which trackers it synced, whoever ran it. It skips, logging at info, when another
instance holds the lock, or when the last pass started less than ``reconcile_every`` ago and
synced every tracker this instance has; otherwise it records its own start and runs. So the passes
of all instances together come about every ``reconcile_every``, never two at a time, however many
instances there are, and the store still converges while any of them is alive.

An instance's first pass, at start, looks back only ``STARTUP_WINDOW`` (or the interval, if
shorter): processes started together (``serve --workers N``, a deploy) run one pass between them,
while a restart after a while, or with a tracker the last pass did not sync, syncs at once, as a
single ``serve`` always did. Hosts' clocks are compared, as the leases already do: keep them in
sync (NTP).

After a pass in which every tracker synced, the instance that ran it calls ``after_pass`` with
today's date (the serve wiring closes the review periods that have ended); whatever it raises is
logged and the loop goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta

from v2mom.background import BackgroundLoop
from v2mom.clock import utcnow
from v2mom.errors import V2momError
from v2mom.settings import Settings
from v2mom.store.database import Database
from v2mom.sync.runner import SyncResult
from v2mom.sync.service import run_sync

log = logging.getLogger(__name__)
LOCK = "reconcile"
STATE_KEY = "reconcile"  # tracker_state row: when the last pass started, cluster-wide, and its trackers
STARTUP_WINDOW = timedelta(minutes=1)


def reconcile_pass(settings: Settings, store: Database) -> list[SyncResult]:
    """One reconcile pass: incremental sync of every tracker plus the deletion census."""
    return run_sync(settings, store, census=True)


class ReconcileThread:
    """Runs ``run_sync`` now and then every interval until stopped, once cluster-wide (see above).

    A :class:`~v2mom.background.BackgroundLoop`: a failing pass is logged (a tracker error as one
    warning line, anything else with its traceback, secrets masked) and the next pass runs on
    schedule. A pass skipped because another instance holds the lock or ran one recently counts in
    :attr:`skipped`, not in :attr:`passes`, and calls no ``on_result``.
    """

    def __init__(
        self,
        settings: Settings,
        store: Database,
        *,
        on_result: Callable[[list[SyncResult]], None] | None = None,
        run: Callable[[Settings, Database], list[SyncResult]] | None = None,
        after_pass: Callable[[date], object] | None = None,
    ) -> None:
        """Prepare; nothing runs until :meth:`start`."""
        self.settings, self.store, self.on_result = settings, store, on_result
        self.after_pass = after_pass
        self._run_sync = run or reconcile_pass
        self.interval = settings.sync.reconcile_interval.total_seconds()
        self._passes = 0
        self._skipped = 0
        self._first = True
        self._loop = BackgroundLoop(
            "reconcile",
            self._pass,
            interval=self.interval,
            quiet_errors=(V2momError,),
            secrets=settings.secrets(),
            join_timeout=60,
            logger=log,
        )

    @property
    def passes(self) -> int:
        """Passes run by this instance so far, failed ones included (skipped ones are not)."""
        return self._passes

    @property
    def skipped(self) -> int:
        """Passes skipped because another instance held the lock or had run one within the interval."""
        return self._skipped

    def start(self) -> None:
        """Start the loop (the first pass is tried at once)."""
        self._loop.start()

    def stop(self) -> None:
        """Stop after the current pass."""
        self._loop.stop()

    def _pass(self) -> None:
        """One step of the loop: a pass, or a skip; counted either way (a failure as a pass)."""
        ran = True  # unless it says it skipped: a pass that raises counts as a (failed) pass
        try:
            ran = self._pass_unless_taken()
        finally:
            if ran:
                self._passes += 1
            else:
                self._skipped += 1

    def _pass_unless_taken(self) -> bool:
        """Run a pass unless another instance holds the lock or ran one recently enough."""
        first, self._first = self._first, False
        with self.store.locks.exclusive(LOCK) as acquired:
            if not acquired:
                log.info("reconcile: skipped, another instance is running a pass")
                return False
            now = utcnow()
            trackers = self.settings.trackers.configured()
            last = self.store.sync_state.get_tracker_state(STATE_KEY)
            if self._recent(last, now, trackers, first=first):
                log.info("reconcile: skipped, another instance started a pass at %s", last["last_started_at"])
                return False
            record = {"last_started_at": now.isoformat(), "trackers": trackers}
            self.store.sync_state.set_tracker_state(STATE_KEY, record)
            results = self._run_sync(self.settings, self.store)
        for result in results:  # a failure or a warning is the pass's own line, at warning level
            level = logging.INFO if result.ok and not result.warnings else logging.WARNING
            log.log(level, "reconcile: %s", result.summary())
        if self.on_result is not None:
            self.on_result(results)
        self._after_pass(results)
        return True

    def _after_pass(self, results: list[SyncResult]) -> None:
        """Call ``after_pass`` once every tracker synced; log what it raises, never stop the loop."""
        if self.after_pass is None:
            return
        if not all(result.ok for result in results):
            log.info("reconcile: review periods not closed after this pass: a tracker did not sync")
            return
        try:
            self.after_pass(utcnow().date())
        except Exception:
            log.exception("reconcile: closing ended review periods failed")

    def _recent(self, last: dict[str, object], now: datetime, trackers: list[str], *, first: bool) -> bool:
        """Whether the ``last`` pass recorded started within the window and synced ``trackers``."""
        started, synced = last.get("last_started_at"), last.get("trackers")
        if not isinstance(started, str) or not isinstance(synced, list) or not set(trackers) <= set(synced):
            return False
        window = self.interval if not first else min(self.interval, STARTUP_WINDOW.total_seconds())
        return (now - datetime.fromisoformat(started)).total_seconds() < window
