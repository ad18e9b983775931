"""Timing helpers shared by the benchmarks: medians of repeated runs, ratios, one result line."""

from __future__ import annotations

import resource
import statistics
import time
from collections.abc import Callable
from pathlib import Path


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
    """This process's own peak resident memory so far, in MB.

    Linux: ``VmHWM``, the high-water mark of this process's address space. Not ``ru_maxrss``, which
    survives ``execve``: a child started by ``spawn`` would report at least its parent's peak.
    Without ``/proc``: ``ru_maxrss`` (read as kilobytes, as Linux reports it).
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text(encoding="ascii").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
