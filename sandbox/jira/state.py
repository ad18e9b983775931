"""The fake Jira site's state: account, projects, fields, issues, faults and request counters.

Issues are kept in a list sorted by (updated, id) so that keyset pages cost O(page), which the
100,000-issue sync benchmark relies on. Every mutation bumps ``updated`` (never backwards), like
Jira does. Thread-safe: the server thread and the test thread share it.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from v2mom.sandbox.faults import FaultBook

ISSUE_TYPES: dict[str, tuple[str, int]] = {
    "Epic": ("10000", 1),
    "Story": ("10001", 0),
    "Task": ("10002", 0),
    "Bug": ("10003", 0),
    "Sub-task": ("10004", -1),
}
STATUS_CATEGORIES: dict[str, tuple[int, str, str]] = {
    "new": (2, "To Do", "blue-gray"),
    "indeterminate": (4, "In Progress", "yellow"),
    "done": (3, "Done", "green"),
}
TEAM_POINTS = "customfield_10016"  # team-managed "Story point estimate" (jsw-story-points)
COMPANY_POINTS = "customfield_10028"  # company-managed "Story Points" (float)
VALUE_FIELD = "customfield_10040"
METHOD_FIELD = "customfield_10041"
TEAM_BET_FIELD = "customfield_10042"
SELECT_FIELDS = {VALUE_FIELD: "V2MOM Value", METHOD_FIELD: "V2MOM Method", TEAM_BET_FIELD: "Team Bet"}


@dataclass
class Project:
    """A Jira project; ``simplified`` True for team-managed ("next-gen")."""

    id: str
    key: str
    name: str
    simplified: bool


@dataclass
class Issue:
    """One issue as the fake keeps it (rendered to Jira JSON by the app)."""

    id: int
    key: str
    project: str
    summary: str
    type_name: str
    status: str
    category: str
    created: datetime
    updated: datetime
    parent_id: int | None = None
    labels: list[str] = field(default_factory=list)
    components: list[str] = field(default_factory=list)
    points: float | None = None
    selects: dict[str, str] = field(default_factory=dict)  # field id -> option value
    timespent: int | None = None
    original_estimate: int | None = None
    resolved: datetime | None = None
    old_keys: list[str] = field(default_factory=list)

    @property
    def order(self) -> tuple[datetime, int]:
        """The sort key of search results: (updated, id)."""
        return (self.updated, self.id)


def _field(
    fid: str, name: str, schema: dict[str, Any], custom: bool, clause: str | None = None
) -> dict[str, Any]:
    return {
        "id": fid,
        "key": fid,
        "name": name,
        "custom": custom,
        "orderable": True,
        "navigable": True,
        "searchable": True,
        "clauseNames": [clause or fid],
        "schema": schema,
    }


def default_fields() -> list[dict[str, Any]]:
    """The /rest/api/3/field list: system fields plus both story-points flavours and selects."""
    system = [
        ("summary", "Summary", {"type": "string", "system": "summary"}),
        ("issuetype", "Issue Type", {"type": "issuetype", "system": "issuetype"}),
        ("parent", "Parent", {"type": "issuelink", "system": "parent"}),
        ("status", "Status", {"type": "status", "system": "status"}),
        ("project", "Project", {"type": "project", "system": "project"}),
        ("labels", "Labels", {"type": "array", "items": "string", "system": "labels"}),
        ("components", "Components", {"type": "array", "items": "component", "system": "components"}),
        ("created", "Created", {"type": "datetime", "system": "created"}),
        ("updated", "Updated", {"type": "datetime", "system": "updated"}),
        ("resolutiondate", "Resolved", {"type": "datetime", "system": "resolutiondate"}),
        (
            "statuscategorychangedate",
            "Status Category Changed",
            {"type": "datetime", "system": "statuscategorychangedate"},
        ),
        ("timespent", "Time Spent", {"type": "number", "system": "timespent"}),
        ("timeoriginalestimate", "Original estimate", {"type": "number", "system": "timeoriginalestimate"}),
    ]
    fields = [_field(fid, name, schema, False, fid) for fid, name, schema in system]
    plugin = "com.atlassian.jira.plugin.system.customfieldtypes:"
    fields.append(
        _field(
            TEAM_POINTS,
            "Story point estimate",
            {"type": "number", "custom": plugin + "jsw-story-points", "customId": 10016},
            True,
            "cf[10016]",
        )
    )
    fields.append(
        _field(
            COMPANY_POINTS,
            "Story Points",
            {"type": "number", "custom": plugin + "float", "customId": 10028},
            True,
            "cf[10028]",
        )
    )
    for fid, name in SELECT_FIELDS.items():
        custom_id = int(fid.rsplit("_", 1)[1])
        fields.append(
            _field(fid, name, {"type": "option", "custom": plugin + "select", "customId": custom_id}, True)
        )
    return fields


class JiraState(FaultBook):
    """Everything the fake site knows; mutate it from tests, read it from the app."""

    default_fault_prefix = "/rest/api/3/search/jql"

    def __init__(
        self,
        *,
        account_email: str = "pm@sandbox.test",
        api_token: str = "sandbox-jira-token",
        time_zone: str = "America/New_York",
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """An empty site; add projects and issues, or use ``sandbox.generator``."""
        super().__init__()
        self.account_email = account_email
        self.api_token = api_token
        self.time_zone = time_zone
        self.account_id = "5b10a2844c20165700ede21g"
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self.fields = default_fields()
        self.projects: dict[str, Project] = {}
        self.issues: dict[int, Issue] = {}
        self.deleted: dict[int, Issue] = {}
        self._keys: dict[str, int] = {}
        self._order: list[tuple[datetime, int]] = []
        self._next_id = 10001
        self._counters: dict[str, int] = {}
        self.lock = threading.RLock()
        self.listeners: list[Callable[[str, Issue], None]] = []  # (webhookEvent, issue) after each change

    # -- building ------------------------------------------------------------------------------

    def add_project(self, key: str, name: str, *, team_managed: bool) -> Project:
        """Create a project (team-managed or company-managed)."""
        with self.lock:
            project = Project(str(10000 + len(self.projects)), key, name, team_managed)
            self.projects[key] = project
            return project

    def add_issue(
        self,
        project: str,
        summary: str,
        *,
        type_name: str = "Story",
        category: str = "new",
        status: str | None = None,
        parent_id: int | None = None,
        created: datetime | None = None,
        updated: datetime | None = None,
        **fields: Any,
    ) -> int:
        """Create an issue; returns its stable id. ``fields`` are Issue attributes."""
        with self.lock:
            if project not in self.projects:
                raise KeyError(f"no project {project}")
            issue_id = self._next_id
            self._next_id += 1
            number = self._counters.get(project, 0) + 1
            self._counters[project] = number
            now = self.clock()
            issue = Issue(
                id=issue_id,
                key=f"{project}-{number}",
                project=project,
                summary=summary,
                type_name=type_name,
                status=status or STATUS_CATEGORIES[category][1],
                category=category,
                created=created or now,
                updated=updated or created or now,
                parent_id=parent_id,
                **fields,
            )
            if category == "done" and issue.resolved is None:
                issue.resolved = issue.updated
            self.issues[issue_id] = issue
            self._keys[issue.key] = issue_id
            bisect.insort(self._order, issue.order)
            return issue_id

    # -- mutations (tests, the demo, benchmarks) ------------------------------------------------

    def _touch(self, issue: Issue) -> None:
        self._order.pop(bisect.bisect_left(self._order, issue.order))
        issue.updated = max(self.clock(), issue.updated + timedelta(milliseconds=1))
        bisect.insort(self._order, issue.order)

    def update_issue(self, issue_id: int, **changes: Any) -> Issue:
        """Change attributes and bump ``updated``; ``category='done'`` sets the resolution date."""
        with self.lock:
            issue = self.issues[issue_id]
            for name, value in changes.items():
                if not hasattr(issue, name):
                    raise AttributeError(f"Issue has no attribute {name}")
                setattr(issue, name, value)
            if "category" in changes:
                issue.status = changes.get("status") or STATUS_CATEGORIES[issue.category][1]
            self._touch(issue)
            if "category" in changes:
                issue.resolved = issue.updated if issue.category == "done" else None
        self._notify("jira:issue_updated", issue)
        return issue

    def move_issue(self, issue_id: int, new_project: str) -> str:
        """Move to another project: a new key, the same id; the old key keeps resolving."""
        with self.lock:
            issue = self.issues[issue_id]
            number = self._counters.get(new_project, 0) + 1
            self._counters[new_project] = number
            issue.old_keys.append(issue.key)
            issue.key = f"{new_project}-{number}"
            issue.project = new_project
            self._keys[issue.key] = issue_id
            self._touch(issue)
        self._notify("jira:issue_updated", issue)
        return issue.key

    def delete_issue(self, issue_id: int) -> None:
        """Delete an issue: it disappears from search, and fetching it answers 404."""
        with self.lock:
            issue = self.issues.pop(issue_id)
            self._order.pop(bisect.bisect_left(self._order, issue.order))
            self.deleted[issue_id] = issue
        self._notify("jira:issue_deleted", issue)

    def _notify(self, event: str, issue: Issue) -> None:
        for listener in list(self.listeners):
            listener(event, issue)

    def find(self, id_or_key: str) -> Issue | None:
        """A live issue by id, key or former key."""
        with self.lock:
            if id_or_key.isdigit():
                return self.issues.get(int(id_or_key))
            issue_id = self._keys.get(id_or_key.upper())
            return self.issues.get(issue_id) if issue_id is not None else None

    def iter_from(self, start: tuple[datetime, int] | None, *, inclusive: bool) -> Iterator[Issue]:
        """Live issues in (updated, id) order from ``start`` (a snapshot of the order)."""
        with self.lock:
            if start is None:
                index = 0
            elif inclusive:
                index = bisect.bisect_left(self._order, start)
            else:
                index = bisect.bisect_right(self._order, start)
            keys = self._order[index:]
        for _updated, issue_id in keys:
            issue = self.issues.get(issue_id)
            if issue is not None:
                yield issue
