"""The oracle: the pure Python resolver applied row by row, for tests to hold the engine equal to.

This is how re-resolution worked before the set-based engine (``store.resolution``) took over every
path: resolve items parents first with :class:`~v2mom.mapping.resolver.Resolver`, count effort with
:func:`~v2mom.mapping.effort.counted_effort`, and write every resolution, its allocation set and a
rebuilt rollup. It is slow and holds every item in memory, which is why production no longer uses
it; its semantics are the contract the engine must meet.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterator
from typing import Any

from sqlalchemy import delete, insert

from v2mom.clock import utcnow
from v2mom.mapping.effort import Measure, counted_effort, counts
from v2mom.mapping.plan import Plan
from v2mom.mapping.resolver import Resolution, Resolver, Share, as_shares, shares_key
from v2mom.store import schema as t
from v2mom.store.database import Database
from v2mom.store.items import StoredItem
from v2mom.store.resolution.people_copy import copy_to_people_shares
from v2mom.store.resolution.preview import UNALIGNED, UNTAGGED, PlanPreview
from v2mom.store.resolution.rollup import prune_allocation_sets, rebuild_rollup, store_allocation_sets
from v2mom.store.resolution.run import RemapStats

MEASURES: tuple[Measure, ...] = ("points", "hours", "count")


def top_down(stored: list[StoredItem]) -> Iterator[tuple[StoredItem, StoredItem | None, bool]]:
    """Yield (item, parent or None, parent_missing) with every parent before its children.

    Items whose parent is not stored are roots with ``parent_missing`` set; cycles are broken by
    treating the remaining items as roots.
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


def teams_of(stored: list[StoredItem], plan: Plan) -> dict[int, str | None]:
    """Each item's team (by pk): read by its container, else its parent's."""
    resolver = Resolver(plan)
    by_key = {(s.item.tracker, s.item.id): s for s in stored}
    found: dict[int, str | None] = {}
    for s in stored:
        parent = by_key.get((s.item.tracker, s.item.parent_id)) if s.item.parent_id else None
        found[s.pk] = resolver.team_of(s.item, parent.item.container if parent is not None else None)
    return found


def resolve_all(stored: list[StoredItem], plan: Plan) -> Iterator[tuple[StoredItem, Resolution]]:
    """Resolve every item, parents first, each for the team its scope belongs to."""
    resolver = Resolver(plan)
    teams = teams_of(stored, plan)
    resolved: dict[int, Resolution] = {}
    for current, parent, missing in top_down(stored):
        parent_resolution = resolved.get(parent.pk) if parent is not None else None
        resolution = resolver.resolve(
            current.item,
            parent_resolution,
            parent_ref=parent.item.ref if parent is not None else None,
            parent_missing=missing,
            team=teams[current.pk],
        )
        resolved[current.pk] = resolution
        yield current, resolution


def oracle_remap(store: Database, plan: Plan) -> RemapStats:
    """Re-resolve every live item row by row and replace every resolution, set and rollup row."""
    stored = list(store.items.stream())
    efforts = {measure: item_efforts(stored, measure) for measure in MEASURES}
    rows: list[dict[str, Any]] = []
    sets: dict[int, list[Share]] = {}
    now = utcnow()
    pks = {(s.item.tracker, s.item.id): s.pk for s in stored}
    teams = teams_of(stored, plan)
    for current, resolution in resolve_all(stored, plan):
        item, key = current.item, (current.item.tracker, current.item.id)
        shares = as_shares(resolution.allocations)
        untagged, conflict = "untagged" in resolution.flags, "conflict" in resolution.flags
        alloc_key = shares_key(shares, conflict=conflict, untagged=untagged)
        sets[alloc_key] = shares
        rows.append(
            {
                "item_pk": current.pk,
                "parent_pk": pks.get((item.tracker, item.parent_id)) if item.parent_id else None,
                "untagged": untagged,
                "orphaned": "orphaned" in resolution.flags,
                "conflict": conflict,
                **{measure: efforts[measure].get(key, 0.0) for measure in MEASURES},
                "alloc_key": alloc_key,
                "resolved_at": now,
                "tracker": item.tracker,
                "state": item.state.value,
                "completed_on": item.completed_at.date() if item.completed_at else None,
                "team_id": teams[current.pk],
            }
        )
    with store.engine.begin() as conn:
        conn.execute(delete(t.effort_rollup))
        conn.execute(delete(t.resolutions))
        if rows:
            conn.execute(insert(t.resolutions), rows)
        store_allocation_sets(conn, store.dialect, sets)
        rebuild_rollup(conn)
        copy_to_people_shares(conn, None)
        prune_allocation_sets(conn)
    return RemapStats(
        items=len(rows),
        untagged=sum(r["untagged"] for r in rows),
        orphaned=sum(r["orphaned"] for r in rows),
        conflict=sum(r["conflict"] for r in rows),
    )


def preview_in_memory(
    store: Database, current: Plan, proposed: Plan, measure: Measure = "points"
) -> PlanPreview:
    """The preview computed by resolving both plans in memory."""
    stored = list(store.items.stream())
    efforts = item_efforts(stored, measure)
    before = {s.pk: resolution for s, resolution in resolve_all(stored, current)}
    after = {s.pk: resolution for s, resolution in resolve_all(stored, proposed)}
    preview = PlanPreview(
        measure=measure, items=len(stored), teams=current.teams is not None or proposed.teams is not None
    )
    totals: tuple[dict[str, float], dict[str, float]] = (defaultdict(float), defaultdict(float))
    for s in stored:
        old, new = before[s.pk], after[s.pk]
        if old.alloc_key != new.alloc_key:
            preview.changed += 1
            preview.newly_tagged += "untagged" in old.flags and "untagged" not in new.flags
            preview.newly_untagged += "untagged" not in old.flags and "untagged" in new.flags
        if not counts(s.item):
            continue
        effort = efforts.get((s.item.tracker, s.item.id), 0.0)
        for resolution, total in ((old, totals[0]), (new, totals[1])):
            for allocation in resolution.allocations:
                lost = UNALIGNED if allocation.method_id is not None else UNTAGGED
                total[allocation.value_id or lost] += effort * allocation.weight
    preview.before = {k: v for k, v in totals[0].items() if abs(v) > 1e-9}
    preview.after = {k: v for k, v in totals[1].items() if abs(v) > 1e-9}
    return preview
