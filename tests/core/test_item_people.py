"""An item's current assignee and start: held by the record, never written out by it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from tests.factories import make_item
from v2mom.models import WorkItem

ACCOUNT = "557058:0e5c4bd2-private-account"
START = datetime(2026, 10, 30, tzinfo=UTC)


def test_the_assignee_and_start_are_held_but_no_serialisation_or_repr_shows_the_assignee() -> None:
    item = make_item("1", assignee=ACCOUNT, started_at=START)
    assert (item.assignee, item.started_at) == (ACCOUNT, START)
    for text in (
        repr(item),
        str(item),
        item.model_dump_json(),
        str(item.model_dump()),
        str(item.model_dump(mode="json")),
    ):
        assert "0e5c4bd2" not in text
    assert not {"assignee", "started_at"} & set(item.model_dump())
    assert not {"assignee", "started_at"} & set(
        WorkItem.model_json_schema(mode="serialization")["properties"]
    )
    assert item.model_copy(update={"title": "x"}).assignee == ACCOUNT  # a copy keeps them
    assert item != make_item("1", started_at=START)  # and two items differing only by it differ


def test_both_default_to_none_and_a_start_must_carry_its_zone() -> None:
    item = make_item("1")
    assert (item.assignee, item.started_at) == (None, None)
    assert (
        make_item("1", started_at=datetime(2026, 10, 30, 2, tzinfo=timezone(timedelta(hours=2)))).started_at
        == START
    )
    with pytest.raises(ValidationError, match="time zone"):
        make_item("1", started_at=datetime(2026, 10, 30))
