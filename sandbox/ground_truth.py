"""The sandbox's own answer to "how much effort goes to each value", computed independently.

It does not import ``mapping``: it reads the sample plan's values and weights with plain YAML and
applies CONTRACT.md's rules to the issues *as they are now* in the sandbox state (so tests may
mutate, move and delete issues and compare again). The tagging vocabulary it knows is exactly
what the generator uses: ``value:``/``method:`` labels, the ``V2MOM Method`` select by name, the
``Team Bet = Onboarding`` rule, the ``Billing`` component rule, the ``epic: ONB-1`` rule and the
``project: PLAT`` container rule.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any, Literal

import yaml

from sandbox import SAMPLE_PLAN_PATH
from sandbox.jira.state import METHOD_FIELD, TEAM_BET_FIELD, Issue, JiraState

Measure = Literal["points", "hours", "count"]
StateFilter = Literal["all", "done", "open"]


class GroundTruth:
    """Expected report figures for the in-scope projects of a JiraState."""

    def __init__(self, state: JiraState, scope: Iterable[str]) -> None:
        """Bind to ``state``; figures are computed on demand from its current issues."""
        self.state = state
        self.scope = set(scope)
        plan = yaml.safe_load(SAMPLE_PLAN_PATH.read_text(encoding="utf-8"))
        self.values = {v["id"] for v in plan["values"]}
        self.method_weights: dict[str, dict[str, float]] = {}
        self.method_by_name: dict[str, str] = {}
        for method in plan["methods"]:
            weights = method.get("weights") or {
                v: 1 / len(method["values"]) for v in method.get("values", [])
            }
            self.method_weights[method["id"]] = weights
            self.method_by_name[method["name"].lower()] = method["id"]
            self.method_by_name[method["id"]] = method["id"]

    def live(self) -> dict[int, Issue]:
        """In-scope issues that exist."""
        return {i.id: i for i in self.state.issues.values() if i.project in self.scope}

    # -- tags ---------------------------------------------------------------------------------

    def own_tags(self, issue: Issue) -> tuple[list[str], list[str], bool]:
        """(explicit values, methods, names-something-unknown) from the issue itself."""
        values: list[str] = []
        methods: list[str] = []
        unknown = False
        for label in issue.labels:
            kind, _, ref = label.partition(":")
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
        chosen = issue.selects.get(METHOD_FIELD)
        if chosen is not None:
            methods.append(self.method_by_name[chosen.lower()])
        if issue.selects.get(TEAM_BET_FIELD, "").lower() == "onboarding":
            methods.append("self-serve-onboarding")
        if "billing" in {c.lower() for c in issue.components}:
            methods.append("slo-program")
        if issue.key == "ONB-1":
            methods.append("self-serve-onboarding")
        return sorted(set(values)), sorted(set(methods)), unknown

    def allocation(
        self, issue: Issue, live: dict[int, Issue]
    ) -> tuple[dict[tuple[str | None, str | None], float], bool]:
        """Shares of the issue's effort per (value, method) and whether it is orphaned."""
        values, methods, orphaned = self.own_tags(issue)
        if issue.parent_id is not None and issue.parent_id not in live:
            orphaned = True
        if not values and not methods:
            ancestor = live.get(issue.parent_id) if issue.parent_id is not None else None
            while ancestor is not None:
                values, methods, _ = self.own_tags(ancestor)
                if values or methods:
                    break
                ancestor = live.get(ancestor.parent_id) if ancestor.parent_id is not None else None
        if not values and not methods and issue.project == "PLAT":
            methods = ["cost-savings"]
        shares: dict[tuple[str | None, str | None], float] = defaultdict(float)
        if values:
            for value in values:
                serving: list[str | None] = [m for m in methods if value in self.method_weights[m]]
                for method in serving or [None]:
                    shares[(value, method)] += 1 / len(values) / max(1, len(serving))
        elif methods:
            for method in methods:
                for value, weight in self.method_weights[method].items():
                    shares[(value, method)] += weight / len(methods)
        else:
            shares[(None, None)] = 1.0
        return dict(shares), orphaned

    # -- effort -------------------------------------------------------------------------------

    @staticmethod
    def own_effort(issue: Issue, measure: Measure) -> float:
        """The issue's own effort (Jira times are seconds)."""
        if measure == "count":
            return 1.0
        if measure == "points":
            return issue.points or 0.0
        seconds = issue.timespent if issue.timespent else issue.original_estimate
        return (seconds or 0) / 3600

    def counted(self, live: dict[int, Issue], measure: Measure) -> dict[int, float]:
        """Effort counted once: own effort only when no live descendant carries any."""
        children: dict[int, list[int]] = defaultdict(list)
        for issue in live.values():
            if issue.parent_id in live:
                children[issue.parent_id].append(issue.id)

        def descendant_carries(issue_id: int) -> bool:
            stack = list(children[issue_id])
            while stack:
                current = stack.pop()
                if self.own_effort(live[current], measure) > 0:
                    return True
                stack.extend(children[current])
            return False

        return {
            i: (0.0 if descendant_carries(i) else self.own_effort(issue, measure))
            for i, issue in live.items()
        }

    def expected_report(self, measure: Measure = "points", state: StateFilter = "all") -> dict[str, Any]:
        """Totals, per value, per (value, method), untagged and orphaned effort for the filter."""
        live = self.live()
        counted = self.counted(live, measure)
        out: dict[str, Any] = {
            "total_effort": 0.0,
            "total_items": 0,
            "values": defaultdict(float),
            "methods": defaultdict(float),
            "untagged_effort": 0.0,
            "untagged_items": 0,
            "orphaned_effort": 0.0,
            "orphaned_items": 0,
        }
        for issue_id, issue in live.items():
            if state == "done" and issue.category != "done":
                continue
            if state == "open" and issue.category == "done":
                continue
            effort = counted[issue_id]
            shares, orphaned = self.allocation(issue, live)
            out["total_effort"] += effort
            out["total_items"] += 1
            if orphaned:
                out["orphaned_effort"] += effort
                out["orphaned_items"] += 1
            for (value, method), share in shares.items():
                if value is None:
                    out["untagged_effort"] += effort
                    out["untagged_items"] += 1
                else:
                    out["values"][value] += effort * share
                    out["methods"][(value, method)] += effort * share
        out["values"] = dict(out["values"])
        out["methods"] = dict(out["methods"])
        return out

    def intended_flags(self) -> dict[str, int]:
        """How many in-scope issues the generator meant to be untagged, orphaned, conflicting."""
        live = self.live()
        counts = {"untagged": 0, "orphaned": 0, "conflict": 0}
        for issue in live.values():
            shares, orphaned = self.allocation(issue, live)
            values, methods, _ = self.own_tags(issue)
            counts["untagged"] += (None, None) in shares
            counts["orphaned"] += orphaned
            served = {v for m in methods for v in self.method_weights[m]}
            counts["conflict"] += bool(values and methods and not set(values) & served)
        return counts
