"""connectors/jira/parse.py: real Jira Cloud payloads and table-driven synthetic issues → WorkItem.

Over 400 lines because it is table-driven: one entry per payload shape the parser must handle.
"""

from __future__ import annotations

import copy
import json
import os
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from v2mom.connectors.jira.parse import (
    BASE_FIELDS,
    JSW_STORY_POINTS,
    discover_points_fields,
    parse_datetime,
    parse_issue,
    select_custom_fields,
)
from v2mom.errors import ConfigError, FatalError
from v2mom.models import Level, State
from v2mom.vendor_text import MAX_DESCRIPTION

BASE_URL = "https://acme.atlassian.net"
CUSTOM = "com.atlassian.jira.plugin.system.customfieldtypes:"


def _contracts_dir() -> Path:
    """``<repo>/../shared/contracts``; skip when absent, but fail under CI (it must be there)."""
    root = Path(__file__).resolve().parents[3] / ".." / "shared" / "contracts"
    if not root.is_dir():
        message = f"vendor contracts not found at {root.resolve()} (expected beside the repository)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return root


def _load_example(name: str) -> Any:
    path = _contracts_dir() / "jira" / "examples" / "airbyte-source-jira" / name
    return json.loads(path.read_text(encoding="utf-8"))


def _parse(raw: dict[str, Any], **kwargs: Any) -> Any:
    options: dict[str, Any] = {"base_url": BASE_URL, "points_fields": (), "custom_field_names": {}}
    options.update(kwargs)
    return parse_issue(raw, **options)


def _issue(**fields: Any) -> dict[str, Any]:
    """A minimal valid v3 issue; keyword arguments override or add ``fields`` entries."""
    base: dict[str, Any] = {
        "summary": "Self-serve signup",
        "issuetype": {"name": "Story", "subtask": False, "hierarchyLevel": 0},
        "status": {"name": "To Do", "statusCategory": {"key": "new", "name": "To Do"}},
        "project": {"id": "10000", "key": "ONB"},
        "labels": [],
        "components": [],
        "created": "2026-11-20T09:00:00.000+0000",
        "updated": "2026-11-23T10:00:00.000+0000",
        "resolutiondate": None,
        "statuscategorychangedate": "2026-11-20T09:00:00.000+0000",
        "timespent": None,
        "timeoriginalestimate": None,
    }
    base.update(fields)
    return {"id": "10001", "key": "ONB-1", "self": f"{BASE_URL}/rest/api/3/issue/10001", "fields": base}


# -- real payloads ------------------------------------------------------------------------------


def test_real_epic_from_airbyte_fixture() -> None:
    raw = _load_example("issues.json")["issues"][0]
    item = _parse(
        raw,
        base_url="https://airbyteio.atlassian.net/",
        points_fields=["customfield_10016"],
        custom_field_names={
            "customfield_10012": "Epic Status",  # select: {"value": "To Do", ...}
            "customfield_10018": "Parent Link",  # error shape (PLUGIN_LICENSE_ERROR): no value
            "customfield_10030": "Empty",
        },
    )
    assert item.tracker == "jira"
    assert item.id == "10627"
    assert item.key == "TESTKEY13-1"
    assert item.title == "My Summary"
    assert item.url == "https://airbyteio.atlassian.net/browse/TESTKEY13-1"
    assert item.level is Level.EPIC
    assert item.parent_id is None
    assert item.container == "TESTKEY13"
    assert item.state is State.TODO
    assert item.status_name == "To Do"
    assert item.created_at == datetime(2022, 6, 9, 23, 29, 31, 871000, tzinfo=UTC)
    assert item.updated_at == datetime(2022, 12, 8, 10, 22, 18, 889000, tzinfo=UTC)
    assert item.updated_at.utcoffset() == timedelta(hours=-8)  # zone preserved, tz-aware
    assert item.completed_at is None  # not done
    assert item.points is None
    assert item.hours is None  # timespent/original estimate null, timetracking {}
    assert item.labels == ("test",)
    assert item.components == ("Component 0",)
    assert item.custom_fields == {"Epic Status": ("To Do",)}
    assert item.assignee == "5fc9e78d2730d800760becc4"  # fields.assignee.accountId
    assert item.started_at is None  # Asana only
    assert item.description == "Test issue"  # the fixture's one-paragraph document


def test_a_description_is_plain_text_from_a_document_or_a_string() -> None:
    document = {
        "type": "doc",
        "version": 1,
        "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": "Retry declined cards."}]},
            {"type": "paragraph", "content": [{"type": "text", "text": "Then page on-call."}]},
        ],
    }
    assert _parse(_issue(description=document)).description == "Retry declined cards.\nThen page on-call."
    assert _parse(_issue(description="Plain text, as REST v2 sends it")).description == (
        "Plain text, as REST v2 sends it"
    )
    assert _parse(_issue(description=None)).description == ""
    assert "description" in BASE_FIELDS


def test_a_huge_description_is_cut_and_unstorable_characters_replaced() -> None:
    item = _parse(_issue(description="nul\x00 lone\ud800 " + "x" * 2_000_000))
    assert item.description.startswith("nul\ufffd lone\ufffd x")
    assert len(item.description) == MAX_DESCRIPTION


def test_real_field_list_has_no_points_and_no_custom_fields_worth_reading() -> None:
    fields = _load_example("issue_fields.json")
    # "issuetype" claims custom: true but its schema is a system one; "parent" has no schema at all.
    assert discover_points_fields(fields, None) == []
    assert select_custom_fields(fields) == {}
    with pytest.raises(ConfigError, match="customfield_10016"):
        discover_points_fields(fields, "customfield_10016")
    assert discover_points_fields(fields, "statuscategorychangedate") == ["statuscategorychangedate"]


# -- synthetic: state, level, parent, dates -----------------------------------------------------


@pytest.mark.parametrize(
    ("category", "state"),
    [
        ("new", State.TODO),
        ("undefined", State.TODO),
        ("indeterminate", State.IN_PROGRESS),
        ("done", State.DONE),
        ("something-new", State.TODO),
    ],
)
def test_state_from_status_category(category: str, state: State) -> None:
    raw = _issue(status={"name": "Whatever", "statusCategory": {"key": category}})
    item = _parse(raw)
    assert item.state is state
    assert item.status_name == "Whatever"


@pytest.mark.parametrize(
    ("issuetype", "level"),
    [
        ({"name": "Epic", "hierarchyLevel": 1, "subtask": False}, Level.EPIC),
        ({"name": "Story", "hierarchyLevel": 0, "subtask": False}, Level.STANDARD),
        ({"name": "Sub-task", "hierarchyLevel": -1, "subtask": True}, Level.SUBTASK),
        ({"name": "Initiative", "hierarchyLevel": 2, "subtask": False}, Level.CONTAINER),
        ({"name": "Theme", "hierarchyLevel": 3, "subtask": False}, Level.CONTAINER),
        ({"name": "Sub-task", "subtask": True}, Level.SUBTASK),  # no hierarchyLevel: subtask flag
        ({"name": "Task", "subtask": False}, Level.STANDARD),
        (None, Level.STANDARD),
    ],
)
def test_level_from_hierarchy(issuetype: dict[str, Any] | None, level: Level) -> None:
    assert _parse(_issue(issuetype=issuetype)).level is level


def test_parent_id_is_the_stable_id_not_the_key() -> None:
    item = _parse(_issue(parent={"id": "10500", "key": "ONB-7", "fields": {"summary": "Epic"}}))
    assert item.parent_id == "10500"
    assert _parse(_issue(parent=None)).parent_id is None


def test_int_ids_are_stringified() -> None:
    raw = _issue(parent={"id": 10500})
    raw["id"] = 10001
    item = _parse(raw)
    assert (item.id, item.parent_id) == ("10001", "10500")


def test_completed_at_resolutiondate_else_status_category_change_when_done() -> None:
    done = {"name": "Done", "statusCategory": {"key": "done"}}
    resolved = _parse(
        _issue(
            status=done,
            resolutiondate="2026-11-22T18:30:00.000+0100",
            statuscategorychangedate="2026-11-22T18:00:00.000+0000",
        )
    )
    assert resolved.completed_at == datetime(2026, 11, 22, 17, 30, tzinfo=UTC)
    unresolved = _parse(_issue(status=done, statuscategorychangedate="2026-11-22T18:00:00.000+0000"))
    assert unresolved.completed_at == datetime(2026, 11, 22, 18, 0, tzinfo=UTC)
    # A stale resolution on a reopened issue does not make it complete.
    reopened = _parse(
        _issue(
            status={"name": "In Progress", "statusCategory": {"key": "indeterminate"}},
            resolutiondate="2026-11-22T18:30:00.000+0000",
        )
    )
    assert reopened.completed_at is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-23T10:00:00.000+0000", datetime(2026, 11, 23, 10, 0, tzinfo=UTC)),
        ("2026-11-23T02:00:00.000-0800", datetime(2026, 11, 23, 10, 0, tzinfo=UTC)),
        ("2026-11-23T15:30:00.123+0530", datetime(2026, 11, 23, 10, 0, 0, 123000, tzinfo=UTC)),
        ("2026-11-23T10:00:00Z", datetime(2026, 11, 23, 10, 0, tzinfo=UTC)),
    ],
)
def test_parse_datetime_formats(text: str, expected: datetime) -> None:
    parsed = parse_datetime(text, where="ONB-1", field="updated")
    assert parsed == expected
    assert parsed is not None
    assert parsed.tzinfo is not None


def test_offsets_are_kept() -> None:
    parsed = parse_datetime("2026-11-23T02:00:00.000-0800", where="x", field="updated")
    assert parsed is not None
    assert parsed.tzinfo is not None
    assert parsed.utcoffset() == timezone(timedelta(hours=-8)).utcoffset(None)


# -- synthetic: effort ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("timespent", "estimate", "hours"),
    [
        (7200, 36000, 2.0),  # time spent wins
        (None, 36000, 10.0),  # else the original estimate
        (0, 5400, 1.5),  # nothing logged yet counts as no time spent
        (1800, None, 0.5),
        (None, None, None),
    ],
)
def test_hours_from_seconds(timespent: int | None, estimate: int | None, hours: float | None) -> None:
    item = _parse(_issue(timespent=timespent, timeoriginalestimate=estimate))
    assert item.hours == (pytest.approx(hours) if hours is not None else None)


@pytest.mark.parametrize(
    ("values", "points"),
    [
        ({"customfield_10016": 5, "customfield_10028": 8}, 5.0),  # first configured wins
        ({"customfield_10016": None, "customfield_10028": 8}, 8.0),  # first non-null
        ({"customfield_10016": 0.5}, 0.5),
        ({"customfield_10016": 0}, 0.0),  # zero is a value, not absence
        ({}, None),
    ],
)
def test_points_first_non_null(values: dict[str, Any], points: float | None) -> None:
    item = _parse(_issue(**values), points_fields=["customfield_10016", "customfield_10028"])
    assert item.points == points


def test_the_assignee_is_the_account_id_and_unassigned_is_none() -> None:
    user = {
        "self": f"{BASE_URL}/rest/api/3/user?accountId=557058:f58131cb",
        "accountId": "557058:f58131cb",
        "displayName": "Ada Lovelace",
        "accountType": "atlassian",
    }
    assert _parse(_issue(assignee=user)).assignee == "557058:f58131cb"
    assert _parse(_issue(assignee=None)).assignee is None
    assert _parse(_issue()).assignee is None  # not sent at all
    assert "assignee" in BASE_FIELDS  # and every sync asks for it


def test_labels_and_components() -> None:
    item = _parse(
        _issue(labels=["value:customer-first", "infra"], components=[{"id": "1", "name": "Billing"}])
    )
    assert item.labels == ("value:customer-first", "infra")
    assert item.components == ("Billing",)


# -- synthetic: custom fields ---------------------------------------------------------------------


def test_custom_fields_by_display_name() -> None:
    raw = _issue(
        customfield_10100={"self": "x", "value": "Customer-first thinking", "id": "1"},  # select
        customfield_10101=[{"value": "Onboarding", "id": "2"}, {"value": "Billing", "id": "3"}],  # multi
        customfield_10102="Team Bet A",  # single-line text
        customfield_10103=["alpha", "beta"],  # custom labels
        customfield_10104=None,  # unset
        customfield_10105={"nonEditableReason": {"reason": "PLUGIN_LICENSE_ERROR"}},  # not a value
        customfield_10106=[],
        customfield_10107={"value": "Bet B"},  # same display name as 10102: merged
    )
    item = _parse(
        raw,
        custom_field_names={
            "customfield_10100": "V2MOM Value",
            "customfield_10101": "V2MOM Method",
            "customfield_10102": "Team Bet",
            "customfield_10103": "Tags",
            "customfield_10104": "Unset",
            "customfield_10105": "Parent Link",
            "customfield_10106": "Empty",
            "customfield_10107": "Team Bet",
        },
    )
    assert item.custom_fields == {
        "V2MOM Value": ("Customer-first thinking",),
        "V2MOM Method": ("Onboarding", "Billing"),
        "Team Bet": ("Team Bet A", "Bet B"),
        "Tags": ("alpha", "beta"),
    }


def _field(fid: str, name: str, custom: str | None, type_: str, items: str | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": type_}
    if custom is not None:
        schema["custom"] = custom
        schema["customId"] = int(fid.rsplit("_", 1)[-1]) if fid.startswith("customfield_") else None
    else:
        schema["system"] = fid
    if items is not None:
        schema["items"] = items
    return {"id": fid, "key": fid, "name": name, "custom": custom is not None, "schema": schema}


SITE_FIELDS: list[dict[str, Any]] = [
    _field("summary", "Summary", None, "string"),
    _field("timespent", "Time Spent", None, "number"),
    _field("customfield_10016", "Story point estimate", JSW_STORY_POINTS, "number"),
    _field("customfield_10028", "Story Points", CUSTOM + "float", "number"),
    _field("customfield_10029", "Story points", CUSTOM + "float", "number"),  # case-insensitive
    _field("customfield_10030", "Story Points", CUSTOM + "textfield", "string"),  # not a number
    _field("customfield_10031", "Business Value", CUSTOM + "float", "number"),
    _field("customfield_10100", "V2MOM Value", CUSTOM + "select", "option"),
    _field("customfield_10101", "V2MOM Method", CUSTOM + "multiselect", "array", "option"),
    _field("customfield_10102", "Team Bet", CUSTOM + "radiobuttons", "option"),
    _field("customfield_10103", "Areas", CUSTOM + "multicheckboxes", "array", "option"),
    _field("customfield_10104", "Team Name", CUSTOM + "textfield", "string"),
    _field("customfield_10105", "Tags", CUSTOM + "labels", "array", "string"),
    _field("customfield_10011", "Epic Name", "com.pyxis.greenhopper.jira:gh-epic-label", "string"),
    _field("customfield_10017", "Epic Color", "com.pyxis.greenhopper.jira:gh-epic-color", "string"),
    _field("customfield_10019", "Rank", "com.pyxis.greenhopper.jira:gh-lexo-rank", "any"),
    _field("customfield_10106", "Notes", CUSTOM + "textarea", "string"),
    _field("customfield_10107", "Reviewer", CUSTOM + "userpicker", "user"),
    {"id": "parent", "key": "parent", "name": "Parent", "custom": False},  # no schema (real)
]


def test_discover_points_fields_by_schema_not_by_id() -> None:
    assert discover_points_fields(SITE_FIELDS, None) == [
        "customfield_10016",  # team-managed jsw-story-points first
        "customfield_10028",
        "customfield_10029",
    ]
    assert discover_points_fields([f for f in SITE_FIELDS if f["id"] != "customfield_10016"], None) == [
        "customfield_10028",
        "customfield_10029",
    ]


def test_configured_points_field_wins_and_must_exist() -> None:
    assert discover_points_fields(SITE_FIELDS, "customfield_10031") == ["customfield_10031"]
    with pytest.raises(ConfigError, match="customfield_99999") as info:
        discover_points_fields(SITE_FIELDS, "customfield_99999")
    assert "story_points_field" in str(info.value)
    assert "customfield_10016" in str(info.value)  # names the candidates found by schema


def test_select_custom_fields() -> None:
    assert select_custom_fields(SITE_FIELDS) == {
        "customfield_10100": "V2MOM Value",
        "customfield_10101": "V2MOM Method",
        "customfield_10102": "Team Bet",
        "customfield_10103": "Areas",
        "customfield_10104": "Team Name",
        "customfield_10105": "Tags",
        "customfield_10030": "Story Points",
    }


# -- malformed input ------------------------------------------------------------------------------


def _without(raw: dict[str, Any], *path: str) -> dict[str, Any]:
    out = copy.deepcopy(raw)
    node = out
    for part in path[:-1]:
        node = node[part]
    del node[path[-1]]
    return out


def _with(raw: dict[str, Any], value: Any, *path: str) -> dict[str, Any]:
    out = copy.deepcopy(raw)
    node = out
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return out


GOOD = _issue()


@pytest.mark.parametrize(
    ("raw", "mentions"),
    [
        (_without(GOOD, "id"), ["missing 'id'", "ONB-1"]),
        (_without(GOOD, "key"), ["missing 'key'", "10001"]),
        (_without(GOOD, "fields"), ["missing 'fields'", "ONB-1"]),
        (_with(GOOD, [], "fields"), ["'fields'", "ONB-1"]),
        (_without(GOOD, "fields", "updated"), ["'updated'", "10001 (ONB-1)"]),
        (_with(GOOD, "23/11/2026", "fields", "updated"), ["'updated'", "23/11/2026", "ONB-1"]),
        (_with(GOOD, "2026-11-23T10:00:00", "fields", "created"), ["'created'", "no UTC offset"]),
        (_with(GOOD, 1732356000, "fields", "resolutiondate"), ["'resolutiondate'"]),
        (_without(GOOD, "fields", "status"), ["status.statusCategory.key"]),
        (_with(GOOD, {"name": "Odd"}, "fields", "status"), ["status.statusCategory.key"]),
        (_with(GOOD, "To Do", "fields", "status"), ["'status'"]),
        (_with(GOOD, "ONB", "fields", "labels"), ["'labels'"]),
        (_with(GOOD, [{"id": "1"}], "fields", "components"), ["'components'"]),
        (_with(GOOD, "2h", "fields", "timespent"), ["'timespent'"]),
        (_with(GOOD, {"key": "ONB-7"}, "fields", "parent"), ["'parent'"]),
        (_with(GOOD, 42, "fields", "summary"), ["'summary'"]),
        (_with(GOOD, ["a list"], "fields", "description"), ["'description' is neither text nor a document"]),
        (_with(GOOD, "557058:f58131cb", "fields", "assignee"), ["'assignee' is not an object", "ONB-1"]),
        (_with(GOOD, {"displayName": "Ada"}, "fields", "assignee"), ["has neither 'accountId' nor 'key'"]),
        (_with(GOOD, {"accountId": 42}, "fields", "assignee"), ["has neither 'accountId' nor 'key'"]),
    ],
)
def test_malformed_input_raises_fatal_error_naming_issue_and_field(
    raw: dict[str, Any], mentions: list[str]
) -> None:
    with pytest.raises(FatalError) as info:
        _parse(raw)
    message = str(info.value)
    for text in mentions:
        assert text in message
    assert info.value.tracker == "jira"


def test_malformed_points_value_names_the_field() -> None:
    with pytest.raises(FatalError, match="customfield_10016"):
        _parse(_issue(customfield_10016="lots"), points_fields=["customfield_10016"])


def test_not_an_object() -> None:
    with pytest.raises(FatalError, match="JSON object"):
        _parse([])  # type: ignore[arg-type]
