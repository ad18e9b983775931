"""The database: its engine, one repository per job, and units of work over one transaction.

Called on the :class:`Database`, each repository method runs in its own transaction (writes) or on
its own connection (reads). To make several writes one transaction, open a unit of work::

    with db.unit_of_work() as uow:
        version = uow.plans.save(plan, actor=actor)
        ...  # re-resolve on uow.connection: both commit, or neither

It commits when the block ends and rolls back when it raises. One instance per process, safe to
share between threads (a unit of work is not: it belongs to the thread that opened it).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from v2mom.store.audit import AuditRepository
from v2mom.store.engine import make_engine, unavailable
from v2mom.store.history import HistoryRepository
from v2mom.store.inbox import Inbox
from v2mom.store.items import ItemRepository
from v2mom.store.locks import Locks
from v2mom.store.migrate import upgrade
from v2mom.store.people_shares import PeopleShares
from v2mom.store.people_time import PeopleTimeQueries
from v2mom.store.plans import PlanRepository
from v2mom.store.report_queries import ReportQueries
from v2mom.store.resolutions import ResolutionRepository
from v2mom.store.reviews import ReviewRepository
from v2mom.store.suggestions import SuggestionRepository
from v2mom.store.sync_state import SyncStateRepository
from v2mom.store.tokens import TokenRepository
from v2mom.store.transactions import ConnectionTransactions, EngineTransactions, Transactions
from v2mom.store.vocabulary import VocabularyRepository
from v2mom.store.workers import WorkerRegistry
from v2mom.store.writeback_records import WritebackRepository


class _Repositories:
    """The repositories, all running through one transaction factory."""

    items: ItemRepository
    resolutions: ResolutionRepository
    sync_state: SyncStateRepository
    plans: PlanRepository
    tokens: TokenRepository
    inbox: Inbox
    workers: WorkerRegistry
    report_queries: ReportQueries
    writebacks: WritebackRepository
    vocabulary: VocabularyRepository
    audit: AuditRepository
    reviews: ReviewRepository
    history: HistoryRepository
    people_time: PeopleTimeQueries
    people_shares: PeopleShares
    suggestions: SuggestionRepository

    def _bind(self, source: _Repositories, transactions: Transactions) -> None:
        self.items = source.items.bound_to(transactions)
        self.resolutions = source.resolutions.bound_to(transactions)
        self.sync_state = source.sync_state.bound_to(transactions)
        self.plans = source.plans.bound_to(transactions)
        self.tokens = source.tokens.bound_to(transactions)
        self.inbox = source.inbox.bound_to(transactions)
        self.workers = source.workers.bound_to(transactions)
        self.report_queries = source.report_queries.bound_to(transactions)
        self.writebacks = source.writebacks.bound_to(transactions)
        self.vocabulary = source.vocabulary.bound_to(transactions)
        self.audit = source.audit.bound_to(transactions)
        self.reviews = source.reviews.bound_to(transactions)
        self.history = source.history.bound_to(transactions)
        self.people_time = source.people_time.bound_to(transactions)
        self.people_shares = source.people_shares.bound_to(transactions)
        self.suggestions = source.suggestions.bound_to(transactions)


class UnitOfWork(_Repositories):
    """The repositories on one connection whose transaction :meth:`Database.unit_of_work` owns."""

    def __init__(self, database: Database, connection: Connection) -> None:
        """Bind every repository of ``database`` to ``connection``."""
        self.connection = connection  # for the store's own set-based statements (store.resolution)
        self.dialect = database.dialect
        self._bind(database, ConnectionTransactions(connection))


class Database(_Repositories):
    """The engine and one repository per job (``items``, ``resolutions``, ``sync_state``, ``history``,
    ...), and ``locks``, named locks across processes (``store.locks``)."""

    def __init__(self, engine: Engine) -> None:
        """Wrap ``engine`` (see :meth:`open`)."""
        self.engine = engine
        transactions = EngineTransactions(engine)
        dialect = self.dialect
        self.items = ItemRepository(transactions, dialect, engine.dialect)
        self.resolutions = ResolutionRepository(transactions, dialect)
        self.sync_state = SyncStateRepository(transactions, dialect, self.items)
        self.plans = PlanRepository(transactions, dialect)
        self.tokens = TokenRepository(transactions, dialect)
        self.inbox = Inbox(transactions, dialect)
        self.workers = WorkerRegistry(transactions, dialect)
        self.report_queries = ReportQueries(transactions, dialect)
        self.writebacks = WritebackRepository(transactions, dialect)
        self.vocabulary = VocabularyRepository(transactions, dialect)
        self.audit = AuditRepository(transactions, dialect)
        self.reviews = ReviewRepository(transactions, dialect)
        self.history = HistoryRepository(transactions, dialect)
        self.people_time = PeopleTimeQueries(transactions, dialect)
        self.people_shares = PeopleShares(transactions, dialect)
        self.suggestions = SuggestionRepository(transactions, dialect)
        self.locks = Locks(engine)  # cross-process, so never bound to a unit of work's transaction

    @classmethod
    def open(cls, url: str, *, migrate: bool = True) -> Database:
        """Connect to ``url`` and (by default) apply pending migrations.

        Raises :class:`~v2mom.errors.DatabaseUnavailableError` (one line, the URL without its
        password) when the database cannot be reached.
        """
        engine = make_engine(url)
        try:
            engine.connect().close()
        except DBAPIError as exc:
            engine.dispose()
            raise unavailable(url, exc) from None
        if migrate:
            upgrade(engine)
        return cls(engine)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    def close(self) -> None:
        """Dispose of pooled connections."""
        self.engine.dispose()

    def vacuum_analyze(self, *tables: str) -> None:
        """PostgreSQL: ``VACUUM (ANALYZE)`` each of ``tables`` (outside a transaction, as it must run)."""
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for name in tables:
                conn.execute(text(f"VACUUM (ANALYZE) {name}"))

    @contextmanager
    def unit_of_work(self, *, commit: bool = True) -> Iterator[UnitOfWork]:
        """One transaction for every repository call in the block.

        It commits when the block ends (rolls back when it raises); with ``commit=False`` it always
        rolls back — a scratch transaction for a dry run.
        """
        if commit:
            with self.engine.begin() as conn:
                yield UnitOfWork(self, conn)
            return
        with self.engine.connect() as conn:
            transaction = conn.begin()
            try:
                yield UnitOfWork(self, conn)
            finally:
                transaction.rollback()
