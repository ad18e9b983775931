"""bench.scale's cascade mode: the sample plan's company V2MOM with 50 teams in a tree (in place of
its own three, whose rules go with them), a quarterly cycle, and the containers the teams' scopes
need.

**Containers.** The template holds eight containers (Jira projects ONB, MOB and PLAT, Linear teams
ENG and WEB, three Asana projects); 50 teams need more. So every tree of every copy (a root and
all the items below it) takes one of :data:`VARIANTS` variants of its containers: variant 0 keeps
the template's, variant ``v`` appends ``v`` to a key (``ONB`` -> ``ONB3``, Linear ``ENG`` ->
``ENG3``) and adds ``v`` x 10^11 to an Asana gid (still a number, and no copy's id: copies add
multiples of 10^12, and a project rule naming a gid would also tag the project item of that id).
Half the trees keep variant 0, the other half spread evenly over 1..7 (:func:`tree_variant`, a hash
of the copy and the tree), so the 8 template containers become 64, the eight of variant 0 each
holding about 4-8 % of the items and the 56 others 0.3-1.2 %. Every item of a tree carries the same
variant in its container and its Asana membership, so a tree stays inside one container as it does
in a tracker, and each item's tag signature is computed for its own container. Chosen per tree, not
per copy, so that even a 20,000-item run fills all 64 containers.

**The company's rules** that name a container (Jira ``project: PLAT``, Linear ``team: WEB``) are
repeated once per variant, so they match the same share of the items as in the flat run; every
other rule (labels, components, custom fields, epic keys, Linear and Asana projects named by their
names, which tag the project items their tasks inherit from) matches as it did.

**The teams** (:func:`cascade_plan`): five departments under the company; under each, four teams
and, under two of those, five squads (depth 1 to 3, 50 teams). Each department holds a variant-0
Jira project or Linear team and one small container; each team and squad one small container; the
three variant-0 Asana projects and the six small containers left over stay the company's own work.
One squad also claims the Jira component Billing, inside every project (the deeper team wins).

- Methods: a department's first method serves two company methods 0.7/0.3 (or one, or a method and
  a value), its second its own department value; a team's first method serves its department's two
  methods 0.7/0.3 or the first alone; a squad's serves its team's first method (or 0.7 of it and 0.3
  of the value customer-first). Each department's fourth team has a second method that serves
  nothing: its work is unaligned.
- Values: each department has one value of its own; one team has one too.
- Rules naming team methods, so that team methods carry real effort: every team and squad tags its
  container (a container rule: work with no tag of its own and none inherited) with its first
  method; each department tags its variant-0 container's items carrying a common label with its
  first method, another label with its value, and its small container with its second method; the
  fourth teams' unaligned method takes their container's items carrying a common label.
- Measures: the company's, and one per department (a value's share of the department's done work).
- The cycle ``fy27`` runs from 2026-02-01 quarterly: the template's work is done between late August
  and November 2026, in q3 (which has ended by the template's sync day) and q4.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from v2mom.mapping.plan import Plan, Rule, RuleWhen, plan_from_data
from v2mom.models import WorkItem
from v2mom.store.items import StoredItem

VARIANTS = 8  # variants of each template container (variant 0 is the template's own)
VARIANT_STRIDE = 10**11  # an Asana gid's variant v: the gid plus v times this (no copy's id, see above)
CYCLE = {"id": "fy27", "name": "FY2027", "start": "2026-02-01", "end": "2027-01-31", "periods": "quarterly"}
DEPARTMENTS = (
    ("commerce", "Commerce"),
    ("platform", "Platform"),
    ("mobile", "Mobile"),
    ("growth", "Growth"),
    ("risk", "Risk and compliance"),
)
TEAMS_PER_DEPARTMENT = 4
SQUAD_PARENTS = (1, 1, 1, 2, 2)  # the team (1-based) each of a department's five squads is under
UNALIGNED_TEAM = 4  # a department's team whose second method serves nothing
COMPONENT_SQUAD = "platform-s1"  # claims the Jira component below, in every project
COMPONENT = "Billing"
# A department's first method serves these company methods (and values) with these weights.
DEPARTMENT_SERVES: tuple[dict[str, float], ...] = (
    {"self-serve-onboarding": 0.7, "slo-program": 0.3},
    {"slo-program": 0.7, "incident-tooling": 0.3},
    {"cost-savings": 0.7, "self-serve-onboarding": 0.3},
    {"self-serve-onboarding": 1.0},
    {"incident-tooling": 0.7, "reliability": 0.3},
)
# Labels each tracker's template items carry often (a few % of them): team rules read them.
METHOD_LABEL = {"jira": "backend", "linear": "tech-debt", "asana": "backend"}
VALUE_LABEL = {"jira": "frontend", "linear": "frontend", "asana": "design"}


# -- containers --------------------------------------------------------------------------------------


def variant_container(container: str | None, variant: int) -> str | None:
    """Variant ``variant`` of a container key (None stays None; variant 0 is the key itself)."""
    if container is None or not variant:
        return container
    return str(int(container) + variant * VARIANT_STRIDE) if container.isdigit() else f"{container}{variant}"


def tree_variant(copy: int, root: int) -> int:
    """The container variant of the tree rooted at the template's ``root``-th item, in copy ``copy``:
    0 for half the trees, 1..VARIANTS-1 evenly for the rest."""
    spread = VARIANTS - 1
    drawn = zlib.crc32(f"{copy}/{root}".encode()) % (2 * spread)
    return 0 if drawn < spread else drawn - spread + 1


def tree_roots(template: Sequence[StoredItem]) -> list[int]:
    """For each item of ``template`` (parents first), the index of its tree's root."""
    index = {(s.item.tracker, s.item.id): n for n, s in enumerate(template)}
    roots: list[int] = []
    for n, stored in enumerate(template):
        parent = index.get((stored.item.tracker, stored.item.parent_id or ""))
        roots.append(roots[parent] if parent is not None and parent < n else n)
    return roots


def with_variant(stored: StoredItem, variant: int) -> StoredItem:
    """``stored`` with its container and Asana membership in variant ``variant``."""
    item: WorkItem = stored.item.model_copy(
        update={
            "container": variant_container(stored.item.container, variant),
            "member_of": variant_container(stored.item.member_of, variant),
        }
    )
    return replace(stored, item=item)


@dataclass(frozen=True)
class Container:
    """A container key of one tracker and the plan's word for it in a rule (``project``, or ``team``
    for a Linear team)."""

    tracker: str
    key: str

    def when(self, **more: str) -> RuleWhen:
        """A rule condition naming this container (and ``more``)."""
        field = "team" if self.tracker == "linear" else "project"
        return RuleWhen.model_validate({"tracker": self.tracker, field: self.key, **more})


def template_containers(template: Sequence[StoredItem]) -> list[Container]:
    """The template's containers: Jira, then Linear, then Asana, each sorted."""
    order = {"jira": 0, "linear": 1, "asana": 2}
    found = {(s.item.tracker, s.item.container) for s in template if s.item.container is not None}
    return [Container(tracker, key) for tracker, key in sorted(found, key=lambda p: (order[p[0]], p[1]))]


def all_containers(template: Sequence[StoredItem]) -> list[list[Container]]:
    """Every container of the cascade store, by variant (the template's first)."""
    base = template_containers(template)
    return [
        [Container(c.tracker, variant_container(c.key, v) or c.key) for c in base] for v in range(VARIANTS)
    ]


# -- the plan ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """Which team holds which container (a container absent is the company's own work)."""

    owner: dict[Container, str]
    departments: list[str]
    leaves: list[str]  # the squads, the deepest teams


def team_tree() -> list[tuple[str, str, str | None]]:
    """(id, name, parent) of the 50 teams, parents first within each department."""
    teams: list[tuple[str, str, str | None]] = []
    for dept, name in DEPARTMENTS:
        teams.append((dept, name, None))
        for j in range(1, TEAMS_PER_DEPARTMENT + 1):
            teams.append((f"{dept}-t{j}", f"{name} team {j}", dept))
        for j, parent in enumerate(SQUAD_PARENTS, start=1):
            teams.append((f"{dept}-s{j}", f"{name} squad {j}", f"{dept}-t{parent}"))
    return teams


def is_cascade_plan(plan: Plan) -> bool:
    """Whether ``plan`` is the cascade mode's (its 50 teams), not the sample plan's own three."""
    return {team.id for team in plan.teams or ()} == {team for team, _, _ in team_tree()}


def layout(template: Sequence[StoredItem]) -> Layout:
    """Hand out the containers: variant-0 Jira projects and Linear teams to the departments, the
    small containers to the teams and squads in plan order, then one more to each department."""
    variants = all_containers(template)
    departments = [dept for dept, _ in DEPARTMENTS]
    below = [team for team, _, parent in team_tree() if parent is not None]
    big = [c for c in variants[0] if c.tracker != "asana"]
    small = [c for v in range(1, VARIANTS) for c in variants[v]]
    if len(big) < len(departments) or len(small) < len(below) + len(departments):
        raise SystemExit("cascade: the template holds too few containers for the teams")
    owner = dict(zip(big, departments, strict=False))
    owner |= dict(zip(small, [*below, *departments], strict=False))
    squads = [team for team, _, parent in team_tree() if "-s" in team]
    return Layout(owner, departments, squads)


def _team(team_id: str, name: str, parent: str | None, held: list[Container]) -> dict[str, Any]:
    scope: dict[str, Any] = {}
    for c in held:
        kind = "teams" if c.tracker == "linear" else "projects"
        scope.setdefault(c.tracker, {}).setdefault(kind, []).append(c.key)
    if team_id == COMPONENT_SQUAD:
        scope.setdefault("jira", {})["components"] = [COMPONENT]
    return {"id": team_id, "name": name, "parent": parent, "scope": scope, "vision": f"{name} delivers."}


def _rule(when: RuleWhen, **target: str) -> dict[str, Any]:
    return {"when": when.model_dump(exclude_none=True), **target}


def cascade_plan(base: Plan, template: Sequence[StoredItem]) -> Plan:
    """``base`` (the sample plan) with the teams, the cycle and their rules (see the module's
    docstring); its container rules repeated for every variant. Validated as a new plan is."""
    held = layout(template)
    by_team: dict[str, list[Container]] = {}
    for container, owner in held.owner.items():
        by_team.setdefault(owner, []).append(container)
    teams: list[dict[str, Any]] = []
    rules: list[dict[str, Any]] = []
    for team_id, name, parent in team_tree():
        team = _team(team_id, name, parent, by_team.get(team_id, []))
        mine = by_team.get(team_id, [])
        if parent is None:  # a department
            index = held.departments.index(team_id)
            value = f"{team_id}-craft"
            team["values"] = [{"id": value, "name": f"{name} craft", "target_share": 0.2}]
            team["methods"] = [
                {"id": f"{team_id}-bet", "name": f"{name} bet", "serves": DEPARTMENT_SERVES[index]},
                {"id": f"{team_id}-craft-work", "name": f"{name} craft work", "serves": {value: 1.0}},
            ]
            team["measures"] = [
                {
                    "id": f"{team_id}-cf",
                    "name": f"{name}: a quarter of done effort to customer-first",
                    "value": "customer-first",
                    "target": 0.25,
                }
            ]
            team["obstacles"] = [
                {"id": f"{team_id}-hiring", "name": f"{name} hiring freeze", "methods": [f"{team_id}-bet"]}
            ]
            own, extra = mine[0], mine[1:]
            rules.append(_rule(own.when(label=METHOD_LABEL[own.tracker]), method=f"{team_id}-bet"))
            rules.append(_rule(own.when(label=VALUE_LABEL[own.tracker]), value=value))
            rules += [_rule(c.when(), method=f"{team_id}-craft-work") for c in extra]
        else:
            dept = team_id.split("-")[0]
            number = int(team_id.rsplit("-", 1)[1][1:])
            first = f"{team_id}-work"
            if parent == dept:  # a team under its department
                serves = (
                    {f"{dept}-bet": 0.7, f"{dept}-craft-work": 0.3} if number % 2 else {f"{dept}-bet": 1.0}
                )
            else:  # a squad under a team
                serves = {f"{parent}-work": 1.0}
                if number == 2:
                    serves = {f"{parent}-work": 0.7, "customer-first": 0.3}
            team["methods"] = [{"id": first, "name": f"{name} work", "serves": serves}]
            if team_id == "platform-t2":
                team["values"] = [{"id": "platform-t2-latency", "name": "Platform team 2 latency"}]
            rules += [_rule(c.when(), method=first) for c in mine]
            if parent == dept and number == UNALIGNED_TEAM:  # a side project serving nothing
                side = f"{team_id}-side"
                team["methods"].append({"id": side, "name": f"{name} side project", "serves": {}})
                rules += [_rule(c.when(label=METHOD_LABEL[c.tracker]), method=side) for c in mine]
        teams.append(team)
    document = base.model_dump(mode="json", exclude_none=True)
    document["rules"] = [*_company_rules(base, template), *rules]
    for rule in document["rules"]:
        rule.pop("id", None)
    document["teams"] = teams
    document["cycle"] = CYCLE
    return plan_from_data(document, "cascade plan")


def _company_rules(base: Plan, template: Sequence[StoredItem]) -> list[dict[str, Any]]:
    """``base``'s rules naming the company's own methods and values (its teams' give way to the
    cascade's), each naming a template container repeated for every variant of it."""
    containers = {(c.tracker, c.key.casefold()) for c in template_containers(template)}
    company = base.method_ids() | base.value_ids()
    out = []
    for rule in base.rules:
        if (rule.method or rule.value) not in company:
            continue
        data = rule.model_dump(mode="json", exclude_none=True)
        data["when"] = {k: v for k, v in data["when"].items() if v is not None}
        when = rule.when
        named = when.project or when.team
        if when.tracker is None or named is None or (when.tracker, named.casefold()) not in containers:
            out.append(data)
            continue
        field = "project" if when.project is not None else "team"
        for v in range(VARIANTS):
            out.append({**data, "when": {**data["when"], field: variant_container(named, v)}})
    return out


# -- the plan changes measured -----------------------------------------------------------------------


def scope_owners(plan: Plan) -> dict[tuple[str, str], str]:
    """(tracker, container folded) -> the team whose scope names that container."""
    owners: dict[tuple[str, str], str] = {}
    for team in plan.teams or ():
        scope = team.scope
        held = [("jira", p) for p in (scope.jira.projects if scope.jira else ())]
        held += [("linear", k) for k in (scope.linear.teams if scope.linear else ())]
        held += [("asana", p) for p in (scope.asana.projects if scope.asana else ())]
        for tracker, key in held:
            owners[(tracker, key.casefold())] = team.id
    return owners


@dataclass(frozen=True)
class TeamRule:
    """A rule naming a team's method, and the live items its condition holds."""

    rule: Rule
    team: str
    items: int
    share: float


def pick_team_rule(plan: Plan, counts: dict[tuple[str, str], int], live: int, share: float) -> TeamRule:
    """A container rule naming the first aligned method of the team holding the container: the
    container, among those held by a team and named by no container rule yet, whose share of the
    ``live`` items (``counts``: per (tracker, container)) is nearest ``share``."""
    owners = scope_owners(plan)
    taken = {
        (r.when.tracker, (r.when.project or r.when.team or "").casefold())
        for r in plan.rules
        if not r.when.is_item_level
    }
    aligned = {team.id: next((m.id for m in team.methods if m.serves), None) for team in plan.teams or ()}
    candidates = []
    for (tracker, container), count in counts.items():
        team = owners.get((tracker, container.casefold()))
        method = aligned.get(team) if team is not None else None
        if team is None or method is None or (tracker, container.casefold()) in taken:
            continue
        rule = Rule(when=Container(tracker, container).when(), method=method)
        candidates.append(TeamRule(rule, team, count, count / live))
    if not candidates:
        raise SystemExit("cascade: no team container is left without a container rule")
    return min(candidates, key=lambda c: (abs(c.share - share), c.team))


def rescoped(plan: Plan, counts: dict[tuple[str, str], int]) -> tuple[Plan, str, Container]:
    """``plan`` with the company's biggest own container (held by no team) given to the first squad
    of the first department: a change of which team holds which work (the full pass)."""
    owners = scope_owners(plan)
    free = [(n, t, c) for (t, c), n in counts.items() if (t, c.casefold()) not in owners]
    if not free:
        raise SystemExit("cascade: every container is held by a team already")
    _, tracker, key = max(free)
    squad = f"{DEPARTMENTS[0][0]}-s1"
    document = plan.model_dump(mode="json", exclude_none=True)
    for team in document["teams"]:
        if team["id"] == squad:
            kind = "teams" if tracker == "linear" else "projects"
            team["scope"].setdefault(tracker, {}).setdefault(kind, []).append(key)
    return plan_from_data(document, "rescoped plan"), squad, Container(tracker, key)
