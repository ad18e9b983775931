"""The sandboxes' own answer to "how much effort goes to each value", computed independently.

It does not import ``mapping``: it reads the sample plan's values and weights with plain YAML
(:class:`PlanVocabulary`) and applies the resolution rules to tracker-neutral :class:`TruthItem`
records that each sandbox derives from its state *as it is now* (so tests may mutate, move and
delete items and compare again). Each sandbox knows exactly the tagging vocabulary its generator
uses; this module knows only the rules: own tags, else the nearest tagged ancestor, else the
container rule; values split by method weights; effort counted once at the most detailed level.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

import yaml

from v2mom.sandbox import SAMPLE_PLAN_PATH

Measure = Literal["points", "hours", "count"]
StateFilter = Literal["all", "done", "open"]


class PlanVocabulary:
    """The sample plan's value ids, method weights, method names and teams, read with plain YAML.

    A team method's weights are what it serves, rolled up: each served method's weights (or a
    served value, whole) times its relative weight; a method serving nothing passes its share on as
    ``unaligned``. A team owns its methods and values: only work of that team or a team below it
    may name them. Work belongs to the deepest team whose scope names its container.
    """

    def __init__(self) -> None:
        """Read ``sample_plan.yaml``."""
        plan = yaml.safe_load(SAMPLE_PLAN_PATH.read_text(encoding="utf-8"))
        teams = plan.get("teams") or []
        self.values: set[str] = {v["id"] for v in plan["values"]}
        self.value_by_name: dict[str, str] = {}
        for value in [*plan["values"], *(v for team in teams for v in team.get("values") or [])]:
            self.values.add(value["id"])
            self.value_by_name[value["id"].lower()] = value["id"]
            self.value_by_name[value["name"].lower()] = value["id"]
        self.method_weights: dict[str, dict[str, float]] = {}
        self.unaligned: dict[str, float] = {}
        self.method_by_name: dict[str, str] = {}
        for method in plan["methods"]:
            weights = method.get("weights") or {
                v: 1 / len(method["values"]) for v in method.get("values", [])
            }
            self.method_weights[method["id"]] = weights
            self.unaligned[method["id"]] = 0.0
            self.method_by_name[method["name"].lower()] = method["id"]
            self.method_by_name[method["id"].lower()] = method["id"]
        self.owner: dict[str, str] = {}
        self.parent: dict[str, str | None] = {team["id"]: team.get("parent") for team in teams}
        for team in teams:  # parents first in the sample plan, so what a method serves is known
            for value in team.get("values") or []:
                self.owner[value["id"]] = team["id"]
            for method in team.get("methods") or []:
                self._roll_up(method)
                self.owner[method["id"]] = team["id"]
                self.method_by_name[method["name"].lower()] = method["id"]
                self.method_by_name[method["id"].lower()] = method["id"]
        self.scopes: dict[tuple[str, str], str] = {}
        for team in sorted(teams, key=lambda t: len(self.lineage(t["id"]))):  # deepest team wins
            for tracker, scope in (team.get("scope") or {}).items():
                for name in (*scope.get("projects", ()), *scope.get("teams", ())):
                    self.scopes[(tracker, str(name))] = team["id"]

    def _roll_up(self, method: Mapping[str, Any]) -> None:
        serves: Mapping[str, float] = method.get("serves") or {}
        total = sum(serves.values())
        weights: dict[str, float] = defaultdict(float)
        lost = 0.0 if serves else 1.0
        for ref, weight in serves.items():
            share = weight / total
            if ref in self.method_weights:
                for value, part in self.method_weights[ref].items():
                    weights[value] += share * part
                lost += share * self.unaligned[ref]
            else:
                weights[ref] += share
        self.method_weights[method["id"]] = dict(weights)
        self.unaligned[method["id"]] = lost

    def lineage(self, team: str | None) -> list[str]:
        """``team`` and every team above it (empty for the company's own work)."""
        out: list[str] = []
        while team is not None:
            out.append(team)
            team = self.parent.get(team)
        return out

    def team_of(self, tracker: str, container: str | None) -> str | None:
        """The team whose scope names ``container`` (None: the company's own work)."""
        return self.scopes.get((tracker, container)) if container is not None else None

    def visible(self, ref: str, team: str | None) -> bool:
        """Whether work of ``team`` may name the value or method ``ref``."""
        owner = self.owner.get(ref)
        return owner is None or owner in self.lineage(team)

    def read_prefixed(self, tags: list[str] | tuple[str, ...]) -> tuple[list[str], list[str], bool]:
        """(values, methods, names-something-unknown) from ``value:<id>`` / ``method:<id>`` tags."""
        values: list[str] = []
        methods: list[str] = []
        unknown = False
        for tag in tags:
            kind, _, ref = tag.partition(":")
            kind, ref = kind.strip().lower(), ref.strip().lower()
            if kind == "value":
                if ref in self.values:
                    values.append(ref)
                else:
                    unknown = True
            elif kind == "method":
                if ref in self.method_weights:
                    methods.append(ref)
                else:
                    unknown = True
        return values, methods, unknown


@dataclass(frozen=True)
class TruthItem:
    """One live item as the oracle sees it (ids are unique within one tracker).

    ``parent_id`` names the parent (issue, epic, project); a parent absent from the live set makes
    the item orphaned. ``values``/``methods`` are the item's own tags (conventions and item-level
    rules), ``unknown`` when a tag names something the plan lacks. ``container_methods`` apply when
    neither the item nor an ancestor is tagged. ``counts`` False: canceled, in no report. ``team``:
    the team whose scope holds the item (:meth:`PlanVocabulary.team_of`), None for the company's own.
    """

    id: str
    parent_id: str | None
    values: tuple[str, ...] = ()
    methods: tuple[str, ...] = ()
    unknown: bool = False
    container_methods: tuple[str, ...] = ()
    points: float = 0.0
    hours: float = 0.0
    done: bool = False
    counts: bool = True
    team: str | None = None

    def own_effort(self, measure: Measure) -> float:
        """The item's own effort in ``measure``."""
        if measure == "count":
            return 1.0
        return self.points if measure == "points" else self.hours


Shares = dict[tuple[str | None, str | None], float]


def new_report() -> dict[str, Any]:
    """An expected report with nothing counted yet (see :meth:`GroundTruth.expected_report`)."""
    return {
        "total_effort": 0.0,
        "total_items": 0,
        "values": defaultdict(float),
        "methods": defaultdict(float),
        "untagged_effort": 0.0,
        "untagged_items": 0,
        "unaligned_effort": 0.0,
        "unaligned_items": 0,
        "orphaned_effort": 0.0,
        "orphaned_items": 0,
    }


def counts_in(item: TruthItem, plan: PlanVocabulary, state: StateFilter, team: str | None) -> bool:
    """Whether a report filtered by ``state`` and ``team`` counts ``item`` (canceled items never)."""
    if not item.counts or (state == "done" and not item.done) or (state == "open" and item.done):
        return False
    return team is None or team in plan.lineage(item.team)


def count_into(out: dict[str, Any], effort: float, shares: Shares, orphaned: bool) -> None:
    """Add one item's ``effort``, split by its ``shares``, to the expected report ``out``."""
    out["total_effort"] += effort
    out["total_items"] += 1
    if orphaned:
        out["orphaned_effort"] += effort
        out["orphaned_items"] += 1
    if any(value is None and method is not None for value, method in shares):
        out["unaligned_items"] += 1
    for (value, method), share in shares.items():
        if value is None and method is None:
            out["untagged_effort"] += effort * share
            out["untagged_items"] += 1
        elif value is None:
            out["unaligned_effort"] += effort * share
        else:
            out["values"][value] += effort * share
            out["methods"][(value, method)] += effort * share


def close_report(out: dict[str, Any]) -> dict[str, Any]:
    """``out`` with its per-value and per-method sums as plain dicts."""
    out["values"] = dict(out["values"])
    out["methods"] = dict(out["methods"])
    return out


class GroundTruth:
    """Expected report figures over the items ``source`` returns (evaluated on every call)."""

    def __init__(self, source: Callable[[PlanVocabulary], Mapping[str, TruthItem]]) -> None:
        """Bind to ``source``, which derives TruthItems from a sandbox's current state."""
        self.plan = PlanVocabulary()
        self._source = source

    def items(self) -> Mapping[str, TruthItem]:
        """The live items now."""
        return self._source(self.plan)

    def allocation(self, item: TruthItem, live: Mapping[str, TruthItem]) -> tuple[Shares, bool]:
        """Shares of the item's effort per (value, method) and whether it is orphaned."""
        values, methods, orphaned = list(item.values), list(item.methods), item.unknown
        if item.parent_id is not None and item.parent_id not in live:
            orphaned = True
        if not values and not methods:
            ancestor = live.get(item.parent_id) if item.parent_id is not None else None
            while ancestor is not None:
                values, methods = list(ancestor.values), list(ancestor.methods)
                if values or methods:
                    break
                ancestor = live.get(ancestor.parent_id) if ancestor.parent_id is not None else None
        if not values and not methods:
            methods = list(item.container_methods)
        hidden = {ref for ref in (*values, *methods) if not self.plan.visible(ref, item.team)}
        if hidden:  # another team's value or method is no tag on this work
            orphaned = True
            values = [v for v in values if v not in hidden]
            methods = [m for m in methods if m not in hidden]
        weights, unaligned = self.plan.method_weights, self.plan.unaligned
        shares: Shares = defaultdict(float)
        if values:
            for value in values:
                serving: list[str | None] = [m for m in methods if value in weights[m]]
                for method in serving or [None]:
                    shares[(value, method)] += 1 / len(values) / max(1, len(serving))
        elif useful := [m for m in methods if weights[m] or unaligned[m]]:
            for method in useful:
                for value, weight in weights[method].items():
                    shares[(value, method)] += weight / len(useful)
                if unaligned[method]:  # (no value, the method): effort that reaches no value
                    shares[(None, method)] += unaligned[method] / len(useful)
        else:
            shares[(None, None)] = 1.0
        return dict(shares), orphaned

    @staticmethod
    def counted(live: Mapping[str, TruthItem], measure: Measure) -> dict[str, float]:
        """Effort counted once: own effort only when no counting live descendant carries any."""
        children: dict[str, list[str]] = defaultdict(list)
        for item in live.values():
            if item.parent_id is not None and item.parent_id in live:
                children[item.parent_id].append(item.id)

        def descendant_carries(item_id: str) -> bool:
            stack = list(children[item_id])
            while stack:
                current = live[stack.pop()]
                if current.counts and current.own_effort(measure) > 0:
                    return True
                stack.extend(children[current.id])
            return False

        return {
            i: (item.own_effort(measure) if item.counts and not descendant_carries(i) else 0.0)
            for i, item in live.items()
        }

    def expected_report(
        self, measure: Measure = "points", state: StateFilter = "all", team: str | None = None
    ) -> dict[str, Any]:
        """Totals, per value, per (value, method), untagged, unaligned and orphaned effort for the
        filter; ``team``: only that team's work and its sub-teams' (None: everything)."""
        live = self.items()
        counted = self.counted(live, measure)
        out = new_report()
        for item_id, item in live.items():
            if counts_in(item, self.plan, state, team):
                count_into(out, counted[item_id], *self.allocation(item, live))
        return close_report(out)

    def intended_flags(self) -> dict[str, int]:
        """How many live items the generator meant to be untagged, orphaned, conflicting, unaligned."""
        live = self.items()
        counts = {"untagged": 0, "orphaned": 0, "conflict": 0, "unaligned": 0}
        for item in live.values():
            shares, orphaned = self.allocation(item, live)
            counts["untagged"] += (None, None) in shares
            counts["unaligned"] += any(value is None and method is not None for value, method in shares)
            counts["orphaned"] += orphaned
            served = {v for m in item.methods for v in self.plan.method_weights[m]}
            counts["conflict"] += bool(item.values and item.methods and not set(item.values) & served)
        return counts


class CombinedTruth(GroundTruth):
    """Several trackers' truths as one report (ids namespaced ``tracker:id``)."""

    def __init__(self, parts: Mapping[str, GroundTruth]) -> None:
        """Combine ``{tracker: truth}``."""
        self.parts = dict(parts)
        super().__init__(self._combined)

    def _combined(self, plan: PlanVocabulary) -> dict[str, TruthItem]:
        out: dict[str, TruthItem] = {}
        for tracker, truth in self.parts.items():
            for item in truth.items().values():
                parent = f"{tracker}:{item.parent_id}" if item.parent_id is not None else None
                out[f"{tracker}:{item.id}"] = replace(item, id=f"{tracker}:{item.id}", parent_id=parent)
        return out
