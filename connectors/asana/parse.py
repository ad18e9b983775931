"""Pure Asana parsing: a task or project record -> WorkItem.

Projects are containers (``Level.CONTAINER``, the epic of their tasks). A top-level task names its
project as parent and container: the first of its projects that is in scope, so a task homed in two
synced projects lands in one place. A subtask names its parent task and has no container: project
rules reach it through the parent chain (subtask → task → project), even when it was added to a
project too. ``member_of`` names the first in-scope project a task or subtask is itself a member
of: a subtask in a project holds the project's custom fields, one outside every project holds none.
Tags are labels (``value:``/``method:`` conventions); ``enum`` and ``multi_enum`` custom fields
become ``custom_fields`` (``V2MOM Value``/``V2MOM Method`` conventions, rules); the configured
``points_field`` (a number field, by name or gid) gives points and ``actual_time_minutes`` gives
hours. A task's ``assignee`` is its assignee's user gid; its ``started_at`` is its ``start_at``, else
its ``start_on`` day at 00:00 UTC (Asana has no started status: this is when work began). Every
item's text is made storable (``v2mom.vendor_text.storable_item``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time
from typing import Any

from v2mom.errors import FatalError
from v2mom.models import Level, State, WorkItem
from v2mom.vendor_text import storable_item
from v2mom.vocabulary import field_kind

TRACKER = "asana"
TASK_FIELDS = ",".join(
    [
        "name",
        "notes",
        "permalink_url",
        "created_at",
        "modified_at",
        "completed",
        "completed_at",
        "parent.gid",
        "memberships.project.gid",
        "tags.name",
        "custom_fields.name",
        "custom_fields.type",
        "custom_fields.enum_value.name",
        "custom_fields.enum_value.gid",
        "custom_fields.multi_enum_values.name",
        "custom_fields.multi_enum_values.gid",
        "custom_fields.number_value",
        "actual_time_minutes",
        "num_subtasks",
        "assignee.gid",
        "start_on",
        "start_at",
    ]
)
PROJECT_FIELDS = "name,permalink_url,created_at,modified_at,completed,completed_at,archived"
STORY_FIELDS = "created_at,resource_subtype,assignee"  # what an assignment or completion story says
ID_FIELDS = "num_subtasks"
SCOPE_FIELDS = "parent.gid,memberships.project.gid"  # what tells whether a task is in scope
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # start_on: YYYY-MM-DD (fromisoformat takes more)


def _fail(record: Mapping[str, Any], problem: str) -> FatalError:
    return FatalError(f"record {record.get('gid') or '?'}: {problem}", tracker=TRACKER)


def _time(record: Mapping[str, Any], name: str) -> datetime | None:
    value = record.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _fail(record, f"{name} is not a timestamp")
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _fail(record, f"{name} '{value}' is not ISO 8601") from None


def _required_time(record: Mapping[str, Any], name: str) -> datetime:
    value = _time(record, name)
    if value is None:
        raise _fail(record, f"missing {name}")
    return value


def _assignee(record: Mapping[str, Any]) -> str | None:
    """The gid of the task's ``assignee`` (null or absent: unassigned)."""
    user = record.get("assignee")
    if user is None:
        return None
    gid = user.get("gid") if isinstance(user, Mapping) else None
    if not isinstance(gid, str) or not gid:
        raise _fail(record, "assignee has no gid")
    return gid


def _started(record: Mapping[str, Any]) -> datetime | None:
    """When work on the task began: its ``start_at``, else its ``start_on`` at 00:00 UTC."""
    moment = _time(record, "start_at")
    if moment is not None:
        if moment.tzinfo is None:
            raise _fail(record, f"start_at '{record['start_at'][:40]}' has no UTC offset")
        return moment
    day = record.get("start_on")
    if day is None:
        return None
    try:
        if not isinstance(day, str) or _DAY.fullmatch(day) is None:
            raise ValueError(day)
        parsed = date.fromisoformat(day)  # 2026-02-30 is refused here
    except ValueError:
        raise _fail(record, f"start_on '{str(day)[:40]}' is not a date (YYYY-MM-DD)") from None
    return datetime.combine(parsed, time(), tzinfo=UTC)


def _gid(record: Mapping[str, Any]) -> str:
    gid = record.get("gid")
    if not isinstance(gid, str) or not gid:
        raise _fail(record, "missing gid")
    return gid


def _names(values: Any) -> tuple[str, ...]:
    if not isinstance(values, list):
        return ()
    return tuple(v["name"] for v in values if isinstance(v, Mapping) and isinstance(v.get("name"), str))


def _option_ids(values: object) -> tuple[tuple[str, str], ...]:
    """(gid, name) of each enum option in ``values`` (one enum value or a list of them)."""
    entries = values if isinstance(values, list) else [values]
    return tuple(
        (v["gid"], v["name"])
        for v in entries
        if isinstance(v, Mapping) and isinstance(v.get("gid"), str) and isinstance(v.get("name"), str)
    )


CustomFields = tuple[dict[str, tuple[str, ...]], float | None, dict[str, tuple[tuple[str, str], ...]]]


def read_custom_fields(raw: Mapping[str, Any], points_field: str | None) -> CustomFields:
    """(enum and multi-enum options by field name, the points field's number, and the (gid, name) of
    the options held in the ``V2MOM Value`` / ``V2MOM Method`` fields by kind)."""
    options: dict[str, tuple[str, ...]] = {}
    choices: dict[str, tuple[tuple[str, str], ...]] = {}
    points: float | None = None
    fields = raw.get("custom_fields")
    for field in fields if isinstance(fields, list) else []:
        if not isinstance(field, Mapping) or not isinstance(field.get("name"), str):
            continue
        name = field["name"]
        kind = field.get("type") or field.get("resource_subtype")
        held: object = None
        if kind == "enum":
            held = chosen = field.get("enum_value")
            if isinstance(chosen, Mapping) and isinstance(chosen.get("name"), str):
                options[name] = (chosen["name"],)
        elif kind == "multi_enum":
            held = field.get("multi_enum_values")
            names = _names(held)
            if names:
                options[name] = names
        elif kind == "number" and points_field is not None and points_field in (name, field.get("gid")):
            number = field.get("number_value")
            if isinstance(number, int | float) and not isinstance(number, bool):
                points = float(number)
        choice = field_kind(name) if held is not None else None
        if choice is not None:  # the V2MOM fields: their options are read back by gid too
            choices[choice] = choices.get(choice, ()) + _option_ids(held)
    return options, points, choices


def listing_records(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The records of one listing page (``data``); FatalError when it holds no list."""
    data = body.get("data")
    if not isinstance(data, list):
        raise FatalError("unexpected listing: 'data' is not a list", tracker=TRACKER)
    return [record for record in data if isinstance(record, Mapping)]


def home_project(raw: Mapping[str, Any], scope: Sequence[str]) -> str | None:
    """The first in-scope project the task is a member of (scope order), else None."""
    members: list[str] = []
    for membership in raw.get("memberships") or []:
        project = membership.get("project") if isinstance(membership, Mapping) else None
        if isinstance(project, Mapping) and isinstance(project.get("gid"), str):
            members.append(project["gid"])
    return next((p for p in scope if p in members), None)


def parse_task(raw: Mapping[str, Any], *, scope: Sequence[str], points_field: str | None) -> WorkItem:
    """An Asana task or subtask as a WorkItem."""
    gid = _gid(raw)
    parent = raw.get("parent")
    parent_gid = parent.get("gid") if isinstance(parent, Mapping) else None
    project = home_project(raw, scope)
    custom_fields, points, choices = read_custom_fields(raw, points_field)
    minutes = raw.get("actual_time_minutes")
    completed = bool(raw.get("completed"))
    item = WorkItem(
        tracker=TRACKER,
        id=gid,
        key=gid,
        title=str(raw.get("name") or ""),
        description=notes if isinstance(notes := raw.get("notes"), str) else "",
        url=raw.get("permalink_url") if isinstance(raw.get("permalink_url"), str) else None,
        level=Level.SUBTASK if parent_gid else Level.STANDARD,
        parent_id=parent_gid or project,
        parent_key=parent_gid or project,  # an Asana task's and project's key is its gid
        container=None if parent_gid else project,
        member_of=project,
        assignee=_assignee(raw),
        state=State.DONE if completed else State.TODO,
        status_name="Completed" if completed else "Incomplete",
        created_at=_time(raw, "created_at"),
        updated_at=_required_time(raw, "modified_at"),
        completed_at=_time(raw, "completed_at") if completed else None,
        started_at=_started(raw),
        points=points,
        hours=float(minutes) / 60
        if isinstance(minutes, int | float) and not isinstance(minutes, bool)
        else None,
        labels=_names(raw.get("tags")),
        custom_fields=custom_fields,
        choice_options=choices,
    )
    return storable_item(item)


def parse_project(raw: Mapping[str, Any]) -> WorkItem:
    """An Asana project as a container item (the epic of its tasks)."""
    gid = _gid(raw)
    completed = bool(raw.get("completed"))
    item = WorkItem(
        tracker=TRACKER,
        id=gid,
        key=gid,
        title=str(raw.get("name") or ""),
        url=raw.get("permalink_url") if isinstance(raw.get("permalink_url"), str) else None,
        level=Level.CONTAINER,
        container=gid,
        state=State.DONE if completed else State.TODO,
        status_name="Completed" if completed else ("Archived" if raw.get("archived") else "Active"),
        created_at=_time(raw, "created_at"),
        updated_at=_required_time(raw, "modified_at"),
        completed_at=_time(raw, "completed_at") if completed else None,
    )
    return storable_item(item)
