"""Which teams a people's-time view may show: none whose time could be read as fewer people's
than ``min_group_size``.

A team whose figures cover fewer than ``min_group_size`` people is folded (not shown), and every
team below it with it; its time stays in its parent's figures. Folding that team alone is not
enough: a parent's figures minus its shown children's are readable too, and that remainder — the
parent's own work and its folded children's — is the folded team's time when nothing else is in
it. So each shown parent's remainder must cover at least ``min_group_size`` people (or nobody);
when it covers too few, the parent's shown child with the fewest people (among those covering
enough) is folded as well, which is always enough, since that child covered enough people alone.
The company is the root: its remainder is its own work and its folded top-level teams, which the
teams tree shows as the company's own row.

This protects the figures of one view (one window, state and tracker). Differences between views
with other filters are not covered.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from v2mom.mapping.cascade import parents_first, subtree_ids
from v2mom.mapping.plan import Plan

__all__ = ["Folding", "PeopleCounter", "fold_teams"]

# Distinct people per named set of teams (a member None: the company's own work).
PeopleCounter = Callable[[Mapping[str, Sequence[str | None]]], Mapping[str, int]]


@dataclass(frozen=True)
class Folding:
    """The folded teams, each with the nearest team shown above it (None: the company), in the
    plan's order, parents first; ``too_small`` names those folded for their own size (the others
    are folded so that a smaller team's time cannot be worked out)."""

    into: dict[str, str | None]
    too_small: frozenset[str]

    def shown(self, team: str | None) -> str | None:
        """The team that answers for ``team``: itself when shown, else where it is folded."""
        return self.into[team] if team is not None and team in self.into else team


def _remainder_name(node: str | None) -> str:
    return f"remainder:{node or ''}"  # a team id is a slug: no colon, no clash


def fold_teams(plan: Plan, people: Mapping[str, int], fewest: int, count: PeopleCounter) -> Folding:
    """The teams of ``plan`` a view must fold, given the distinct people of each team's subtree
    (``people``) and ``count`` for the people of the remainders (see the module docstring)."""
    order = [team.id for team in parents_first(plan)]
    parent = {team.id: team.parent for team in plan.teams or ()}
    children: dict[str | None, list[str]] = defaultdict(list)
    for team_id in order:
        children[parent[team_id]].append(team_id)
    into: dict[str, str | None] = {}
    too_small: set[str] = set()

    def fold(team_id: str, shown_above: str | None) -> None:
        # Whatever was folded inside the subtree was folded at or below ``team_id``: now above it.
        for member in subtree_ids(plan, team_id):
            into[member] = shown_above

    for team_id in order:
        above = parent[team_id]
        if above in into or 0 < people.get(team_id, 0) < fewest:
            if above not in into:
                too_small.add(team_id)
            into[team_id] = into.get(above, above) if above is not None else None

    def shown_children(node: str | None) -> list[str]:
        return [child for child in children[node] if child not in into]

    nodes: list[str | None] = [None, *(team_id for team_id in order if team_id not in into)]
    remainders = {
        _remainder_name(node): [
            node,
            *(member for child in children[node] if child in into for member in subtree_ids(plan, child)),
        ]
        for node in nodes
        if shown_children(node)
    }
    counted = count(remainders) if remainders else {}
    for node in nodes:
        if node is not None and node in into:
            continue  # folded with a team above it meanwhile
        if not 0 < counted.get(_remainder_name(node), 0) < fewest:
            continue
        enough = [child for child in shown_children(node) if people.get(child, 0) >= fewest]
        if enough:
            fold(min(enough, key=lambda child: people.get(child, 0)), node)
    return Folding(
        into={team_id: into[team_id] for team_id in order if team_id in into}, too_small=frozenset(too_small)
    )
