"""What a new plan changes relative to the stored one, in human lines (CLI and API share it)."""

from __future__ import annotations

from v2mom.mapping.plan import Plan

SECTIONS = ("values", "methods", "obstacles", "measures", "rules")


def plan_changes(old: Plan | None, new: Plan) -> list[str]:
    """``methods: added slo-program``-style lines; ``no changes`` when identical."""
    if old is None:
        return [f"new plan: {len(new.values)} values, {len(new.methods)} methods, {len(new.rules)} rules"]
    lines: list[str] = []
    if old.vision != new.vision:
        lines.append("vision changed")
    for section in SECTIONS:
        before = {x.id: x for x in getattr(old, section)}
        after = {x.id: x for x in getattr(new, section)}
        lines += [f"{section}: added {k}" for k in after if k not in before]
        lines += [f"{section}: removed {k}" for k in before if k not in after]
        lines += [f"{section}: changed {k}" for k in after if k in before and after[k] != before[k]]
    return lines or ["no changes"]
