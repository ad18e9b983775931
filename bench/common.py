"""Timing helpers shared by the benchmarks: medians of repeated runs, ratios, one result line."""

from __future__ import annotations

import os
import resource
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
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


def judged(ok: bool, as_stated: bool, condition: str = "size") -> str:
    """MET / MISSED where a target is stated (at its size, its latency: ``condition``); elsewhere,
    what it would be, unjudged."""
    return verdict(ok) if as_stated else f"not judged at this {condition}, {verdict(ok).lower()} if it were"


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


def usable_cores() -> int:
    """The cores this process may run on (its affinity where the system says, else all of them)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1


@dataclass(frozen=True)
class CpuSplit:
    """CPU seconds spent over one timed run: this process's (every thread) and the sandbox's."""

    ours: float
    sandbox: float

    @property
    def total(self) -> float:
        """Both processes' CPU: what the run's wall time must at least spread over the cores."""
        return self.ours + self.sandbox

    def least_wall(self, cores: int) -> float:
        """The shortest wall time this much CPU allows on ``cores`` cores, every one kept busy."""
        return self.total / max(cores, 1)

    def describe(self) -> str:
        """``ours 5.0 s + sandbox 3.0 s``."""
        return f"ours {self.ours:.1f} s + sandbox {self.sandbox:.1f} s"
