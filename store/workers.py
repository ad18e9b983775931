"""Process leases: who is alive, so what a dead process held can be taken back at once.

Each process that claims inbox events or runs a sync registers a row in ``workers`` under an id of
its own (``host:pid:random``, new at every start) and renews a short lease by heartbeat, from a
thread of its own so that a slow apply or a long sync keeps its lease. Inbox claims and running
``sync_runs`` rows name their process by that id:

- a claim whose process's lease expired is due again at once (``Inbox.claim``), instead of after
  the five-minute claim timeout, which remains only for claims by processes that never registered;
- a ``running`` sync run whose process's lease expired is marked ``interrupted`` by the next run.

A live process never loses its claims to another: it renews every ``LEASE / 5`` and stops claiming
as soon as its last successful renewal is older than ``LEASE - 2 * interval`` (``held()``), well
before anyone else may take its claims. Only a whole process frozen (or cut off from the database)
for longer than the lease loses them; it then registers again under a new id. Leases compare the
processes' wall clocks, as ``claimed_at`` already did: keep the hosts' clocks synchronised (NTP).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from datetime import datetime, timedelta
from types import TracebackType

from sqlalchemy import and_, delete, exists, insert, select, update

from v2mom.background import BackgroundLoop
from v2mom.clock import utcnow
from v2mom.store import schema as t
from v2mom.store.transactions import Repository

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=15)


def new_worker_id() -> str:
    """A fresh process id for leases and claims: ``host:pid:random`` (at most 64 characters)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"


class WorkerRegistry(Repository):
    """The ``workers`` table (``Database.workers``): register, renew, deregister, who is live."""

    def register(self, kind: str, *, lease: timedelta = LEASE, now: datetime | None = None) -> str:
        """Register a new process of ``kind`` (``serve``, ``worker``, ``sync``); returns its id."""
        now = now or utcnow()
        worker_id = new_worker_id()
        with self._tx.write() as conn:
            conn.execute(
                insert(t.workers).values(
                    id=worker_id,
                    kind=kind,
                    host=socket.gethostname()[:255],
                    pid=os.getpid(),
                    started_at=now,
                    heartbeat_at=now,
                    lease_expires_at=now + lease,
                )
            )
        return worker_id

    def heartbeat(self, worker_id: str, *, lease: timedelta = LEASE, now: datetime | None = None) -> bool:
        """Renew the lease; False when it had already expired (its claims may be someone else's now)."""
        now = now or utcnow()
        w = t.workers.c
        with self._tx.write() as conn:
            renewed = conn.execute(
                update(t.workers)
                .where(w.id == worker_id, w.lease_expires_at >= now)
                .values(heartbeat_at=now, lease_expires_at=now + lease)
            ).rowcount
        return bool(renewed)

    def deregister(self, worker_id: str) -> int:
        """A clean stop: hand back the process's inbox claims (pending again) and forget it.

        Returns how many claims were handed back. Call it only once nothing of the process is
        applying any more.
        """
        i = t.webhook_inbox.c
        with self._tx.write() as conn:
            released = conn.execute(
                update(t.webhook_inbox)
                .where(i.status == "processing", i.claimed_by == worker_id)
                .values(status="pending", claimed_at=None, claimed_by=None)
            ).rowcount
            conn.execute(delete(t.workers).where(t.workers.c.id == worker_id))
        return int(released)

    def reap(self, *, now: datetime | None = None) -> int:
        """Forget processes whose lease expired and that hold no claim any more; returns how many."""
        now = now or utcnow()
        w, i = t.workers.c, t.webhook_inbox.c
        holds_claims = exists().where(i.status == "processing", i.claimed_by == w.id)
        with self._tx.write() as conn:
            return int(
                conn.execute(delete(t.workers).where(and_(w.lease_expires_at < now, ~holds_claims))).rowcount
            )

    def live(self, *, now: datetime | None = None) -> set[str]:
        """Ids of the processes whose lease has not expired."""
        now = now or utcnow()
        with self._tx.read() as conn:
            rows = conn.execute(select(t.workers.c.id).where(t.workers.c.lease_expires_at >= now))
            return {row[0] for row in rows}


class WorkerLease:
    """This process's lease, renewed by a heartbeat thread until :meth:`stop` (or the ``with`` ends).

    ``id`` is the name to claim under; it changes only if the lease was lost (the process froze
    for longer than the lease) and had to be registered again.
    """

    def __init__(
        self,
        registry: WorkerRegistry,
        kind: str,
        *,
        lease: timedelta = LEASE,
        interval: float | None = None,
    ) -> None:
        """Prepare; nothing is registered until :meth:`start`."""
        self.registry = registry
        self.kind = kind
        self.lease = lease
        self.interval = interval if interval is not None else lease.total_seconds() / 5
        self._id: str | None = None
        self._renewed = 0.0  # time.monotonic() just before the last successful renewal
        self._lock = threading.Lock()
        self._loop = BackgroundLoop(f"{kind}-lease", self._beat, interval=self.interval, logger=log)

    @property
    def id(self) -> str:
        """The id this process claims under."""
        if self._id is None:
            raise RuntimeError("the lease was not started")
        return self._id

    def start(self) -> str:
        """Register and start renewing; returns the id."""
        self._register()
        self._loop.start()
        return self.id

    def held(self) -> bool:
        """Whether the lease is safely ours: renewed recently enough that nobody may take our claims."""
        with self._lock:
            margin = self.lease.total_seconds() - 2 * self.interval
            return self._id is not None and time.monotonic() - self._renewed < margin

    def stop(self, *, release: bool = True) -> None:
        """Stop renewing; with ``release`` hand back the claims and deregister.

        Pass ``release=False`` when something of this process may still be applying: the lease then
        simply expires.
        """
        self._loop.stop()
        if release and self._id is not None:
            self.registry.deregister(self._id)

    def __enter__(self) -> WorkerLease:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _register(self) -> None:
        started = time.monotonic()
        worker_id = self.registry.register(self.kind, lease=self.lease)
        with self._lock:
            self._id, self._renewed = worker_id, started

    def _beat(self) -> None:
        """One heartbeat: renew (or register again if the lease was lost), then reap the dead."""
        started = time.monotonic()
        if self.registry.heartbeat(self.id, lease=self.lease):
            with self._lock:
                self._renewed = started
        else:
            log.warning("lease of %s expired before it was renewed; registering again", self.id)
            self._register()
        self.registry.reap()
