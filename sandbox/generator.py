"""A realistic Jira workspace from a seed, tagged in every way ``sample_plan.yaml`` reads.

Several projects (team- and company-managed), epics tagged by ``method:`` labels, by the
``V2MOM Method`` select (by method *name*), by the ``Team Bet`` rule, by the ``epic: ONB-1`` rule or
not at all; stories with their own ``value:`` labels, ``Billing`` components, unknown values,
conflicting tags, no epic, or an epic in the out-of-scope LEGACY project (orphaned); sub-tasks
that sometimes carry the points instead of their story; epics that sometimes carry only their own
estimate. Each team of the plan's cascade has its own vocabulary: ``checkout`` labels name the
Payments team's method (on Platform work, where it is no tag: orphaned), ``app-store`` labels
the Mobile team's method that serves nothing (unaligned). Times spread over the six months
before ``now``, so the sample plan's cycle has two quarters of done work to review. Every issue has
a changelog that leads it to where it stands: assignments, reassignments, work started, put down,
reviewed and done (:mod:`sandbox.history`); some issues in progress have nobody assigned.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from pydantic import SecretStr

from v2mom.sandbox import SAMPLE_PLAN_PATH, given
from v2mom.sandbox.history import history_rng, storyline
from v2mom.sandbox.jira.state import METHOD_FIELD, TEAM_BET_FIELD, Deployment, JiraState
from v2mom.sandbox.jira.truth import JiraGroundTruth
from v2mom.sandbox.texts import text_rng, write_text
from v2mom.settings import JiraSettings

__all__ = ["SAMPLE_PLAN_PATH", "generate_jira_workspace", "jira_settings", "scope_jql"]

SCOPE_PROJECTS = ("ONB", "PLAT", "MOB")
OUT_OF_SCOPE = "LEGACY"
CHECKOUT_LABEL = "checkout"  # sample_plan.yaml: {tracker: jira, label: checkout} -> a Payments method
APP_STORE_LABEL = "app-store"  # sample_plan.yaml: {tracker: jira, label: app-store} -> a Mobile method
METHOD_NAMES = {
    "self-serve-onboarding": "Launch self-serve onboarding by end of Q2",
    "slo-program": "SLO program",
    "cost-savings": "Cut infrastructure cost by 20%",
    "incident-tooling": "Incident tooling",
}
VALUES = ("customer-first", "reliability", "efficiency")
POINTS = (1.0, 2.0, 3.0, 5.0, 8.0)
CATEGORIES = (("done", 0.45), ("indeterminate", 0.25), ("new", 0.30))
DEFAULT_NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def scope_jql(state: JiraState | None = None) -> str:
    """The JQL selecting the in-scope projects (LEGACY stays outside)."""
    return f"project in ({', '.join(SCOPE_PROJECTS)})"


def generate_jira_workspace(
    seed: int = 7,
    *,
    epics: int = 36,
    issues: int = 1200,
    now: datetime | None = None,
    deployment: Deployment = "cloud",
) -> tuple[JiraState, JiraGroundTruth]:
    """Build the workspace; ``issues`` counts every issue (epics and sub-tasks included).

    ``deployment="datacenter"`` builds the same workspace (the same seed gives the same issues,
    tags and histories) on a Data Center site.
    """
    rng = random.Random(seed)
    now = now or DEFAULT_NOW
    state = JiraState(clock=lambda: now, deployment=deployment)
    state.add_project("ONB", "Onboarding", team_managed=True)
    state.add_project("PLAT", "Platform", team_managed=False)
    state.add_project("MOB", "Mobile", team_managed=True)
    state.add_project(OUT_OF_SCOPE, "Legacy billing", team_managed=False)

    def when(days_back: float) -> datetime:
        return now - timedelta(days=days_back, minutes=rng.randrange(0, 24 * 60))

    def category() -> str:
        roll = rng.random()
        for name, weight in CATEGORIES:
            if roll < weight:
                return name
            roll -= weight
        return "new"

    def hours(fields: dict[str, object]) -> None:
        roll = rng.random()
        if roll < 0.5:
            fields["timespent"] = rng.randrange(1, 17) * 1800
        elif roll < 0.8:
            fields["original_estimate"] = rng.randrange(1, 17) * 1800

    words = text_rng("jira", seed)
    topic_of: dict[int, str | None] = {}

    def issue(project: str, topic: str | None, type_name: str, **fields: object) -> int:
        """An issue about ``topic`` (None: something nobody tagged, see sandbox.texts)."""
        text = write_text(words, topic, epic=type_name == "Epic")
        created = when(rng.uniform(30, 190))
        updated = min(now, created + timedelta(days=rng.uniform(0, 30)))
        cat = category()
        hours(fields)
        issue_id = state.add_issue(
            project,
            text.title,
            type_name=type_name,
            category=cat,
            created=created,
            updated=updated,
            resolved=updated if cat == "done" else None,
            description=text.description,
            **fields,  # type: ignore[arg-type]
        )
        topic_of[issue_id] = topic
        return issue_id

    # Epics: two out of scope (their stories become orphans), the rest spread over the scope.
    legacy = [issue(OUT_OF_SCOPE, None, "Epic") for _ in range(2)]
    epic_ids: dict[str, list[int]] = {p: [] for p in SCOPE_PROJECTS}
    for n in range(epics):
        project = SCOPE_PROJECTS[n % len(SCOPE_PROJECTS)]
        fields: dict[str, object] = {}
        first_onb = project == "ONB" and not epic_ids["ONB"]
        roll = rng.random()
        topic: str | None = "cost-savings" if project == "PLAT" else None  # the plan's PLAT rule
        if first_onb:
            topic = "self-serve-onboarding"  # tagged by the plan rule `epic: ONB-1`
        elif roll < 0.30:
            topic = rng.choice(list(METHOD_NAMES))
            fields["labels"] = [f"method:{topic}"]
        elif roll < 0.50:
            topic = rng.choice(list(METHOD_NAMES))
            fields["selects"] = {METHOD_FIELD: METHOD_NAMES[topic]}
        elif roll < 0.65:
            topic = "self-serve-onboarding"
            fields["selects"] = {TEAM_BET_FIELD: "Onboarding"}
        elif roll < 0.75:
            topic = rng.choice(VALUES)
            fields["labels"] = [f"value:{topic}"]
        if rng.random() < 0.25:
            fields["points"] = float(rng.choice((13, 20, 40)))
        epic_ids[project].append(issue(project, topic, "Epic", **fields))

    budget = max(0, issues - epics - len(legacy))
    stories_budget = int(budget * 0.72)
    stories: list[tuple[int, str]] = []
    for n in range(stories_budget):
        project = SCOPE_PROJECTS[rng.randrange(len(SCOPE_PROJECTS))]
        fields = {}
        roll = rng.random()
        parent: int | None
        if roll < 0.05:
            parent = rng.choice(legacy)
        elif roll < 0.15:
            parent = None
        else:
            # Leave roughly one epic in six childless so its own estimate counts.
            candidates = epic_ids[project][: max(1, len(epic_ids[project]) * 5 // 6)]
            parent = rng.choice(candidates)
        labels: list[str] = []
        tag = rng.random()
        topic = topic_of.get(parent) if parent is not None else None
        if topic is None and project == "PLAT":
            topic = "cost-savings"
        if tag < 0.08:
            topic = rng.choice(VALUES)
            labels.append(f"value:{topic}")
        elif tag < 0.13:
            topic = "slo-program"  # the plan's Billing rule
            fields["components"] = ["Billing"]
        elif tag < 0.15:
            labels.append("value:speed")  # names no value in the plan: orphaned
        elif tag < 0.18:
            topic = "self-serve-onboarding"
            labels += ["value:efficiency", "method:self-serve-onboarding"]  # conflict
        if rng.random() < 0.3:
            labels.append(rng.choice(("frontend", "backend", "tech-debt")))
        if n % 9 == 0:
            labels.append("blocked")  # the blocked convention (obstacles); draws nothing from rng
        if n % 6 == 1 and project != "MOB":  # the teams' own vocabulary draws nothing from rng either
            labels.append(CHECKOUT_LABEL)
            topic = topic if tag < 0.18 else "checkout-conversion"
        elif n % 6 == 4 and project == "MOB":
            labels.append(APP_STORE_LABEL)
            topic = topic if tag < 0.18 else "app-store-refresh"
        fields["labels"] = labels
        if rng.random() < 0.7:
            fields["points"] = rng.choice(POINTS)
        type_name = rng.choice(("Story", "Story", "Task", "Bug"))
        story_id = issue(project, topic, type_name, parent_id=parent, **fields)
        stories.append((story_id, project))

    remaining = budget - stories_budget
    while remaining > 0 and stories:
        story_id, project = rng.choice(stories)
        group = min(remaining, rng.randrange(1, 5))
        carries = rng.random() < 0.5
        for _ in range(group):
            fields = {"points": rng.choice(POINTS)} if carries else {}
            issue(project, topic_of[story_id], "Sub-task", parent_id=story_id, **fields)
        remaining -= group
    tell_stories(state, seed)
    return state, JiraGroundTruth(state, SCOPE_PROJECTS)


def tell_stories(state: JiraState, seed: int) -> None:
    """Give every issue its changelog: who was assigned and how its status moved (sandbox.history)."""
    rng = history_rng("jira", seed)
    people = state.workers()
    for issue in list(state.issues.values()):
        steps = storyline(
            rng,
            created=issue.created,
            updated=issue.updated,
            todo="To Do",
            final=issue.status,
            finished=issue.category == "done",
            started=("In Progress", "In Review"),
            people=people,
        )
        assignments = [step.after for step in steps if step.field == "assignee"]
        issue.assignee = assignments[-1] if assignments else None
        state.tell_story(issue.id, steps)


def jira_settings(
    state: JiraState,
    url: str,
    *,
    webhook_secrets: Sequence[str] = (),
    api_token: str | None = None,
    page_size: int | None = 100,
) -> JiraSettings:
    """Settings that point the real connector at a sandbox site (its account, scope and secrets):
    email and API token on Cloud, the personal access token on Data Center (``api_token`` names
    either credential). ``page_size`` None leaves the deployment's default page size."""
    credential = SecretStr(api_token if api_token is not None else state.api_token)
    if state.datacenter:
        credentials: dict[str, object] = {"deployment": "datacenter", "token": credential}
    else:
        credentials = {"email": state.account_email, "api_token": credential}
    return JiraSettings.model_validate(
        {
            "url": url,
            **credentials,
            "jql": scope_jql(state),
            "webhook_secrets": [SecretStr(s) for s in webhook_secrets],
            **given(page_size=page_size),
        }
    )
