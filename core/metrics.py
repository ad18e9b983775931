"""Prometheus metrics: their definitions, the store's gauges read at scrape time, the exposition.

The use cases move the counters and histograms defined here (``sync.service``, ``webhooks.worker``,
the report and plan routes); ``GET /metrics`` exposes them. Gauges of shared state (the webhook
inbox, the last successful sync) are not kept in memory: :class:`StoreGauges` reads them from the
store at each scrape, so every process answers the same figures and a restart loses none.

With ``PROMETHEUS_MULTIPROC_DIR`` set *before the process starts* (prometheus_client decides at
import), each process writes its values to files in that directory and :func:`exposition` sums
every process's files. Labels are bounded sets (tracker names, outcomes, route names): never
anything a request or a tracker chose, never a secret.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

SYNC_RUNS = Counter(
    "v2mom_sync_runs_total", "Sync passes per tracker, by outcome (ok, failed).", ["tracker", "outcome"]
)
SYNC_ITEMS = Counter("v2mom_sync_items_total", "Items read from the tracker by sync passes.", ["tracker"])
WEBHOOK_APPLY_SECONDS = Histogram(
    "v2mom_webhook_apply_duration_seconds",
    "Time to apply one webhook event from the inbox, failed attempts included (re-resolution apart).",
    ["tracker"],
)
REPORT_SECONDS = Histogram(
    "v2mom_report_duration_seconds", "Time to build a report answer, per report route.", ["report"]
)
RERESOLVE_SECONDS = Histogram(
    "v2mom_reresolve_duration_seconds",
    "Time to re-resolve items after a change, by trigger (sync, webhook, plan, tag).",
    ["trigger"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
)

InboxCounts = Callable[[], Mapping[str, Mapping[str, int]]]
LastSuccess = Callable[[], Mapping[str, datetime]]


class StoreGauges(Collector):
    """The gauges read from the store at scrape time (``store.inbox.counts`` and the sync runs).

    Every tracker in ``trackers`` gets a sample (0 when it has nothing, or never synced), so an
    alert on a configured tracker works before its first event. When the store cannot be read the
    scrape still answers, with ``v2mom_store_up`` 0 and the in-process metrics.
    """

    def __init__(self, trackers: Sequence[str], inbox_counts: InboxCounts, last_success: LastSuccess) -> None:
        """Read through these callables (the store's functions) at each scrape."""
        self._trackers = list(trackers)
        self._inbox_counts = inbox_counts
        self._last_success = last_success

    def collect(self) -> Iterable[Metric]:
        """The store's gauges, read now."""
        up = GaugeMetricFamily("v2mom_store_up", "1 when this scrape could read the store, else 0.")
        try:
            counts = self._inbox_counts()
            last = self._last_success()
        except Exception as exc:  # the in-process metrics are still worth answering
            log.warning("metrics: cannot read the store: %s: %s", type(exc).__name__, exc)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        backlog = GaugeMetricFamily(
            "v2mom_webhook_inbox_backlog_events",
            "Webhook events stored and not yet applied (pending or being applied).",
            labels=["tracker"],
        )
        parked = GaugeMetricFamily(
            "v2mom_webhook_inbox_parked_events",
            "Webhook events that failed every retry and wait for an operator.",
            labels=["tracker"],
        )
        for tracker in sorted(set(self._trackers) | set(counts)):
            statuses = counts.get(tracker, {})
            backlog.add_metric([tracker], statuses.get("pending", 0) + statuses.get("processing", 0))
            parked.add_metric([tracker], statuses.get("parked", 0))
        synced = GaugeMetricFamily(
            "v2mom_sync_last_success_timestamp_seconds",
            "When the last successful sync pass of the tracker finished (Unix time; 0: never).",
            labels=["tracker"],
        )
        for tracker in sorted(set(self._trackers) | set(last)):
            when = last.get(tracker)
            synced.add_metric([tracker], when.timestamp() if when is not None else 0.0)
        yield from (backlog, parked, synced)


class _ThisProcess(Collector):
    """The default registry's metrics (ours, and the process's own), for a one-process exposition."""

    def collect(self) -> Iterable[Metric]:
        """Everything the default registry holds."""
        yield from REGISTRY.collect()


def exposition(accept: str | None, *collectors: Collector) -> tuple[bytes, str]:
    """The ``/metrics`` body and its content type, for the scraper's ``Accept`` header.

    One process: the default registry. With ``PROMETHEUS_MULTIPROC_DIR`` set: every process's values,
    summed from that directory (``MultiProcessCollector``). ``collectors`` (the store's gauges) are
    added either way.
    """
    registry = CollectorRegistry(auto_describe=False)
    directory = os.environ.get(MULTIPROC_ENV)
    if directory:
        MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]  # untyped upstream
    else:
        registry.register(_ThisProcess())
    for collector in collectors:
        registry.register(collector)
    encode, content_type = choose_encoder(accept or "")
    return encode(registry), content_type
