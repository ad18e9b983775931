"""The normalised record that crosses every boundary: ``WorkItem``.

Vendor vocabulary (issuetype, statusCategory, resource_subtype, state.type …) stays in
``connectors/``; everything past a connector speaks only in these terms.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Iterable
from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

TrackerName = Literal["jira", "asana", "linear"]  # a tracker's name where one is chosen (--tracker, routes)
TRACKERS: tuple[str, ...] = get_args(TrackerName)
_BLOCKED_STATUS = re.compile(r"\bblocked\b", re.IGNORECASE)


class State(StrEnum):
    """Where an item is in its lifecycle, across trackers."""

    TODO = "todo"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELED = "canceled"  # Linear canceled / duplicate: counts nothing


class Level(IntEnum):
    """Hierarchy level, as Jira's ``issuetype.hierarchyLevel`` numbers it."""

    CONTAINER = 2  # Asana project, Linear project when used as an epic container
    EPIC = 1
    STANDARD = 0
    SUBTASK = -1


def _require_aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("datetimes must carry a time zone")
    return value


AwareDatetime = Annotated[datetime, AfterValidator(_require_aware)]
_WEB_URL = re.compile(r"https?://[^\s/?#\\]", re.IGNORECASE)


def web_url(value: str | None) -> str | None:
    """``value`` when it is an absolute http(s) URL, else None.

    An item's URL comes from its tracker and is shown as a link (the dashboard, the API's item
    documents): a ``javascript:``, ``data:`` or relative one is dropped, never stored or served.
    """
    if value is None or _WEB_URL.match(value) is None:
        return None
    return value


WebUrl = Annotated[str | None, AfterValidator(web_url)]


class WorkItem(BaseModel):
    """One tracker item (epic, task, subtask, project) in tracker-neutral terms.

    ``id`` is the tracker's stable id (Jira issue id, Asana gid, Linear uuid); ``key`` is the human
    handle (``ONB-12``), which can change when an issue moves. ``parent_id`` names the parent by its
    stable id in the same tracker, and ``parent_key`` by its key when the tracker says it (so that a
    message can name a parent v2mom-sync has not stored). ``custom_fields`` maps a field's display
    name to the option names it holds (a single select holds one). ``choice_options`` gives, per kind
    (``value``, ``method``), the tracker's (option id, option name) of each option the item holds in
    its ``V2MOM Value`` / ``V2MOM Method`` field or its ``Value`` / ``Method`` label group: the store
    reads the options v2mom-sync provisioned by their ids, not their names, and does not keep this
    field. ``member_of`` names the configured project an Asana task is itself a member of: for a
    subtask, whose ``container`` is empty (its rules come through its parent), it is what says that
    the subtask was added to the project and so holds the project's custom fields.

    ``description`` is the item's description as plain text (Jira's Atlassian Document Format
    flattened, Linear's Markdown and Asana's notes as written): what suggestions for untagged work
    read beside the title; no answer carries it.

    ``assignee`` is the tracker's account id of the person the item is assigned to now (Jira
    ``accountId``, Linear user id, Asana user gid; None: nobody, or the tracker did not say): what
    people's time counts an item by when its history holds no assignee change. It is person-level
    data, kept for the store's computations only: it is left out of every serialisation and of the
    item's repr, so no report, API answer, CSV, explanation or log shows it. ``started_at`` is when
    work on an Asana task started: its ``start_at``, else its ``start_on`` date at 00:00 UTC (None
    for other trackers and for a task with neither); like ``assignee``, the store reads it and no
    answer carries it.
    """

    model_config = ConfigDict(frozen=True)

    tracker: str
    id: str
    key: str
    title: str
    url: WebUrl = None  # http(s) only: anything else is dropped (web_url)
    level: Level = Level.STANDARD
    parent_id: str | None = None
    parent_key: str | None = None  # the parent's human handle, for messages (its id may be all we have)
    container: str | None = None
    member_of: str | None = None  # the configured project the item is itself a member of (Asana)
    assignee: str | None = Field(default=None, exclude=True, repr=False)  # person-level: never served
    state: State = State.TODO
    status_name: str = ""
    created_at: AwareDatetime | None = None
    updated_at: AwareDatetime
    completed_at: AwareDatetime | None = None
    started_at: AwareDatetime | None = Field(default=None, exclude=True)  # Asana start_at / start_on
    points: float | None = None
    hours: float | None = None
    labels: tuple[str, ...] = ()
    components: tuple[str, ...] = ()
    custom_fields: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    # Plain text (Jira's document format flattened), cut to MAX_DESCRIPTION characters when stored:
    # what suggestions learn from and score; long and free-form, so no answer carries it.
    description: str = Field(default="", exclude=True, repr=False)
    choice_options: dict[str, tuple[tuple[str, str], ...]] = Field(default_factory=dict, exclude=True)

    @property
    def ref(self) -> str:
        """``tracker:key``, the handle users type (``v2mom explain jira:ONB-12``)."""
        return f"{self.tracker}:{self.key}"

    @property
    def blocked(self) -> bool:
        """Blocked work: a status named for it ("Blocked", "Blocked by vendor"; not "Unblocked") or a
        ``blocked`` label / tag. The trackers share no blocked state, so this is the convention.
        """
        return bool(_BLOCKED_STATUS.search(self.status_name)) or any(
            label.strip().casefold() == "blocked" for label in self.labels
        )


TransitionField = Literal["status", "assignee"]
TRANSITION_FIELDS: tuple[str, ...] = get_args(TransitionField)


class ItemTransition(BaseModel):
    """One change of an item's status or assignee, as its tracker's history records it.

    ``event_id`` is the tracker's own id of the history entry (a Jira changelog id, a Linear
    ``IssueHistory`` id, an Asana story gid); one entry may change both fields, so an entry is
    named by (``tracker``, ``item_id``, ``event_id``, ``field``): reading the same history again
    yields the same keys. ``at`` is when the change happened, by the tracker's clock.

    For ``field="status"``, ``from_value`` / ``to_value`` are the tracker's ids of the statuses left
    and entered (a Jira status id, a Linear workflow state id, Asana's ``completed`` /
    ``incomplete``; ``from_value`` None when the history does not say), and ``to_category`` is
    where the entered status stands in our :class:`State` terms (started work is ``in_progress``).
    It is None only when the tracker does not say: a Jira status deleted since, a Linear state type
    this version does not know.

    For ``field="assignee"``, the values are the tracker's account ids of the previous and the new
    assignee (Jira ``accountId``, Linear user id, Asana user gid), None for nobody; ``to_category``
    is always None. Person-level values stay in the store: no report names them.
    """

    model_config = ConfigDict(frozen=True)

    tracker: str
    item_id: str
    event_id: str
    at: AwareDatetime
    field: TransitionField
    from_value: str | None = None
    to_value: str | None = None
    to_category: State | None = None

    @model_validator(mode="after")
    def _fits_its_field(self) -> ItemTransition:
        where = f"{self.tracker} item {self.item_id}, history entry {self.event_id}"
        if self.field == "status" and self.to_value is None:
            raise ValueError(f"{where}: a status change must name the status entered")
        if self.field == "assignee" and self.to_category is not None:
            raise ValueError(f"{where}: an assignee change has no status category")
        return self

    @property
    def identity(self) -> tuple[str, str, str, str]:
        """(tracker, item id, history entry id, field): what names this change across re-reads."""
        return (self.tracker, self.item_id, self.event_id, self.field)


_OLDEST_FIRST = operator.attrgetter("at", "item_id", "event_id", "field")


def oldest_first(changes: Iterable[ItemTransition]) -> list[ItemTransition]:
    """``changes`` oldest first, then by item, history entry and field (the order a history read
    returns them in)."""
    return sorted(changes, key=_OLDEST_FIRST)
