"""ItemTransition: the tracker-neutral record of a status or assignee change."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from v2mom.models import ItemTransition, State, oldest_first

AT = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def transition(**overrides: Any) -> ItemTransition:
    fields: dict[str, Any] = {
        "tracker": "jira",
        "item_id": "10001",
        "event_id": "20001",
        "at": AT,
        "field": "status",
        "from_value": "10000",
        "to_value": "3",
        "to_category": State.IN_PROGRESS,
    }
    fields.update(overrides)
    return ItemTransition(**fields)


def test_a_status_change_names_what_it_entered_and_its_identity() -> None:
    change = transition()
    assert change.to_category is State.IN_PROGRESS
    assert change.identity == ("jira", "10001", "20001", "status")
    assignee = transition(field="assignee", from_value=None, to_value="acc-1", to_category=None)
    assert assignee.identity == ("jira", "10001", "20001", "assignee")  # same entry, another field
    assert assignee.identity != change.identity


def test_unassigning_is_a_change_to_nobody() -> None:
    change = transition(field="assignee", from_value="acc-1", to_value=None, to_category=None)
    assert (change.from_value, change.to_value) == ("acc-1", None)


ENTRY = "jira item 10001, history entry 20001"


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"to_value": None}, f"{ENTRY}: a status change must name the status entered"),
        (
            {"field": "assignee", "to_category": State.DONE},
            f"{ENTRY}: an assignee change has no status category",
        ),
        ({"field": "priority"}, "Input should be 'status' or 'assignee'"),
        ({"at": datetime(2026, 11, 2, 9, 30)}, "datetimes must carry a time zone"),
    ],
)
def test_bad_records_are_refused_saying_why(overrides: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(problem)):
        transition(**overrides)


def test_a_history_is_put_oldest_first_then_by_item_entry_and_field() -> None:
    later = transition(at=AT + timedelta(minutes=1), item_id="10000")
    assignee = transition(field="assignee", to_value="u1", to_category=None)
    other_entry = transition(event_id="20000")
    other_item = transition(item_id="10002", event_id="19999")
    assert oldest_first([later, other_item, assignee, transition(), other_entry]) == [
        other_entry,
        assignee,
        transition(),
        other_item,
        later,
    ]
