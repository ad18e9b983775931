"""Explanations on demand: resolve stored items the way the full re-resolution does.

Resolutions in the store keep flags, effort and an allocation fingerprint, not their reasons;
the explain view and the flag lists recompute the reasons here, each item after its ancestors,
with the stored plan. A page of items costs one query per tree level, not one per item.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from v2mom.mapping.plan import Plan
from v2mom.mapping.resolver import Resolution, Resolver
from v2mom.store.database import Database
from v2mom.store.items import StoredItem


def resolve_stored(store: Database, targets: Iterable[StoredItem], plan: Plan) -> dict[int, Resolution]:
    """Each target's resolution (by pk), given its stored ancestors; deleted targets are skipped."""
    wanted = [s for s in targets if not s.deleted]
    known: dict[tuple[str, str], StoredItem] = {(s.item.tracker, s.item.id): s for s in wanted}
    absent: set[tuple[str, str]] = set()
    frontier = {(s.item.tracker, s.item.parent_id) for s in wanted if s.item.parent_id}
    while frontier := {ref for ref in frontier if ref not in known and ref not in absent}:
        by_tracker: dict[str, set[str]] = defaultdict(set)
        for tracker, item_id in frontier:
            by_tracker[tracker].add(item_id)
        fetched = [s for tracker, ids in by_tracker.items() for s in store.items.by_ids(tracker, ids)]
        known.update(((s.item.tracker, s.item.id), s) for s in fetched)
        absent |= frontier - set(known)
        frontier = {(s.item.tracker, s.item.parent_id) for s in fetched if s.item.parent_id and not s.deleted}

    resolver = Resolver(plan)
    memo: dict[tuple[str, str], Resolution] = {}
    visiting: set[tuple[str, str]] = set()

    def resolve(ref: tuple[str, str]) -> Resolution:
        if ref in memo:
            return memo[ref]
        current = known[ref]
        visiting.add(ref)
        parent_ref = (current.item.tracker, current.item.parent_id) if current.item.parent_id else None
        parent = known.get(parent_ref) if parent_ref else None
        if parent is not None and parent.deleted:
            parent = None
        live = parent is not None and parent_ref not in visiting
        resolution = resolver.resolve(
            current.item,
            resolve(parent_ref) if live and parent_ref else None,
            parent_ref=parent.item.ref if live and parent is not None else None,
            parent_missing=parent_ref is not None and parent is None,
            team=resolver.team_of(current.item, parent.item.container if parent is not None else None),
        )
        visiting.discard(ref)
        memo[ref] = resolution
        return resolution

    return {s.pk: resolve((s.item.tracker, s.item.id)) for s in wanted}
