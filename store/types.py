"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Integer
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL wants BIGINT for big tables.
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes in and out, whatever the backend stores."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        """Refuse naive datetimes (no tzinfo, or one that gives no offset); store UTC (naive on
        SQLite, aware on PostgreSQL)."""
        if value is None:
            return None
        if value.utcoffset() is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Always hand back an aware UTC datetime."""
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def sqlite_datetime_text(value: datetime, timespec: str = "microseconds") -> str:
    """What :class:`UTCDateTime`'s processors store on SQLite for the aware ``value``: naive UTC with
    microseconds, always (``2026-11-01 09:30:00.000000``), made in one ``isoformat`` instead of
    SQLAlchemy's per-value formatting (a test holds the two equal). ``timespec="auto"`` writes
    microseconds only when there are any (the items' upsert's text). Refuses a naive datetime."""
    offset = value.utcoffset()  # None: naive (no tzinfo, or one that gives no offset)
    if offset is None:
        raise ValueError("naive datetime given to a UTC column")
    if offset:
        value = value.astimezone(UTC)
    return value.isoformat(" ", timespec)[:-6]  # without its "+00:00"
