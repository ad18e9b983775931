"""Timing helpers shared by the benchmarks: medians of repeated runs, ratios, one result line."""

from __future__ import annotations

import resource
import statistics
import time
from collections.abc import Callable


def median_seconds(fn: Callable[[], object], *, repeat: int = 7, warmup: int = 1) -> float:
    """Median wall time of ``fn`` over ``repeat`` runs after ``warmup`` untimed runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def verdict(ok: bool) -> str:
    """MET / MISSED, for the result lines."""
    return "MET" if ok else "MISSED"


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def own_peak_rss_mb() -> float:
    """Like :func:`peak_rss_mb`, for a child started by ``spawn``: its own peak, not its parent's.

    ``ru_maxrss`` survives ``execve``, so a spawned child reports at least its parent's peak at the
    time of the fork; ``VmHWM`` (Linux) is the high-water mark of the child's own address space.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return peak_rss_mb()
