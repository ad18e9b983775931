"""What suggestions learn from and are for, read from the store under one plan.

People-tagged items (:class:`~v2mom.suggest.model.Example`): live items whose own labels or V2MOM
fields name exactly one of the plan's values or methods (a method and a value: the method, the
more precise), as a person set them — the store keeps no tag v2mom-sync wrote, and rules, epics
and projects (what the product infers) are not read. Items naming two values or two methods are
left out: nobody knows which was meant. Untagged items: live items whose resolution found no tag
at all (:class:`Untagged`), the ones suggestions are offered for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from v2mom.mapping.plan import Plan
from v2mom.mapping.resolver import Resolver
from v2mom.models import TRACKERS, WorkItem
from v2mom.store.database import Database
from v2mom.suggest.model import Example
from v2mom.suggest.text import learning_text

__all__ = ["Corpus", "Untagged", "read_corpus"]


@dataclass(frozen=True)
class Untagged:
    """An item nobody tagged: its tracker, id, reference and learning text."""

    tracker: str
    item_id: str
    ref: str
    text: str


@dataclass(frozen=True)
class Corpus:
    """The people-tagged items (examples) and the untagged ones of the trackers read."""

    examples: list[Example]
    untagged: list[Untagged]


def _person_tag(resolver: Resolver, item: WorkItem) -> str | None:
    """The one tag a person set on ``item`` (``method:<id>`` or ``value:<id>``), if exactly one."""
    tags = resolver.person_tags(item)
    if len(tags.methods) == 1 and len(tags.values) <= 1:
        return f"method:{tags.methods[0]}"
    if not tags.methods and len(tags.values) == 1:
        return f"value:{tags.values[0]}"
    return None


def read_corpus(store: Database, plan: Plan, trackers: Sequence[str] = TRACKERS) -> Corpus:
    """The people-tagged and untagged live items of ``trackers`` under ``plan``."""
    resolver = Resolver(plan)
    examples: list[Example] = []
    untagged: list[Untagged] = []
    for tracker in trackers:
        resolved = list(store.items.resolved(tracker))
        titles = {r.stored.item.id: r.stored.item.title for r in resolved}  # any item may be a parent
        for found in resolved:
            item = found.stored.item
            text = learning_text(item, titles.get(item.parent_id) if item.parent_id else None)
            tag = _person_tag(resolver, item)
            if tag is not None:
                examples.append(Example(item.ref, text, tag))
            elif found.untagged:
                untagged.append(Untagged(item.tracker, item.id, item.ref, text))
    return Corpus(examples=examples, untagged=untagged)
