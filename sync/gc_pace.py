"""The cyclic garbage collector's pace while a sync pass runs.

A pass decodes pages of JSON and builds models from them: hundreds of thousands of short-lived
containers, nearly all freed by reference counting as soon as their page is stored. At CPython's
default pace (a young-generation collection every 700 net allocations) the collector keeps scanning
the pages and batches still in flight, promotes them, and scans them again in the older generations:
about a sixth of a Data Center pass's CPU in the sync benchmark. While any pass runs, the youngest
generation is collected every :data:`YOUNG_THRESHOLD` allocations instead; cycles are still found,
later. The thresholds in force before the first pass began are put back when the last one ends
(passes of several trackers may overlap on threads of one process).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["YOUNG_THRESHOLD", "fewer_collections"]

YOUNG_THRESHOLD = 50_000

_lock = threading.Lock()
_passes = 0
_saved: tuple[int, int, int] | None = None


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Collect the youngest generation every :data:`YOUNG_THRESHOLD` allocations while the block
    runs (never less often than already set); the previous thresholds return with the last block."""
    global _passes, _saved
    with _lock:
        if _passes == 0:
            _saved = gc.get_threshold()
            young, *older = _saved
            gc.set_threshold(max(young, YOUNG_THRESHOLD), *older)
        _passes += 1
    try:
        yield
    finally:
        with _lock:
            _passes -= 1
            if _passes == 0 and _saved is not None:
                gc.set_threshold(*_saved)
                _saved = None
