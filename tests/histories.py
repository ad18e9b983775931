"""Stored or read status and assignee changes, in the terms the sandboxes record their own history."""

from __future__ import annotations

from collections.abc import Iterable

from v2mom.models import ItemTransition
from v2mom.sandbox.history import Recorded


def as_recorded(transitions: Iterable[ItemTransition]) -> set[Recorded]:
    """``transitions`` as the sandboxes' :class:`Recorded` changes, to compare with their histories."""
    return {
        Recorded(
            t.item_id,
            t.event_id,
            t.at,
            t.field,
            t.from_value,
            t.to_value,
            t.to_category.value if t.to_category is not None else None,
        )
        for t in transitions
    }
