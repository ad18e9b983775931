"""Write-back decisions, pure: which of an item's tags are v2mom-sync's own, and what to write next.

CONTRACT.md "In the tracker": for an item whose value or method was *inferred* (inherited, from a
container rule or an item rule, not set on the item by a person), v2mom-sync sets the tracker's
``V2MOM Value`` / ``V2MOM Method`` choice. A method is written when all of the item's effort goes
through one method; a value when exactly one value resolves; nothing on a conflict.

Reading back:

- A field reading equal to what v2mom-sync recorded writing is its own inference, not a person's
  tag: :func:`strip_written` removes it before the item is stored, so the echo of a write changes
  nothing and a later change upstream (an epic re-tagged) still moves the item.
- A reading no newer than the item as v2mom-sync knew it when it wrote predates the write (a late
  page of a sync that started earlier): its value and method choices are stripped too. Both times
  are the tracker's own ``updated_at``, so no clock skew between hosts enters.
- Any other reading was set by a person: it stays, resolves as the item's own tag, and wins.

Decisions where the contract is silent:

- What v2mom-sync wrote and no longer holds (the item became a conflict, untagged, or spread over
  several values) is cleared, so the tracker never shows a stale inference; a person's choice is
  never cleared.
- A person who clears a field v2mom-sync filled does not stop the next run from filling it again
  (the tracker keeps no trace of who emptied it); choosing another option does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from v2mom.mapping.resolver import Resolver, Share
from v2mom.models import WorkItem
from v2mom.vocabulary import FIELD_NAMES, KINDS, LABEL_GROUPS, Kind, WrittenTags

_FIELD_KINDS = {name.casefold(): kind for kind, name in FIELD_NAMES.items()}
_GROUP_KINDS = {name.casefold(): kind for kind, name in LABEL_GROUPS.items()}


def _fold(text: str) -> str:
    return text.strip().casefold()


def _ours(kind: Kind, option: str, written: WrittenTags, stale: bool) -> bool:
    if stale:
        return True
    recorded = written.labels.get(kind)
    return recorded is not None and _fold(option) in (_fold(recorded[0]), _fold(recorded[1]))


def strip_written(item: WorkItem, written: WrittenTags | None) -> WorkItem:
    """``item`` without the value / method choices that v2mom-sync wrote (see the module docstring)."""
    if written is None or not written.labels:
        return item
    stale = written.fields_at is not None and item.updated_at <= written.fields_at
    fields = dict(item.custom_fields)
    changed = False
    for name, options in item.custom_fields.items():
        kind = _FIELD_KINDS.get(_fold(name))
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
        group, sep, option = label.partition("/")
        kind = _GROUP_KINDS.get(_fold(group)) if sep else None
        if kind is not None and _ours(kind, option, written, stale):
            changed = True
            continue
        labels.append(label)
    if not changed:
        return item
    return item.model_copy(update={"custom_fields": fields, "labels": tuple(labels)})


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
    return {kind for kind in KINDS if kind in Resolver.convention_kinds(item)}


@dataclass(frozen=True)
class ItemWrite:
    """What one item needs written: per kind, the plan id to select (None: clear); empty = nothing."""

    changes: dict[Kind, str | None]

    def __bool__(self) -> bool:
        return bool(self.changes)


def plan_item_write(
    choices: dict[Kind, str | None], person: set[Kind], written: WrittenTags | None, *, fields: bool
) -> ItemWrite:
    """The writes that bring the item's tracker fields in line with ``choices``.

    A kind a person set is left alone. A kind whose choice equals what was written is left alone
    (a re-run writes nothing). A kind written before whose choice is gone is cleared.
    """
    if not fields:
        return ItemWrite({})
    changes: dict[Kind, str | None] = {}
    for kind in KINDS:
        if kind in person:
            continue
        want = choices.get(kind)
        recorded = written.labels.get(kind) if written else None
        have = recorded[0] if recorded else None
        if want != have:
            changes[kind] = want
    return ItemWrite(changes)
