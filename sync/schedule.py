"""The reconcile schedule: an incremental sync every ``sync.reconcile_every`` inside ``v2mom serve``.

Webhooks are hints and can be missed (Asana's are at-most-once); this pass is what makes the store
converge on the trackers anyway. It always includes the id-only census, since a missed deletion is
caught by nothing else.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from v2mom.background import BackgroundLoop, secret_values
from v2mom.errors import V2momError
from v2mom.settings import Settings
from v2mom.store.database import Database
from v2mom.sync.runner import SyncResult
from v2mom.sync.service import run_sync

log = logging.getLogger(__name__)


def reconcile_pass(settings: Settings, store: Database) -> list[SyncResult]:
    """One reconcile pass: incremental sync of every tracker plus the deletion census."""
    return run_sync(settings, store, census=True)


class ReconcileThread:
    """Runs ``run_sync`` now and then every interval until stopped.

    A :class:`~v2mom.background.BackgroundLoop`: a failing pass is logged (a tracker error as one
    warning line, anything else with its traceback, secrets masked) and the next pass runs on
    schedule.
    """

    def __init__(
        self,
        settings: Settings,
        store: Database,
        *,
        on_result: Callable[[list[SyncResult]], None] | None = None,
        run: Callable[[Settings, Database], list[SyncResult]] | None = None,
    ) -> None:
        """Prepare; nothing runs until :meth:`start`."""
        self.settings, self.store, self.on_result = settings, store, on_result
        self._run_sync = run or reconcile_pass
        self.interval = settings.sync.reconcile_interval.total_seconds()
        self._loop = BackgroundLoop(
            "reconcile",
            self._pass,
            interval=self.interval,
            quiet_errors=(V2momError,),
            secrets=secret_values(settings),
            join_timeout=60,
            logger=log,
        )

    @property
    def passes(self) -> int:
        """Passes run so far, failed ones included."""
        return self._loop.steps

    def start(self) -> None:
        """Start the loop (a first pass runs immediately)."""
        self._loop.start()

    def stop(self) -> None:
        """Stop after the current pass."""
        self._loop.stop()

    def _pass(self) -> None:
        results = self._run_sync(self.settings, self.store)
        for result in results:
            log.info("reconcile: %s", result.summary())
        if self.on_result is not None:
            self.on_result(results)
