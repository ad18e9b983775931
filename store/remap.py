"""Re-resolution: apply the plan to every stored item and rewrite the report's fact table.

Runs after each sync and whenever the plan changes. Parents are resolved before their children so
inheritance reads the parent's finished resolution; effort is counted once per tracker tree.

One re-resolution at a time across every process on the database (the ``resolutions`` lock of
``store.locks``, waited for): each reads the trees only once the one before it has committed. Two
workers re-resolving at once used to collide (a duplicate resolution key on PostgreSQL, a rollup
moved twice by the same old facts) or write a tree from items read before the other's update;
now an item's update is always followed by a re-resolution that reads it.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterator
from dataclasses import dataclass

from v2mom.mapping.effort import Measure, counted_effort
from v2mom.mapping.plan import Plan
from v2mom.mapping.resolver import Resolution, Resolver, as_shares
from v2mom.store.database import Database
from v2mom.store.items import StoredItem
from v2mom.store.resolutions import ResolutionRow


@dataclass(frozen=True)
class RemapStats:
    """How many items were resolved and how many carry each flag."""

    items: int
    untagged: int
    orphaned: int
    conflict: int


def top_down(stored: list[StoredItem]) -> Iterator[tuple[StoredItem, StoredItem | None, bool]]:
    """Yield (item, parent or None, parent_missing) with every parent before its children.

    Items whose parent is not stored are roots with ``parent_missing`` set; cycles (which a
    tracker should never produce) are broken by treating the remaining items as roots.
    """
    by_key = {(s.item.tracker, s.item.id): s for s in stored}
    children: dict[tuple[str, str], list[StoredItem]] = defaultdict(list)
    roots: list[tuple[StoredItem, bool]] = []
    for s in stored:
        parent_key = (s.item.tracker, s.item.parent_id) if s.item.parent_id else None
        if parent_key is None:
            roots.append((s, False))
        elif parent_key not in by_key:
            roots.append((s, True))
        else:
            children[parent_key].append(s)
    done: set[int] = set()
    queue: deque[tuple[StoredItem, StoredItem | None, bool]] = deque((s, None, m) for s, m in roots)
    while True:
        while queue:
            current, parent, missing = queue.popleft()
            if current.pk in done:
                continue
            done.add(current.pk)
            yield current, parent, missing
            for child in children.get((current.item.tracker, current.item.id), ()):
                queue.append((child, current, False))
        leftover = [s for s in stored if s.pk not in done]
        if not leftover:
            return
        queue.append((leftover[0], None, False))


MEASURES: tuple[Measure, ...] = ("points", "hours", "count")


def item_efforts(stored: list[StoredItem], measure: Measure) -> dict[tuple[str, str], float]:
    """Each item's counted effort in ``measure``, keyed by (tracker, id); trees never cross trackers."""
    per_tracker: dict[str, list[StoredItem]] = defaultdict(list)
    for s in stored:
        per_tracker[s.item.tracker].append(s)
    table: dict[tuple[str, str], float] = {}
    for tracker, group in per_tracker.items():
        for item_id, effort in counted_effort((s.item for s in group), measure).items():
            table[(tracker, item_id)] = effort
    return table


def resolve_all(stored: list[StoredItem], plan: Plan) -> Iterator[tuple[StoredItem, Resolution]]:
    """Resolve every item, parents first."""
    resolver = Resolver(plan)
    resolved: dict[int, Resolution] = {}
    for current, parent, missing in top_down(stored):
        parent_resolution = resolved.get(parent.pk) if parent is not None else None
        resolution = resolver.resolve(
            current.item,
            parent_resolution,
            parent_ref=parent.item.ref if parent is not None else None,
            parent_missing=missing,
        )
        resolved[current.pk] = resolution
        yield current, resolution


RESOLUTIONS_LOCK = "resolutions"


def remap(store: Database, plan: Plan | None = None) -> RemapStats:
    """Re-resolve every live item against ``plan`` (default: the stored one) and store the result."""
    with store.locks.hold(RESOLUTIONS_LOCK):
        return remap_while_locked(store, plan)


def remap_while_locked(store: Database, plan: Plan | None = None) -> RemapStats:
    """:func:`remap` for a caller that already holds the ``resolutions`` lock."""
    plan = plan if plan is not None else (store.plans.current() or Plan())
    return _resolve_and_store(store, plan, list(store.items.stream()), only=None)


def affected_trees(store: Database, tracker: str, item_ids: set[str]) -> tuple[list[StoredItem], list[int]]:
    """The live items of every tree touching ``item_ids``, and the pks of those ids now deleted.

    A tree is the whole subtree of a top-most live ancestor: tags flow down it (inheritance) and
    effort flows up it (counted once), so it is the unit of re-resolution.
    """
    changed = store.items.by_ids(tracker, item_ids)
    deleted_pks = [s.pk for s in changed if s.deleted]
    roots: dict[str, StoredItem] = {}
    for start in changed:
        current = start
        seen = {current.item.id}
        while not current.deleted and current.item.parent_id and current.item.parent_id not in seen:
            parents = [p for p in store.items.by_ids(tracker, [current.item.parent_id]) if not p.deleted]
            if not parents:
                break
            current = parents[0]
            seen.add(current.item.id)
        if not current.deleted:
            roots[current.item.id] = current
    # Children of deleted items lose their parent: they are roots of trees of their own now.
    frontier = {s.item.id for s in changed if s.deleted} | set(roots)
    members: dict[str, StoredItem] = dict(roots)
    while frontier:
        children = [c for c in store.items.children(tracker, frontier) if c.item.id not in members]
        members.update((c.item.id, c) for c in children)
        frontier = {c.item.id for c in children}
    return list(members.values()), deleted_pks


def remap_changed(
    store: Database, changes: dict[str, set[str]], plan: Plan | None = None, *, full_above: float = 0.2
) -> RemapStats:
    """Re-resolve only the trees that ``changes`` (tracker -> changed or deleted ids) touch.

    Falls back to a full :func:`remap` when more than ``full_above`` of the store is affected.
    """
    with store.locks.hold(RESOLUTIONS_LOCK):
        plan = plan if plan is not None else (store.plans.current() or Plan())
        total = store.items.count()
        stored: list[StoredItem] = []
        stale: list[int] = []
        for tracker, ids in changes.items():
            if ids:
                members, deleted = affected_trees(store, tracker, ids)
                stored += members
                stale += deleted
        if total and len(stored) > full_above * total:
            return remap_while_locked(store, plan)
        return _resolve_and_store(store, plan, stored, only=[s.pk for s in stored] + stale)


def _resolve_and_store(
    store: Database, plan: Plan, stored: list[StoredItem], *, only: list[int] | None
) -> RemapStats:
    efforts = {measure: item_efforts(stored, measure) for measure in MEASURES}

    flags = {"untagged": 0, "orphaned": 0, "conflict": 0}

    def rows() -> Iterator[ResolutionRow]:
        for current, resolution in resolve_all(stored, plan):
            key = (current.item.tracker, current.item.id)
            for flag in resolution.flags:
                flags[flag] += 1
            yield ResolutionRow(
                item_pk=current.pk,
                untagged="untagged" in resolution.flags,
                orphaned="orphaned" in resolution.flags,
                conflict="conflict" in resolution.flags,
                points=efforts["points"].get(key, 0.0),
                hours=efforts["hours"].get(key, 0.0),
                count=efforts["count"].get(key, 0.0),
                allocations=as_shares(resolution.allocations),
            )

    if only is not None and not only:
        return RemapStats(items=0, **flags)
    written = store.resolutions.replace(rows(), only=only)
    return RemapStats(items=written, **flags)
