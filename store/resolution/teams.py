"""Which team each item's work belongs to: the deepest team whose scope holds it.

A team's scope names Jira projects or components, Linear teams and Asana projects. An item is read
by its container, else the configured project it is a member of, else its parent's container (an
Asana subtask names only its parent); Jira items by their components too. The distinct (tracker,
container, components) of the items resolved are few (projects times component sets, not items),
so each is given its team once, in Python (``Resolver.team_of``), into ``rm_team``; the trees'
statement joins it to every node. Tag sets naming a team's value or method yield per team (see
:data:`COMPANY` and :data:`ANY_TEAM` in ``rm_ts``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Connection,
    FromClause,
    Text,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    union,
)
from sqlalchemy.schema import CreateIndex

from v2mom.mapping.plan import Plan
from v2mom.mapping.resolver import Resolver
from v2mom.models import WorkItem
from v2mom.store import schema as t
from v2mom.store.resolution import tables as rm

COMPANY = "."  # rm_ts.team_key of the company's own work (team ids are slugs: never ".")
ANY_TEAM = ""  # rm_ts.team_key of a tag set that yields the same for every team


@dataclass(frozen=True)
class TeamScopes:
    """``rm_team`` is filled; ``components``: it keys Jira items by their components too."""

    components: bool


Teams = TeamScopes | None  # None: the plan has no teams, every item is the company's


def yields_for(tag_set: FromClause, team_id: ColumnElement[Any]) -> ColumnElement[bool]:
    """The ``rm_ts`` row of a tag set that applies to work of ``team_id`` (null: the company)."""
    key = tag_set.c.team_key
    return or_(key == ANY_TEAM, key == func.coalesce(team_id, COMPANY))


def by_components(plan: Plan) -> bool:
    """Whether some team's scope names Jira components (then an item's components choose too)."""
    return any(team.scope.jira is not None and team.scope.jira.components for team in plan.teams or ())


def scope_columns(
    item: FromClause, parent: FromClause, components: bool
) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    """What chooses an item's team, as ``rm_team`` keys it: its container (else its project
    membership, else its parent's container), and its Jira components as stored (else '')."""
    c, p = item.c, parent.c
    container = func.coalesce(c.container, c.member_of, p.container)
    if not components:
        return container, literal("")
    return container, case((c.tracker == "jira", cast(c.components, Text)), else_=literal(""))


def team_layout(plan: Plan | None) -> list[dict[str, Any]]:
    """The teams' ids, parents and scopes: what decides which team every item belongs to."""
    teams = (plan.teams or ()) if plan is not None else ()
    return [team.model_dump(include={"id", "parent", "scope"}, mode="json") for team in teams]


def fill_team_map(conn: Connection, resolver: Resolver, *, scoped: bool) -> Teams:
    """Fill ``rm_team`` with the team of each distinct scope of the live items (of ``rm_scope``
    when scoped); None (nothing filled) when the plan has no teams."""
    plan = resolver.plan
    if not plan.teams:
        return None
    components = by_components(plan)
    rows = []
    for tracker, held, parts in conn.execute(_distinct_scopes(components, scoped=scoped)):
        listed = tuple(json.loads(parts)) if parts else ()
        team = resolver.team_of(WorkItem.model_construct(tracker=tracker, container=held, components=listed))
        if team is not None:
            rows.append({"tracker": tracker, "container": held, "comps": parts, "team_id": team})
    rm.insert_rows(conn, rm.team_map, rows)
    conn.execute(CreateIndex(rm.team_map_scope))
    rm.analyze(conn, rm.team_map)
    return TeamScopes(components)


def _distinct_scopes(components: bool, *, scoped: bool) -> CompoundSelect[Any]:
    """The distinct (tracker, container, components) of the live items (of ``rm_scope`` when
    scoped), as :func:`scope_columns` reads them. Only items with neither a container nor a
    membership read their parent's, so only they are joined to it: joining every item to its parent
    and sorting the lot for a few dozen distinct rows took 36 s of a 10M-item full pass."""
    c, p = t.items.alias("c"), t.items.alias("p")
    _, comps = scope_columns(c, p, components)
    held = or_(c.c.container.is_not(None), c.c.member_of.is_not(None))
    joined = c.outerjoin(p, and_(p.c.tracker == c.c.tracker, p.c.item_id == c.c.parent_id, ~p.c.deleted))
    own: FromClause = c
    if scoped:
        own = own.join(rm.scope, rm.scope.c.pk == c.c.pk)
        joined = joined.join(rm.scope, rm.scope.c.pk == c.c.pk)
    direct = select(c.c.tracker, func.coalesce(c.c.container, c.c.member_of), comps).select_from(own)
    from_parent = select(c.c.tracker, p.c.container, comps).select_from(joined)
    return union(
        direct.where(~c.c.deleted, held).distinct(),
        from_parent.where(~c.c.deleted, ~held).distinct(),
    )


def team_join(item: FromClause, parent: FromClause, components: bool) -> ColumnElement[bool]:
    """How ``rm_team`` joins ``item`` (read with its ``parent``): by tracker and scope."""
    m = rm.team_map.c
    container, comps = scope_columns(item, parent, components)
    return and_(m.tracker == item.c.tracker, m.container == container, m.comps == comps)
