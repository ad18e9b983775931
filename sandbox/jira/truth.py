"""The Jira sandbox seen by the oracle: issues as TruthItems, with the vocabulary its generator uses.

``value:``/``method:`` labels, the ``V2MOM Method`` select by name, the ``Team Bet = Onboarding``
rule, the ``Billing`` component rule, the ``epic: ONB-1`` rule, the teams' ``checkout`` and
``app-store`` label rules and the ``project: PLAT`` container rule of ``sample_plan.yaml``; each
project's team from the plan's scopes.
"""

from __future__ import annotations

from collections.abc import Iterable

from v2mom.sandbox.ground_truth import GroundTruth, PlanVocabulary, TruthItem
from v2mom.sandbox.history import Recorded
from v2mom.sandbox.jira.state import METHOD_FIELD, TEAM_BET_FIELD, Issue, JiraState
from v2mom.sandbox.people_truth import Category, PeopleItem

CATEGORIES: dict[str, Category] = {
    "new": "todo",
    "undefined": "todo",
    "indeterminate": "in_progress",
    "done": "done",
}
LABEL_RULES = {"checkout": "checkout-conversion", "app-store": "app-store-refresh"}  # the teams' own


class JiraGroundTruth(GroundTruth):
    """Expected figures for the in-scope projects of a JiraState."""

    def __init__(self, state: JiraState, scope: Iterable[str]) -> None:
        """Bind to ``state``; figures follow its current issues."""
        self.state = state
        self.scope = set(scope)
        super().__init__(self._truth_items)

    def live(self) -> dict[int, Issue]:
        """In-scope issues that exist."""
        return {i.id: i for i in self.state.issues.values() if i.project in self.scope}

    def transitions(self) -> set[Recorded]:
        """Every status and assignee change in the changelogs of the in-scope issues."""
        with self.state.lock:
            categories = {status_id: CATEGORIES[key] for status_id, key in self.state.statuses.values()}
            return {
                Recorded(
                    str(issue.id),
                    str(group.id),
                    group.created,
                    change.field_id,  # type: ignore[arg-type]
                    change.before,
                    change.after,
                    categories[change.after] if change.field_id == "status" and change.after else None,
                )
                for issue in self.live().values()
                for group in issue.changelog
                for change in group.items
                if change.field_id in ("status", "assignee")
            }

    def people_items(self) -> dict[str, PeopleItem]:
        """The in-scope issues as the people's-time oracle sees them (:mod:`sandbox.people_truth`)."""
        with self.state.lock:
            return {
                str(issue.id): PeopleItem(
                    tracker="jira",
                    id=str(issue.id),
                    parent_id=str(issue.parent_id) if issue.parent_id is not None else None,
                    state=CATEGORIES[issue.category],
                    created_at=issue.created,
                    completed_at=issue.resolved if issue.category == "done" else None,
                    assignee=issue.assignee,
                )
                for issue in self.live().values()
            }

    def _truth_items(self, plan: PlanVocabulary) -> dict[str, TruthItem]:
        with self.state.lock:
            live = list(self.live().values())
        return {str(issue.id): self._truth_item(issue, plan) for issue in live}

    @staticmethod
    def _truth_item(issue: Issue, plan: PlanVocabulary) -> TruthItem:
        values, methods, unknown = plan.read_prefixed(issue.labels)
        chosen = issue.selects.get(METHOD_FIELD)
        if chosen is not None:
            methods.append(plan.method_by_name[chosen.lower()])
        if issue.selects.get(TEAM_BET_FIELD, "").lower() == "onboarding":
            methods.append("self-serve-onboarding")
        if "billing" in {c.lower() for c in issue.components}:
            methods.append("slo-program")
        if issue.key == "ONB-1":
            methods.append("self-serve-onboarding")
        methods += [LABEL_RULES[label.lower()] for label in issue.labels if label.lower() in LABEL_RULES]
        seconds = issue.timespent if issue.timespent else issue.original_estimate
        return TruthItem(
            id=str(issue.id),
            parent_id=str(issue.parent_id) if issue.parent_id is not None else None,
            values=tuple(sorted(set(values))),
            methods=tuple(sorted(set(methods))),
            unknown=unknown,
            container_methods=("cost-savings",) if issue.project == "PLAT" else (),
            points=issue.points or 0.0,
            hours=(seconds or 0) / 3600,
            done=issue.category == "done",
            team=plan.team_of("jira", issue.project),
        )
