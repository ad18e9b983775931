"""The team tree with each team's effort (``GET /api/teams``): one GROUP BY for every team.

The rollup's shares are summed per (team, value, method) once; each team's numbers are the sums
over its subtree (itself and every team below it), so a parent's effort holds its children's and
the company's total is every team's plus the company's own work. Per team: its effort and share of
the company's, how much of it reaches a value (``aligned_share``), is untagged, or is unaligned
(a team method's share that reaches no value), and its effort per value (the company's values and
the team's own) — never anything per person.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from v2mom.mapping.cascade import parents_first, subtree_ids, team_depths
from v2mom.mapping.plan import Plan
from v2mom.reports.disclosure import Folding
from v2mom.reports.effort import ReportQuery, filters_of, share_of
from v2mom.reports.people_time import TIME_MEASURES, folded_part, team_rows
from v2mom.store.database import Database


def build_teams(store: Database, plan: Plan, query: ReportQuery) -> dict[str, Any]:
    """The tree of teams with their effort under ``query``'s filters (its ``team`` is ignored).

    In people's time (:func:`v2mom.reports.people_time.team_rows`) each team also says how many
    people its figures cover, and a team folded by :mod:`v2mom.reports.disclosure` is not shown: its
    time stays in its parent's figures (a top-level one's in the company's own row) and in the
    total, and ``folded`` names it."""
    people: dict[str, int] | None = None
    folding: Folding | None = None
    extra: dict[str, Any] = {}
    if query.measure in TIME_MEASURES:
        found = team_rows(store, plan, query)
        rows, people, folding, query, extra = (
            found.rows,
            found.people,
            found.folding,
            found.query,
            found.extra,
        )
    else:
        rows = store.report_queries.effort_by_team(
            measure=query.measure,
            state=query.state,
            tracker=query.tracker,
            date_from=query.date_from,
            date_to=query.date_to,
        )
    # Per team: effort by value (None: untagged), unaligned effort, items.
    by_value: dict[str | None, dict[str | None, float]] = defaultdict(lambda: defaultdict(float))
    unaligned: dict[str | None, float] = defaultdict(float)
    items: dict[str | None, int] = defaultdict(int)
    for team_id, value_id, method_id, effort, counted in rows:
        if value_id is None and method_id is not None:
            unaligned[team_id] += effort
        else:
            by_value[team_id][value_id] += effort
        items[team_id] += counted
    total = sum(sum(v.values()) for v in by_value.values()) + sum(unaligned.values())
    depths = team_depths(plan)
    names = {v.id: v.name for v in plan.cascade_values()}
    out = []
    hidden = folding.into if folding is not None else {}
    for team in parents_first(plan):
        if team.id in hidden:
            continue
        subtree = subtree_ids(plan, team.id)
        values: dict[str, float] = defaultdict(float)
        untagged = lost = 0.0
        count = 0
        for member in subtree:
            for value_id, effort in by_value.get(member, {}).items():
                if value_id is None:
                    untagged += effort
                else:
                    values[value_id] += effort
            lost += unaligned.get(member, 0.0)
            count += items.get(member, 0)
        effort = sum(values.values()) + untagged + lost
        out.append(
            {
                "id": team.id,
                "name": team.name,
                "parent": team.parent,
                "depth": depths[team.id],
                "vision": team.vision,
                "effort": round(effort, 6),
                "share": share_of(effort, total),
                "items": count,
                "aligned_share": share_of(effort - untagged - lost, effort),
                "untagged_share": share_of(untagged, effort),
                "unaligned_share": share_of(lost, effort),
                "values": [
                    {"id": value_id, "name": names.get(value_id, value_id), "effort": round(e, 6)}
                    for value_id, e in sorted(values.items(), key=lambda pair: -pair[1])
                ],
                "methods": [m.id for m in team.methods],
                **({} if people is None else {"people": people.get(team.id, 0)}),
            }
        )
    # The company's row: its own work and the top-level teams folded into it (their time shown
    # nowhere else, so the total minus the rows shown reads no folded team alone).
    own_teams = [None, *(team_id for team_id, into in hidden.items() if into is None)]
    own_effort = sum(sum(by_value.get(m, {}).values()) + unaligned.get(m, 0.0) for m in own_teams)
    own_items = sum(items.get(m, 0) for m in own_teams)
    return {
        **filters_of(query),
        "total": {"effort": round(total, 6), "items": sum(items.values())},
        "company": {
            "effort": round(own_effort, 6),
            "share": share_of(own_effort, total),
            "items": own_items,
        },
        "teams": out,
        **extra,
        **(
            {}
            if folding is None
            else {
                "folded": [folded_part(folding, team_id, query.calendar.min_group_size) for team_id in hidden]
            }
        ),
    }
