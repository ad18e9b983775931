"""Obstacles: the effort sitting in blocked, unfinished items of each obstacle's methods.

An item is blocked by the shared convention (``WorkItem.blocked``: a "Blocked" status or a
``blocked`` label/tag), stored as ``items.blocked`` with a partial index, so this reads only
blocked items' resolutions and their allocation sets. Effort is the item's share through the
obstacle's methods (split by weight, counted once, as in the report), so an item in two of an
obstacle's methods is not counted twice. Open effort in the same methods is given beside it for
scale. Blocked and open are current states: the report's date range does not apply.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from v2mom.mapping.plan import Plan
from v2mom.reports.effort import ReportQuery
from v2mom.store.database import Database

TOP_ITEMS = 10


def build_obstacles(store: Database, plan: Plan, query: ReportQuery) -> dict[str, Any]:
    """Per obstacle: blocked effort and items (biggest first), open effort, in ``query.measure``."""
    methods = sorted({m for obstacle in plan.obstacles for m in obstacle.methods})
    facts = store.report_queries.obstacle_facts(measure=query.measure, methods=methods, tracker=query.tracker)
    blocked_rows, open_effort = facts.blocked, facts.open_effort

    out = []
    for obstacle in plan.obstacles:
        mine = set(obstacle.methods)
        items: dict[int, dict[str, Any]] = {}
        effort_by_item: dict[int, float] = defaultdict(float)
        for row in blocked_rows:
            if row.method_id in mine:
                effort_by_item[row.pk] += float(row.effort or 0.0)
                items[row.pk] = {
                    "tracker": row.tracker,
                    "key": row.key,
                    "title": row.title,
                    "url": row.url,
                    "status": row.status_name,
                }
        ranked = sorted(items, key=lambda pk: (-effort_by_item[pk], pk))
        out.append(
            {
                "id": obstacle.id,
                "name": obstacle.name,
                "methods": list(obstacle.methods),
                "open_effort": round(sum(open_effort.get(m, 0.0) for m in mine), 6),
                "blocked_effort": round(sum(effort_by_item.values()), 6),
                "blocked_items": len(items),
                "items": [{**items[pk], "effort": round(effort_by_item[pk], 6)} for pk in ranked[:TOP_ITEMS]],
            }
        )
    return {"measure": query.measure, "tracker": query.tracker, "obstacles": out}
