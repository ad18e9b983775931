"""Where a repository's statements run: its own transaction per call, or a unit of work's.

Every repository takes a :class:`Transactions` factory. Called on the :class:`~v2mom.store.database.Database`
a repository gets :class:`EngineTransactions`: each write is its own transaction (``engine.begin()``),
each read its own connection. Inside ``Database.unit_of_work()`` the same repository class is bound to
:class:`ConnectionTransactions`, which hands every call the unit's one connection, so its writes
commit or roll back together.
"""

from __future__ import annotations

import copy
from contextlib import AbstractContextManager, nullcontext
from typing import Protocol, Self

from sqlalchemy import Connection, Engine


class Transactions(Protocol):
    """A factory of connections for reads and of transactions for writes."""

    def write(self) -> AbstractContextManager[Connection]:
        """A connection in a transaction that commits on exit (unless a unit of work owns it)."""
        ...

    def read(self) -> AbstractContextManager[Connection]:
        """A connection to read on."""
        ...


class EngineTransactions:
    """Each call its own transaction (writes) or connection (reads), from the engine's pool."""

    def __init__(self, engine: Engine) -> None:
        """Draw connections from ``engine``."""
        self.engine = engine

    def write(self) -> AbstractContextManager[Connection]:
        """``engine.begin()``: commits on exit, rolls back on an exception."""
        return self.engine.begin()

    def read(self) -> AbstractContextManager[Connection]:
        """``engine.connect()``: returned to the pool on exit."""
        return self.engine.connect()


class ConnectionTransactions:
    """Every call on one connection whose transaction someone else (a unit of work) owns."""

    def __init__(self, connection: Connection) -> None:
        """Run everything on ``connection``."""
        self.connection = connection

    def write(self) -> AbstractContextManager[Connection]:
        """The shared connection; committing is the owner's business."""
        return nullcontext(self.connection)

    def read(self) -> AbstractContextManager[Connection]:
        """The shared connection, so reads see the unit's own uncommitted writes."""
        return nullcontext(self.connection)


class Repository:
    """Base of the store's repositories: a transaction factory and the database's dialect."""

    def __init__(self, transactions: Transactions, dialect: str) -> None:
        """Run statements through ``transactions``; ``dialect`` is ``sqlite`` or ``postgresql``."""
        self._tx = transactions
        self.dialect = dialect

    def bound_to(self, transactions: Transactions) -> Self:
        """A copy running through ``transactions`` (sharing anything precompiled)."""
        clone = copy.copy(self)
        clone._tx = transactions
        return clone
