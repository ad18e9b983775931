"""An Asana task's assignee and start, as ``parse_task`` reads them: present, absent, malformed."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from v2mom.connectors.asana.parse import TASK_FIELDS, parse_project, parse_task
from v2mom.errors import FatalError


def task(**fields: Any) -> dict[str, Any]:
    """A minimal task record as the connector asks for it; ``fields`` override or add."""
    raw: dict[str, Any] = {
        "gid": "77",
        "name": "Ship it",
        "created_at": "2026-11-01T09:00:00.000Z",
        "modified_at": "2026-11-05T09:00:00.000Z",
        "completed": False,
        "memberships": [{"project": {"gid": "5"}}],
    }
    raw.update(fields)
    return raw


def parse(raw: dict[str, Any]) -> Any:
    return parse_task(raw, scope=["5"], points_field=None)


def test_the_connector_asks_for_the_assignee_and_both_starts() -> None:
    assert {"assignee.gid", "start_on", "start_at"} <= set(TASK_FIELDS.split(","))


def test_the_assignee_is_the_users_gid_and_unassigned_is_none() -> None:
    assert parse(task(assignee={"gid": "1201990000003", "resource_type": "user"})).assignee == "1201990000003"
    assert parse(task(assignee=None)).assignee is None  # Asana's unassigned
    assert parse(task()).assignee is None  # not sent


@pytest.mark.parametrize(
    ("fields", "started"),
    [
        ({"start_at": "2026-11-02T14:30:00.000Z"}, datetime(2026, 11, 2, 14, 30, tzinfo=UTC)),
        (
            {"start_at": "2026-11-02T16:30:00+02:00"},
            datetime(2026, 11, 2, 16, 30, tzinfo=timezone(timedelta(hours=2))),
        ),
        ({"start_on": "2026-11-03"}, datetime(2026, 11, 3, tzinfo=UTC)),  # the day at 00:00 UTC
        (
            {"start_at": "2026-11-02T14:30:00.000Z", "start_on": "2026-11-03"},
            datetime(2026, 11, 2, 14, 30, tzinfo=UTC),
        ),
        ({"start_at": None, "start_on": "2026-11-03"}, datetime(2026, 11, 3, tzinfo=UTC)),
        ({"start_at": None, "start_on": None}, None),
        ({}, None),
    ],
)
def test_the_start_is_start_at_else_start_on_at_midnight_utc(
    fields: dict[str, Any], started: datetime | None
) -> None:
    assert parse(task(**fields)).started_at == started


def test_a_project_has_no_assignee_and_no_start() -> None:
    project = parse_project(task(start_on="2026-11-03", assignee={"gid": "9"}))
    assert (project.assignee, project.started_at) == (None, None)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"assignee": "1201990000003"}, "record 77: assignee has no gid"),
        ({"assignee": {"name": "Ada"}}, "record 77: assignee has no gid"),
        ({"assignee": {"gid": 1201990000003}}, "record 77: assignee has no gid"),
        ({"start_at": "soon"}, "record 77: start_at 'soon' is not ISO 8601"),
        ({"start_at": 1730000000}, "record 77: start_at is not a timestamp"),
        ({"start_at": "2026-11-02T14:30:00"}, "record 77: start_at '2026-11-02T14:30:00' has no UTC offset"),
        ({"start_on": "2026-11-02T14:30:00Z"}, "record 77: start_on '2026-11-02T14:30:00Z' is not a date"),
        ({"start_on": "20261102"}, "record 77: start_on '20261102' is not a date (YYYY-MM-DD)"),
        ({"start_on": "2026-02-30"}, "record 77: start_on '2026-02-30' is not a date"),
        ({"start_on": 20261102}, "record 77: start_on '20261102' is not a date"),
    ],
)
def test_a_malformed_assignee_or_start_fails_naming_the_task_and_field(
    fields: dict[str, Any], message: str
) -> None:
    with pytest.raises(FatalError, match=re.escape(message)) as raised:
        parse(task(**fields))
    assert raised.value.tracker == "asana"
