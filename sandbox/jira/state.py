"""The fake Jira site's state: account, projects, fields, issues, faults and request counters.

Issues are kept in a list sorted by (updated, id) so that keyset pages cost O(page), which the
100,000-issue sync benchmark relies on. Every mutation bumps ``updated`` (never backwards), like
Jira does. Statuses have ids and categories (``statuses``, served at ``/rest/api/3/status``); each
issue keeps its changelog: a group of changed fields per change, as Jira records it (a change of
status or assignee, made by :meth:`JiraState.update_issue` or drawn by the generator, and the
resolution Jira sets and clears with the done category). Creating an issue records no change, as
in Jira. Thread-safe: the server thread and the test thread share it.
"""

from __future__ import annotations

import bisect
import hashlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from v2mom.sandbox.faults import FaultBook
from v2mom.sandbox.history import Step

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
# The site's workflow statuses: name -> (status id, category key). A status named in a test that is
# not here joins it with a fresh id (:meth:`JiraState.status_id`).
DEFAULT_STATUSES: dict[str, tuple[str, str]] = {
    "To Do": ("10000", "new"),
    "In Progress": ("3", "indeterminate"),
    "In Review": ("10002", "indeterminate"),
    "Done": ("10001", "done"),
}
DONE_RESOLUTION = ("10000", "Done")  # the resolution Jira sets when an issue enters the done category
PEOPLE = ("Ada Lovelace", "Grace Hopper", "Alan Turing", "Edsger Dijkstra", "Barbara Liskov", "Ken Thompson")
TEAM_POINTS = "customfield_10016"  # team-managed "Story point estimate" (jsw-story-points)
COMPANY_POINTS = "customfield_10028"  # company-managed "Story Points" (float)
CLOUD_SPRINT = "customfield_10020"  # com.pyxis.greenhopper.jira:gh-sprint: sprint objects on Cloud
SPRINT_TYPE = "com.pyxis.greenhopper.jira:gh-sprint"
VALUE_FIELD = "customfield_10040"
METHOD_FIELD = "customfield_10041"
TEAM_BET_FIELD = "customfield_10042"
SELECT_TYPE = "com.atlassian.jira.plugin.system.customfieldtypes:select"
SELECT_FIELDS = {VALUE_FIELD: "V2MOM Value", METHOD_FIELD: "V2MOM Method", TEAM_BET_FIELD: "Team Bet"}
# Data Center: Jira Software's own fields (found by their schema, whatever they are named).
DC_EPIC_LINK = "customfield_10008"  # com.pyxis.greenhopper.jira:gh-epic-link: the epic's key
DC_SPRINT = "customfield_10007"  # com.pyxis.greenhopper.jira:gh-sprint: Sprint@…[…] strings on DC
DC_EPIC_NAME = "customfield_10009"  # com.pyxis.greenhopper.jira:gh-epic-label: an epic's short name
DC_POINTS = "customfield_10006"  # "Story Points" (float), every project (no team-managed ones on DC)
DC_FIRST_USER = 10000  # Data Center user keys: JIRAUSER10000, JIRAUSER10001, …
Deployment = Literal["cloud", "datacenter"]


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
    select_ids: dict[str, str] = field(default_factory=dict)  # field id -> option id, when set by id
    assignee: str | None = None  # the assignee's accountId
    changelog: list[ChangeGroup] = field(default_factory=list)  # oldest first
    description: str = ""  # plain text: served as a document (paragraphs split on blank lines)
    sprint: str | None = None  # the name of the sprint the issue is in (Jira Software's Sprint field)

    @property
    def order(self) -> tuple[datetime, int]:
        """The sort key of search results: (updated, id)."""
        return (self.updated, self.id)


@dataclass(frozen=True)
class ChangeItem:
    """One field of a change: Jira's ``ChangeDetails`` (``from``/``to`` ids, and their display text)."""

    field_id: str
    before: str | None
    before_text: str | None
    after: str | None
    after_text: str | None


@dataclass(frozen=True)
class ChangeGroup:
    """One changelog entry: who changed which fields of an issue, when."""

    id: int
    created: datetime
    author: str  # accountId
    items: tuple[ChangeItem, ...]


@dataclass(frozen=True)
class SearchCall:
    """A Data Center search the sandbox is about to answer, as its ``search_hooks`` see it."""

    start_at: int
    jql: str
    expand: frozenset[str]


@dataclass
class Worklog:
    """Time logged on an issue (Data Center's worklog feeds serve these)."""

    id: int
    issue_id: int
    author: str  # the user's key (accountId on Cloud)
    seconds: int
    started: datetime
    created: datetime
    updated: datetime


@dataclass
class FieldContext:
    """A custom field context: global when it names no projects, for all types when no issue types."""

    id: str
    field_id: str
    name: str
    description: str = ""
    project_ids: list[str] = field(default_factory=list)
    issue_type_ids: list[str] = field(default_factory=list)
    options: list[FieldOption] = field(default_factory=list)

    @property
    def is_global(self) -> bool:
        """Whether the context applies to every project."""
        return not self.project_ids


@dataclass
class FieldOption:
    """A select option of one context; people can pick it unless ``disabled``."""

    id: str
    value: str
    disabled: bool = False


@dataclass
class RemoteLink:
    """A remote issue link; ``global_id`` (when given) identifies it for updates in place."""

    id: int
    issue_id: int
    global_id: str | None
    object: dict[str, Any]
    application: dict[str, Any] | None = None
    relationship: str | None = None


@dataclass
class BulkTask:
    """A bulk edit task: applied when submitted, reported ``RUNNING`` for ``running_polls`` looks."""

    id: str
    created: datetime
    total: int
    processed: list[int] = field(default_factory=list)
    failed: dict[str, list[str]] = field(default_factory=dict)  # issue id -> reasons
    invalid: int = 0  # issues that do not exist (deleted) or are not visible
    running_polls: int = 0


class FieldAdminError(Exception):
    """A field administration request Jira refuses: ``status`` and its ``errorMessages`` text."""

    def __init__(self, status: int, message: str) -> None:
        """Refuse with HTTP ``status`` and ``message``."""
        super().__init__(message)
        self.status = status
        self.message = message


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


def default_fields(deployment: Deployment = "cloud") -> list[dict[str, Any]]:
    """The /field list: system fields, the story-points fields and the selects.

    Cloud has both story-points flavours (team- and company-managed); Data Center has one "Story
    Points" float field and Jira Software's Epic Link, Sprint and Epic Name fields, and no
    ``statuscategorychangedate``.
    """
    if deployment == "datacenter":
        return _datacenter_fields()
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
    fields.append(
        _field(
            CLOUD_SPRINT,
            "Sprint",
            {"type": "array", "items": "json", "custom": SPRINT_TYPE, "customId": 10020},
            True,
            "cf[10020]",
        )
    )
    for fid, name in SELECT_FIELDS.items():
        custom_id = int(fid.rsplit("_", 1)[1])
        fields.append(
            _field(fid, name, {"type": "option", "custom": plugin + "select", "customId": custom_id}, True)
        )
    return fields


def _datacenter_fields() -> list[dict[str, Any]]:
    system = [
        f
        for f in default_fields("cloud")
        if not f["custom"] and f["id"] not in ("statuscategorychangedate", "parent")
    ]
    software = "com.pyxis.greenhopper.jira:"
    plugin = "com.atlassian.jira.plugin.system.customfieldtypes:"
    custom = [
        (DC_EPIC_LINK, "Epic Link", {"type": "any", "custom": software + "gh-epic-link"}),
        (DC_SPRINT, "Sprint", {"type": "array", "items": "string", "custom": SPRINT_TYPE}),
        (DC_EPIC_NAME, "Epic Name", {"type": "string", "custom": software + "gh-epic-label"}),
        (DC_POINTS, "Story Points", {"type": "number", "custom": plugin + "float"}),
        *(
            (fid, name, {"type": "option", "custom": plugin + "select"})
            for fid, name in SELECT_FIELDS.items()
        ),
    ]
    for fid, name, schema in custom:
        custom_id = int(fid.rsplit("_", 1)[1])
        system.append(_field(fid, name, {**schema, "customId": custom_id}, True, f"cf[{custom_id}]"))
    return system


class JiraState(FaultBook):
    """Everything the fake site knows; mutate it from tests, read it from the app."""

    def __init__(
        self,
        *,
        account_email: str = "pm@sandbox.test",
        api_token: str = "sandbox-jira-token",
        time_zone: str = "America/New_York",
        clock: Callable[[], datetime] | None = None,
        deployment: Deployment = "cloud",
    ) -> None:
        """An empty site; add projects and issues, or use ``sandbox.generator``.

        ``deployment="datacenter"`` makes it a Jira Data Center 10.3 site: REST v2 only, a personal
        access token (``api_token``) sent as Bearer, people by user key (``JIRAUSER10000`` …) with a
        username each, Jira Software's Epic Link instead of a parent for issues under an epic.
        """
        super().__init__()
        self.deployment: Deployment = deployment
        self.datacenter = deployment == "datacenter"
        self.api = "/rest/api/2" if self.datacenter else "/rest/api/3"
        self.default_fault_prefix = "/rest/api/2/search" if self.datacenter else "/rest/api/3/search/jql"
        self.account_email = account_email
        self.api_token = api_token
        self.token_expired = False  # Data Center: the PAT expired, every call answers 401
        self.time_zone = time_zone
        # The site's people, by accountId on Cloud and by user key on Data Center (the account the
        # connector uses is one of them); ``usernames`` are Data Center's renameable login names.
        names = ("Sandbox PM", *PEOPLE)
        if self.datacenter:
            keys = [f"JIRAUSER{DC_FIRST_USER + n}" for n in range(len(names))]
        else:
            keys = ["5b10a2844c20165700ede21g"] + [
                hashlib.sha256(n.encode()).hexdigest()[:24] for n in PEOPLE
            ]
        self.account_id = keys[0]
        self.people: dict[str, str] = dict(zip(keys, names, strict=True))
        self.usernames = {key: name.lower().replace(" ", ".") for key, name in self.people.items()}
        self.statuses: dict[str, tuple[str, str]] = dict(DEFAULT_STATUSES)
        self._next_status_id = 10100
        self._next_change_id = 20000
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self.fields = default_fields(deployment)
        self.projects: dict[str, Project] = {}
        self.issues: dict[int, Issue] = {}
        self.deleted: dict[int, Issue] = {}
        self._keys: dict[str, int] = {}
        self._order: list[tuple[datetime, int]] = []
        self.revision = 0  # bumped whenever an issue is added, updated, moved or deleted
        self._next_id = 10001
        self._counters: dict[str, int] = {}
        self.lock = threading.RLock()
        self.listeners: list[Callable[[str, Issue], None]] = []  # (webhookEvent, issue) after each change
        # Custom field administration: contexts by id (each with its options), who may administer.
        self.contexts: dict[str, FieldContext] = {}
        self.administrator = True  # False: creating fields, contexts and options answers 403
        self.locked_fields: set[str] = set()  # fields managed by an app: every change answers 403
        self.option_page_size = 100  # GET …/option: the most options a page holds, whatever is asked
        self._next_custom_id = 10100
        self._next_context_id = 10200
        self._next_option_id = 10300
        for fid, name in SELECT_FIELDS.items():
            self._add_context(fid, f"Default Configuration Scheme for {name}")
        # Write-back: remote links per issue id, bulk edit tasks by id (see sandbox.jira.writes).
        self.remote_links: dict[int, list[RemoteLink]] = {}
        self.bulk_tasks: dict[str, BulkTask] = {}
        self.bulk_running_polls = 0  # how many looks at a new bulk task answer RUNNING first
        self._next_link_id = 10000
        self._next_task_id = 10600
        # Data Center (sandbox.jira.datacenter_writes): an admin turned remote issue linking off (every
        # link answers 403); custom fields created through REST and not yet put on the edit screens,
        # which an issue edit cannot set (a Jira admin puts them there, :meth:`put_on_screens`).
        self.remote_links_disabled = False
        self.off_screens: set[str] = set()
        # ``POST /screens/addToDefault/{fieldId}`` puts a field on the Default Screen, which the
        # projects edit through unless they were given screens of their own (``own_screens``).
        self.default_screen: set[str] = set()
        self.own_screens = False
        self._datacenter_reads()

    # -- building ------------------------------------------------------------------------------

    def add_project(self, key: str, name: str, *, team_managed: bool) -> Project:
        """Create a project (team-managed or company-managed)."""
        with self.lock:
            managed_by_team = team_managed and not self.datacenter  # Data Center has no team-managed projects
            project = Project(str(10000 + len(self.projects)), key, name, managed_by_team)
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
            self.revision += 1
            return issue_id

    # -- statuses and the changelog ---------------------------------------------------------------

    def status_id(self, name: str, category: str) -> str:
        """The id of status ``name``; a name the site does not have yet joins it in ``category``."""
        with self.lock:
            if name not in self.statuses:
                self.statuses[name] = (str(self._next_status_id), category)
                self._next_status_id += 1
            return self.statuses[name][0]

    def workers(self) -> list[str]:
        """The accountIds of the people who work on issues (the connector's own account is not one)."""
        return [account for account in self.people if account != self.account_id]

    def _status_change(self, before: tuple[str, str], after: tuple[str, str]) -> list[ChangeItem]:
        """The items of a move between (status name, category) pairs: the status, and the resolution
        that entering or leaving the done category sets or clears."""
        items = [ChangeItem("status", self.status_id(*before), before[0], self.status_id(*after), after[0])]
        if (after[1] == "done") != (before[1] == "done"):
            none: tuple[str | None, str | None] = (None, None)
            old, new = (DONE_RESOLUTION, none) if before[1] == "done" else (none, DONE_RESOLUTION)
            items.append(ChangeItem("resolution", old[0], old[1], new[0], new[1]))
        return items

    def _assignee_change(self, before: str | None, after: str | None) -> ChangeItem:
        return ChangeItem(
            "assignee",
            before,
            self.people.get(before) if before is not None else None,
            after,
            self.people.get(after) if after is not None else None,
        )

    def _log_change(self, issue: Issue, at: datetime, author: str, items: list[ChangeItem]) -> None:
        if items:
            self._next_change_id += 1
            issue.changelog.append(ChangeGroup(self._next_change_id, at, author, tuple(items)))

    def tell_story(self, issue_id: int, steps: list[Step]) -> None:
        """Record ``steps`` (generated history, :mod:`sandbox.history`) in the issue's changelog: one
        change per step, by the person assigned then (the PM when nobody is). The story starts in
        ``To Do``, unassigned, and must end where the issue stands; ``updated`` is not touched (the
        steps are no later than it)."""
        with self.lock:
            issue = self.issues[issue_id]
            status: tuple[str, str] = ("To Do", "new")
            assignee: str | None = None
            for step in steps:
                if step.field == "status":
                    assert step.after is not None
                    entered = (step.after, self.statuses[step.after][1])
                    items = self._status_change(status, entered)
                    status = entered
                else:
                    items = [self._assignee_change(step.before, step.after)]
                    assignee = step.after
                self._log_change(issue, step.at, assignee or self.account_id, items)
            if (status, assignee) != ((issue.status, issue.category), issue.assignee):
                raise ValueError(f"the story of {issue.key} does not end where the issue stands")

    # -- custom field administration (vocabulary provisioning) --------------------------------

    def field_by_id(self, field_id: str) -> dict[str, Any] | None:
        """The field's /field entry, or None."""
        with self.lock:
            return next((f for f in self.fields if f["id"] == field_id), None)

    def _admin_check(self, field_id: str | None, what: str) -> None:
        if not self.administrator:
            raise FieldAdminError(403, f"Only Jira administrators can {what}.")
        if field_id is not None and field_id in self.locked_fields:
            raise FieldAdminError(403, f"The custom field {field_id} is locked and cannot be changed.")

    def _add_context(self, field_id: str, name: str, description: str = "") -> FieldContext:
        context = FieldContext(str(self._next_context_id), field_id, name, description)
        self._next_context_id += 1
        self.contexts[context.id] = context
        return context

    def create_custom_field(self, name: str, type_key: str, searcher_key: str | None) -> dict[str, Any]:
        """A new custom field (no context yet); FieldAdminError when refused or malformed."""
        plugin = "com.atlassian.jira.plugin.system.customfieldtypes:"
        schema_types = {"select": "option", "multiselect": "array", "textfield": "string", "float": "number"}
        searchers = {"select": "multiselectsearcher", "multiselect": "multiselectsearcher"}
        with self.lock:
            self._admin_check(None, "create custom fields")
            short = type_key.removeprefix(plugin)
            if not type_key.startswith(plugin) or short not in schema_types:
                raise FieldAdminError(400, f"The custom field type '{type_key}' is not supported.")
            if searcher_key is not None and short in searchers and searcher_key != plugin + searchers[short]:
                raise FieldAdminError(400, f"The searcher '{searcher_key}' is not valid for '{short}'.")
            custom_id = self._next_custom_id
            self._next_custom_id += 1
            fid = f"customfield_{custom_id}"
            schema: dict[str, Any] = {"type": schema_types[short], "custom": type_key, "customId": custom_id}
            if short == "multiselect":
                schema["items"] = "option"
            created = _field(fid, name, schema, True, f"cf[{custom_id}]")
            created["clauseNames"] = [f"cf[{custom_id}]", name]
            self.fields.append(created)
            return created

    def option_of(self, field_id: str, option_id: str) -> FieldOption | None:
        """The option ``option_id`` of any context of ``field_id``, or None."""
        with self.lock:
            for context in self.contexts.values():
                if context.field_id == field_id:
                    for option in context.options:
                        if option.id == option_id:
                            return option
            return None

    def next_link_id(self) -> int:
        """A fresh remote link id."""
        with self.lock:
            self._next_link_id += 1
            return self._next_link_id

    def next_task_id(self) -> str:
        """A fresh bulk task id."""
        with self.lock:
            self._next_task_id += 1
            return str(self._next_task_id)

    def field_contexts(self, field_id: str) -> list[FieldContext]:
        """The contexts of ``field_id``, oldest first."""
        with self.lock:
            return [c for c in self.contexts.values() if c.field_id == field_id]

    def create_context(
        self, field_id: str, name: str, description: str, project_ids: list[str], issue_type_ids: list[str]
    ) -> FieldContext:
        """A new context; one global context per field at most."""
        with self.lock:
            self._admin_check(field_id, "create custom field contexts")
            if project_ids == [] and any(c.is_global for c in self.field_contexts(field_id)):
                raise FieldAdminError(400, "The custom field already has a global context.")
            context = self._add_context(field_id, name, description)
            context.project_ids = list(project_ids)
            context.issue_type_ids = list(issue_type_ids)
            return context

    def context_of(self, field_id: str, context_id: str) -> FieldContext | None:
        """The context ``context_id`` if it belongs to ``field_id``."""
        with self.lock:
            context = self.contexts.get(context_id)
            return context if context is not None and context.field_id == field_id else None

    @staticmethod
    def _taken(context: FieldContext, value: str, except_id: str | None = None) -> bool:
        folded = value.strip().casefold()
        return any(o.value.strip().casefold() == folded and o.id != except_id for o in context.options)

    def add_options(self, context: FieldContext, values: list[tuple[str, bool]]) -> list[FieldOption]:
        """New options (value, disabled), all or none: a value already in the context is a 400."""
        with self.lock:
            self._admin_check(context.field_id, "create custom field options")
            seen: set[str] = set()
            for value, _ in values:
                if not value.strip():
                    raise FieldAdminError(400, "The option value must not be empty.")
                if self._taken(context, value) or value.strip().casefold() in seen:
                    raise FieldAdminError(400, f"The option '{value}' already exists in this context.")
                seen.add(value.strip().casefold())
            made = []
            for value, disabled in values:
                option = FieldOption(str(self._next_option_id), value, disabled)
                self._next_option_id += 1
                context.options.append(option)
                made.append(option)
            return made

    def update_options(self, context: FieldContext, updates: list[dict[str, Any]]) -> list[FieldOption]:
        """Rename or (en|dis)able options by id, all or none: unknown ids and taken values are a 400."""
        with self.lock:
            self._admin_check(context.field_id, "update custom field options")
            by_id = {o.id: o for o in context.options}
            for update in updates:
                option = by_id.get(str(update.get("id")))
                if option is None:
                    raise FieldAdminError(400, f"The option {update.get('id')} is not in this context.")
                value = update.get("value")
                if value is not None and (
                    not str(value).strip() or self._taken(context, str(value), option.id)
                ):
                    raise FieldAdminError(400, f"The option '{value}' already exists in this context.")
            changed = []
            for update in updates:
                option = by_id[str(update["id"])]
                if update.get("value") is not None:
                    option.value = str(update["value"])
                if update.get("disabled") is not None:
                    option.disabled = bool(update["disabled"])
                changed.append(option)
            return changed

    # -- Data Center write path (sandbox.jira.datacenter_writes) ---------------------------------

    def put_on_screens(self, field_id: str) -> None:
        """What a Jira admin's *Custom fields > Screens* does: issue edits may set the field."""
        with self.lock:
            self.off_screens.discard(field_id)

    def add_to_default_screen(self, field_id: str) -> None:
        """``POST /rest/api/2/screens/addToDefault/{fieldId}``: the field joins the Default Screen, so
        issue edits may set it unless the projects edit through screens of their own; FieldAdminError
        for a non-administrator or a field the site lacks."""
        with self.lock:
            self._admin_check(None, "change screens")
            if self.field_by_id(field_id) is None:
                raise FieldAdminError(400, f"The field '{field_id}' does not exist.")
            self.default_screen.add(field_id)
            if not self.own_screens:
                self.off_screens.discard(field_id)

    def add_field_option(self, field_id: str, value: str) -> FieldOption:
        """What a Jira admin's *Edit Options > Add* does (Data Center has no REST API for it): a new
        enabled option at the end of the field's global context, made when the field has none.

        KeyError for a field that is not a custom field; ValueError for a value already offered.
        """
        with self.lock:
            described = self.field_by_id(field_id)
            if described is None or described.get("custom") is not True:
                raise KeyError(f"no custom field {field_id}")
            context = next((c for c in self.field_contexts(field_id) if c.is_global), None)
            if context is None:
                context = self._add_context(field_id, f"Default Configuration Scheme for {described['name']}")
            if self._taken(context, value):
                raise ValueError(f"the option '{value}' already exists in {field_id}")
            option = FieldOption(str(self._next_option_id), value)
            self._next_option_id += 1
            context.options.append(option)
            return option

    # -- mutations (tests, the demo, benchmarks) ------------------------------------------------

    def _touch(self, issue: Issue) -> None:
        self._order.pop(bisect.bisect_left(self._order, issue.order))
        issue.updated = max(self.clock(), issue.updated + timedelta(milliseconds=1))
        bisect.insort(self._order, issue.order)
        self.revision += 1

    def update_issue(self, issue_id: int, **changes: Any) -> Issue:
        """Change attributes and bump ``updated``; ``category='done'`` sets the resolution date.

        A new status (``category``, with ``status`` to name it) or ``assignee`` (an accountId or
        None) is logged in the changelog at the new ``updated``, by ``author`` (an accountId;
        default: the connector's account).
        """
        author = changes.pop("author", self.account_id)
        if changes.get("assignee") is not None and changes["assignee"] not in self.people:
            raise KeyError(f"no account {changes['assignee']}")
        with self.lock:
            issue = self.issues[issue_id]
            before = (issue.status, issue.category), issue.assignee
            for name, value in changes.items():
                if not hasattr(issue, name) or name == "changelog":
                    raise AttributeError(f"Issue has no attribute {name}")
                setattr(issue, name, value)
            if "category" in changes:
                issue.status = changes.get("status") or STATUS_CATEGORIES[issue.category][1]
            self._touch(issue)
            if "category" in changes:
                issue.resolved = issue.updated if issue.category == "done" else None
            items: list[ChangeItem] = []
            if issue.status != before[0][0]:
                items += self._status_change(before[0], (issue.status, issue.category))
            if issue.assignee != before[1]:
                items.append(self._assignee_change(before[1], issue.assignee))
            self._log_change(issue, issue.updated, author, items)
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
            self.revision += 1
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

    # -- Data Center reads: search knobs, worklogs ----------------------------------------------

    def _datacenter_reads(self) -> None:
        """The search's limits and hooks, and the worklogs (see sandbox.jira.datacenter_search)."""
        self.search_max = 1000  # Data Center's jira.search.views.default.max: the largest page
        # The last search's matches, (JQL, revision) -> issues: the pages of one listing match once.
        self.search_cache: tuple[str, int, list[Issue]] | None = None
        self.credentials_on_server_info = 0  # serverInfo requests that carried an Authorization
        self.anonymous_server_info = True  # False: a site closed to anonymous callers (401 without auth)
        self.search_changelog_max: int | None = None  # histories a search's changelog serves (None: all)
        # Called before each search is answered; a status returned is the search's answer.
        self.search_hooks: list[Callable[[SearchCall], int | None]] = []
        self.worklogs: dict[int, Worklog] = {}
        self.deleted_worklogs: dict[int, datetime] = {}  # worklog id -> when it was deleted
        self.worklog_page = 1000  # worklog changes a /worklog/updated or /deleted page holds
        self._next_worklog_id = 30000
        self._last_worklog_change: datetime | None = None

    def _worklog_moment(self) -> datetime:
        now = self.clock()
        if self._last_worklog_change is not None and now <= self._last_worklog_change:
            now = self._last_worklog_change + timedelta(milliseconds=1)
        self._last_worklog_change = now
        return now

    def _log_time(self, issue: Issue, delta: int, by_app: bool) -> None:
        issue.timespent = max(0, (issue.timespent or 0) + delta) or None
        if not by_app:  # Jira's own worklog screens and REST move the issue's ``updated``
            self._touch(issue)

    def add_worklog(
        self, issue_id: int, seconds: int, *, author: str | None = None, by_app: bool = False
    ) -> int:
        """Log ``seconds`` on an issue: its ``timespent`` grows and, unless ``by_app`` (an add-on
        or an import writing the worklog directly), its ``updated`` moves. The worklog's id."""
        with self.lock:
            issue = self.issues[issue_id]
            moment = self._worklog_moment()
            self._next_worklog_id += 1
            worklog = Worklog(
                self._next_worklog_id, issue_id, author or self.account_id, seconds, moment, moment, moment
            )
            self.worklogs[worklog.id] = worklog
            self._log_time(issue, seconds, by_app)
        if not by_app:
            self._notify("jira:issue_updated", issue)
        return worklog.id

    def change_worklog(self, worklog_id: int, seconds: int, *, by_app: bool = False) -> None:
        """Set a worklog's time; the issue's ``timespent`` follows (``updated`` too, unless ``by_app``)."""
        with self.lock:
            worklog = self.worklogs[worklog_id]
            issue = self.issues[worklog.issue_id]
            delta, worklog.seconds = seconds - worklog.seconds, seconds
            worklog.updated = self._worklog_moment()
            self._log_time(issue, delta, by_app)
        if not by_app:
            self._notify("jira:issue_updated", issue)

    def delete_worklog(self, worklog_id: int, *, by_app: bool = False) -> None:
        """Delete a worklog: it leaves the feeds for ``/worklog/deleted``; the issue loses its time."""
        with self.lock:
            worklog = self.worklogs.pop(worklog_id)
            self.deleted_worklogs[worklog_id] = self._worklog_moment()
            issue = self.issues[worklog.issue_id]
            self._log_time(issue, -worklog.seconds, by_app)
        if not by_app:
            self._notify("jira:issue_updated", issue)
