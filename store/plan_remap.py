"""A plan change: the new plan version and the re-resolution it causes, in one transaction.

A plan change (rules, values, methods, weights) changes no item, only which tags each item ends up
with and how its effort is split; the resolution engine (:mod:`store.remap`) rewrites exactly the
items that move. Readers see the old plan with the old figures or the new plan with the new
figures, never a mix.
"""

from __future__ import annotations

from dataclasses import dataclass

from v2mom.mapping.plan import Plan
from v2mom.store.database import Database
from v2mom.store.remap import RemapStats, reresolve


@dataclass(frozen=True)
class PlanApplied:
    """The outcome of :func:`apply_plan`: the new plan version and the re-resolution's counts."""

    version: int
    stats: RemapStats


def apply_plan(store: Database, plan: Plan, *, actor: str) -> PlanApplied:
    """Store ``plan`` as a new version and re-resolve every item, in one transaction."""
    with store.unit_of_work() as uow:
        version = uow.plans.save(plan, actor=actor)
        stats = reresolve(uow.connection, plan)
    return PlanApplied(version, stats)
