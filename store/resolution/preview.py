"""What a plan change would do, before it is applied: items re-tagged and effort moved per value.

The preview runs the resolution engine (:mod:`.run`, as a plan change) inside a transaction it rolls back:
"before" is the stored rollup, "after" is it minus the old and plus the new allocations of the
items the proposed plan moves, so a preview over a million items costs what applying does. Effort
follows the report's rules: counted once, split by weights, canceled items count nothing.
"Changed" items are those whose share of effort (allocations) changes. The in-memory preview of
the Python resolver is the oracle a test holds it equal to.

Effort per value sits beside ``untagged`` and, when either plan has teams, ``unaligned`` (a team
method's share that reaches no value): the three add up to the total, and effort moving between
untagged and unaligned is a move like any other. Without teams no effort can be unaligned, and the
preview reads as it always did.

A change that moves more than :data:`CONFIRM_ABOVE` of the effort (the effort the deltas move
between values and untagged, over the total effort, in the preview's measure) is applied only when
confirmed by typing :meth:`PlanPreview.confirm_phrase` (``move 42%``); the first plan, which has no
numbers to overturn, needs no confirmation.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, and_, case, func, select

from v2mom.mapping.effort import Measure
from v2mom.mapping.plan import Plan
from v2mom.models import State
from v2mom.store import schema as t
from v2mom.store.database import Database
from v2mom.store.resolution import tables as rm
from v2mom.store.resolution.rollup import shares
from v2mom.store.resolution.run import held_plan, reresolve
from v2mom.store.resolution.strategy import PlanChanged

UNTAGGED = "untagged"
UNALIGNED = "unaligned"
CONFIRM_ABOVE = 0.25  # a change moving more than this share of the effort must be confirmed by typing


@dataclass
class PlanPreview:
    """The effect of replacing the stored plan with a proposed one."""

    measure: Measure
    items: int = 0  # live items considered
    changed: int = 0  # items whose values or methods change
    newly_tagged: int = 0  # untagged before, tagged after
    newly_untagged: int = 0
    before: dict[str, float] = field(default_factory=dict)  # value id (or "untagged") -> effort
    after: dict[str, float] = field(default_factory=dict)
    first_plan: bool = False  # no plan is stored yet: nothing to overturn, nothing to confirm
    teams: bool = False  # the stored or the proposed plan has teams: unaligned effort is reported

    def unaligned(self) -> tuple[float, float] | None:
        """The unaligned effort before and after the change; None when neither plan has teams."""
        if not self.teams:
            return None
        return self.before.get(UNALIGNED, 0.0), self.after.get(UNALIGNED, 0.0)

    def unaligned_line(self) -> str | None:
        """One human line on unaligned effort (``unaligned effort: 5 -> 9 points``), or None when
        neither plan has teams."""
        unaligned = self.unaligned()
        if unaligned is None:
            return None
        unit = "items" if self.measure == "count" else self.measure
        return f"unaligned effort: {unaligned[0]:g} -> {unaligned[1]:g} {unit}"

    def deltas(self) -> dict[str, float]:
        """Effort gained (positive) or lost per value, ``untagged`` (and ``unaligned``) included;
        zero moves left out."""
        keys = set(self.before) | set(self.after)
        out = {k: round(self.after.get(k, 0.0) - self.before.get(k, 0.0), 6) for k in keys}
        return {k: v for k, v in sorted(out.items()) if abs(v) > 1e-9}

    def moved(self) -> float:
        """The effort that changes value (untagged and unaligned count as one each): the sum of the
        gains."""
        return sum(v for v in self.deltas().values() if v > 0)

    def total(self) -> float:
        """The total effort counted (the same before and after: a plan moves effort, never adds it)."""
        return max(sum(self.before.values()), sum(self.after.values()))

    def moved_share(self) -> float:
        """The share of the total effort this change moves, 0 to 1 (0 when nothing counts)."""
        total = self.total()
        return min(1.0, self.moved() / total) if total > 0 else 0.0

    def confirm_phrase(self) -> str | None:
        """What an admin types to apply a change that moves more than :data:`CONFIRM_ABOVE` of the
        effort (``move 42%``: its rounded percentage), or None when it needs no confirmation."""
        share = self.moved_share()
        if self.first_plan or share <= CONFIRM_ABOVE:
            return None
        return f"move {math.floor(share * 100 + 0.5)}%"

    def confirmed_by(self, typed: str | None) -> bool:
        """Whether ``typed`` confirms this change (case and runs of spaces aside); True when it
        needs no confirmation."""
        phrase = self.confirm_phrase()
        return phrase is None or (typed is not None and " ".join(typed.split()).casefold() == phrase)

    def needs_confirmation(self) -> str:
        """How much this change moves, and that it is more than moves unconfirmed (one line)."""
        unit = "items" if self.measure == "count" else self.measure
        return (
            f"this change moves {math.floor(self.moved_share() * 100 + 0.5)}% of the effort "
            f"({self.moved():g} of {self.total():g} {unit}), more than the {CONFIRM_ABOVE:.0%} a change "
            "may move unconfirmed"
        )

    def summary(self) -> str:
        """One human line: ``would tag 214 items, moving 37.5 points from untagged to customer-first``."""
        deltas = self.deltas()
        unit = "items" if self.measure == "count" else self.measure
        losers = [f"{k} ({-v:g})" for k, v in deltas.items() if v < 0]
        gainers = [f"{k} ({v:g})" for k, v in deltas.items() if v > 0]
        moved = self.moved()
        head = (
            f"would re-tag {self.changed} items "
            f"({self.newly_tagged} newly tagged, {self.newly_untagged} newly untagged)"
        )
        if not deltas:
            return head + f", moving no {unit}"
        return head + f", moving {moved:g} {unit} from {', '.join(losers)} to {', '.join(gainers)}"

    def to_dict(self) -> dict[str, Any]:
        """The JSON answer of a dry run."""
        return {
            "measure": self.measure,
            "items": self.items,
            "changed": self.changed,
            "newly_tagged": self.newly_tagged,
            "newly_untagged": self.newly_untagged,
            "before": {k: round(v, 6) for k, v in sorted(self.before.items())},
            "after": {k: round(v, 6) for k, v in sorted(self.after.items())},
            "deltas": self.deltas(),
            "summary": self.summary(),
            "moved_share": round(self.moved_share(), 4),
        } | ({"confirm": phrase} if (phrase := self.confirm_phrase()) is not None else {})


def preview_plan(store: Database, proposed: Plan, measure: Measure = "points") -> PlanPreview:
    """Compare the stored resolutions with ``proposed`` over every live item, writing nothing."""
    with store.unit_of_work(commit=False) as uow:
        stored = held_plan(uow)
        reresolve(uow.connection, proposed, PlanChanged(stored), write=False)
        preview = _preview_in_database(uow.connection, measure)
        rm.drop(uow.connection)
        preview.first_plan = stored is None
        preview.teams = proposed.teams is not None or (stored is not None and stored.teams is not None)
        return preview


def _moved_effort(measure: Measure, *, leaving: bool) -> Select[Any]:
    """Per value, the effort the moved items take away from it (``leaving``: their stored set and
    effort, of those that had a resolution) or bring to it (their new ones); canceled items count
    nothing. ``rm_changed`` keeps each moved item's stored state, effort and set beside the new."""
    c, s = rm.changed.c, t.allocation_sets.c
    prefix = "old_" if leaving else ""
    lost = _reaches_no_value(s.value_id, s.method_id)
    query = (
        select(s.value_id, lost, func.sum(c[prefix + measure] * s.weight))
        .join_from(rm.changed, t.allocation_sets, s.alloc_key == c[prefix + "alloc_key"])
        .where(c[prefix + "state"] != State.CANCELED.value)
        .group_by(s.value_id, lost)
    )
    return query.where(c.had) if leaving else query


def _retagged() -> Select[int, Any, Any]:
    """The moved items whose allocation set changes: how many, how many were untagged and are not
    any more, and the reverse."""
    c, r = rm.changed.c, t.resolutions.c
    return (
        select(
            func.count(),
            func.sum(case((and_(r.untagged, ~c.untagged), 1), else_=0)),
            func.sum(case((and_(c.untagged, ~r.untagged), 1), else_=0)),
        )
        .join_from(rm.changed, t.resolutions, r.item_pk == c.pk)
        .where(r.alloc_key != c.alloc_key)
    )


def _preview_in_database(conn: Connection, measure: Measure) -> PlanPreview:
    stored = shares()
    lost = _reaches_no_value(stored.c.value_id, stored.c.method_id)
    before = select(stored.c.value_id, lost, func.sum(stored.c[measure])).group_by(stored.c.value_id, lost)
    sums = {"before": _per_value(conn.execute(before))}
    sums["leaving"] = _per_value(conn.execute(_moved_effort(measure, leaving=True)))
    sums["arriving"] = _per_value(conn.execute(_moved_effort(measure, leaving=False)))
    after = defaultdict(float, sums["before"])
    for value_id, total in sums["leaving"].items():
        after[value_id] -= total
    for value_id, total in sums["arriving"].items():
        after[value_id] += total
    changed, tagged, untagged = conn.execute(_retagged()).one()
    items = conn.execute(select(func.count()).select_from(t.items).where(~t.items.c.deleted)).scalar_one()
    return PlanPreview(
        measure=measure,
        items=int(items),
        changed=int(changed or 0),
        newly_tagged=int(tagged or 0),
        newly_untagged=int(untagged or 0),
        before=_nonzero(sums["before"]),
        after=_nonzero(after),
    )


def _reaches_no_value(value_id: Any, method_id: Any) -> ColumnElement[int]:
    """1 for a share through a method to no value (unaligned), else 0 (a value's, or untagged)."""
    return case((and_(value_id.is_(None), method_id.is_not(None)), 1), else_=0)


def _per_value(rows: Iterable[Any]) -> dict[str, float]:
    totals: dict[str, float] = defaultdict(float)
    for value_id, lost, total in rows:
        totals[value_id or (UNALIGNED if lost else UNTAGGED)] += float(total or 0.0)
    return dict(totals)


def _nonzero(totals: dict[str, float]) -> dict[str, float]:
    return {k: v for k, v in totals.items() if abs(v) > 1e-9}
