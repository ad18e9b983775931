"""What a plan change would do, before it is applied: items re-tagged and effort moved per value.

Both sides are resolved in memory with the same code the remap uses (the stored plan, then the
proposed one), so the comparison is like for like and nothing is written. Effort follows the
report's rules: counted once, split by weights, canceled items count nothing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from mapping.effort import Measure, counts
from mapping.plan import Plan
from sync.remap import item_efforts, resolve_all
from v2mom.store import Store

UNTAGGED = "untagged"


@dataclass
class PlanPreview:
    """The effect of replacing the stored plan with a proposed one."""

    measure: Measure
    items: int = 0  # live items considered
    changed: int = 0  # items whose values or methods change
    newly_tagged: int = 0  # untagged before, tagged after
    newly_untagged: int = 0
    before: dict[str, float] = field(default_factory=dict)  # value id (or "untagged") -> effort
    after: dict[str, float] = field(default_factory=dict)

    def deltas(self) -> dict[str, float]:
        """Effort gained (positive) or lost per value, ``untagged`` included; zero moves left out."""
        keys = set(self.before) | set(self.after)
        out = {k: round(self.after.get(k, 0.0) - self.before.get(k, 0.0), 6) for k in keys}
        return {k: v for k, v in sorted(out.items()) if abs(v) > 1e-9}

    def summary(self) -> str:
        """One human line: ``would tag 214 items, moving 37.5 points from untagged to customer-first``."""
        deltas = self.deltas()
        unit = "items" if self.measure == "count" else self.measure
        losers = [f"{k} ({-v:g})" for k, v in deltas.items() if v < 0]
        gainers = [f"{k} ({v:g})" for k, v in deltas.items() if v > 0]
        moved = sum(v for v in deltas.values() if v > 0)
        head = (
            f"would re-tag {self.changed} items "
            f"({self.newly_tagged} newly tagged, {self.newly_untagged} newly untagged)"
        )
        if not deltas:
            return head + f", moving no {unit}"
        return head + f", moving {moved:g} {unit} from {', '.join(losers)} to {', '.join(gainers)}"

    def to_dict(self) -> dict[str, Any]:
        """The JSON answer of a dry run."""
        return {
            "measure": self.measure,
            "items": self.items,
            "changed": self.changed,
            "newly_tagged": self.newly_tagged,
            "newly_untagged": self.newly_untagged,
            "before": {k: round(v, 6) for k, v in sorted(self.before.items())},
            "after": {k: round(v, 6) for k, v in sorted(self.after.items())},
            "deltas": self.deltas(),
            "summary": self.summary(),
        }


def preview_plan(store: Store, current: Plan, proposed: Plan, measure: Measure = "points") -> PlanPreview:
    """Compare ``current`` and ``proposed`` over every live item, writing nothing."""
    stored = list(store.iter_items())
    efforts = item_efforts(stored, measure)
    before = {s.pk: resolution for s, resolution in resolve_all(stored, current)}
    after = {s.pk: resolution for s, resolution in resolve_all(stored, proposed)}
    preview = PlanPreview(measure=measure, items=len(stored))
    totals: tuple[dict[str, float], dict[str, float]] = (defaultdict(float), defaultdict(float))
    for s in stored:
        old, new = before[s.pk], after[s.pk]
        if (old.values, old.methods) != (new.values, new.methods):
            preview.changed += 1
            preview.newly_tagged += "untagged" in old.flags and "untagged" not in new.flags
            preview.newly_untagged += "untagged" not in old.flags and "untagged" in new.flags
        if not counts(s.item):
            continue
        effort = efforts.get((s.item.tracker, s.item.id), 0.0)
        for resolution, total in ((old, totals[0]), (new, totals[1])):
            for allocation in resolution.allocations:
                total[allocation.value_id or UNTAGGED] += effort * allocation.weight
    preview.before, preview.after = dict(totals[0]), dict(totals[1])
    return preview
