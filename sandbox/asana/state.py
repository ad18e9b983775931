"""The fake Asana workspace's state: projects, tasks and subtasks, custom fields, tags, events,
and what write-back changes: enum values on tasks and external attachments.

Tasks are members of projects; subtasks are not (unless added to a project explicitly) and are
reached through their parent. Every mutation bumps ``modified_at`` (never backwards) and appends an
event to the log of each project the task's tree belongs to: the sandbox's assumption is that a
project's event stream carries its tasks' and their subtasks' changes. Sync tokens name a position
in that log; :meth:`AsanaState.expire_sync_tokens` makes every token issued so far too old (412).
Each task keeps its stories, as Asana records them: ``assigned`` / ``unassigned`` when its assignee
changes, ``marked_complete`` / ``marked_incomplete`` when it is completed or reopened,
``added_to_project`` and the odd ``comment_added``. People and stories have gids of their own
range, so adding them changes no other gid. Thread-safe through ``lock``.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from v2mom.sandbox.asana.concurrency import ConcurrentReads
from v2mom.sandbox.faults import FaultBook
from v2mom.sandbox.history import Step

VALUE_FIELD = "V2MOM Value"
METHOD_FIELD = "V2MOM Method"
TEAM_BET_FIELD = "Team Bet"
POINTS_FIELD = "Story Points"


PEOPLE = ("Ada Lovelace", "Grace Hopper", "Alan Turing", "Edsger Dijkstra", "Barbara Liskov", "Ken Thompson")
FIRST_PERSON_GID = 1201990000001
FIRST_STORY_GID = 1203000000001
ENUM_TYPES = ("enum", "multi_enum")
FIELD_TYPES = ("text", "enum", "multi_enum", "number", "date", "people")


@dataclass
class EnumOptionDef:
    """One enum option of a field: never deleted, only disabled (``enabled`` False)."""

    gid: str
    name: str
    enabled: bool = True
    color: str = "none"


@dataclass
class CustomFieldDef:
    """A workspace custom field: ``enum``, ``multi_enum``, ``number``...; enum options in order.

    ``locked`` True: another app locked the field, so its options cannot be changed (Asana: 403).
    """

    gid: str
    name: str
    type: str
    enum_options: list[EnumOptionDef] = field(default_factory=list)
    locked: bool = False

    def option_named(self, name: str) -> EnumOptionDef | None:
        """The option called ``name`` (exactly), or None."""
        return next((o for o in self.enum_options if o.name == name), None)


@dataclass
class FieldSetting:
    """A custom field added to a project (Asana's custom field setting)."""

    gid: str
    project: str
    field_gid: str


class VocabularyRefused(Exception):
    """A custom field or enum option change Asana refuses; ``status`` is the HTTP answer."""

    def __init__(self, status: int, message: str) -> None:
        """Keep the status the app answers with and the message of its error body."""
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Project:
    """An Asana project (an epic / container to us)."""

    gid: str
    name: str
    created_at: datetime
    modified_at: datetime
    archived: bool = False
    completed: bool = False
    completed_at: datetime | None = None


@dataclass
class Task:
    """A task or subtask; ``projects`` are the projects it is a member of."""

    gid: str
    name: str
    created_at: datetime
    modified_at: datetime
    projects: list[str] = field(default_factory=list)
    parent: str | None = None
    completed: bool = False
    completed_at: datetime | None = None
    tags: list[str] = field(default_factory=list)
    enums: dict[str, str] = field(default_factory=dict)
    multi_enums: dict[str, list[str]] = field(default_factory=dict)
    numbers: dict[str, float] = field(default_factory=dict)
    actual_time_minutes: float | None = None
    assignee: str | None = None  # the assignee's user gid
    stories: list[Story] = field(default_factory=list)  # oldest first
    start_on: date | None = None  # the day work begins (Asana: not with start_at)
    start_at: datetime | None = None  # the moment work begins (Asana: not with start_on)
    notes: str = ""  # the description, plain text


@dataclass(frozen=True)
class Story:
    """One story of a task: what happened (``subtype``, Asana's ``resource_subtype``), when, by whom;
    ``assignee`` is the user an ``assigned`` story names."""

    gid: str
    created_at: datetime
    subtype: str
    text: str
    author: str
    assignee: str | None = None


@dataclass
class Attachment:
    """An external attachment of a task: a named link (Asana never edits one: delete, create again)."""

    gid: str
    parent: str
    name: str
    url: str
    created_at: datetime


@dataclass
class Event:
    """One entry of a project's event log."""

    action: str
    task_gid: str
    parent_gid: str | None
    parent_type: str
    created_at: datetime


@dataclass
class Webhook:
    """A registered webhook: events of ``resource`` (a project) go to ``target``, signed."""

    gid: str
    resource: str
    target: str
    secret: str
    created_at: datetime


def default_custom_fields(gid: Callable[[], str]) -> dict[str, CustomFieldDef]:
    """The fields the sample plan's conventions and rules read, plus a points field."""
    value_options = ["customer-first", "reliability", "efficiency", "Customer-first thinking"]
    methods = ["Launch self-serve onboarding by end of Q2", "SLO program", "Cut infrastructure cost by 20%"]

    def options(names: list[str]) -> list[EnumOptionDef]:
        return [EnumOptionDef(gid(), n, color="blue") for n in names]

    fields = [
        CustomFieldDef(gid(), VALUE_FIELD, "multi_enum", options(value_options)),
        CustomFieldDef(gid(), METHOD_FIELD, "enum", options([*methods, "Incident tooling"])),
        CustomFieldDef(gid(), TEAM_BET_FIELD, "enum", options(["Onboarding", "Growth"])),
        CustomFieldDef(gid(), POINTS_FIELD, "number"),
    ]
    return {f.name: f for f in fields}


class AsanaState(FaultBook):
    """Everything the fake workspace knows; mutate it from tests, read it from the app."""

    default_fault_prefix = "/api/1.0/tasks"

    def __init__(
        self,
        *,
        token: str = "asana-sandbox-pat",
        clock: Callable[[], datetime] | None = None,
        default_fields: bool = True,
    ) -> None:
        """An empty workspace with the default custom fields (none with ``default_fields`` False)."""
        super().__init__()
        self.token = token
        self.reads = ConcurrentReads()  # Asana's concurrent request limiter, for reads
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self._next_gid = 1202000000000
        self.workspace_gid = self._gid()
        self.workspace_name = "Sandbox workspace"
        self.user = {"gid": self._gid(), "name": "Sandbox PM", "email": "pm@sandbox.test"}
        self.people: dict[str, str] = {str(FIRST_PERSON_GID + n): name for n, name in enumerate(PEOPLE)}
        self._next_story_gid = FIRST_STORY_GID
        self.custom_fields = default_custom_fields(self._gid) if default_fields else {}
        self.field_settings: dict[str, list[FieldSetting]] = {}  # project gid -> settings in order
        self._preset_fields = [f.gid for f in self.custom_fields.values()]  # on every new project
        self.tag_gids: dict[str, str] = {}
        self.projects: dict[str, Project] = {}
        self.tasks: dict[str, Task] = {}
        self.members: dict[str, list[str]] = {}  # project gid -> task gids in gid order
        self.children: dict[str, list[str]] = {}  # task gid -> subtask gids in creation order
        self.events: dict[str, list[Event]] = {}  # project gid -> log
        self.token_floor = 0  # sync tokens below this log generation are too old
        self._generation = 0
        self.lock = threading.RLock()
        self.listeners: list[Callable[[str, Task], None]] = []  # (action, task) after each change
        self.webhooks: dict[str, Webhook] = {}
        self.attachments: dict[str, Attachment] = {}  # gid -> attachment, in creation order
        self._rng = random.Random(7)

    def _gid(self) -> str:
        self._next_gid += 1
        return str(self._next_gid)

    def tag_gid(self, name: str) -> str:
        """A stable gid per tag name."""
        with self.lock:
            if name not in self.tag_gids:
                self.tag_gids[name] = self._gid()
            return self.tag_gids[name]

    # -- building ------------------------------------------------------------------------------

    def add_project(self, name: str, *, created: datetime | None = None) -> str:
        """Create a project; returns its gid."""
        with self.lock:
            now = created or self.clock()
            project = Project(self._gid(), name, now, now)
            self.projects[project.gid] = project
            self.members[project.gid] = []
            self.events[project.gid] = []
            self.field_settings[project.gid] = [  # the preset fields; others join by addCustomFieldSetting
                FieldSetting(self._gid(), project.gid, gid) for gid in self._preset_fields
            ]
            return project.gid

    def add_task(
        self,
        name: str,
        *,
        projects: list[str] | None = None,
        parent: str | None = None,
        created: datetime | None = None,
        modified: datetime | None = None,
        **fields: Any,
    ) -> str:
        """Create a task (``projects``) or a subtask (``parent``); returns its gid."""
        with self.lock:
            made = created or self.clock()
            task = Task(
                self._gid(),
                name,
                made,
                modified or made,
                projects=list(projects or []),
                parent=parent,
                **fields,
            )
            if task.completed and task.completed_at is None:
                task.completed_at = task.modified_at
            self.tasks[task.gid] = task
            for project in task.projects:
                self.members[project].append(task.gid)
                name = self.projects[project].name
                self._story(task, made, "added_to_project", f"added to {name}", self.user["gid"])
            self.children[task.gid] = []
            if parent is not None:
                self.children[parent].append(task.gid)
            self._log("added", task)
        self._notify("added", task)
        return task.gid

    # -- stories -------------------------------------------------------------------------------

    def _story(self, task: Task, at: datetime, subtype: str, text: str, author: str, **extra: Any) -> None:
        task.stories.append(Story(str(self._next_story_gid), at, subtype, text, author, **extra))
        self._next_story_gid += 1
        task.stories.sort(key=lambda story: story.created_at)

    def _assignment_story(self, task: Task, at: datetime, before: str | None, after: str | None) -> None:
        author = self.user["gid"]
        if after is not None:
            self._story(task, at, "assigned", f"assigned to {self.people[after]}", author, assignee=after)
        elif before is not None:
            self._story(task, at, "unassigned", f"unassigned from {self.people[before]}", author)

    def _completion_story(self, task: Task, at: datetime, completed: bool) -> None:
        author = task.assignee or self.user["gid"]
        if completed:
            self._story(task, at, "marked_complete", "marked this task complete", author)
        else:
            self._story(task, at, "marked_incomplete", "marked incomplete", author)

    def comment(self, gid: str, at: datetime, text: str) -> None:
        """A comment on task ``gid`` (a story that changes nothing)."""
        with self.lock:
            self._story(self.tasks[gid], at, "comment_added", text, self.user["gid"])

    def tell_story(self, gid: str, steps: list[Step]) -> None:
        """Record ``steps`` (generated history, :mod:`sandbox.history`; statuses ``incomplete`` and
        ``completed``) as the task's stories. The story starts incomplete and unassigned and must end
        where the task stands; ``modified_at`` is not touched (the steps are no later than it)."""
        with self.lock:
            task = self.tasks[gid]
            completed, assignee = False, None
            for step in steps:
                if step.field == "status":
                    completed = step.after == "completed"
                    self._completion_story(task, step.at, completed)
                else:
                    self._assignment_story(task, step.at, step.before, step.after)
                    assignee = step.after
            if (completed, assignee) != (task.completed, task.assignee):
                raise ValueError(f"the story of task {gid} does not end where the task stands")

    # -- mutations -----------------------------------------------------------------------------

    def root_projects(self, task: Task) -> list[str]:
        """The projects whose event streams carry ``task``: its own, else its root task's."""
        current: Task | None = task
        while current is not None:
            if current.projects:
                return list(current.projects)
            current = self.tasks.get(current.parent) if current.parent else None
        return []

    def _log(self, action: str, task: Task) -> None:
        parent_gid, parent_type = (task.parent, "task") if task.parent else (None, "project")
        for project in self.root_projects(task):
            self.events[project].append(
                Event(action, task.gid, parent_gid or project, parent_type, self.clock())
            )

    def update_task(self, gid: str, **changes: Any) -> Task:
        """Change attributes and bump ``modified_at``; ``completed`` stamps ``completed_at``.

        A new ``assignee`` (a user gid of ``people``, or None) or ``completed`` adds its story at
        the new ``modified_at``.
        """
        if changes.get("assignee") is not None and changes["assignee"] not in self.people:
            raise KeyError(f"no user {changes['assignee']}")
        with self.lock:
            task = self.tasks[gid]
            before = task.completed, task.assignee
            for name, value in changes.items():
                if not hasattr(task, name) or name == "stories":
                    raise AttributeError(f"Task has no attribute {name}")
                setattr(task, name, value)
            task.modified_at = max(self.clock(), task.modified_at + timedelta(milliseconds=1))
            if "completed" in changes:
                task.completed_at = task.modified_at if task.completed else None
            if task.assignee != before[1]:
                self._assignment_story(task, task.modified_at, before[1], task.assignee)
            if task.completed != before[0]:
                self._completion_story(task, task.modified_at, task.completed)
            self._log("changed", task)
        self._notify("changed", task)
        return task

    def remove_from_project(self, gid: str, project: str) -> Task:
        """``POST /tasks/{gid}/removeProject``: the task leaves ``project`` (and, when that was its
        only configured home, the scope); the project's event stream and webhooks get ``removed``."""
        with self.lock:
            task = self.tasks[gid]
            if project not in task.projects:
                raise KeyError(f"task {gid} is not in project {project}")
            task.modified_at = max(self.clock(), task.modified_at + timedelta(milliseconds=1))
            self._log("removed", task)  # while still a member: the stream of the project it leaves
            self._notify("removed", task)
            task.projects.remove(project)
            self.members[project].remove(gid)
        return task

    def add_to_project(self, gid: str, project: str) -> Task:
        """``POST /tasks/{gid}/addProject``: the task joins ``project``; its streams get ``added``."""
        with self.lock:
            task = self.tasks[gid]
            if project in task.projects:
                raise KeyError(f"task {gid} is already in project {project}")
            task.modified_at = max(self.clock(), task.modified_at + timedelta(milliseconds=1))
            task.projects.append(project)
            self.members[project] = sorted([*self.members[project], gid], key=int)
            self._log("added", task)
        self._notify("added", task)
        return task

    def delete_task(self, gid: str) -> list[str]:
        """Delete a task and its subtasks (fetching any of them then answers 404); their gids."""
        with self.lock:
            task = self.tasks[gid]
            self._log("deleted", task)
            gone = [gid]
            stack = list(self.children.get(gid, []))
            while stack:
                child = stack.pop()
                gone.append(child)
                stack.extend(self.children.get(child, []))
            for removed in gone:
                dead = self.tasks.pop(removed)
                for project in dead.projects:
                    self.members[project].remove(removed)
                self.children.pop(removed, None)
            if task.parent in self.children:
                self.children[task.parent].remove(gid)
            for attachment in [a for a in self.attachments.values() if a.parent in gone]:
                del self.attachments[attachment.gid]
        self._notify("deleted", task)
        return gone

    def add_webhook(self, resource: str, target: str, secret: str) -> Webhook:
        """Register a webhook whose handshake succeeded."""
        with self.lock:
            hook = Webhook(self._gid(), resource, target, secret, self.clock())
            self.webhooks[hook.gid] = hook
            return hook

    # -- custom fields (the vocabulary) ----------------------------------------------------------

    def field_by_gid(self, gid: str) -> CustomFieldDef | None:
        """The workspace custom field ``gid``, or None."""
        return next((f for f in self.custom_fields.values() if f.gid == gid), None)

    def option_by_gid(self, gid: str) -> tuple[CustomFieldDef, EnumOptionDef] | None:
        """The enum option ``gid`` and its field, or None."""
        for custom_field in self.custom_fields.values():
            for option in custom_field.enum_options:
                if option.gid == gid:
                    return custom_field, option
        return None

    def create_custom_field(self, name: str, subtype: str) -> CustomFieldDef:
        """``POST /custom_fields``: a new workspace field; names are unique in a workspace (400)."""
        with self.lock:
            if not name.strip():
                raise VocabularyRefused(400, "name: Missing input")
            if subtype not in FIELD_TYPES:
                raise VocabularyRefused(400, f"resource_subtype: Not a valid custom field type: {subtype}")
            if any(f.name.casefold() == name.casefold() for f in self.custom_fields.values()):
                raise VocabularyRefused(400, f"name: A custom field named {name} already exists")
            created = CustomFieldDef(self._gid(), name, subtype)
            self.custom_fields[name] = created
            return created

    def _editable(self, custom_field: CustomFieldDef) -> None:
        if custom_field.locked:
            raise VocabularyRefused(
                403, "Locked custom fields can only be edited by the app that locked them"
            )

    def _unique_option(self, custom_field: CustomFieldDef, name: str, keep: str | None = None) -> None:
        if not name.strip():
            raise VocabularyRefused(400, "name: Missing input")
        for option in custom_field.enum_options:
            if option.gid != keep and option.name.casefold() == name.casefold():
                raise VocabularyRefused(400, f"name: An enum option named {name} already exists")

    def add_enum_option(self, field_gid: str, name: str, color: str = "none") -> EnumOptionDef:
        """``POST /custom_fields/{gid}/enum_options``: appended, enabled; a duplicate name is a 400."""
        with self.lock:
            custom_field = self.field_by_gid(field_gid)
            if custom_field is None:
                raise VocabularyRefused(404, f"custom_field: Unknown object: {field_gid}")
            if custom_field.type not in ENUM_TYPES:
                raise VocabularyRefused(400, "custom_field: Only enum custom fields have enum options")
            self._editable(custom_field)
            self._unique_option(custom_field, name)
            option = EnumOptionDef(self._gid(), name, True, color)
            custom_field.enum_options.append(option)
            return option

    def update_enum_option(
        self, gid: str, *, name: str | None = None, enabled: bool | None = None, color: str | None = None
    ) -> EnumOptionDef:
        """``PUT /enum_options/{gid}``: rename, enable or disable (never delete) an option.

        A duplicate name is a 400, and so is disabling the last enabled option of a field.
        """
        with self.lock:
            found = self.option_by_gid(gid)
            if found is None:
                raise VocabularyRefused(404, f"enum_option: Unknown object: {gid}")
            custom_field, option = found
            self._editable(custom_field)
            if name is not None:
                self._unique_option(custom_field, name, keep=gid)
            if enabled is False and option.enabled and sum(o.enabled for o in custom_field.enum_options) == 1:
                raise VocabularyRefused(
                    400, "enabled: Enum custom fields require at least one enabled option"
                )
            if name is not None:
                for task in self.tasks.values():  # tasks hold option names: keep them pointing at it
                    if task.enums.get(custom_field.name) == option.name:
                        task.enums[custom_field.name] = name
                    chosen = task.multi_enums.get(custom_field.name)
                    if chosen and option.name in chosen:
                        task.multi_enums[custom_field.name] = [
                            name if n == option.name else n for n in chosen
                        ]
                option.name = name
            if enabled is not None:
                option.enabled = enabled
            if color is not None:
                option.color = color
            return option

    def add_field_setting(self, project: str, field_gid: str) -> FieldSetting:
        """``POST /projects/{gid}/addCustomFieldSetting``: the field joins the project (once: 400)."""
        with self.lock:
            if project not in self.projects:
                raise VocabularyRefused(404, f"project: Unknown object: {project}")
            if self.field_by_gid(field_gid) is None:
                raise VocabularyRefused(400, f"custom_field: Not a recognized ID: {field_gid}")
            settings = self.field_settings.setdefault(project, [])
            if any(s.field_gid == field_gid for s in settings):
                raise VocabularyRefused(400, "custom_field: This custom field is already on the project")
            setting = FieldSetting(self._gid(), project, field_gid)
            settings.append(setting)
            return setting

    # -- write-back: enum values on tasks, external attachments -------------------------------------

    def fields_on(self, task: Task) -> set[str]:
        """The gids of the custom fields a task can hold: those added to any of its projects (a
        subtask outside every project holds none)."""
        return {s.field_gid for p in task.projects for s in self.field_settings.get(p, [])}

    def _enum_choice(self, custom_field: CustomFieldDef, option_gid: Any) -> str:
        """The name of the enabled option ``option_gid`` of ``custom_field`` (400 otherwise)."""
        found = self.option_by_gid(option_gid) if isinstance(option_gid, str) else None
        if found is None or found[0] is not custom_field:
            raise VocabularyRefused(
                400, f"custom_fields: {option_gid} is not an enum option of custom field {custom_field.gid}"
            )
        if not found[1].enabled:
            raise VocabularyRefused(400, f"custom_fields: enum option {option_gid} is disabled")
        return found[1].name

    def set_custom_fields(self, gid: str, values: dict[str, Any]) -> Task:
        """``PUT /tasks/{gid}`` with ``custom_fields``: {field gid: option gid (enum), a list of them
        (multi_enum), or None to clear}. All or nothing: an unknown task is a 404; a field on none of
        the task's projects, an unknown or disabled option, or another field type is a 400."""
        with self.lock:
            task = self.tasks.get(gid)
            if task is None:
                raise VocabularyRefused(404, f"task: Unknown object: {gid}")
            enums, multi = dict(task.enums), {k: list(v) for k, v in task.multi_enums.items()}
            allowed = self.fields_on(task)
            for field_gid, value in values.items():
                custom_field = self.field_by_gid(field_gid)
                if custom_field is None:
                    raise VocabularyRefused(400, f"custom_fields: Not a recognized ID: {field_gid}")
                if field_gid not in allowed:
                    raise VocabularyRefused(
                        400, f"custom_fields: Custom field with ID {field_gid} is not on given object"
                    )
                name = custom_field.name
                if custom_field.type == "enum" and (value is None or isinstance(value, str)):
                    enums.pop(name, None)
                    if value is not None:
                        enums[name] = self._enum_choice(custom_field, value)
                elif custom_field.type == "multi_enum" and (value is None or isinstance(value, list)):
                    multi[name] = [self._enum_choice(custom_field, v) for v in value or []]
                else:
                    kind = custom_field.type
                    raise VocabularyRefused(
                        400, f"custom_fields: Invalid value for custom field {field_gid} ({kind})"
                    )
        return self.update_task(gid, enums=enums, multi_enums=multi)

    def add_attachment(self, parent: str, name: str, url: str) -> Attachment:
        """``POST /attachments`` of an external link on task ``parent`` (404 when it does not exist)."""
        with self.lock:
            if parent not in self.tasks:
                raise VocabularyRefused(404, f"parent: Unknown object: {parent}")
            attachment = Attachment(self._gid(), parent, name, url, self.clock())
            self.attachments[attachment.gid] = attachment
            return attachment

    def attachments_of(self, parent: str) -> list[Attachment]:
        """The attachments of task ``parent`` in creation order (404 when it does not exist)."""
        with self.lock:
            if parent not in self.tasks:
                raise VocabularyRefused(404, f"parent: Unknown object: {parent}")
            return [a for a in self.attachments.values() if a.parent == parent]

    def delete_attachment(self, gid: str) -> None:
        """``DELETE /attachments/{gid}`` (404 when unknown)."""
        with self.lock:
            if self.attachments.pop(gid, None) is None:
                raise VocabularyRefused(404, f"attachment: Unknown object: {gid}")

    def expire_sync_tokens(self) -> None:
        """Every sync token issued so far becomes too old (the next use answers 412)."""
        with self.lock:
            self._generation += 1
            self.token_floor = self._generation

    def sync_token(self, project: str) -> str:
        """A fresh token at the end of ``project``'s log."""
        with self.lock:
            return f"{self._generation}:{project}:{len(self.events[project])}:{self._rng.randrange(10**6)}"

    def read_token(self, token: str, project: str) -> int | None:
        """The log position a token names, or None when it is unknown, foreign or too old."""
        parts = token.split(":")
        if len(parts) != 4 or parts[1] != project or not parts[0].isdigit() or not parts[2].isdigit():
            return None
        if int(parts[0]) < self.token_floor:
            return None
        return int(parts[2])

    def _notify(self, action: str, task: Task) -> None:
        for listener in list(self.listeners):
            listener(action, task)
