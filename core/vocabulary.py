"""The in-tracker vocabulary: the choices a tracker offers for values and methods, and changes to it.

A tracker offers the plan's values and methods as choices: Jira
single-select custom fields ``V2MOM Value`` / ``V2MOM Method``, Asana enum custom fields of the same
names, Linear label groups ``Value`` / ``Method``. Each kind lives in one *container* (the field, or
the label group) holding *options* (select options, enum options, child labels), tracked by the
tracker's own id so that a rename stays the same option. These records cross the connector boundary;
no tracker's vocabulary leaves ``connectors/``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Kind = Literal["value", "method"]
KINDS: tuple[Kind, ...] = ("value", "method")
FIELD_NAMES: dict[Kind, str] = {"value": "V2MOM Value", "method": "V2MOM Method"}  # Jira, Asana
LABEL_GROUPS: dict[Kind, str] = {"value": "Value", "method": "Method"}  # Linear
_FIELD_KINDS: dict[str, Kind] = {name.casefold(): kind for kind, name in FIELD_NAMES.items()}
_GROUP_KINDS: dict[str, Kind] = {name.casefold(): kind for kind, name in LABEL_GROUPS.items()}


def field_kind(name: str) -> Kind | None:
    """The kind a field of this display name holds (``V2MOM Value`` / ``V2MOM Method``, ignoring case)."""
    return _FIELD_KINDS.get(name.strip().casefold())


def group_kind(name: str) -> Kind | None:
    """The kind a label group of this name holds (``Value`` / ``Method``, ignoring case)."""
    return _GROUP_KINDS.get(name.strip().casefold())


def group_label_kind(label: str) -> tuple[Kind, str] | None:
    """(kind, option name) of a group label ``Value/<option>`` or ``Method/<option>``; None otherwise."""
    group, sep, option = label.partition("/")
    kind = group_kind(group) if sep else None
    return (kind, option) if kind is not None else None


Action = Literal["create_container", "create", "rename", "disable", "enable"]


@dataclass(frozen=True)
class TrackerOption:
    """One choice a tracker offers now: its id there, its name, and whether people can pick it."""

    option_id: str
    name: str
    enabled: bool = True


@dataclass(frozen=True)
class TrackerVocabulary:
    """What one tracker offers now, per kind: the container's id (None: absent) and its options.

    ``by_hand`` names the actions the tracker's API cannot make (Jira Data Center has no REST API
    for select options): those changes are left to an administrator, in the place ``admin_places``
    names per kind (see :meth:`split`).
    """

    containers: dict[Kind, str | None] = field(default_factory=lambda: {"value": None, "method": None})
    options: dict[Kind, tuple[TrackerOption, ...]] = field(
        default_factory=lambda: {"value": (), "method": ()}
    )
    by_hand: frozenset[Action] = frozenset()
    admin_places: dict[Kind, str] = field(default_factory=dict)
    after_create: dict[Kind, tuple[str, str]] = field(default_factory=dict)  # kind -> (task, where)

    def split(self, changes: list[VocabularyChange]) -> tuple[list[VocabularyChange], list[ManualStep]]:
        """``changes`` as (those the API makes, those left to an administrator), each in order;
        a container the API creates brings the step ``after_create`` names for its kind, if any."""
        made = [c for c in changes if c.action not in self.by_hand]
        manual = [
            ManualStep(c, self.admin_places.get(c.kind, "the tracker's administration"))
            for c in changes
            if c.action in self.by_hand
        ]
        manual += [
            ManualStep(c, self.after_create[c.kind][1], task=self.after_create[c.kind][0])
            for c in made
            if c.action == "create_container" and c.kind in self.after_create
        ]
        return made, manual


@dataclass(frozen=True)
class VocabularyChange:
    """One step that makes a tracker offer the plan's choices.

    ``create_container`` makes the field or label group of ``kind`` (``name`` is its name);
    ``create`` adds an option for ``plan_id``; ``rename`` renames ``option_id`` from ``old_name`` to
    ``name``; ``disable`` / ``enable`` switch ``option_id`` off or back on (never a deletion).
    """

    kind: Kind
    action: Action
    name: str
    plan_id: str | None = None
    option_id: str | None = None
    old_name: str | None = None

    def describe(self) -> str:
        """One line for a person: what this change does."""
        if self.action == "create_container":
            return f"create the {self.kind} field '{self.name}'"
        if self.action == "rename":
            return f"rename {self.kind} option '{self.old_name}' to '{self.name}'"
        return f"{self.action} {self.kind} option '{self.name}'"


@dataclass(frozen=True)
class ManualStep:
    """A change the tracker's API cannot make: an administrator makes it by hand at ``where``.

    ``task`` (when given) is a step that follows a change the API did make, such as putting a field
    it created on the screens people edit issues with; ``change`` then names that change.
    """

    change: VocabularyChange
    where: str
    task: str | None = None

    @property
    def follows(self) -> bool:
        """True for a step after a change that was made (``task``), False for a change not made."""
        return self.task is not None

    def describe(self) -> str:
        """One line for a person: what to do, and where."""
        return f"{self.task or self.change.describe()}, by hand: {self.where}"


@dataclass(frozen=True)
class AppliedVocabulary:
    """What applying changes left in a tracker: per kind, the option id now offering each plan id;
    ``manual``: the changes it was given that its API cannot make (left to an administrator)."""

    options: dict[Kind, dict[str, str]] = field(default_factory=lambda: {"value": {}, "method": {}})
    manual: tuple[ManualStep, ...] = ()


# -- write-back: what v2mom-sync writes into a tracker's items ---------------------------------------


@dataclass(frozen=True)
class TagWrite:
    """Set (or clear) the ``V2MOM Value`` / ``V2MOM Method`` choice of one item.

    ``options`` maps each kind to write to the tracker option id to select there (the ids
    ``read_vocabulary`` returns: a Jira select option id, an Asana enum option gid, a Linear label id),
    or to None to clear that kind; a kind absent from ``options`` is left as it is. ``item_id`` is the
    tracker's stable id (Jira issue id, Asana gid, Linear uuid); ``key`` the human handle, for messages.
    """

    item_id: str
    key: str
    options: dict[Kind, str | None]


@dataclass(frozen=True)
class LinkWrite:
    """Give one item its link to the explanation page: created once, updated in place after."""

    item_id: str
    key: str
    url: str
    title: str


@dataclass(frozen=True)
class WriteOutcome:
    """What the tracker did with one item's write: ``error`` None when it took it, else its reason."""

    item_id: str
    error: str | None = None
    unsupported: bool = False  # the item cannot hold the field at all (an Asana subtask outside projects)

    @property
    def ok(self) -> bool:
        """True when the tracker holds the write."""
        return self.error is None


@dataclass(frozen=True)
class WrittenTags:
    """What v2mom-sync wrote into one item, as recorded in the store.

    ``labels`` maps each kind written to ``(plan id, option name selected)``; ``fields_at`` is the
    item's ``updated_at`` as v2mom-sync knew it when it wrote (a reading no newer than that predates
    the write; both are the tracker's own clock); ``link_url`` is the explanation link the item holds
    (None: none written yet).

    A write is recorded unconfirmed (``confirmed`` False) before it is sent, with ``previous``: the
    labels the item held from v2mom-sync before it. Until the write is settled from what the tracker
    holds, both are v2mom-sync's own: the tracker may hold either, since a write can fail, be cut
    short or be killed after the tracker took it and before we heard back.
    """

    labels: dict[Kind, tuple[str, str]] = field(default_factory=dict)
    fields_at: datetime | None = None
    link_url: str | None = None
    confirmed: bool = True
    previous: dict[Kind, tuple[str, str]] = field(default_factory=dict)

    @property
    def pending(self) -> tuple[Kind, ...]:
        """The kinds of an unconfirmed write whose new choice differs from the one held before it."""
        if self.confirmed:
            return ()
        return tuple(kind for kind in KINDS if self.labels.get(kind) != self.previous.get(kind))

    def ours(self, kind: Kind) -> tuple[tuple[str, str], ...]:
        """Every (plan id, option name) of ``kind`` that reads as v2mom-sync's own in the tracker."""
        choices = [self.labels.get(kind)]
        if not self.confirmed:
            choices.append(self.previous.get(kind))
        return tuple(dict.fromkeys(c for c in choices if c is not None))
