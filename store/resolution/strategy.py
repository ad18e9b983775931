"""How much to re-resolve: the one place that chooses between the full pass, the changed trees and
the plan delta.

What happened is a :data:`Change`: anything may have changed (:class:`Everything`, a full sync),
some items changed (:class:`ItemsChanged`: a sync batch, webhooks, a tag), or the plan did
(:class:`PlanChanged`). :func:`choose_strategy` measures what the change reaches — the changed
items' trees, or the items a plan change reads differently — into the scratch tables the chosen
strategy then reads, and picks the strategy once:

- :class:`.changed_trees.ChangedTrees` while the trees hold at most ``full_above`` of the live items
  (or at most :data:`SMALL_SCOPE` items, which settles it without counting the live items: a count
  of 10M items takes a second, a webhook batch's scope is far below the bar);
- for a plan change that keeps every item's tags and only changes what some tag sets yield (a
  method's weights or values), reaching more than :data:`SMALL_SCOPE` items,
  :class:`.new_outcomes.NewOutcomes`: one pass over the stored resolutions, no tree walked;
- :class:`.plan_delta.PlanDelta` while the items of dirty signatures hold at most
  :data:`PLAN_DELTA_ABOVE` of the live items (or :data:`SMALL_SCOPE`);
- :class:`.full_pass.FullPass` otherwise, for a first plan or a full sync, and for a plan change
  that changes which team's scope holds which work (teams added, removed, moved or re-scoped).

Past those bars one pass over every item is cheaper than following the trees item by item.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Set
from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from v2mom.mapping.plan import Plan
from v2mom.mapping.resolver import Resolver
from v2mom.store import schema as t
from v2mom.store.resolution.changed_trees import ChangedTrees, fill_scope
from v2mom.store.resolution.full_pass import FullPass
from v2mom.store.resolution.new_outcomes import NewOutcomes
from v2mom.store.resolution.plan_delta import PlanDelta
from v2mom.store.resolution.signatures import SignatureItems, fill_signatures, new_outcomes, seed_plan_change
from v2mom.store.resolution.teams import team_layout

FULL_ABOVE = 0.2  # changed trees larger than this share of live items are re-resolved as a whole
PLAN_DELTA_ABOVE = 0.5  # a plan change reading this share of live items differently: the full pass
SMALL_SCOPE = 10_000  # a scope this small stays a scope (without counting the live items)


@dataclass(frozen=True)
class Everything:
    """Any item may have changed (a full sync): every live item is re-resolved."""


@dataclass(frozen=True)
class ItemsChanged:
    """These items (tracker -> changed or deleted ids) changed; past ``full_above`` of the live
    items, their trees are re-resolved by a full pass instead."""

    ids: Mapping[str, Set[str]]
    full_above: float = FULL_ABOVE


@dataclass(frozen=True)
class PlanChanged:
    """The plan replaced ``before``, the one every stored resolution was made under (None: there
    was no plan, so every item is resolved)."""

    before: Plan | None


Change = Everything | ItemsChanged | PlanChanged
Strategy = FullPass | ChangedTrees | PlanDelta | NewOutcomes


def choose_strategy(conn: Connection, plan: Plan, change: Change, *, write: bool) -> Strategy:
    """Measure what ``change`` reaches and choose how to re-resolve it under ``plan`` (see the
    module's docstring). ``write``: the outcomes will be written (a preview writes nothing)."""
    if isinstance(change, ItemsChanged):
        scope = fill_scope(conn, change.ids)
        if _within(scope, lambda: _live_items(conn), change.full_above):
            return ChangedTrees()
        return _full_pass(conn, write=write)
    if isinstance(change, PlanChanged) and change.before is not None:
        if team_layout(change.before) != team_layout(plan):  # which team holds what: every item
            fill_signatures(conn, scoped=False)
            return _full_pass(conn, write=write)
        fill_signatures(conn, scoped=False)  # a signature must exist to be compared
        before, after = Resolver(change.before), Resolver(plan)
        seeds = seed_plan_change(conn, before, after)
        if seeds.starts > SMALL_SCOPE and (moves := new_outcomes(before, after, seeds.read)) is not None:
            return NewOutcomes(moves)
        if _within(seeds.starts, lambda: seeds.live, PLAN_DELTA_ABOVE):
            return PlanDelta(read=seeds.read)
        return _full_pass(conn, write=write, read=seeds.read)
    return _full_pass(conn, write=write)


def _full_pass(conn: Connection, *, write: bool, read: SignatureItems | None = None) -> FullPass:
    """The full pass; a first resolution when the store holds none and the outcomes are written."""
    first = write and conn.execute(select(t.resolutions.c.item_pk).limit(1)).first() is None
    return FullPass(first=first, read=read)


def _within(size: int, live: Callable[[], int], share: float) -> bool:
    """Whether ``size`` items are at most :data:`SMALL_SCOPE` or ``share`` of the ``live`` items
    (counted only when the first does not settle it)."""
    return size <= SMALL_SCOPE or size <= share * live()


def _live_items(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(t.items).where(~t.items.c.deleted)).scalar_one())
