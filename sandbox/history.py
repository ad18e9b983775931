"""Realistic status and assignee histories for the sandboxes' generated items.

Each tracker keeps its history its own way (a Jira changelog, Linear ``IssueHistory``, Asana task
stories); the story of an item is drawn once here, in tracker-neutral steps, and each sandbox turns
the steps into its own records. A story fits the item it belongs to: it starts after the item was
created, ends no later than its last update, and ends in the item's current status; a finished
item's last step (done or canceled) is at its update time, which the generators also give as its
completion time. Along the way work is picked up and sometimes put down again, people are assigned,
sometimes replaced or let go of work not started, and some items are worked on with nobody assigned.

Stories draw from a random source of their own, so adding them leaves every other generated value
(and so every report figure) what it was.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

__all__ = ["Recorded", "Step", "history_rng", "storyline"]

Field = Literal["status", "assignee"]
UNASSIGNED_SHARE = 0.15  # items nobody is ever assigned to (in progress ones included)
RESTART_SHARE = 0.25  # started work put down and picked up again
REASSIGN_SHARE = 0.2  # work handed to someone else midway
STOPPED_SHARE = 0.2  # items still to do that were started once and put back
RELEASED_SHARE = 0.3  # items still to do whose assignee let them go
_MS = timedelta(milliseconds=1)


@dataclass(frozen=True)
class Step:
    """One change of an item: ``field`` went from ``before`` to ``after`` at ``at``.

    Status values are the tracker's own status names (or types) as the generator passes them in;
    assignee values are account ids, None for nobody.
    """

    at: datetime
    field: Field
    before: str | None
    after: str | None


@dataclass(frozen=True)
class Recorded:
    """One change as a sandbox's tracker records it, in the terms a sync should store it.

    ``category`` is where an entered status stands (``todo``, ``in_progress``, ``done`` or
    ``canceled``; None for an assignee change); values are the tracker's ids.
    """

    item_id: str
    event_id: str
    at: datetime
    field: Field
    before: str | None
    after: str | None
    category: str | None


def history_rng(tracker: str, seed: int, purpose: str = "history") -> random.Random:
    """The random source of one workspace's stories, apart from the generator's own; another
    ``purpose`` (``"start"``) gives a source of its own too, so what it draws moves no story."""
    digest = hashlib.sha256(f"{tracker}-{purpose}-{seed}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _floor_ms(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def storyline(
    rng: random.Random,
    *,
    created: datetime,
    updated: datetime,
    todo: str,
    final: str,
    finished: bool,
    started: Sequence[str],
    people: Sequence[str],
) -> list[Step]:
    """The steps that led an item from ``todo`` (its status when created, unassigned) to ``final``.

    ``finished``: ``final`` is a done or canceled status, reached at ``updated``. ``started`` are
    the tracker's in-progress statuses, the first one where work starts (empty: the tracker has
    none, as Asana). A ``final`` among ``started`` is work still in progress; any other unfinished
    ``final`` is still to do. Times are whole milliseconds, strictly increasing, after ``created``
    and no later than ``updated``; an item updated within a few milliseconds of its creation has
    no story.
    """
    changes: list[tuple[Field, str | None]] = []
    status, assignee = todo, None

    def move(to: str) -> None:
        nonlocal status
        if to != status:
            changes.append(("status", to))
            status = to

    def assign(to: str | None) -> None:
        nonlocal assignee
        if to != assignee:
            changes.append(("assignee", to))
            assignee = to

    def someone_else() -> str:
        return rng.choice([p for p in people if p != assignee] or list(people))

    assigned = bool(people) and rng.random() >= UNASSIGNED_SHARE
    in_progress = final in started
    worked = bool(started) and (in_progress or (finished and rng.random() < 0.85))
    if assigned:
        assign(someone_else())
    if worked:
        move(started[0])
        if rng.random() < RESTART_SHARE:
            move(todo)
            if assigned and rng.random() < 0.5:
                assign(someone_else())
            move(started[0])
        if assigned and rng.random() < REASSIGN_SHARE:
            assign(someone_else())
        if len(started) > 1 and (in_progress or finished) and rng.random() < 0.5:
            move(started[1])
        if in_progress:
            move(final)
    elif not finished and not in_progress and started and rng.random() < STOPPED_SHARE:
        move(started[0])
        move(todo)
    if assigned and not worked and rng.random() < REASSIGN_SHARE:
        assign(someone_else())
    if assigned and not finished and not in_progress and rng.random() < RELEASED_SHARE:
        assign(None)
    move(final)
    if not changes:
        return []
    start, end = _floor_ms(created) + _MS, _floor_ms(updated)
    span_ms = int((end - start) / _MS)
    if span_ms < 4 * len(changes):
        return []
    offsets = sorted(rng.sample(range(span_ms), len(changes)))
    if finished:
        offsets[-1] = span_ms  # the finishing step is the item's last update
    steps: list[Step] = []
    previous: dict[Field, str | None] = {"status": todo, "assignee": None}
    for (field, after), offset in zip(changes, offsets, strict=True):
        steps.append(Step(start + offset * _MS, field, previous[field], after))
        previous[field] = after
    return steps
