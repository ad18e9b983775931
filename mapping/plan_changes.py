"""What a new plan changes relative to the stored one: human lines (CLI, API and the audit share
them) and the structured summary a plan version keeps (its history), and the rule that a change to
a plan in a cycle says why."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from v2mom.errors import ConfigError
from v2mom.mapping.plan import Plan, Rule

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


def change_summary(old: Plan | None, new: Plan) -> dict[str, Any]:
    """What ``new`` changes relative to ``old``, over the whole cascade, as a plan version keeps it.

    ``{"lines": [...plan_changes lines...], "values": {"added", "renamed", "removed", "changed"},
    "methods": {...the same...}, "rules": {"added", "removed", "changed"}}``. Values and methods are
    the company's and every team's (ids are unique across the cascade); added and removed list ids,
    renamed ``{"id", "from", "to"}``, changed the ids whose other fields changed (weights, serves,
    targets). Rules are named by :func:`rule_text`; a rule with an id whose content changed is
    ``changed``, a rule without one is matched by its text. The first plan adds everything.
    """
    return {
        "lines": plan_changes(old, new),
        "values": _named_changes(_by_id(old.cascade_values() if old else []), _by_id(new.cascade_values())),
        "methods": _named_changes(
            _by_id(old.cascade_methods() if old else []), _by_id(new.cascade_methods())
        ),
        "rules": _rule_changes(old.rules if old is not None else (), new.rules),
    }


def _by_id(entries: Sequence[Any]) -> dict[str, Any]:
    """Values or methods by id (ids are unique across the cascade)."""
    return {entry.id: entry for entry in entries}


def _named_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Ids added and removed, renamed (``{"id", "from", "to"}``) and otherwise changed."""
    kept = [k for k in after if k in before]
    return {
        "added": [k for k in after if k not in before],
        "renamed": [
            {"id": k, "from": before[k].name, "to": after[k].name}
            for k in kept
            if before[k].name != after[k].name
        ],
        "removed": [k for k in before if k not in after],
        "changed": [
            k
            for k in kept
            if before[k].model_copy(update={"name": ""}) != after[k].model_copy(update={"name": ""})
        ],
    }


def _rule_changes(before: Sequence[Rule], after: Sequence[Rule]) -> dict[str, list[str]]:
    """Rules added, removed and changed, each as its one line (:func:`rule_text`)."""
    old = [r.model_dump(mode="json", exclude_none=True) for r in before]
    new = [r.model_dump(mode="json", exclude_none=True) for r in after]
    old_by_id = {r["id"]: r for r in old if r.get("id")}
    new_by_id = {r["id"]: r for r in new if r.get("id")}
    changed = [rule_text(r) for k, r in new_by_id.items() if k in old_by_id and old_by_id[k] != r]
    old_texts = [rule_text(r) for r in old if r.get("id") not in new_by_id]
    new_texts = [rule_text(r) for r in new if r.get("id") not in old_by_id]
    added = list(new_texts)
    for text in old_texts:  # a rule without an id is matched by its text, once per copy
        if text in added:
            added.remove(text)
    removed = list(old_texts)
    for text in new_texts:
        if text in removed:
            removed.remove(text)
    return {"added": added, "removed": removed, "changed": changed}


def reason_problem(current: Plan | None, reason: str | None) -> str | None:
    """The problem with changing ``current`` for ``reason``: a plan in a cycle needs a non-blank
    reason for every change; None when the change may go ahead."""
    if current is None or current.cycle is None or (reason is not None and reason.strip()):
        return None
    return (
        f"reason: a reason is needed: the plan is in cycle {current.cycle.id}, "
        "so every change to it says why it is made"
    )


def require_reason(current: Plan | None, reason: str | None) -> None:
    """:class:`ConfigError` naming ``reason`` when :func:`reason_problem` finds one."""
    problem = reason_problem(current, reason)
    if problem is not None:
        raise ConfigError(problem)


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
