"""What reading items' status and assignee history adds to a full sync, per tracker.

    python -m bench.history [--tracker jira|jira-datacenter|linear|asana|all] [--items 20000] [--runs 3]
                            [--latency MS]

Each sandbox runs in its own process (:mod:`bench.sandboxes`). The floor is the same full sync
with history reading hidden from the runner (the connector without its ``read_history``), measured
in the same run, alternating with the real one so both see the same machine: the ratio is the
median wall time with history over the median without. Each sync writes a fresh SQLite file (the
embedded default). Target (issue 22): at most 1.3x. Jira Data Center (``jira-datacenter``) reads its
histories with its listing (``expand=changelog`` on each page, a heavier answer than Cloud's bulk
changelog); its floor's listing asks for none. Pages hold what each tracker's settings hold by
default (Data Center 500 issues, the others 100).

By default the sandbox answers as soon as it has handled a request, on the same machine: both
processes then share its cores, and the ratio is the added CPU of reading histories, ours and the
sandbox's alike. ``--latency MS`` makes the sandbox answer every request that much later, as a
tracker across a network does (a real tracker's answers take longer still): the history reads then
overlap the page fetches as they do in production, and the ratio says how much of them does not.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from typing import Any

from bench.common import verdict
from bench.sandboxes import SandboxProcess, add_latency_option, latency_label
from bench.sync import CASES
from v2mom.connectors.base import Connector, HistoryReader
from v2mom.store.database import Database
from v2mom.sync.runner import SyncResult, sync_tracker

TARGET = 1.3


class WithoutHistory:
    """A connector as the runner sees it when it reads no history: everything but ``read_history``."""

    def __init__(self, connector: Connector) -> None:
        """Wrap ``connector`` (whose listings then carry no changelogs: Jira Data Center's)."""
        self._connector = connector
        list_changelogs = getattr(connector, "list_changelogs", None)
        if list_changelogs is not None:
            list_changelogs(False)

    def __getattr__(self, name: str) -> Any:
        if name == "read_history":
            raise AttributeError(name)
        return getattr(self._connector, name)


def timed_sync(connector: Connector | WithoutHistory) -> tuple[float, SyncResult]:
    """One full sync into a fresh SQLite store: its wall time and result."""
    with tempfile.TemporaryDirectory() as tmp:
        store = Database.open(f"sqlite:///{tmp}/bench.db")
        try:
            started = time.perf_counter()
            result = sync_tracker(store, connector, full=True, census=False)
            seconds = time.perf_counter() - started
            assert result.ok, result.error
            return seconds, result
        finally:
            store.close()


def bench_tracker(tracker: str, items: int, runs: int, latency: float = 0.0) -> float:
    """Alternate plain and history syncs ``runs`` times each, every request answered ``latency``
    seconds late; prints the lines, returns the ratio."""
    plain: list[float] = []
    with_history: list[float] = []
    with SandboxProcess(tracker, items, page_size=None) as sandbox:  # each tracker's default pages
        sandbox.set_latency(latency)
        for _ in range(runs):
            for times, hide in ((plain, True), (with_history, False)):
                connector, _raw = CASES[tracker](sandbox.section)
                assert isinstance(connector, HistoryReader)
                subject: Connector | WithoutHistory = WithoutHistory(connector) if hide else connector
                assert isinstance(subject, HistoryReader) != hide
                seconds, result = timed_sync(subject)
                times.append(seconds)
                connector.close()
                kind = "plain  " if hide else "history"
                print(
                    f"{tracker:6} {kind}: {result.seen:,} items, {result.histories:,} histories, "
                    f"{result.transitions:,} changes, {result.api_calls:,} API calls in {seconds:.1f} s"
                )
    ratio = statistics.median(with_history) / statistics.median(plain)
    late = latency_label(latency)
    print(
        f"RESULT history-sync/{tracker}/sqlite{late}: ratio {ratio:.2f} to the plain sync "
        f"(median {statistics.median(with_history):.1f} s vs {statistics.median(plain):.1f} s; "
        f"target <= {TARGET}: {verdict(ratio <= TARGET)})"
    )
    return ratio


def main() -> None:
    """Benchmark the chosen trackers one after the other."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracker", choices=[*CASES, "all"], default="all")
    parser.add_argument("--items", type=int, default=20_000, help="records generated per tracker")
    parser.add_argument("--runs", type=int, default=3, help="syncs of each kind, alternating")
    add_latency_option(parser)
    args = parser.parse_args()
    for tracker in CASES if args.tracker == "all" else (args.tracker,):
        bench_tracker(tracker, args.items, args.runs, args.latency)


if __name__ == "__main__":
    main()
