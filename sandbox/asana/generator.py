"""A realistic Asana workspace from a seed, tagged in every way ``sample_plan.yaml`` reads.

Three projects in scope and one outside (Legacy). Tasks tagged by ``value:``/``method:`` tags, by
the multi-enum ``V2MOM Value`` field (ids or names, one or two values), by the enum
``V2MOM Method`` field (method names), by the ``Team Bet = Onboarding`` rule, by the
``project: Platform reliability`` rule (through the project), by an unknown value, by conflicting
tags, or not at all. Subtasks two levels deep, sometimes carrying the points instead of their
task; subtasks of Legacy tasks added to an in-scope project (orphans); ``Story Points`` and
``actual_time_minutes`` for effort. Times spread over the six months before ``now``. Every task has
stories that lead it to where it stands: assignments, reassignments, comments and its completion
(:mod:`sandbox.history`); its assignee is the last one its stories name. Some tasks have a start: a
``start_on`` day or a ``start_at`` moment after their creation and before their completion or last
update, drawn from a random source of their own (so no other generated value moves).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta
from typing import Any

from pydantic import SecretStr

from v2mom.sandbox import given
from v2mom.sandbox.asana.state import (
    METHOD_FIELD,
    POINTS_FIELD,
    TEAM_BET_FIELD,
    VALUE_FIELD,
    AsanaState,
    Task,
)
from v2mom.sandbox.ground_truth import GroundTruth, PlanVocabulary, TruthItem
from v2mom.sandbox.history import Recorded, history_rng, storyline
from v2mom.sandbox.people_truth import PeopleItem
from v2mom.sandbox.texts import text_rng, topic_from_tags, write_text
from v2mom.settings import AsanaSettings

__all__ = ["AsanaGroundTruth", "asana_settings", "generate_asana_workspace"]

SCOPE_PROJECTS = ("Growth", "Platform reliability", "Mobile")
OUT_OF_SCOPE = "Legacy"
RULE_PROJECT = ("Platform reliability", "slo-program")  # sample_plan.yaml
VALUES = ("customer-first", "reliability", "efficiency")
METHOD_NAMES = ("Launch self-serve onboarding by end of Q2", "SLO program", "Cut infrastructure cost by 20%")
METHODS = ("self-serve-onboarding", "slo-program", "cost-savings", "incident-tooling")
POINTS = (1.0, 2.0, 3.0, 5.0, 8.0)
START_ON_SHARE = 0.25  # tasks given the day work began (start_on)
START_AT_SHARE = 0.1  # tasks given the moment work began instead (start_at)
_MS = timedelta(milliseconds=1)
DEFAULT_NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


class AsanaGroundTruth(GroundTruth):
    """Expected figures for the in-scope projects of an AsanaState."""

    def __init__(self, state: AsanaState, projects: list[str]) -> None:
        """Bind to ``state`` and the in-scope project gids (in configured order)."""
        self.state = state
        self.projects = list(projects)
        super().__init__(self._truth_items)

    def live_tasks(self) -> dict[str, Task]:
        """Tasks in scope: members of the projects and, recursively, their subtasks."""
        state = self.state
        with state.lock:
            found: dict[str, Task] = {}
            stack = [g for p in self.projects for g in state.members[p]]
            while stack:
                gid = stack.pop()
                if gid in found or gid not in state.tasks:
                    continue
                found[gid] = state.tasks[gid]
                stack.extend(state.children.get(gid, []))
            return found

    def live_ids(self) -> set[str]:
        """Every gid a sync should hold as live: projects, tasks and subtasks."""
        return set(self.projects) | set(self.live_tasks())

    def transitions(self) -> set[Recorded]:
        """Every completion and assignee change in the stories of the tasks in scope."""
        found: set[Recorded] = set()
        with self.state.lock:
            for task in self.live_tasks().values():
                assignee: str | None = None
                for story in task.stories:
                    if story.subtype in ("marked_complete", "marked_incomplete"):
                        done = story.subtype == "marked_complete"
                        before, after = ("incomplete", "completed") if done else ("completed", "incomplete")
                        category = "done" if done else "todo"
                        found.add(
                            Recorded(task.gid, story.gid, story.created_at, "status", before, after, category)
                        )
                    elif story.subtype in ("assigned", "unassigned"):
                        found.add(
                            Recorded(
                                task.gid,
                                story.gid,
                                story.created_at,
                                "assignee",
                                assignee,
                                story.assignee,
                                None,
                            )
                        )
                        assignee = story.assignee
        return found

    def starts(self) -> dict[str, datetime | None]:
        """Each task in scope's start as a sync should store it: its ``start_at``, else its
        ``start_on`` at 00:00 UTC, else None."""
        with self.state.lock:
            return {gid: task_start(task) for gid, task in self.live_tasks().items()}

    def people_items(self) -> dict[str, PeopleItem]:
        """The in-scope projects and tasks as the people's-time oracle sees them
        (:mod:`sandbox.people_truth`); projects have no assignee."""
        out: dict[str, PeopleItem] = {}
        with self.state.lock:
            for gid in self.projects:
                project = self.state.projects[gid]
                out[gid] = PeopleItem(
                    tracker="asana",
                    id=gid,
                    parent_id=None,
                    state="done" if project.completed else "todo",
                    created_at=project.created_at,
                    completed_at=project.completed_at if project.completed else None,
                )
            for task in self.live_tasks().values():
                out[task.gid] = PeopleItem(
                    tracker="asana",
                    id=task.gid,
                    parent_id=task.parent or self._home(task),
                    state="done" if task.completed else "todo",
                    created_at=task.created_at,
                    completed_at=task.completed_at if task.completed else None,
                    assignee=task.assignee,
                    started_at=task_start(task),
                )
        return out

    def _truth_items(self, plan: PlanVocabulary) -> Mapping[str, TruthItem]:
        out: dict[str, TruthItem] = {}
        for gid in self.projects:
            project = self.state.projects[gid]
            rule = (RULE_PROJECT[1],) if project.name == RULE_PROJECT[0] else ()
            team = plan.team_of("asana", gid)
            out[gid] = TruthItem(id=gid, parent_id=None, methods=rule, done=project.completed, team=team)
        for task in self.live_tasks().values():
            out[task.gid] = self._task_item(task, plan)
        return out

    def _task_item(self, task: Task, plan: PlanVocabulary) -> TruthItem:
        values, methods, unknown = plan.read_prefixed(task.tags)
        for chosen in task.multi_enums.get(VALUE_FIELD, []):
            if chosen.lower() in plan.value_by_name:
                values.append(plan.value_by_name[chosen.lower()])
            else:
                unknown = True
        method = task.enums.get(METHOD_FIELD)
        if method is not None:
            methods.append(plan.method_by_name[method.lower()])
        if task.enums.get(TEAM_BET_FIELD, "").lower() == "onboarding":
            methods.append("self-serve-onboarding")
        home = self._home(task)
        # Its team: by its project; a subtask outside every project takes its parent's project
        # (one level: a task's own, not a subtask's), as the engine reads containers.
        parent = self.state.tasks.get(task.parent) if task.parent is not None else None
        container = home or (self._home(parent) if parent is not None and parent.parent is None else None)
        return TruthItem(
            id=task.gid,
            parent_id=task.parent or home,
            values=tuple(sorted(set(values))),
            methods=tuple(sorted(set(methods))),
            unknown=unknown,
            points=task.numbers.get(POINTS_FIELD, 0.0),
            hours=(task.actual_time_minutes or 0.0) / 60,
            done=task.completed,
            team=plan.team_of("asana", container),
        )

    def _home(self, task: Task) -> str | None:
        """The first in-scope project (configured order) the task is a member of."""
        return next((p for p in self.projects if p in task.projects), None)


def generate_asana_workspace(
    seed: int = 13, *, tasks: int = 900, now: datetime | None = None
) -> tuple[AsanaState, AsanaGroundTruth]:
    """Build the workspace; ``tasks`` counts every task and subtask."""
    rng = random.Random(seed)
    now = now or DEFAULT_NOW
    state = AsanaState(clock=lambda: now)
    scope = [state.add_project(name, created=now - timedelta(days=200)) for name in SCOPE_PROJECTS]
    legacy = state.add_project(OUT_OF_SCOPE, created=now - timedelta(days=400))

    def when(days_back: float) -> datetime:
        return now - timedelta(days=days_back, minutes=rng.randrange(0, 24 * 60))

    def fields() -> dict[str, object]:
        tags: list[str] = []
        enums: dict[str, str] = {}
        multi: dict[str, list[str]] = {}
        roll = rng.random()
        if roll < 0.08:
            tags = [f"value:{rng.choice(VALUES)}"]
        elif roll < 0.16:
            tags = [f"method:{rng.choice(METHODS)}"]
        elif roll < 0.24:
            multi = {VALUE_FIELD: rng.sample([*VALUES, "Customer-first thinking"], k=rng.choice((1, 2)))}
        elif roll < 0.32:
            enums = {METHOD_FIELD: rng.choice(METHOD_NAMES)}
        elif roll < 0.38:
            enums = {TEAM_BET_FIELD: "Onboarding"}
        elif roll < 0.40:
            tags = ["value:speed"]  # names no value in the plan: orphaned
        elif roll < 0.43:
            tags = ["value:efficiency", "method:self-serve-onboarding"]  # conflict
        if rng.random() < 0.25:
            tags.append(rng.choice(("design", "backend", "qa")))
        if rng.random() < 0.1:
            enums[TEAM_BET_FIELD] = "Growth"
        return {"tags": tags, "enums": enums, "multi_enums": multi}

    def effort(carries: bool) -> dict[str, object]:
        out: dict[str, object] = {}
        if carries:
            out["numbers"] = {POINTS_FIELD: rng.choice(POINTS)}
        if rng.random() < 0.5:
            out["actual_time_minutes"] = float(rng.randrange(1, 17) * 30)
        return out

    words = text_rng("asana", seed)
    topic_of: dict[str, str | None] = {}

    def topic(tagged: dict[str, Any], kw: dict[str, Any]) -> str | None:
        """What a task is about: its own tags and fields, else its parent's topic or the project's rule."""
        enums, multi = tagged["enums"], tagged["multi_enums"]
        values = [v for v in multi.get(VALUE_FIELD, []) if v in VALUES]
        named = dict(zip(METHOD_NAMES, METHODS, strict=False))
        found = (
            topic_from_tags(tagged["tags"])
            or (values[0] if values else None)
            or named.get(enums.get(METHOD_FIELD, ""))
            or ("self-serve-onboarding" if enums.get(TEAM_BET_FIELD) == "Onboarding" else None)
        )
        if found is None and kw.get("parent") is not None:
            found = topic_of.get(str(kw["parent"]))
        if found is None and RULE_PROJECT[0] in [state.projects[p].name for p in kw.get("projects", [])]:
            found = RULE_PROJECT[1]
        return found

    def add(**kw: Any) -> str:
        created = when(rng.uniform(20, 190))
        done = rng.random() < 0.45
        tagged = fields()
        extra = effort(rng.random() < 0.7)
        if "numbers" in extra:
            tagged["numbers"] = extra.pop("numbers")
        about = topic(tagged, kw)
        text = write_text(words, about)
        gid = state.add_task(
            text.title,
            notes=text.description,
            created=created,
            modified=min(now, created + timedelta(days=rng.uniform(0, 20))),
            completed=done,
            **tagged,  # type: ignore[arg-type]
            **extra,  # type: ignore[arg-type]
            **kw,
        )
        topic_of[gid] = about
        return gid

    legacy_tasks = [add(projects=[legacy]) for _ in range(4)]
    top = int(tasks * 0.7)
    parents: list[str] = []
    for _ in range(top):
        roll = rng.random()
        if roll < 0.04:  # a Legacy task's subtask added to an in-scope project: its parent is not synced
            gid = add(projects=[rng.choice(scope)], parent=rng.choice(legacy_tasks))
        else:
            homes = [rng.choice(scope)]
            if rng.random() < 0.05:
                homes.append(rng.choice(scope))  # multi-homed: lands in the first in scope
            gid = add(projects=list(dict.fromkeys(homes)))
            parents.append(gid)
    remaining = tasks - top
    while remaining > 0 and parents:
        parent = rng.choice(parents)
        for _ in range(min(remaining, rng.randrange(1, 4))):
            child = add(parent=parent)
            remaining -= 1
            if remaining > 0 and rng.random() < 0.2:
                add(parent=child)
                remaining -= 1
    tell_stories(state, seed)
    give_starts(state, seed)
    state.listeners.clear()
    return state, AsanaGroundTruth(state, scope)


def tell_stories(state: AsanaState, seed: int) -> None:
    """Give every task its stories: who was assigned, when it was completed, the odd comment."""
    rng = history_rng("asana", seed)
    people = sorted(state.people)
    for task in list(state.tasks.values()):
        steps = storyline(
            rng,
            created=task.created_at,
            updated=task.modified_at,
            todo="incomplete",
            final="completed" if task.completed else "incomplete",
            finished=task.completed,
            started=(),
            people=people,
        )
        assignments = [step.after for step in steps if step.field == "assignee"]
        task.assignee = assignments[-1] if assignments else None
        state.tell_story(task.gid, steps)
        if steps and rng.random() < 0.3:
            state.comment(task.gid, steps[0].at, "Picking this up.")


def task_start(task: Task) -> datetime | None:
    """When work on ``task`` began: its ``start_at``, else its ``start_on`` at 00:00 UTC."""
    if task.start_at is not None:
        return task.start_at
    return datetime.combine(task.start_on, time(), tzinfo=UTC) if task.start_on is not None else None


def _floor_ms(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def give_starts(state: AsanaState, seed: int) -> None:
    """Give some tasks a ``start_on`` day or a ``start_at`` moment (never both, as Asana asks),
    strictly after their creation and before their completion, else their last update (both in
    whole milliseconds, as Asana serves times); a task whose span holds no midnight (UTC) gets no day.
    Drawn from a source of its own: every other generated value stays what it was."""
    rng = history_rng("asana", seed, "start")
    for task in list(state.tasks.values()):
        roll = rng.random()
        if roll >= START_ON_SHARE + START_AT_SHARE:
            continue
        created = task.created_at.astimezone(UTC)
        end = (task.completed_at or task.modified_at).astimezone(UTC)
        if roll < START_ON_SHARE:
            first = datetime.combine(created.date(), time(), tzinfo=UTC) + timedelta(days=1)
            midnights = (first + timedelta(days=n) for n in range((end - first).days + 1))
            days = [midnight.date() for midnight in midnights if midnight < end]
            task.start_on = rng.choice(days) if days else None
            continue
        span_ms = int((_floor_ms(end) - _floor_ms(created)) / _MS)
        if span_ms >= 2:
            task.start_at = _floor_ms(created) + rng.randrange(1, span_ms) * _MS


def asana_settings(
    state: AsanaState,
    url: str,
    projects: list[str],
    *,
    token: str | None = None,
    page_size: int | None = 100,
) -> AsanaSettings:
    """Settings that point the real connector at a sandbox workspace (``page_size`` None: the
    settings' default)."""
    return AsanaSettings.model_validate(
        {
            "base_url": f"{url}/api/1.0",
            "token": SecretStr(token if token is not None else state.token),
            "workspace": state.workspace_gid,
            "projects": projects,
            "points_field": POINTS_FIELD,
            **given(page_size=page_size),
        }
    )
