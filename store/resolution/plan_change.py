"""A plan change: the new plan version and the re-resolution it causes, in one transaction.

A plan change (rules, values, methods, weights) changes no item, only which tags each item ends up
with and how its effort is split; the engine re-resolves what the change can move (the plan delta,
see :mod:`.plan_delta`) and rewrites exactly the items that move. Readers see the old plan with the
old figures or the new plan with the new figures, never a mix.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from v2mom.mapping.plan import Plan
from v2mom.mapping.plan_changes import RuleChange
from v2mom.store.database import Database
from v2mom.store.resolution.preview import PlanPreview
from v2mom.store.resolution.run import RemapStats, held_plan, reresolve
from v2mom.store.resolution.strategy import PlanChanged


@dataclass(frozen=True)
class PlanApplied:
    """The outcome of :func:`apply_plan`: the new plan version and the re-resolution's counts."""

    version: int
    stats: RemapStats


def apply_plan(
    store: Database,
    plan: Plan,
    *,
    actor: str,
    rule: RuleChange | None = None,
    reason: str | None = None,
    preview: PlanPreview | None = None,
) -> PlanApplied:
    """Store ``plan`` as a new version, audit it (with ``rule`` when a rule route made the change)
    and re-resolve what it moves, in one transaction. The stats count every item.

    ``reason`` is kept with the version (a plan in a cycle refuses a change without one, and nothing
    is written); ``preview``, when the caller measured the change first, records the effort it moves.
    """
    moved = None if preview is None or preview.first_plan else effort_moved(preview)
    with store.unit_of_work() as uow:
        previous = held_plan(uow)  # held: two plan changes never number the same version either
        version = uow.plans.save(plan, actor=actor, rule=rule, reason=reason, effort_moved=moved)
        stats = reresolve(uow.connection, plan, PlanChanged(previous))
    return PlanApplied(version, stats)


def effort_moved(preview: PlanPreview) -> dict[str, Any]:
    """What a change's preview measured moving, as a plan version's summary keeps it: the measure,
    the effort moved and its share of the total, and the gain or loss per value (``untagged`` too)."""
    return {
        "measure": preview.measure,
        "moved": round(preview.moved(), 6),
        "total": round(preview.total(), 6),
        "share": round(preview.moved_share(), 4),
        "deltas": preview.deltas(),
    }
