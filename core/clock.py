"""The one clock: timezone-aware UTC now, so every layer stamps times the same way."""

from __future__ import annotations

from datetime import UTC, date, datetime


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def today() -> date:
    """Today's date in UTC: what "a period has ended" is judged against."""
    return utcnow().date()


def iso_seconds(moment: datetime) -> str:
    """``moment`` in UTC to the whole second, as the audit shows every time: ``2026-12-04T16:00:00Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
