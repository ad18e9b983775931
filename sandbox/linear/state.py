"""The fake Linear workspace's state: teams, label groups, projects, issues, faults and counters.

Issues and projects are kept in lists sorted by (updatedAt, id), so a keyset page costs O(page)
(the 100,000-issue sync benchmark relies on it). Every mutation bumps ``updatedAt`` (never
backwards), as Linear does; archiving and trashing are mutations too, and archived or trashed
records only show with ``includeArchived``. Each issue keeps its history (``IssueHistory``): one entry
per update, holding the workflow state and assignee it moved from and to when those changed (an
update of anything else is an entry without them, as in Linear); workflow states and people have
ids of their own, drawn apart from the seeded ids so that adding them changes no other id.
Thread-safe: the server thread and the test thread share it through ``lock``.
"""

from __future__ import annotations

import bisect
import random
import threading
import uuid
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from v2mom.sandbox.faults import FaultBook
from v2mom.sandbox.history import Step

STATE_NAMES = {
    "triage": "Triage",
    "backlog": "Backlog",
    "unstarted": "Todo",
    "started": "In Progress",
    "completed": "Done",
    "canceled": "Canceled",
    "duplicate": "Duplicate",
}


PEOPLE = ("Ada Lovelace", "Grace Hopper", "Alan Turing", "Edsger Dijkstra", "Barbara Liskov", "Ken Thompson")
_NAMES = uuid.UUID("5b3a9c1e-1f5e-4a53-9a0b-6d2f0c1e7a11")  # the namespace of ids drawn apart


@dataclass(frozen=True)
class HistoryEntry:
    """One entry of an issue's history. States are (team key, state type) as they were then, and
    None when the entry did not change the state; assignees are user ids (None: nobody, or no
    change when neither side names anyone)."""

    id: str
    created: datetime
    from_state: tuple[str, str] | None = None
    to_state: tuple[str, str] | None = None
    from_assignee: str | None = None
    to_assignee: str | None = None


@dataclass
class Team:
    """A Linear team (issues are numbered per team: ``ENG-12``)."""

    id: str
    key: str
    name: str


@dataclass
class Label:
    """An issue label; ``parent`` is the id of its group label, if any.

    Labels made here are workspace labels (no team). ``is_group``: a label group, a container that
    cannot be applied to issues itself. ``retired``: when it was retired (still listed, no longer
    applicable to new issues); ``archived``: when it was deleted (listed only with ``includeArchived``).
    """

    id: str
    name: str
    parent: str | None = None
    is_group: bool = False
    retired: datetime | None = None
    archived: datetime | None = None


class LabelRefused(ValueError):
    """A label mutation Linear would refuse (duplicate name, unknown parent): ``INVALID_INPUT``."""


@dataclass
class Record:
    """What issues and projects share: identity, times, archiving and trashing."""

    id: str
    created: datetime
    updated: datetime
    archived: datetime | None = None
    trashed: bool = False

    @property
    def order(self) -> tuple[datetime, str]:
        """The sort key of listings: (updatedAt, id)."""
        return (self.updated, self.id)

    @property
    def removed(self) -> bool:
        """Archived or trashed: hidden unless ``includeArchived``."""
        return self.archived is not None or self.trashed


@dataclass
class Project(Record):
    """A project (Linear's epic) of one team."""

    name: str = ""
    slug_id: str = ""
    team_key: str = ""
    status: str = "planned"
    completed: datetime | None = None
    canceled: datetime | None = None


@dataclass
class Issue(Record):
    """An issue; ``parent_id`` is a parent issue (sub-issue), ``project_id`` its project."""

    team_key: str = ""
    number: int = 0
    title: str = ""
    description: str | None = None  # Markdown, as people write it
    state_type: str = "unstarted"
    parent_id: str | None = None
    project_id: str | None = None
    estimate: float | None = None
    label_ids: list[str] = field(default_factory=list)
    completed: datetime | None = None
    canceled: datetime | None = None
    assignee_id: str | None = None
    history: list[HistoryEntry] = field(default_factory=list)  # oldest first

    @property
    def identifier(self) -> str:
        """``TEAM-number``."""
        return f"{self.team_key}-{self.number}"


@dataclass
class Attachment:
    """A URL attachment of an issue; Linear keeps at most one per (issue, url)."""

    id: str
    issue_id: str
    url: str
    title: str
    subtitle: str | None
    metadata: dict[str, Any]
    created: datetime
    updated: datetime


class IssueRefused(ValueError):
    """An issue mutation Linear would refuse: an unknown id (``not_found``) or a bad input."""

    def __init__(self, message: str, *, not_found: bool = False) -> None:
        super().__init__(message)
        self.not_found = not_found


@dataclass
class Webhook:
    """A registered webhook: Issue/Project events of ``team_key`` go to ``url``, signed."""

    id: str
    url: str
    secret: str
    team_key: str | None
    resource_types: list[str]
    label: str | None = None


class _Ordered:
    """Records of one kind, with their (updatedAt, id) order kept sorted."""

    def __init__(self) -> None:
        self.by_id: dict[str, Any] = {}
        self.order: list[tuple[datetime, str]] = []

    def add(self, record: Record) -> None:
        self.by_id[record.id] = record
        bisect.insort(self.order, record.order)

    def reorder(self, record: Record, touch: Callable[[], None]) -> None:
        self.order.pop(bisect.bisect_left(self.order, record.order))
        touch()
        bisect.insort(self.order, record.order)

    def remove(self, record: Record) -> None:
        self.order.pop(bisect.bisect_left(self.order, record.order))
        del self.by_id[record.id]

    def iter_from(self, start: tuple[datetime, str] | None) -> list[tuple[datetime, str]]:
        index = 0 if start is None else bisect.bisect_right(self.order, start)
        return self.order[index:]


def _iter_ordered(
    kind: _Ordered, lock: threading.RLock, start: tuple[datetime, str] | None, only: Collection[str] | None
) -> Iterator[Any]:
    """Records of ``kind`` in (updatedAt, id) order after ``start``, optionally only ``only``'s ids."""
    with lock:
        if only is None:
            keys = kind.iter_from(start)
        else:
            keys = sorted(kind.by_id[i].order for i in set(only) if i in kind.by_id)
            keys = [key for key in keys if start is None or key > start]
    for _updated, record_id in keys:
        yield kind.by_id[record_id]


class LinearState(FaultBook):
    """Everything the fake workspace knows; mutate it from tests, read it from the app."""

    default_fault_prefix = "/graphql"

    def __init__(
        self, *, api_key: str = "lin_api_sandbox", clock: Callable[[], datetime] | None = None, seed: int = 0
    ) -> None:
        """An empty workspace; ids are UUIDs drawn from ``seed``, so a seed gives the same workspace."""
        super().__init__()
        self._ids = random.Random(seed)
        self.api_key = api_key
        self.url_key = "sandbox"
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self.teams: dict[str, Team] = {}
        self.labels: dict[str, Label] = {}
        self._issues = _Ordered()
        self._projects = _Ordered()
        self._numbers: dict[str, int] = {}
        self.lock = threading.RLock()
        self.listeners: list[Callable[[str, str, Record], None]] = []  # (action, type, record)
        self.webhooks: dict[str, Webhook] = {}
        self.attachments: dict[str, Attachment] = {}
        self.users: dict[str, str] = {str(uuid.uuid5(_NAMES, name)): name for name in PEOPLE}
        self._history_entries = 0

    def _new_id(self) -> str:
        return str(uuid.UUID(int=self._ids.getrandbits(128), version=4))

    @staticmethod
    @cache  # one per team and type: rendered for every issue and history entry served
    def workflow_state_id(team_key: str, state_type: str) -> str:
        """The id of team ``team_key``'s workflow state of ``state_type`` (one per type)."""
        return str(uuid.uuid5(_NAMES, f"state/{team_key}/{state_type}"))

    def _log(self, issue: Issue, at: datetime, **changes: Any) -> None:
        self._history_entries += 1
        entry_id = str(uuid.uuid5(_NAMES, f"history/{self._history_entries}"))
        issue.history.append(HistoryEntry(entry_id, at, **changes))

    def tell_story(self, issue_id: str, steps: list[Step]) -> None:
        """Record ``steps`` (generated history, :mod:`sandbox.history`) as history entries, one per
        step; the story starts unassigned in ``steps``' first status and must end where the issue
        stands. ``updatedAt`` is not touched (the steps are no later than it)."""
        with self.lock:
            issue: Issue = self._issues.by_id[issue_id]
            assignee: str | None = None
            state_type: str | None = None
            for step in steps:
                if step.field == "status":
                    assert step.before is not None
                    assert step.after is not None
                    before, after = (issue.team_key, step.before), (issue.team_key, step.after)
                    self._log(issue, step.at, from_state=before, to_state=after)
                    state_type = step.after
                else:
                    self._log(issue, step.at, from_assignee=step.before, to_assignee=step.after)
                    assignee = step.after
            if (state_type or issue.state_type, assignee) != (issue.state_type, issue.assignee_id):
                raise ValueError(f"the story of {issue.identifier} does not end where the issue stands")

    @property
    def issues(self) -> dict[str, Issue]:
        """Every issue by id (archived and trashed included)."""
        return self._issues.by_id

    @property
    def projects(self) -> dict[str, Project]:
        """Every project by id (archived and trashed included)."""
        return self._projects.by_id

    # -- building ------------------------------------------------------------------------------

    def add_team(self, key: str, name: str) -> Team:
        """Create a team."""
        with self.lock:
            team = Team(self._new_id(), key, name)
            self.teams[key] = team
            return team

    def label(self, name: str, group: str | None = None) -> str:
        """The id of label ``name`` (in ``group``), created on first use with its group."""
        with self.lock:
            parent = self.label(group) if group is not None else None
            if parent is not None:
                self.labels[parent].is_group = True
            for label in self.labels.values():
                if label.name == name and label.parent == parent:
                    return label.id
            created = Label(self._new_id(), name, parent)
            self.labels[created.id] = created
            return created.id

    def _check_name(self, name: str, parent: str | None, *, other_than: str | None = None) -> None:
        """LabelRefused when a live label of the same group (or top level) already has ``name``.

        Linear compares label names case-insensitively within a group or at the top level.
        """
        if not name.strip():
            raise LabelRefused("name must not be empty")
        for label in self.labels.values():
            if (
                label.id != other_than
                and label.archived is None
                and label.parent == parent
                and label.name.casefold() == name.casefold()
            ):
                raise LabelRefused(f"duplicate label name: a label named '{label.name}' already exists")

    def create_label(self, name: str, *, is_group: bool = False, parent: str | None = None) -> Label:
        """A new workspace label or label group (``issueLabelCreate``); LabelRefused as Linear refuses."""
        with self.lock:
            if parent is not None:
                group = self.labels.get(parent)
                if group is None or group.archived is not None:
                    raise LabelRefused("Entity not found: parent label")
                if not group.is_group:
                    raise LabelRefused("the parent label is not a label group")
                if is_group:
                    raise LabelRefused("a label group cannot be nested in another group")
            self._check_name(name, parent)
            created = Label(self._new_id(), name, parent, is_group=is_group)
            self.labels[created.id] = created
            return created

    def live_label(self, label_id: str) -> Label:
        """The label ``label_id`` unless deleted; LabelRefused (not found) otherwise."""
        found = self.labels.get(label_id)
        if found is None or found.archived is not None:
            raise LabelRefused("Entity not found: IssueLabel")
        return found

    def rename_label(self, label_id: str, name: str) -> Label:
        """``issueLabelUpdate`` with a new name (same id); LabelRefused on a duplicate name."""
        with self.lock:
            label = self.live_label(label_id)
            self._check_name(name, label.parent, other_than=label.id)
            label.name = name
            return label

    def retire_label(self, label_id: str) -> Label:
        """``issueLabelRetire``: still listed, no longer applicable to new issues."""
        with self.lock:
            label = self.live_label(label_id)
            if label.retired is None:
                label.retired = self.clock()
            return label

    def restore_label(self, label_id: str) -> Label:
        """``issueLabelRestore``: a retired label becomes applicable again."""
        with self.lock:
            label = self.live_label(label_id)
            label.retired = None
            return label

    def _check_applicable(self, label_ids: list[str], kept: tuple[str, ...] = ()) -> None:
        """As Linear: no group label, no newly applied retired label, one label per label group.

        ``kept`` are labels the issue already had: a label retired since stays on its issues.
        """
        groups: set[str] = set()
        for label_id in label_ids:
            label = self.labels.get(label_id)
            if label is None:
                continue
            if label.is_group or (label.retired is not None and label_id not in kept):
                raise LabelRefused(f"label '{label.name}' cannot be applied to an issue")
            if label.parent is not None:
                if label.parent in groups:
                    group = self.labels[label.parent].name
                    raise LabelRefused(f"only one label of group '{group}' per issue")
                groups.add(label.parent)

    def add_project(
        self, team_key: str, name: str, *, status: str = "planned", created: datetime | None = None
    ) -> str:
        """Create a project of ``team_key``; returns its id."""
        with self.lock:
            now = created or self.clock()
            slug = f"{name.lower().replace(' ', '-')}-{self._new_id()[-12:]}"
            project = Project(
                self._new_id(), now, now, name=name, slug_id=slug, team_key=team_key, status=status
            )
            self._projects.add(project)
        self._notify("create", "Project", project)
        return project.id

    def add_issue(
        self,
        team_key: str,
        title: str,
        *,
        state_type: str = "unstarted",
        created: datetime | None = None,
        updated: datetime | None = None,
        labels: list[str] | None = None,
        **fields: Any,
    ) -> str:
        """Create an issue (``labels`` are label ids); returns its id."""
        with self.lock:
            if team_key not in self.teams:
                raise KeyError(f"no team {team_key}")
            self._check_applicable(list(labels or []))
            number = self._numbers.get(team_key, 0) + 1
            self._numbers[team_key] = number
            now = self.clock()
            made = created or now
            issue = Issue(
                self._new_id(),
                made,
                updated or made,
                team_key=team_key,
                number=number,
                title=title,
                state_type=state_type,
                label_ids=list(labels or []),
                **fields,
            )
            self._stamp_state(issue)
            self._issues.add(issue)
        self._notify("create", "Issue", issue)
        return issue.id

    # -- mutations (tests, the demo, benchmarks) ------------------------------------------------

    @staticmethod
    def _stamp_state(issue: Issue) -> None:
        issue.completed = issue.updated if issue.state_type == "completed" else None
        issue.canceled = issue.updated if issue.state_type in ("canceled", "duplicate") else None

    def _touch(self, kind: _Ordered, record: Record) -> None:
        def bump() -> None:
            record.updated = max(self.clock(), record.updated + timedelta(milliseconds=1))

        kind.reorder(record, bump)

    def update_issue(self, issue_id: str, **changes: Any) -> Issue:
        """Change attributes and bump ``updatedAt``; a new ``state_type`` stamps completion.

        The update is one history entry at the new ``updatedAt``, naming the state and assignee
        (``assignee_id``: a user id or None) it moved from and to when they changed.
        """
        if changes.get("assignee_id") is not None and changes["assignee_id"] not in self.users:
            raise KeyError(f"no user {changes['assignee_id']}")
        with self.lock:
            issue: Issue = self._issues.by_id[issue_id]
            if "label_ids" in changes:
                self._check_applicable(list(changes["label_ids"]), kept=tuple(issue.label_ids))
            before = (issue.team_key, issue.state_type), issue.assignee_id
            for name, value in changes.items():
                if not hasattr(issue, name) or name == "history":
                    raise AttributeError(f"Issue has no attribute {name}")
                setattr(issue, name, value)
            self._touch(self._issues, issue)
            if "state_type" in changes:
                self._stamp_state(issue)
            moved: dict[str, Any] = {}
            if issue.state_type != before[0][1]:
                moved.update(from_state=before[0], to_state=(issue.team_key, issue.state_type))
            if issue.assignee_id != before[1]:
                moved.update(from_assignee=before[1], to_assignee=issue.assignee_id)
            self._log(issue, issue.updated, **moved)
        self._notify("update", "Issue", issue)
        return issue

    def move_issue(self, issue_id: str, team_key: str) -> str:
        """Move an issue to another team, as Linear does: the same id, a new identifier numbered in the
        new team (``OPS-7``); returns the new identifier."""
        with self.lock:
            if team_key not in self.teams:
                raise KeyError(f"no team {team_key}")
            issue: Issue = self._issues.by_id[issue_id]
            number = self._numbers.get(team_key, 0) + 1
            self._numbers[team_key] = number
            issue.team_key, issue.number = team_key, number
            self._touch(self._issues, issue)
        self._notify("update", "Issue", issue)
        return issue.identifier

    def archive_issue(self, issue_id: str, *, trash: bool = False) -> Issue:
        """Archive (or trash) an issue: it leaves normal listings and counts as deleted."""
        with self.lock:
            issue: Issue = self._issues.by_id[issue_id]
            issue.archived = self.clock()
            issue.trashed = trash
            self._touch(self._issues, issue)
        self._notify("remove", "Issue", issue)
        return issue

    def delete_issue(self, issue_id: str) -> None:
        """Delete an issue for good (as Linear does once the trash is emptied): its id is unknown after."""
        with self.lock:
            issue: Issue = self._issues.by_id[issue_id]
            self._issues.remove(issue)
            for attachment in [a for a in self.attachments.values() if a.issue_id == issue_id]:
                del self.attachments[attachment.id]
        self._notify("remove", "Issue", issue)

    def change_labels(self, issue_ids: list[str], added: list[str], removed: list[str]) -> list[Issue]:
        """``issueUpdate`` / ``issueBatchUpdate`` with ``addedLabelIds`` / ``removedLabelIds``.

        All or nothing, as Linear's batch is: IssueRefused (``not_found``) for an unknown issue or
        label, and when a result breaks a rule of :meth:`_check_applicable` (one label per group);
        otherwise every issue is changed, its ``updatedAt`` bumped and an ``update`` event fired.
        """
        with self.lock:
            issues = []
            for issue_id in issue_ids:
                issue = self._issues.by_id.get(issue_id)
                if issue is None:
                    raise IssueRefused("Entity not found: Issue", not_found=True)
                issues.append(issue)
            if any(label_id not in self.labels for label_id in added):
                raise IssueRefused("Entity not found: IssueLabel", not_found=True)
            results: list[list[str]] = []
            for issue in issues:
                kept = [label_id for label_id in issue.label_ids if label_id not in removed]
                result = kept + [label_id for label_id in added if label_id not in kept]
                try:
                    self._check_applicable(result, kept=tuple(issue.label_ids))
                except LabelRefused as exc:
                    raise IssueRefused(f"{issue.identifier}: {exc}") from None
                results.append(result)
            for issue, result in zip(issues, results, strict=True):
                issue.label_ids = result
                self._touch(self._issues, issue)
                self._log(issue, issue.updated)
        for issue in issues:
            self._notify("update", "Issue", issue)
        return issues

    def attach_url(
        self,
        issue_ref: str,
        url: str,
        title: str,
        *,
        subtitle: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Attachment:
        """``attachmentCreate``: a URL attachment of an issue (by id or identifier), or the existing
        one with that url updated in place (Linear keeps one attachment per issue and url)."""
        with self.lock:
            issue = self._issues.by_id.get(issue_ref) or next(
                (i for i in self._issues.by_id.values() if i.identifier == issue_ref.upper()), None
            )
            if issue is None:
                raise IssueRefused("Entity not found: Issue", not_found=True)
            if not url.startswith(("https://", "http://")):
                raise IssueRefused("Argument Validation Error: url must be a valid URL")
            now = self.clock()
            for attachment in self.attachments.values():
                if attachment.issue_id == issue.id and attachment.url == url:
                    attachment.title, attachment.updated = title, now
                    if subtitle is not None:
                        attachment.subtitle = subtitle
                    if metadata is not None:
                        attachment.metadata = dict(metadata)
                    return attachment
            made = Attachment(self._new_id(), issue.id, url, title, subtitle, dict(metadata or {}), now, now)
            self.attachments[made.id] = made
            return made

    def delete_attachment(self, attachment_id: str) -> None:
        """``attachmentDelete``: IssueRefused (``not_found``) when there is no such attachment."""
        with self.lock:
            if self.attachments.pop(attachment_id, None) is None:
                raise IssueRefused("Entity not found: Attachment", not_found=True)

    def attachments_of(self, issue_id: str) -> list[Attachment]:
        """The attachments of an issue, oldest first."""
        with self.lock:
            found = [a for a in self.attachments.values() if a.issue_id == issue_id]
        return sorted(found, key=lambda a: (a.created, a.id))

    def update_project(self, project_id: str, **changes: Any) -> Project:
        """Change a project's attributes and bump its ``updatedAt``."""
        with self.lock:
            project: Project = self._projects.by_id[project_id]
            for name, value in changes.items():
                if not hasattr(project, name):
                    raise AttributeError(f"Project has no attribute {name}")
                setattr(project, name, value)
            self._touch(self._projects, project)
        self._notify("update", "Project", project)
        return project

    def archive_project(self, project_id: str) -> Project:
        """Archive a project: its issues keep pointing at it (and become orphans to us)."""
        with self.lock:
            project: Project = self._projects.by_id[project_id]
            project.archived = self.clock()
            self._touch(self._projects, project)
        self._notify("remove", "Project", project)
        return project

    def add_webhook(
        self,
        url: str,
        secret: str,
        *,
        team_key: str | None,
        resource_types: list[str],
        label: str | None = None,
    ) -> Webhook:
        """Register a webhook (``team_key`` None: all public teams)."""
        with self.lock:
            hook = Webhook(self._new_id(), url, secret, team_key, list(resource_types), label)
            self.webhooks[hook.id] = hook
            return hook

    def _notify(self, action: str, kind: str, record: Record) -> None:
        for listener in list(self.listeners):
            listener(action, kind, record)

    # -- reading -------------------------------------------------------------------------------

    def iter_issues(
        self, start: tuple[datetime, str] | None, only: Collection[str] | None = None
    ) -> Iterator[Issue]:
        """Issues in (updatedAt, id) order after ``start`` (a snapshot of the order); ``only``: of
        these ids (looked up, not scanned for)."""
        return _iter_ordered(self._issues, self.lock, start, only)

    def iter_projects(
        self, start: tuple[datetime, str] | None, only: Collection[str] | None = None
    ) -> Iterator[Project]:
        """Projects in (updatedAt, id) order after ``start``; ``only``: of these ids."""
        return _iter_ordered(self._projects, self.lock, start, only)
