"""Asana's concurrent request limiter, for reads: at most 50 ``GET`` requests in flight a token.

Asana answers a read that would make 51 in flight with 429 and a ``Retry-After``. Each ``GET``
action of a ``POST /batch`` counts as one read in flight while the batch runs ("as though you had
made a separate HTTP request for every action": Asana runs them in parallel), and a batch any of
whose actions is over a limit is refused whole. The sandbox counts reads the same way, remembers the
most ever in flight (``peak``) and how many it refused, and can make each batch's actions take
``batch_seconds`` (Asana's own work, during which its reads stay in flight) so that a test sees
concurrent readers overlap.
"""

from __future__ import annotations

import threading

__all__ = ["READ_LIMIT", "ConcurrentReads"]

READ_LIMIT = 50  # Asana's "Reads GET: 50" concurrent requests a token


class ConcurrentReads:
    """Reads in flight, at most ``limit`` at once."""

    def __init__(self, limit: int = READ_LIMIT) -> None:
        """No read in flight yet."""
        self.limit = limit
        self.in_flight = 0
        self.peak = 0
        self.refused = 0
        self.batch_seconds = 0.0
        self._lock = threading.Lock()

    def enter(self, reads: int = 1) -> bool:
        """Start ``reads`` reads at once: False (and nothing started) when that would pass the limit."""
        with self._lock:
            if self.in_flight + reads > self.limit:
                self.refused += 1
                return False
            self.in_flight += reads
            self.peak = max(self.peak, self.in_flight)
            return True

    def leave(self, reads: int = 1) -> None:
        """End ``reads`` reads started by :meth:`enter`."""
        with self._lock:
            self.in_flight -= reads
