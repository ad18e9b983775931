"""A history entry's time, read the same way by every tracker whose history says it in ISO 8601."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from v2mom.errors import FatalError

__all__ = ["entry_time"]


def entry_time(value: object, *, name: str, fail: Callable[[str], FatalError]) -> datetime:
    """``value`` (an entry's ``name`` field, ISO 8601, ``Z`` allowed) as an aware datetime; the
    error ``fail`` builds from the problem when it is missing, unreadable or without a UTC offset."""
    if not isinstance(value, str):
        raise fail(f"'{name}' is missing or not a timestamp")
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise fail(f"'{name}' {value[:40]!r} is not ISO 8601") from None
    if at.tzinfo is None:
        raise fail(f"'{name}' {value[:40]!r} has no UTC offset")
    return at
