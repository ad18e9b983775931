"""A realistic Linear workspace from a seed, tagged in every way ``sample_plan.yaml`` reads.

Two teams in scope (ENG, WEB) and one outside (OPS). Projects per team, one named by the plan's
``project: Checkout revamp`` rule, one archived, one of OPS holding ENG issues (orphans). Issues
tagged by ``value:``/``method:`` labels, by the ``Value``/``Method`` label groups, by the plain
``Reliability`` label rule, by an unknown value, by conflicting tags, or not at all (the ``team: WEB``
container rule then applies); sub-issues that sometimes carry the estimate instead of their parent;
every ``state.type`` including triage, canceled and duplicate; a few issues with more than 50
labels; archived and trashed issues; ``error-budget`` labels on some ENG issues, naming the Platform
team's method. Times spread over the six months before ``now``. Every issue has a history that leads
it to where it stands: assignments, reassignments, work started, put down and finished
(:mod:`sandbox.history`); some issues in progress have nobody assigned.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from pydantic import SecretStr

from v2mom.sandbox import given
from v2mom.sandbox.ground_truth import GroundTruth, PlanVocabulary, TruthItem
from v2mom.sandbox.history import Recorded, history_rng, storyline
from v2mom.sandbox.linear.state import Issue, LinearState
from v2mom.sandbox.people_truth import Category, PeopleItem
from v2mom.sandbox.texts import text_rng, topic_from_tags, write_text
from v2mom.settings import LinearSettings

__all__ = ["LinearGroundTruth", "generate_linear_workspace", "linear_settings"]

SCOPE_TEAMS = ("ENG", "WEB")
OUT_OF_SCOPE = "OPS"
RULE_PROJECT = "Checkout revamp"  # sample_plan.yaml: {tracker: linear, project: Checkout revamp}
RULE_PROJECT_METHOD = "self-serve-onboarding"
RULE_LABEL = "Reliability"  # sample_plan.yaml: {tracker: linear, label: Reliability} -> value
TEAM_RULE = ("WEB", "incident-tooling")  # sample_plan.yaml: {tracker: linear, team: WEB}
BUDGET_RULE = ("error-budget", "error-budgets")  # sample_plan.yaml: a Platform method, on ENG issues
VALUES = ("customer-first", "reliability", "efficiency")
METHODS = ("self-serve-onboarding", "slo-program", "cost-savings", "incident-tooling")
ESTIMATES = (1.0, 2.0, 3.0, 5.0, 8.0)
STATE_TYPES = (
    ("completed", 0.38),
    ("started", 0.2),
    ("unstarted", 0.17),
    ("backlog", 0.12),
    ("triage", 0.05),
    ("canceled", 0.05),
    ("duplicate", 0.03),
)
CATEGORIES: dict[str, Category] = {
    "triage": "todo",
    "backlog": "todo",
    "unstarted": "todo",
    "started": "in_progress",
    "completed": "done",
    "canceled": "canceled",
    "duplicate": "canceled",
}
PROJECT_CATEGORIES: dict[str, Category] = {  # a project's status, as the connector reads it
    "backlog": "todo",
    "planned": "todo",
    "paused": "todo",
    "started": "in_progress",
    "completed": "done",
    "canceled": "canceled",
}
FINISHED = ("completed", "canceled", "duplicate")
NOISE = ("bug", "frontend", "backend", "tech-debt", "customer-report")
DEFAULT_NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


class LinearGroundTruth(GroundTruth):
    """Expected figures for the in-scope teams of a LinearState."""

    def __init__(self, state: LinearState, teams: tuple[str, ...] = SCOPE_TEAMS) -> None:
        """Bind to ``state``; figures follow its current issues and projects."""
        self.state = state
        self.teams = set(teams)
        super().__init__(self._truth_items)

    def live_ids(self) -> set[str]:
        """Ids of the projects and issues a sync should hold as live."""
        with self.state.lock:
            projects = {
                p.id for p in self.state.projects.values() if p.team_key in self.teams and not p.removed
            }
            issues = {i.id for i in self.state.issues.values() if i.team_key in self.teams and not i.removed}
        return projects | issues

    def transitions(self) -> set[Recorded]:
        """Every state and assignee change in the histories of the live in-scope issues."""
        state = self.state
        found: set[Recorded] = set()
        with state.lock:
            for issue in state.issues.values():
                if issue.team_key not in self.teams or issue.removed:
                    continue
                for entry in issue.history:
                    if entry.to_state is not None:
                        before = state.workflow_state_id(*entry.from_state) if entry.from_state else None
                        after = state.workflow_state_id(*entry.to_state)
                        category = CATEGORIES[entry.to_state[1]]
                        found.add(
                            Recorded(issue.id, entry.id, entry.created, "status", before, after, category)
                        )
                    if entry.from_assignee is not None or entry.to_assignee is not None:
                        found.add(
                            Recorded(
                                issue.id,
                                entry.id,
                                entry.created,
                                "assignee",
                                entry.from_assignee,
                                entry.to_assignee,
                                None,
                            )
                        )
        return found

    def people_items(self) -> dict[str, PeopleItem]:
        """The live in-scope projects and issues as the people's-time oracle sees them
        (:mod:`sandbox.people_truth`); projects have no assignee."""
        state = self.state
        out: dict[str, PeopleItem] = {}
        with state.lock:
            for project in state.projects.values():
                if project.team_key in self.teams and not project.removed:
                    out[project.id] = PeopleItem(
                        tracker="linear",
                        id=project.id,
                        parent_id=None,
                        state=PROJECT_CATEGORIES.get(project.status, "todo"),
                        created_at=project.created,
                        completed_at=project.completed,
                    )
            for issue in state.issues.values():
                if issue.team_key in self.teams and not issue.removed:
                    out[issue.id] = PeopleItem(
                        tracker="linear",
                        id=issue.id,
                        parent_id=issue.parent_id or issue.project_id,
                        state=CATEGORIES[issue.state_type],
                        created_at=issue.created,
                        completed_at=issue.completed,
                        assignee=issue.assignee_id,
                    )
        return out

    def _truth_items(self, plan: PlanVocabulary) -> Mapping[str, TruthItem]:
        state = self.state
        out: dict[str, TruthItem] = {}
        with state.lock:
            for project in state.projects.values():
                if project.team_key not in self.teams or project.removed:
                    continue
                out[project.id] = TruthItem(
                    id=project.id,
                    parent_id=None,
                    methods=(RULE_PROJECT_METHOD,) if project.name.lower() == RULE_PROJECT.lower() else (),
                    container_methods=(TEAM_RULE[1],) if project.team_key == TEAM_RULE[0] else (),
                    done=project.status == "completed",
                    counts=project.status != "canceled",
                    team=plan.team_of("linear", project.team_key),
                )
            for issue in state.issues.values():
                if issue.team_key in self.teams and not issue.removed:
                    out[issue.id] = self._issue_item(issue, plan)
        return out

    def _issue_item(self, issue: Issue, plan: PlanVocabulary) -> TruthItem:
        names: list[str] = []
        grouped: list[tuple[str, str]] = []
        for label_id in issue.label_ids:
            label = self.state.labels[label_id]
            names.append(label.name)
            if label.parent is not None:
                grouped.append((self.state.labels[label.parent].name.lower(), label.name.lower()))
        values, methods, unknown = plan.read_prefixed(names)
        for group, child in grouped:
            if group == "value":
                if child in plan.value_by_name:
                    values.append(plan.value_by_name[child])
                else:
                    unknown = True
            elif group == "method":
                if child in plan.method_by_name:
                    methods.append(plan.method_by_name[child])
                else:
                    unknown = True
        if RULE_LABEL.lower() in {n.lower() for n in names}:
            values.append("reliability")
        if BUDGET_RULE[0] in {n.lower() for n in names}:
            methods.append(BUDGET_RULE[1])
        return TruthItem(
            id=issue.id,
            parent_id=issue.parent_id or issue.project_id,
            values=tuple(sorted(set(values))),
            methods=tuple(sorted(set(methods))),
            unknown=unknown,
            container_methods=(TEAM_RULE[1],) if issue.team_key == TEAM_RULE[0] else (),
            points=issue.estimate or 0.0,
            done=issue.state_type == "completed",
            counts=issue.state_type not in ("canceled", "duplicate"),
            team=plan.team_of("linear", issue.team_key),
        )


def generate_linear_workspace(
    seed: int = 11, *, projects: int = 12, issues: int = 900, now: datetime | None = None
) -> tuple[LinearState, LinearGroundTruth]:
    """Build the workspace; ``issues`` counts every issue (sub-issues and removed ones included)."""
    rng = random.Random(seed)
    now = now or DEFAULT_NOW
    state = LinearState(clock=lambda: now, seed=seed)
    for key, name in (("ENG", "Engineering"), ("WEB", "Web"), (OUT_OF_SCOPE, "Operations")):
        state.add_team(key, name)

    def when(days_back: float) -> datetime:
        return now - timedelta(days=days_back, minutes=rng.randrange(0, 24 * 60))

    def state_type() -> str:
        roll = rng.random()
        for name, weight in STATE_TYPES:
            if roll < weight:
                return name
            roll -= weight
        return "unstarted"

    project_ids: dict[str, list[str]] = {team: [] for team in (*SCOPE_TEAMS, OUT_OF_SCOPE)}
    for n in range(projects):
        team = SCOPE_TEAMS[n % len(SCOPE_TEAMS)]
        name = RULE_PROJECT if n == 0 else f"Project {n}"
        status = rng.choice(("planned", "started", "started", "completed", "backlog"))
        project_ids[team].append(
            state.add_project(team, name, status=status, created=when(rng.uniform(190, 200)))
        )
    project_ids[OUT_OF_SCOPE].append(state.add_project(OUT_OF_SCOPE, "Ops migration", created=when(200)))
    archived_project = project_ids["WEB"][min(1, len(project_ids["WEB"]) - 1)]  # its issues become orphans

    def labels_for() -> list[str]:
        chosen: list[str] = []
        roll = rng.random()
        if roll < 0.07:
            chosen.append(state.label(f"value:{rng.choice(VALUES)}"))
        elif roll < 0.14:
            chosen.append(state.label(rng.choice(VALUES), group="Value"))
        elif roll < 0.20:
            chosen.append(state.label(f"method:{rng.choice(METHODS)}"))
        elif roll < 0.26:
            chosen.append(state.label(rng.choice(METHODS), group="Method"))
        elif roll < 0.30:
            chosen.append(state.label(RULE_LABEL))
        elif roll < 0.32:
            chosen.append(state.label("value:speed"))  # names no value in the plan: orphaned
        elif roll < 0.35:
            chosen += [state.label("efficiency", group="Value"), state.label("method:self-serve-onboarding")]
        if rng.random() < 0.3:
            chosen.append(state.label(rng.choice(NOISE)))
        return chosen

    words = text_rng("linear", seed)

    def topic(labels: list[str], team: str, project: str | None, parent: str | None) -> str | None:
        """What an issue is about: its labels (a group's, a prefix's, a rule's), else its parent's
        topic, its project's or its team's rule (see sandbox.texts)."""
        names = []
        for label_id in labels:
            label = state.labels[label_id]
            group = state.labels[label.parent].name if label.parent else None
            if group in ("Value", "Method"):
                names.append(f"{group.lower()}:{label.name}")
            elif label.name == RULE_LABEL:
                names.append("value:reliability")
            elif label.name == BUDGET_RULE[0]:
                names.append(f"method:{BUDGET_RULE[1]}")
            else:
                names.append(label.name)
        found = topic_from_tags(names) or (topic_of.get(parent) if parent else None)
        if found is None and project is not None and state.projects[project].name == RULE_PROJECT:
            found = RULE_PROJECT_METHOD
        if found is None and team == TEAM_RULE[0]:
            found = TEAM_RULE[1]
        return found

    topic_of: dict[str, str | None] = {}
    parents: list[tuple[str, str]] = []
    top_budget = int(issues * 0.75)
    for n in range(top_budget):
        team = SCOPE_TEAMS[rng.randrange(len(SCOPE_TEAMS))]
        roll = rng.random()
        if roll < 0.04:
            project: str | None = project_ids[OUT_OF_SCOPE][0]  # orphaned: its project is not synced
        elif roll < 0.2:
            project = None
        else:
            project = rng.choice(project_ids[team][: max(1, len(project_ids[team]) * 5 // 6)])
        created = when(rng.uniform(20, 190))
        updated = min(now, created + timedelta(days=rng.uniform(0, 20)))
        labels = labels_for()
        if n % 8 == 3 and team == "ENG":  # the Platform team's own vocabulary; draws nothing from rng
            labels.append(state.label(BUDGET_RULE[0]))
        if n % 150 == 7:  # more labels than one page holds: the tag sits on the second page
            labels = [state.label(f"area-{k}") for k in range(55)] + [
                state.label("reliability", group="Value")
            ]
        about = topic(labels, team, project, None)
        text = write_text(words, about)
        issue_id = state.add_issue(
            team,
            text.title,
            description=text.description,
            state_type=state_type(),
            created=created,
            updated=updated,
            labels=labels,
            project_id=project,
            estimate=rng.choice(ESTIMATES) if rng.random() < 0.7 else None,
        )
        topic_of[issue_id] = about
        parents.append((issue_id, team))

    remaining = issues - top_budget
    while remaining > 0 and parents:
        parent_id, team = rng.choice(parents)
        group = min(remaining, rng.randrange(1, 4))
        carries = rng.random() < 0.5
        parent = state.issues[parent_id]
        for k in range(group):
            created = parent.created + timedelta(hours=k + 1)
            drawn = state_type()  # in the order the workspace has always been drawn
            updated = min(now, created + timedelta(days=rng.uniform(0, 10)))
            labels = labels_for() if rng.random() < 0.3 else []
            text = write_text(words, topic(labels, team, parent.project_id, parent_id))
            state.add_issue(
                team,
                text.title,
                description=text.description,
                state_type=drawn,
                created=created,
                updated=updated,
                labels=labels,
                parent_id=parent_id,
                project_id=parent.project_id,
                estimate=rng.choice(ESTIMATES) if carries else None,
            )
        remaining -= group

    tell_stories(state, seed)
    live = sorted(i for i in state.issues if state.issues[i].team_key in SCOPE_TEAMS)
    for issue_id in rng.sample(live, k=min(len(live), max(2, issues // 60))):
        state.archive_issue(issue_id, trash=rng.random() < 0.3)
    state.archive_project(archived_project)
    state.listeners.clear()
    return state, LinearGroundTruth(state)


def tell_stories(state: LinearState, seed: int) -> None:
    """Give every issue its history: who was assigned and how its state moved (sandbox.history)."""
    rng = history_rng("linear", seed)
    people = sorted(state.users)
    for issue in list(state.issues.values()):
        final = issue.state_type
        steps = storyline(
            rng,
            created=issue.created,
            updated=issue.updated,
            todo=final if final in ("triage", "backlog", "unstarted") else "unstarted",
            final=final,
            finished=final in FINISHED,
            started=("started",),
            people=people,
        )
        assignments = [step.after for step in steps if step.field == "assignee"]
        issue.assignee_id = assignments[-1] if assignments else None
        state.tell_story(issue.id, steps)


def linear_settings(
    state: LinearState,
    url: str,
    *,
    webhook_secrets: tuple[str, ...] = (),
    api_key: str | None = None,
    page_size: int | None = 100,
) -> LinearSettings:
    """Settings that point the real connector at a sandbox workspace (``page_size`` None: the
    settings' default)."""
    return LinearSettings.model_validate(
        {
            "api_url": f"{url}/graphql",
            "api_key": SecretStr(api_key if api_key is not None else state.api_key),
            "teams": list(SCOPE_TEAMS),
            "webhook_secrets": [SecretStr(s) for s in webhook_secrets],
            **given(page_size=page_size),
        }
    )
