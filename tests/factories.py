"""Small builders for WorkItems used across tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from v2mom.models import Level, State, WorkItem

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def make_item(item_id: str, *, minutes: int = 0, **fields: Any) -> WorkItem:
    """A Jira-like WorkItem updated ``minutes`` after T0; any field can be overridden."""
    values: dict[str, Any] = {
        "tracker": "jira",
        "id": item_id,
        "key": f"ONB-{item_id}",
        "title": f"Item {item_id}",
        "level": Level.STANDARD,
        "container": "ONB",
        "state": State.TODO,
        "updated_at": T0 + timedelta(minutes=minutes),
    }
    values.update(fields)
    return WorkItem(**values)
