"""Pure translation of Jira payloads (Cloud REST v3, Data Center REST v2) into ``WorkItem`` (no I/O).

Jira vocabulary (issuetype, statusCategory, hierarchyLevel, customfield_*) ends here. Data Center
differs where this module reads it: users are named by ``key`` (no ``accountId``), descriptions are
plain strings, issue types carry no ``hierarchyLevel`` (an epic is the ``Epic`` type or carries an
Epic Name), and a story names its epic by KEY in the Epic Link custom field (found by its schema,
:func:`discover_epic_fields`), which the caller resolves to an id. Malformed
input raises :class:`~v2mom.errors.FatalError` naming the issue and the field, never a bare
``KeyError``/``TypeError``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from v2mom.connectors.jira.adf import adf_text
from v2mom.errors import ConfigError, FatalError
from v2mom.models import Level, State, WorkItem
from v2mom.vendor_text import storable_item
from v2mom.vocabulary import field_kind

__all__ = [
    "BASE_FIELDS",
    "EPIC_LINK_TYPE",
    "EPIC_NAME_TYPE",
    "ISSUE_ID",
    "ISSUE_KEY",
    "JSW_STORY_POINTS",
    "STATE_BY_CATEGORY",
    "EpicFields",
    "discover_epic_fields",
    "discover_points_fields",
    "epic_link_key",
    "parse_datetime",
    "parse_issue",
    "select_custom_fields",
]

TRACKER = "jira"
# What names an issue: its numeric id (ASCII digits: ``str.isdigit`` takes "²" and "١٢") or its key.
ISSUE_ID = re.compile(r"[0-9]+")
ISSUE_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]*-[0-9]+")
_CUSTOM = "com.atlassian.jira.plugin.system.customfieldtypes:"
JSW_STORY_POINTS = _CUSTOM + "jsw-story-points"  # team-managed "Story point estimate"
EPIC_LINK_TYPE = "com.pyxis.greenhopper.jira:gh-epic-link"  # Data Center: the epic's key
EPIC_NAME_TYPE = "com.pyxis.greenhopper.jira:gh-epic-label"  # Data Center: set on epics only
SPRINT_TYPE = "com.pyxis.greenhopper.jira:gh-sprint"  # Cloud: sprint objects; Data Center: their toString
# Data Center's REST v2 gives a sprint as its Java ``toString``: ``…Sprint@1f[id=3,…,name=X,startDate=…]``.
_DC_SPRINT = re.compile(
    r"com\.atlassian\.greenhopper\.service\.sprint\.Sprint@[0-9a-fA-F]+\[(?P<body>.*)\]", re.S
)
_SPRINT_KEYS = "startDate|endDate|completeDate|activatedDate|sequence|goal|autoStartStop|synced"
_SPRINT_NAME = re.compile(rf"(?:^|,)name=(?P<name>.*?)(?:,(?:{_SPRINT_KEYS})=|$)", re.S)
_POINTS_NAMES = frozenset({"story points", "story point estimate"})
# String-valued custom types worth reading; others (Epic Name/Colour, Rank, text areas) are noise.
_STRING_TYPES = frozenset({_CUSTOM + "textfield"})
_STRING_ARRAY_TYPES = frozenset({_CUSTOM + "labels"})

#: The system fields every sync asks for (points and custom fields are added per site).
BASE_FIELDS: tuple[str, ...] = (
    "summary",
    "description",
    "issuetype",
    "parent",
    "status",
    "assignee",
    "project",
    "labels",
    "components",
    "created",
    "updated",
    "resolutiondate",
    "statuscategorychangedate",
    "timespent",
    "timeoriginalestimate",
)

#: Where a status of each category stands (the key of Jira's ``statusCategory``).
STATE_BY_CATEGORY: dict[str, State] = {
    "new": State.TODO,
    "undefined": State.TODO,  # "No Category"
    "indeterminate": State.IN_PROGRESS,
    "done": State.DONE,
}


def _fail(where: str, problem: str) -> FatalError:
    return FatalError(f"malformed issue {where}: {problem}", tracker=TRACKER)


def parse_datetime(value: object, *, where: str, field: str) -> datetime | None:
    """Parse a Jira timestamp (``2026-11-23T10:00:00.000+0000``) into an aware datetime; None stays None."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise _fail(where, f"field '{field}' is not a timestamp string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _fail(where, f"field '{field}' has an unreadable timestamp {value[:40]!r}") from None
    if parsed.tzinfo is None:
        raise _fail(where, f"field '{field}' timestamp {value[:40]!r} has no UTC offset")
    return parsed


def _obj(value: object, *, where: str, field: str) -> Mapping[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _fail(where, f"field '{field}' is not an object")
    return value


def _seconds_to_hours(value: object, *, where: str, field: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(where, f"field '{field}' is not a number of seconds")
    return float(value) / 3600.0


def _number(value: object, *, where: str, field: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _fail(where, f"field '{field}' is not a number")
    try:
        return float(value)
    except ValueError:
        raise _fail(where, f"field '{field}' is not a number") from None


def _names(value: object, *, where: str, field: str, attr: str | None) -> tuple[str, ...]:
    """A list of strings (``attr`` None) or of objects carrying ``attr`` → tuple of names."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _fail(where, f"field '{field}' is not a list")
    out: list[str] = []
    for entry in value:
        name = entry.get(attr) if attr is not None and isinstance(entry, dict) else entry
        if not isinstance(name, str):
            raise _fail(where, f"field '{field}' holds an entry without a name")
        out.append(name)
    return tuple(out)


def _assignee(value: object, *, where: str) -> str | None:
    """Who ``fields.assignee`` names (null: unassigned): Cloud's ``accountId``, else Data Center's
    user ``key`` (stable; a user's ``name`` can be renamed)."""
    user = _obj(value, where=where, field="assignee")
    if user is None:
        return None
    account = user.get("accountId", user.get("key"))
    if not isinstance(account, str) or not account:
        raise _fail(where, "field 'assignee' has neither 'accountId' nor 'key'")
    return account


def _level(issuetype: Mapping[str, Any] | None, *, epic_named: bool = False) -> Level:
    """Cloud's ``hierarchyLevel``; without one (Data Center), a sub-task type, an epic (the type
    named Epic, or an issue carrying an Epic Name), else a standard issue."""
    if issuetype is None:
        return Level.EPIC if epic_named else Level.STANDARD
    raw = issuetype.get("hierarchyLevel")
    if isinstance(raw, int) and not isinstance(raw, bool):
        if raw >= Level.CONTAINER:  # Premium levels above epics (initiatives …)
            return Level.CONTAINER
        if raw <= Level.SUBTASK:
            return Level.SUBTASK
        return Level(raw)
    if issuetype.get("subtask") is True:
        return Level.SUBTASK
    name = issuetype.get("name")
    if epic_named or (isinstance(name, str) and name.strip().casefold() == "epic"):
        return Level.EPIC
    return Level.STANDARD


@dataclass(frozen=True)
class EpicFields:
    """Data Center's epic custom fields, found by schema: ``link`` (Epic Link, holding the epic's
    key) and ``name`` (Epic Name, set on epics); None where the site has none (Cloud)."""

    link: str | None = None
    name: str | None = None

    @property
    def ids(self) -> tuple[str, ...]:
        """The field ids to request."""
        return tuple(f for f in (self.link, self.name) if f is not None)


def discover_epic_fields(fields: Iterable[Mapping[str, Any]]) -> EpicFields:
    """The Epic Link and Epic Name fields of a ``/field`` answer, by their schema's custom type
    (never by name: both are renamed and translated on real sites). The first of each wins."""
    link = name = None
    for field in fields:
        if not isinstance(field, Mapping) or (fid := _field_id(field)) is None:
            continue
        custom = _schema(field).get("custom")
        if custom == EPIC_LINK_TYPE and link is None:
            link = fid
        elif custom == EPIC_NAME_TYPE and name is None:
            name = fid
    return EpicFields(link=link, name=name)


def epic_link_key(raw: Mapping[str, Any], epic: EpicFields) -> str | None:
    """The epic key an issue's Epic Link holds (None: no link, or not an issue key)."""
    fields = raw.get("fields")
    if epic.link is None or not isinstance(fields, Mapping):
        return None
    value = fields.get(epic.link)
    return value.upper() if isinstance(value, str) and ISSUE_KEY.fullmatch(value) else None


def _custom_values(value: object) -> tuple[str, ...]:
    """Option names held by a select / multi-select / string / string-array value, and the names of
    the sprints a Sprint field holds (Cloud's objects, Data Center's ``Sprint@…[…]`` strings).

    Shapes that are not values (e.g. the Parent Link ``nonEditableReason`` error object, users)
    yield nothing rather than failing: custom fields are best-effort context, not identity.
    """
    if value is None:
        return ()
    if isinstance(value, str):
        sprint = _DC_SPRINT.fullmatch(value)
        if sprint is not None:  # a Data Center sprint: its name (a comma in it is kept)
            named = _SPRINT_NAME.search(sprint.group("body"))
            return (named.group("name"),) if named is not None and named.group("name").strip() else ()
        return (value,) if value.strip() else ()
    if isinstance(value, dict):
        option = value.get("value")
        if option is None and "boardId" in value:  # a Cloud sprint: its name
            option = value.get("name")
        return (option,) if isinstance(option, str) and option.strip() else ()
    if isinstance(value, list):
        out: list[str] = []
        for entry in value:
            out.extend(_custom_values(entry) if not isinstance(entry, list) else ())
        return tuple(out)
    return ()


def _option_ids(value: object) -> tuple[tuple[str, str], ...]:
    """(option id, name) of each option a select / multi-select value holds."""
    entries = value if isinstance(value, list) else [value]
    pairs = []
    for entry in entries:
        if isinstance(entry, dict):
            option_id, name = entry.get("id"), entry.get("value")
            if isinstance(option_id, str | int) and not isinstance(option_id, bool) and isinstance(name, str):
                pairs.append((str(option_id), name))
    return tuple(pairs)


def parse_issue(
    raw: Mapping[str, Any],
    *,
    base_url: str,
    points_fields: Sequence[str],
    custom_field_names: Mapping[str, str],
    epic: EpicFields | None = None,
    epic_ids: Mapping[str, str] | None = None,
) -> WorkItem:
    """Translate one issue from ``/search/jql``, ``/search`` or ``/issue/{id}`` into a WorkItem.

    ``points_fields`` are field ids tried in order (the first non-null wins); ``custom_field_names``
    maps custom field ids to the display names used as ``custom_fields`` keys. Time fields are in
    seconds and become hours: ``timespent`` when positive, else ``timeoriginalestimate``.
    ``completed_at`` is set only for done items: ``resolutiondate``, else
    ``statuscategorychangedate``. ``assignee`` is the assignee's ``accountId`` (None: unassigned).
    ``description`` is plain text: a document (REST v3) flattened by :func:`adf_text`, a string
    (REST v2) as it is. With ``epic`` (Data Center), an issue without ``parent`` takes its Epic
    Link's epic as parent when ``epic_ids`` knows its key (an epic that no longer exists leaves the
    parent unknown, as Cloud leaves a parent the account cannot see); an Epic Name makes an epic.
    Text is made storable (``v2mom.vendor_text.storable_item``).
    """
    if not isinstance(raw, dict):
        raise _fail("(not an object)", "expected a JSON object")
    issue_id = raw.get("id")
    key = raw.get("key")
    if isinstance(issue_id, int) and not isinstance(issue_id, bool):
        issue_id = str(issue_id)
    where = f"{issue_id or '?'}" + (f" ({key})" if isinstance(key, str) else "")
    if not isinstance(issue_id, str) or not issue_id:
        raise _fail(where, "missing 'id'")
    if not isinstance(key, str) or not key:
        raise _fail(where, "missing 'key'")
    fields = _obj(raw.get("fields"), where=where, field="fields")
    if fields is None:
        raise _fail(where, "missing 'fields'")

    summary = fields.get("summary")
    if summary is not None and not isinstance(summary, str):
        raise _fail(where, "field 'summary' is not a string")
    description = fields.get("description")
    if description is not None and not isinstance(description, str | dict):
        raise _fail(where, "field 'description' is neither text nor a document")

    issuetype = _obj(fields.get("issuetype"), where=where, field="issuetype")
    parent = _obj(fields.get("parent"), where=where, field="parent")
    parent_id = parent.get("id") if parent is not None else None
    if parent is not None and (not isinstance(parent_id, str | int) or isinstance(parent_id, bool)):
        raise _fail(where, "field 'parent' has no usable id")
    parent_key = parent.get("key") if parent is not None and isinstance(parent.get("key"), str) else None
    epic_named = False
    if epic is not None:
        linked = epic_link_key(raw, epic) if parent is None else None
        parent_id = (epic_ids or {}).get(linked) if linked is not None else parent_id
        if linked is not None and parent_id is not None:  # unresolved: unknown, as an invisible one
            parent_key = linked
        epic_name = fields.get(epic.name) if epic.name is not None else None
        epic_named = isinstance(epic_name, str) and bool(epic_name.strip())
    project = _obj(fields.get("project"), where=where, field="project")
    container = project.get("key") if project is not None else None

    status = _obj(fields.get("status"), where=where, field="status")
    category = (
        _obj(status.get("statusCategory"), where=where, field="status.statusCategory") if status else None
    )
    category_key = category.get("key") if category is not None else None
    if not isinstance(category_key, str):
        raise _fail(where, "missing field 'status.statusCategory.key'")
    state = STATE_BY_CATEGORY.get(category_key, State.TODO)
    status_name = status.get("name") if status is not None else None

    updated = parse_datetime(fields.get("updated"), where=where, field="updated")
    if updated is None:
        raise _fail(where, "missing field 'updated'")
    created = parse_datetime(fields.get("created"), where=where, field="created")
    resolved = parse_datetime(fields.get("resolutiondate"), where=where, field="resolutiondate")
    category_changed = parse_datetime(
        fields.get("statuscategorychangedate"), where=where, field="statuscategorychangedate"
    )
    completed = (resolved or category_changed) if state is State.DONE else None

    points: float | None = None
    for field_id in points_fields:
        points = _number(fields.get(field_id), where=where, field=field_id)
        if points is not None:
            break

    spent = _seconds_to_hours(fields.get("timespent"), where=where, field="timespent")
    estimate = _seconds_to_hours(
        fields.get("timeoriginalestimate"), where=where, field="timeoriginalestimate"
    )
    hours = spent if spent else estimate

    custom: dict[str, tuple[str, ...]] = {}
    choices: dict[str, tuple[tuple[str, str], ...]] = {}
    for field_id, name in custom_field_names.items():
        value = fields.get(field_id)
        values = _custom_values(value)
        if values:
            merged = custom.get(name, ()) + values
            custom[name] = tuple(dict.fromkeys(merged))  # same-named fields: merge, keep order
            kind = field_kind(name)
            if kind is not None:  # the V2MOM fields: their options are read back by id too
                choices[kind] = choices.get(kind, ()) + _option_ids(value)

    item = WorkItem(
        tracker=TRACKER,
        id=issue_id,
        key=key,
        title=summary or "",
        description=adf_text(description) if isinstance(description, dict) else description or "",
        url=f"{base_url.rstrip('/')}/browse/{key}",
        level=_level(issuetype, epic_named=epic_named),
        parent_id=str(parent_id) if parent_id is not None else None,
        parent_key=parent_key,
        container=container if isinstance(container, str) else None,
        assignee=_assignee(fields.get("assignee"), where=where),
        state=state,
        status_name=status_name if isinstance(status_name, str) else "",
        created_at=created,
        updated_at=updated,
        completed_at=completed,
        points=points,
        hours=hours,
        labels=_names(fields.get("labels"), where=where, field="labels", attr=None),
        components=_names(fields.get("components"), where=where, field="components", attr="name"),
        custom_fields=custom,
        choice_options=choices,
    )
    return storable_item(item)


def _schema(field: Mapping[str, Any]) -> Mapping[str, Any]:
    schema = field.get("schema")
    return schema if isinstance(schema, Mapping) else {}


def _field_id(field: Mapping[str, Any]) -> str | None:
    value = field.get("id")
    return value if isinstance(value, str) and value else None


def discover_points_fields(fields: Iterable[Mapping[str, Any]], configured: str | None) -> list[str]:
    """Story-points field ids, found by schema in a ``/rest/api/3/field`` response.

    Team-managed projects use the ``jsw-story-points`` custom type ("Story point estimate");
    company-managed ones a number field named "Story Points". Those come first, in that order. A
    ``configured`` id (or key) wins and must exist, else ConfigError naming it and the candidates.
    """
    fields = [f for f in fields if isinstance(f, Mapping)]
    team = [fid for f in fields if (fid := _field_id(f)) and _schema(f).get("custom") == JSW_STORY_POINTS]
    named = [
        fid
        for f in fields
        if (fid := _field_id(f))
        and fid not in team
        and _schema(f).get("type") == "number"
        and isinstance(f.get("name"), str)
        and f["name"].strip().casefold() in _POINTS_NAMES
    ]
    found = team + named
    if configured is None:
        return found
    for f in fields:
        if configured in (f.get("id"), f.get("key")):
            fid = _field_id(f)
            return [fid] if fid else [configured]
    hint = ", ".join(found) if found else "none found by schema"
    raise ConfigError(
        f"trackers.jira.story_points_field: field '{configured}' does not exist in this Jira site "
        f"(story-points candidates: {hint})"
    )


def select_custom_fields(fields: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Custom fields worth reading for tags: ``{field id: display name}``.

    Single selects / radio buttons (schema type ``option``), multi-selects / checkboxes (array of
    ``option``), single-line text fields, custom label fields and Jira Software's Sprint field (by
    its type: each instance gives it its own id). Epic Name/Colour, Rank, text areas (rich text in
    v3), users, dates and numbers are skipped.
    """
    selected: dict[str, str] = {}
    for field in fields:
        if not isinstance(field, Mapping):
            continue
        fid = _field_id(field)
        name = field.get("name")
        schema = _schema(field)
        custom_type = schema.get("custom")
        if fid is None or not isinstance(name, str) or not isinstance(custom_type, str):
            continue  # system fields carry no "custom" schema entry
        kind, items = schema.get("type"), schema.get("items")
        if (
            kind == "option"
            or (kind == "array" and items == "option")
            or (kind == "string" and custom_type in _STRING_TYPES)
            or (kind == "array" and items == "string" and custom_type in _STRING_ARRAY_TYPES)
            or custom_type == SPRINT_TYPE  # the sprints' names, found by type whatever the field's name
        ):
            selected[fid] = name
    return selected
