"""What a new plan changes relative to the stored one, in human lines (CLI, API and the audit share it)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from v2mom.mapping.plan import Plan

SECTIONS = ("values", "methods", "obstacles", "measures", "rules")
RuleAction = Literal["added", "replaced", "removed", "reordered"]


def plan_changes(old: Plan | None, new: Plan) -> list[str]:
    """``methods: added slo-program``-style lines; ``no changes`` when identical."""
    if old is None:
        return [f"new plan: {len(new.values)} values, {len(new.methods)} methods, {len(new.rules)} rules"]
    lines: list[str] = []
    if old.vision != new.vision:
        lines.append("vision changed")
    if old.cycle != new.cycle:
        lines.append(
            "cycle " + ("changed" if old.cycle and new.cycle else "added" if new.cycle else "removed")
        )
    for section in (*SECTIONS, "teams"):
        # A plan without teams holds None there, so a change only to the teams is not "no changes".
        before = {x.id: x for x in getattr(old, section) or ()}
        after = {x.id: x for x in getattr(new, section) or ()}
        lines += [f"{section}: added {k}" for k in after if k not in before]
        lines += [f"{section}: removed {k}" for k in before if k not in after]
        lines += [f"{section}: changed {k}" for k in after if k in before and after[k] != before[k]]
    return lines or ["no changes"]


def rule_text(rule: Mapping[str, Any]) -> str:
    """A rule document in one line: ``r3: tracker=jira, label=frontend -> value reliability``."""
    when = rule.get("when") or {}
    conditions = ", ".join(f"{key}={value}" for key, value in when.items() if value is not None)
    target = f"method {rule['method']}" if rule.get("method") is not None else f"value {rule.get('value')}"
    head = f"{rule['id']}: " if rule.get("id") else ""
    return f"{head}{conditions} -> {target}"


@dataclass(frozen=True)
class RuleChange:
    """What a rule route did to the plan, for the audit: the rule itself, not only the new version.

    ``rule`` is the rule added, the new one of a replacement, or the one removed (as stored, with its
    id); ``replaced`` the rule a replacement took the place of; ``order`` the old positions in their
    new order.
    """

    action: RuleAction
    rule: Mapping[str, Any] | None = None
    replaced: Mapping[str, Any] | None = None
    position: int | None = None
    order: tuple[int, ...] | None = None

    def describe(self) -> str:
        """One line: ``rule r3 added: tracker=jira, label=x -> value reliability``."""
        if self.action == "reordered":
            return f"rules reordered: {', '.join(str(i) for i in self.order or ())}"
        text = rule_text(self.rule or {})
        if self.replaced is not None:
            text += f" (was {rule_text(self.replaced)})"
        return f"rule {self.action}: {text}"

    def details(self) -> dict[str, Any]:
        """The audit's details of this change (what is set)."""
        out: dict[str, Any] = {"action": self.action}
        if self.rule is not None:
            out["rule"] = dict(self.rule)
        if self.replaced is not None:
            out["replaced"] = dict(self.replaced)
        if self.position is not None:
            out["position"] = self.position
        if self.order is not None:
            out["order"] = list(self.order)
        return out
