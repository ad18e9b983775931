"""Write-back decisions, pure: which of an item's tags are v2mom-sync's own, and what to write next.

For an item whose value or method was *inferred* (inherited, from a
container rule or an item rule, not set on the item by a person), v2mom-sync sets the tracker's
``V2MOM Value`` / ``V2MOM Method`` choice. A method is written when all of the item's effort goes
through one method; a value when exactly one value resolves; nothing on a conflict.

Reading back:

- A field reading equal to what v2mom-sync recorded writing is its own inference, not a person's
  tag: :func:`strip_written` removes it before the item is stored, so the echo of a write changes
  nothing and a later change upstream (an epic re-tagged) still moves the item.
- A reading no newer than the item as v2mom-sync knew it when it wrote predates the write (a late
  page of a sync that started earlier): its value and method choices are stripped too. Both times
  are the tracker's own ``updated_at``, so no clock skew between hosts enters. Except a reading
  exactly as of an unconfirmed write: that is what a tracker that never took the write shows on
  every later reading (a sync's overlap, a reconcile), so only the choices the record keeps (the
  new one and the one from before) are stripped, and one a person had made stays theirs.
- Any other reading was set by a person: it stays, resolves as the item's own tag, and wins.

A write is recorded before it is sent and confirmed once the tracker took it. One that failed, was
cut short or whose process was killed stays unconfirmed, and then the tracker may hold the value
from before it or the new one: both read as v2mom-sync's own until :func:`settle` decides from a
fresh reading which one the tracker holds (the new one: confirmed; the old one: still pending, the
next write-back sends it again; anything else: a person's choice, which v2mom-sync forgets it wrote).

Decisions where the contract is silent:

- What v2mom-sync wrote and no longer holds (the item became a conflict, untagged, or spread over
  several values) is cleared, so the tracker never shows a stale inference; a person's choice is
  never cleared.
- A person who clears a field v2mom-sync filled does not stop the next run from filling it again
  (the tracker keeps no trace of who emptied it); choosing another option does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from v2mom.mapping.plan import fold
from v2mom.mapping.resolver import Resolver, Share
from v2mom.models import WorkItem
from v2mom.vocabulary import FIELD_NAMES, KINDS, Kind, WrittenTags, field_kind, group_label_kind


def _names(choice: tuple[str, str]) -> tuple[str, str]:
    """How a recorded (plan id, option name) can read in the tracker, folded."""
    return fold(choice[0]), fold(choice[1])


def _ours(kind: Kind, option: str, written: WrittenTags, stale: bool) -> bool:
    if stale:
        return True
    return any(fold(option) in _names(choice) for choice in written.ours(kind))


def _predates(item: WorkItem, written: WrittenTags) -> bool:
    """Whether ``item`` is a reading taken before the recorded write (the tracker's clock on both sides)."""
    return written.fields_at is not None and item.updated_at <= written.fields_at


def _stale(item: WorkItem, written: WrittenTags) -> bool:
    """Whether every value / method choice of ``item`` reads as ours: a reading taken before the write.

    One taken exactly as of an unconfirmed write is not: the tracker's time has not moved since, as
    when it never took the write, and the record's choices are all that can be ours on it.
    """
    if written.fields_at is None:
        return False
    if written.confirmed:
        return item.updated_at <= written.fields_at
    return item.updated_at < written.fields_at


def strip_written(item: WorkItem, written: WrittenTags | None) -> WorkItem:
    """``item`` without the value / method choices that v2mom-sync wrote (see the module docstring)."""
    if written is None or not (written.labels or written.previous):
        return item
    stale = _stale(item, written)
    fields = dict(item.custom_fields)
    changed = False
    for name, options in item.custom_fields.items():
        kind = field_kind(name)
        if kind is None:
            continue
        kept = tuple(o for o in options if not _ours(kind, o, written, stale))
        if kept != options:
            changed = True
            if kept:
                fields[name] = kept
            else:
                del fields[name]
    labels: list[str] = []
    for label in item.labels:
        grouped = group_label_kind(label)
        if grouped is not None and _ours(grouped[0], grouped[1], written, stale):
            changed = True
            continue
        labels.append(label)
    if not changed:
        return item
    return item.model_copy(update={"custom_fields": fields, "labels": tuple(labels)})


def held_options(item: WorkItem, kind: Kind) -> set[str]:
    """The option names ``item`` holds for ``kind`` (its field's options and its group labels), folded."""
    held = {
        fold(o) for name, options in item.custom_fields.items() if field_kind(name) == kind for o in options
    }
    for label in item.labels:
        grouped = group_label_kind(label)
        if grouped is not None and grouped[0] == kind:
            held.add(fold(grouped[1]))
    return held


def _holds(held: set[str], choice: tuple[str, str] | None) -> bool:
    """Whether the options ``held`` are exactly ``choice`` (None: nothing)."""
    if choice is None:
        return not held
    return len(held) == 1 and not held.isdisjoint(_names(choice))


def settle(item: WorkItem, written: WrittenTags | None) -> WrittenTags | None:
    """The record of an unconfirmed write once ``item``, a fresh reading, says what the tracker holds;
    None when it settles nothing (no pending write, or a reading that predates the write).

    Per pending kind: the new choice held, that kind is confirmed; the one from before held, it stays
    pending (the next write-back sends it again); anything else is a person's choice, and the record
    of that kind is dropped, so it is neither stripped nor cleared. With no kind left pending, the
    record is confirmed.
    """
    if written is None or not written.pending or _predates(item, written):
        return None
    labels, previous = dict(written.labels), dict(written.previous)
    for kind in written.pending:
        held = held_options(item, kind)
        new, old = labels.get(kind), previous.get(kind)
        if _holds(held, new):
            choice = new
        elif _holds(held, old):
            continue
        else:  # a person's choice: v2mom-sync no longer owns this kind
            choice = None
            labels.pop(kind, None)
        if choice is None:
            previous.pop(kind, None)
        else:
            previous[kind] = choice
    done = all(labels.get(kind) == previous.get(kind) for kind in KINDS)
    return replace(written, labels=labels, previous={} if done else previous, confirmed=done)


def read_by_id(item: WorkItem, offered: Mapping[Kind, Mapping[str, str]]) -> WorkItem:
    """``item`` with each option v2mom-sync provisioned named by its plan id, found by the tracker's
    option id (``item.choice_options``), whatever the option is called now: a value renamed in the
    plan before provisioning renamed its option, or an option renamed in the tracker, still reads as
    its value, and a name equal to another value's id or to a person's own label reads as nothing
    else. ``offered`` is, per kind, the option id behind each plan id. Options v2mom-sync did not
    provision are read by name, as before; ``choice_options`` is consumed (it is not stored).
    """
    if not item.choice_options:
        return item
    renamed: dict[Kind, dict[str, str]] = {}  # kind -> folded option name -> plan id
    for kind in KINDS:
        by_option = {option_id: plan_id for plan_id, option_id in offered.get(kind, {}).items()}
        for option_id, name in item.choice_options.get(kind, ()):
            plan_id = by_option.get(option_id)
            if plan_id is not None:
                renamed.setdefault(kind, {})[fold(name)] = plan_id
    fields = dict(item.custom_fields)
    for name, options in item.custom_fields.items():
        held = field_kind(name)
        names = renamed.get(held, {}) if held is not None else {}
        if names:
            fields[name] = tuple(names.get(fold(option), option) for option in options)
    labels = []
    for label in item.labels:
        grouped = group_label_kind(label)
        if grouped is not None and fold(grouped[1]) in renamed.get(grouped[0], {}):
            group = label.partition("/")[0]
            label = f"{group}/{renamed[grouped[0]][fold(grouped[1])]}"
        labels.append(label)
    return item.model_copy(update={"custom_fields": fields, "labels": tuple(labels), "choice_options": {}})


def with_choice(item: WorkItem, kind: Kind, name: str) -> WorkItem:
    """``item`` holding the option ``name`` as its own ``kind``: what a tag from the dashboard stores
    until the tracker's copy is read back. The choice is held as the ``V2MOM Value`` / ``V2MOM Method``
    field (a group label of that kind is replaced); both resolve alike, and the read-back, or the
    webhook echo, replaces the item with what the tracker holds.
    """
    fields = {n: o for n, o in item.custom_fields.items() if field_kind(n) != kind}
    fields[FIELD_NAMES[kind]] = (name,)
    labels = tuple(label for label in item.labels if (group_label_kind(label) or ("",))[0] != kind)
    return item.model_copy(update={"custom_fields": fields, "labels": labels})


def inferred_choices(shares: Sequence[Share], *, conflict: bool, untagged: bool) -> dict[Kind, str | None]:
    """The value and method an item's allocations name unambiguously (None: none or several)."""
    if conflict or untagged or not shares:
        return {"value": None, "method": None}
    values = {value for value, _, _ in shares}
    methods = {method for _, method, _ in shares}
    value = next(iter(values)) if len(values) == 1 else None
    method = next(iter(methods)) if len(methods) == 1 else None
    return {"value": value, "method": method}


def person_kinds(item: WorkItem) -> set[Kind]:
    """The kinds a person set on ``item`` itself (a label, field or group label naming a value or method).

    ``item`` is as stored, after :func:`strip_written`: what is left there is a person's. A reference
    the plan lacks counts too (a typo is still a person's choice: flagged orphaned, never overwritten).
    """
    found = Resolver.convention_kinds(item)
    return {kind for kind in KINDS if kind in found}


def plan_item_write(
    choices: dict[Kind, str | None], person: set[Kind], written: WrittenTags | None, *, fields: bool
) -> dict[Kind, str | None]:
    """The writes that bring the item's tracker fields in line with ``choices``: per kind, the plan id
    to select, or None to clear it (empty: nothing to write).

    A kind a person set is left alone. A kind whose choice equals what was written is left alone
    (a re-run writes nothing), unless that write is still pending: the tracker may not hold it, so it
    is sent again. A kind written before whose choice is gone is cleared.
    """
    if not fields:
        return {}
    pending = set(written.pending) if written else set()
    changes: dict[Kind, str | None] = {}
    for kind in KINDS:
        if kind in person:
            continue
        want = choices.get(kind)
        recorded = written.labels.get(kind) if written else None
        have = recorded[0] if recorded else None
        if want != have or kind in pending:
            changes[kind] = want
    return changes
