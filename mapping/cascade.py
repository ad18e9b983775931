"""The cascade: team V2MOMs under the company's, their checks, and how team work rolls up.

Teams form a tree under the company (the plan's top level). Each team's methods serve methods of
the teams above it, the company's methods, or values, with relative weights. Flattening follows
those links down to values, so every method of the cascade gets one set of value weights and effort
on team work reaches the values with no double counting.

Decisions where the plan format leaves room:

- A team's own values are values in their own right: a method serving one counts toward that value
  itself. Team values do not serve company values (there is no ``serves`` on a value).
- A method may serve the company's methods and values, those of its ancestor teams, and its own
  team's values; not another method of its own team (that could loop) nor another branch's.
- Serves weights are relative: they need not sum to 1, but none may be negative and their sum must
  be positive. A weight of 0 is allowed and carries nothing.
- A method serving nothing is allowed ("unaligned"); it maps to no value. A method serving an
  unaligned method passes that share on as unaligned: its weights then sum to less than 1.
- Two teams may not claim the same scope entry (a Jira project or component, a Linear team, an
  Asana project; compared ignoring case), even a team and its descendant; a Jira component inside
  a project another team claims is not a clash, the deeper team wins the item.

The checks read the plan as data (validated, or raw when the schema failed) like the plan's other
cross-reference checks; the flattening and the scope lookup read a validated plan.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from v2mom.yamlio import Loc, format_path

if TYPE_CHECKING:
    from v2mom.mapping.plan import Plan, Team

Found = Iterator[tuple[Loc, str]]
# Scope entries as (tracker, key in the plan, what it names in a message).
SCOPE_KINDS: tuple[tuple[str, str, str], ...] = (
    ("jira", "projects", "Jira project"),
    ("jira", "components", "Jira component"),
    ("linear", "teams", "Linear team"),
    ("asana", "projects", "Asana project"),
)


def _fold(text: str) -> str:
    return text.strip().casefold()


def _mappings(items: Any) -> list[tuple[int, Mapping[str, Any]]]:
    """The entries of a list that are mappings, with their index (anything else is the schema's)."""
    if not isinstance(items, list | tuple):
        return []
    return [(index, item) for index, item in enumerate(items) if isinstance(item, Mapping)]


def _ids(items: Any) -> list[tuple[int, str]]:
    return [(index, item["id"]) for index, item in _mappings(items) if isinstance(item.get("id"), str)]


def _all_have_ids(*sections: Any) -> bool:
    """Whether every entry of these sections has a text id: only then can a reference into them be
    called unknown (a broken entry is the schema's problem, reported once)."""
    for items in sections:
        if isinstance(items, list | tuple) and any(
            not (isinstance(item, Mapping) and isinstance(item.get("id"), str)) for item in items
        ):
            return False
    return True


def cascade_problems(document: Any) -> Found:
    """Every problem of the plan's teams: duplicate or unknown teams, a parent loop, ids used twice
    across the cascade, serves naming nothing visible or weighted wrongly, measures and obstacles
    naming what the team cannot see, scope claimed by two teams, and a team's own target shares
    adding up to more than 1."""
    if not isinstance(document, Mapping):
        return
    teams = _mappings(document.get("teams"))
    if not teams:
        return
    team_ids = [(index, team.get("id")) for index, team in teams]
    counts: dict[str, int] = defaultdict(int)
    for _, team_id in team_ids:
        if isinstance(team_id, str):
            counts[team_id] += 1
    for index, team_id in team_ids:
        if isinstance(team_id, str) and counts[team_id] > 1:
            yield ("teams", index, "id"), f"duplicate team id '{team_id}'"
    known_teams = _all_have_ids(document.get("teams"))
    parents: dict[str, str | None] = {}
    by_id: dict[str, Mapping[str, Any]] = {}
    for index, team in teams:
        parent = team.get("parent")
        team_id = team.get("id")
        if isinstance(parent, str) and known_teams and parent not in counts:
            yield ("teams", index, "parent"), f"unknown team '{parent}'"
        if isinstance(team_id, str) and team_id not in by_id:
            by_id[team_id] = team
            parents[team_id] = parent if isinstance(parent, str) else None
    yield from _loops(teams, parents)
    yield from _id_clashes(document, teams)
    yield from _reference_problems(document, teams, parents, by_id)
    yield from _scope_clashes(teams)
    yield from _target_shares(teams)


def _loops(teams: list[tuple[int, Mapping[str, Any]]], parents: Mapping[str, str | None]) -> Found:
    """Each loop in the parent links, once, at its first team in the file."""
    reported: set[str] = set()
    for index, team in teams:
        start = team.get("id")
        if not isinstance(start, str) or start in reported:
            continue
        path = [start]
        current = parents.get(start)
        while current is not None and current in parents and current not in path:
            path.append(current)
            current = parents.get(current)
        if current == start:
            reported.update(path)
            yield ("teams", index, "parent"), "teams form a cycle: " + " -> ".join([*path, start])


def ancestor_ids(team_id: str, parents: Mapping[str, str | None]) -> list[str]:
    """The teams above ``team_id``, nearest first (stopping at an unknown team or a loop)."""
    found: list[str] = []
    current = parents.get(team_id)
    while current is not None and current in parents and current not in found and current != team_id:
        found.append(current)
        current = parents.get(current)
    return found


def rooted(team_id: str, parents: Mapping[str, str | None]) -> bool:
    """Whether following the parents from ``team_id`` reaches the company (no unknown team, no loop)."""
    seen = {team_id}
    current = parents.get(team_id)
    while current is not None:
        if current not in parents or current in seen:
            return False
        seen.add(current)
        current = parents[current]
    return True


def _id_clashes(document: Mapping[str, Any], teams: list[tuple[int, Mapping[str, Any]]]) -> Found:
    """Team values and methods whose id is already a value or method elsewhere in the cascade (the
    company's own duplicates are reported by the company's checks)."""
    owners: dict[str, Loc] = {}
    for section in ("values", "methods"):
        for index, item_id in _ids(document.get(section)):
            owners.setdefault(item_id, (section, index))
    for index, team in teams:
        for section in ("values", "methods"):
            for position, item_id in _ids(team.get(section)):
                loc = ("teams", index, section, position, "id")
                owner = owners.setdefault(item_id, loc[:-1])
                if owner != loc[:-1]:
                    yield (
                        loc,
                        f"id '{item_id}' is already used by {format_path(owner)}"
                        " (ids are unique across all teams)",
                    )


def _reference_problems(
    document: Mapping[str, Any],
    teams: list[tuple[int, Mapping[str, Any]]],
    parents: Mapping[str, str | None],
    by_id: Mapping[str, Mapping[str, Any]],
) -> Found:
    """Serves, measures and obstacles naming what their team cannot see, and wrong serves weights."""
    sections = [document.get("values"), document.get("methods")]
    sections += [team.get(key) for _, team in teams for key in ("values", "methods")]
    judged = _all_have_ids(*sections)
    everything = {item_id for items in sections for _, item_id in _ids(items)}
    company_values = {i for _, i in _ids(document.get("values"))}
    company_methods = {i for _, i in _ids(document.get("methods"))}
    for index, team in teams:
        team_id = team.get("id")
        if not isinstance(team_id, str) or not rooted(team_id, parents):
            continue  # what it can see is unknown until its parent is fixed (reported above)
        above = ancestor_ids(team_id, parents)
        values = company_values | {i for _, i in _ids(team.get("values"))}
        methods = set(company_methods)
        for ancestor in above:
            values |= {i for _, i in _ids(by_id[ancestor].get("values"))}
            methods |= {i for _, i in _ids(by_id[ancestor].get("methods"))}
        for position, method in _mappings(team.get("methods")):
            loc = ("teams", index, "methods", position, "serves")
            serves = method.get("serves")
            if isinstance(serves, Mapping):
                yield from _serves_problems(loc, serves, values | methods, everything if judged else None)
        own_methods = methods | {i for _, i in _ids(team.get("methods"))}
        for position, measure in _mappings(team.get("measures")):
            value = measure.get("value")
            if judged and isinstance(value, str) and value not in values:
                yield ("teams", index, "measures", position, "value"), _unseen(value, "value", everything)
        for position, obstacle in _mappings(team.get("obstacles")):
            named = obstacle.get("methods")
            for j, ref in enumerate(named if isinstance(named, list | tuple) else ()):
                if judged and isinstance(ref, str) and ref not in own_methods:
                    yield (
                        ("teams", index, "obstacles", position, "methods", j),
                        _unseen(ref, "method", everything),
                    )


def _unseen(ref: str, what: str, everything: set[str]) -> str:
    if ref in everything:
        return f"{what} '{ref}' is not visible to this team (not its own, its ancestors' or the company's)"
    return f"unknown {what} '{ref}'"


def _serves_problems(
    loc: Loc, serves: Mapping[Any, Any], visible: set[str], everything: set[str] | None
) -> Found:
    """A method's serves: each name visible to its team, no negative weight, a positive sum."""
    numbers: list[float] = []
    for target, weight in serves.items():
        if everything is not None and isinstance(target, str) and target not in visible:
            if target in everything:
                message = (
                    f"'{target}' is not visible to this team (serve a method or value of the company"
                    " or an ancestor team, or one of the team's own values)"
                )
            else:
                message = f"unknown method or value '{target}'"
            yield (*loc, target), message
        if isinstance(weight, int | float) and not isinstance(weight, bool):
            numbers.append(float(weight))
            if weight < 0:
                yield (*loc, target), "serves weights must not be negative"
    if numbers and len(numbers) == len(serves) and all(n >= 0 for n in numbers) and math.fsum(numbers) <= 0:
        yield (
            loc,
            "serves weights sum to 0 (give one a positive weight, or serve nothing to leave it unaligned)",
        )


def _scope_clashes(teams: list[tuple[int, Mapping[str, Any]]]) -> Found:
    """Scope entries claimed by a team after another already did."""
    claims: dict[tuple[str, str, str], str] = {}
    for index, team in teams:
        team_id = team.get("id")
        scope = team.get("scope")
        if not isinstance(scope, Mapping) or not isinstance(team_id, str):
            continue
        for tracker, kind, label in SCOPE_KINDS:
            entry = scope.get(tracker)
            keys = entry.get(kind) if isinstance(entry, Mapping) else None
            for j, key in enumerate(keys if isinstance(keys, list | tuple) else ()):
                if not isinstance(key, str):
                    continue
                owner = claims.setdefault((tracker, kind, _fold(key)), team_id)
                if owner != team_id:
                    yield (
                        ("teams", index, "scope", tracker, kind, j),
                        f"{label} '{key}' is already in the scope of team '{owner}'",
                    )


def _target_shares(teams: list[tuple[int, Mapping[str, Any]]]) -> Found:
    """A team's own values' target shares (of the team's effort) that add up to more than 1."""
    for index, team in teams:
        shares = [value.get("target_share") for _, value in _mappings(team.get("values"))]
        total = math.fsum(
            float(s) for s in shares if isinstance(s, int | float) and not isinstance(s, bool) and 0 <= s <= 1
        )
        if total > 1 + 1e-6:
            yield ("teams", index, "values"), f"target shares sum to {total:.4g}, more than 1"


def _teams(plan: Plan) -> tuple[Team, ...]:
    return plan.teams or ()


def team_depths(plan: Plan) -> dict[str, int]:
    """Each team's depth in the tree: 1 under the company, 2 under such a team, and so on."""
    parents = {team.id: team.parent for team in _teams(plan)}
    return {team.id: len(ancestor_ids(team.id, parents)) + 1 for team in _teams(plan)}


def parents_first(plan: Plan) -> list[Team]:
    """The plan's teams depth first from the company, each parent before its children, siblings in
    plan order."""
    ordered: list[Team] = []

    def visit(parent: str | None) -> None:
        for team in _teams(plan):
            if team.parent == parent:
                ordered.append(team)
                visit(team.id)

    visit(None)
    return ordered


def subtree_ids(plan: Plan, team_id: str) -> list[str]:
    """``team_id`` and every team below it, in plan order (an unknown id gives an empty list)."""
    parents = {team.id: team.parent for team in _teams(plan)}
    return [
        team.id for team in _teams(plan) if team.id == team_id or team_id in ancestor_ids(team.id, parents)
    ]


def cascade_value_weights(plan: Plan) -> dict[str, dict[str, float]]:
    """Every method of the cascade (the company's and every team's) with its value weights.

    A company method keeps its own weights. A team method's are the weighted sum of what it serves,
    its serves weights normalised to sum to 1: a method contributes its own value weights, a value
    (the company's or a team's) itself. An aligned method's weights sum to 1; a method serving
    nothing maps to ``{}``. Methods are resolved parents first, so what a method serves is always
    resolved before it (a checked plan only serves methods of teams above).
    """
    weights = {method.id: method.value_weights() for method in plan.methods}
    values = {value.id for value in plan.cascade_values()}
    depths = team_depths(plan)
    for team in sorted(_teams(plan), key=lambda t: depths[t.id]):
        for method in team.methods:
            total = math.fsum(method.serves.values())
            rolled: dict[str, float] = defaultdict(float)
            for target, weight in method.serves.items() if total > 0 else ():
                share = weight / total
                if target in weights:
                    for value, part in weights[target].items():
                        rolled[value] += share * part
                elif target in values:
                    rolled[target] += share
            weights[method.id] = {value: part for value, part in rolled.items() if part > 0}
    return weights


UNALIGNED_TOLERANCE = 1e-9


@dataclass(frozen=True)
class MethodWeights:
    """What one method of the cascade gives its effort to.

    ``values``: each value's share (company values and team values alike). ``unaligned``: the share
    that reaches no value, because the method, or a method it serves, serves nothing; 0 for every
    company method and every aligned team method. ``serving_nothing``: those methods that serve
    nothing (the method itself, or methods above it), which is why that share is lost; a company
    method naming no value is one (for the team methods serving it), though its own work is an
    orphan, not unaligned.
    """

    values: dict[str, float]
    unaligned: float = 0.0
    serving_nothing: tuple[str, ...] = ()


def method_weights(plan: Plan) -> dict[str, MethodWeights]:
    """Every method of the cascade with its effective value weights and its unaligned share.

    The one answer to "what does work on this method count toward": the resolver splits effort by
    it, so the engine (which asks the resolver once per tag set) and the reports read the same
    numbers. A plan without teams gives each company method its own weights and nothing unaligned.
    A company method naming no value is not unaligned: that is a plan mistake the resolver flags
    as orphaned, as before teams existed.
    """
    weights = cascade_value_weights(plan)
    found = {
        method.id: MethodWeights(
            weights[method.id], serving_nothing=() if weights[method.id] else (method.id,)
        )
        for method in plan.methods
    }
    depths = team_depths(plan)
    for team in sorted(_teams(plan), key=lambda t: depths[t.id]):
        for method in team.methods:
            lost = 1.0 - math.fsum(weights[method.id].values())
            if not method.serves:
                found[method.id] = MethodWeights({}, 1.0, (method.id,))
            elif lost > UNALIGNED_TOLERANCE:
                roots = {
                    root
                    for target, weight in method.serves.items()
                    if weight > 0 and target in found
                    for root in found[target].serving_nothing
                }
                found[method.id] = MethodWeights(weights[method.id], lost, tuple(sorted(roots)))
            else:
                found[method.id] = MethodWeights(weights[method.id])
    return found


def _holds(team: Team, tracker: str, container: str | None, components: set[str]) -> bool:
    """Whether the team's scope names the item's container (or, in Jira, one of its components)."""
    scope = team.scope
    if tracker == "jira" and scope.jira is not None:
        return container in {_fold(p) for p in scope.jira.projects} or bool(
            components & {_fold(c) for c in scope.jira.components}
        )
    if tracker == "linear" and scope.linear is not None:
        return container in {_fold(t) for t in scope.linear.teams}
    if tracker == "asana" and scope.asana is not None:
        return container in {_fold(p) for p in scope.asana.projects}
    return False


def team_of_scope(
    plan: Plan, tracker: str, container: str | None, components: Iterable[str] = ()
) -> str | None:
    """The deepest team whose scope holds an item, or None for the company.

    ``container`` is the item's Jira project key, Linear team key or Asana project gid;
    ``components`` its Jira components. Comparisons ignore case. Between teams at the same depth,
    the first in the file wins.
    """
    folded = _fold(container) if container else None
    parts = {_fold(c) for c in components} if tracker == "jira" else set()
    depths = team_depths(plan)
    best: Team | None = None
    for team in _teams(plan):
        if _holds(team, tracker, folded, parts) and (best is None or depths[team.id] > depths[best.id]):
            best = team
    return best.id if best is not None else None
