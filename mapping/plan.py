"""The plan file's schema (CONTRACT.md ``plan.yaml``) and its cross-reference checks.

``load_plan`` is the one entry point for text: it reports every problem at once, each as
``plan.yaml: methods[1].values[0]: unknown value 'speed' (line 12)``.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Iterator
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from v2mom.models import TRACKERS
from v2mom.yamlio import (
    Loc,
    find_problems,
    parse_yaml,
    problem_line,
    raise_problems,
    unencodable,
    validate_model,
)


def fold(text: str) -> str:
    """A reference as the plan compares it: trimmed, case-insensitive."""
    return text.strip().casefold()


Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=64)]
Share = Annotated[float, Field(ge=0.0, le=1.0)]
WEIGHT_TOLERANCE = 1e-6


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Value(_Strict):
    """A V2MOM value: what the organisation cares about."""

    id: Slug
    name: str
    target_share: Share | None = None


class Method(_Strict):
    """A method: concrete work serving one or more values, optionally weighted."""

    id: Slug
    name: str
    values: tuple[str, ...] = ()
    weights: dict[str, float] | None = None

    @model_validator(mode="after")
    def _values_or_weights(self) -> Method:
        if self.weights is not None and self.values:
            raise ValueError("give either 'values' or 'weights', not both")
        return self

    def value_weights(self) -> dict[str, float]:
        """Each value's share of this method's effort; equal when no weights are given."""
        if self.weights is not None:
            return dict(self.weights)
        if not self.values:
            return {}
        share = 1.0 / len(self.values)
        return dict.fromkeys(self.values, share)


class Obstacle(_Strict):
    """Something in the way of one or more methods."""

    id: Slug
    name: str
    methods: tuple[str, ...] = ()


class Measure(_Strict):
    """How success is measured; ``effort_share`` is checked against the report."""

    id: Slug
    name: str
    value: str
    kind: Literal["effort_share"] = "effort_share"
    target: Share


RULE_ITEM_KEYS = ("key", "epic", "label", "component", "custom_field")
RULE_CONTAINER_KEYS = ("project", "team")


class RuleWhen(_Strict):
    """Conditions of a rule; every key given must match (AND). Comparisons ignore case."""

    tracker: Literal["jira", "asana", "linear"] | None = None
    project: str | None = None
    team: str | None = None
    key: str | None = None
    epic: str | None = None
    label: str | None = None
    component: str | None = None
    custom_field: str | None = None
    equals: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _known_tracker(cls, data: Any) -> Any:
        tracker = data.get("tracker") if isinstance(data, dict) else None
        if isinstance(tracker, str) and tracker not in TRACKERS:
            raise ValueError(f"unknown tracker '{tracker}' (expected one of {', '.join(TRACKERS)})")
        return data

    @model_validator(mode="after")
    def _consistent(self) -> RuleWhen:
        given = self.model_dump(exclude_none=True)
        if not given:
            raise ValueError("a rule needs at least one key in 'when'")
        if (self.custom_field is None) != (self.equals is None):
            raise ValueError("'custom_field' and 'equals' go together")
        if set(given) == {"tracker"}:
            raise ValueError("a rule needs a condition besides 'tracker'")
        return self

    @property
    def is_item_level(self) -> bool:
        """True when the rule looks at the item itself, not only at its container."""
        return any(getattr(self, k) is not None for k in RULE_ITEM_KEYS)


class Rule(_Strict):
    """An explicit mapping: items matching ``when`` get a method or a value."""

    id: str | None = None
    when: RuleWhen
    method: str | None = None
    value: str | None = None

    @model_validator(mode="after")
    def _one_target(self) -> Rule:
        if (self.method is None) == (self.value is None):
            raise ValueError("a rule names exactly one of 'method' or 'value'")
        return self


class Plan(_Strict):
    """The whole V2MOM plus the mapping rules."""

    vision: str = ""
    values: tuple[Value, ...] = ()
    methods: tuple[Method, ...] = ()
    obstacles: tuple[Obstacle, ...] = ()
    measures: tuple[Measure, ...] = ()
    rules: tuple[Rule, ...] = ()

    def value_ids(self) -> set[str]:
        """Ids of every value."""
        return {v.id for v in self.values}

    def method_ids(self) -> set[str]:
        """Ids of every method."""
        return {m.id for m in self.methods}

    def with_rule_ids(self) -> Plan:
        """A copy whose rules all carry an id (``r1``, ``r2`` … for those without one)."""
        taken = {r.id for r in self.rules if r.id}
        rules = []
        counter = 0
        for rule in self.rules:
            if rule.id:
                rules.append(rule)
                continue
            counter += 1
            while f"r{counter}" in taken:
                counter += 1
            taken.add(f"r{counter}")
            rules.append(rule.model_copy(update={"id": f"r{counter}"}))
        return self.model_copy(update={"rules": tuple(rules)})


def cross_reference_problems(plan: Plan) -> Iterator[tuple[Loc, str]]:
    """Every inconsistency between sections: duplicates, unknown ids, shares and weights."""
    for section in ("values", "methods", "obstacles", "measures"):
        items = getattr(plan, section)
        counts = Counter(item.id for item in items)
        for index, item in enumerate(items):
            if counts[item.id] > 1:
                yield (section, index, "id"), f"duplicate id '{item.id}'"
    rule_ids = Counter(r.id for r in plan.rules if r.id)
    for index, rule in enumerate(plan.rules):
        if rule.id and rule_ids[rule.id] > 1:
            yield ("rules", index, "id"), f"duplicate id '{rule.id}'"

    values, methods = plan.value_ids(), plan.method_ids()
    total_target = sum(v.target_share or 0.0 for v in plan.values)
    if total_target > 1.0 + WEIGHT_TOLERANCE:
        yield ("values",), f"target shares sum to {total_target:.4g}, more than 1"

    for index, method in enumerate(plan.methods):
        for j, value in enumerate(method.values):
            if value not in values:
                yield ("methods", index, "values", j), f"unknown value '{value}'"
        if method.weights is not None:
            for value, weight in method.weights.items():
                if value not in values:
                    yield ("methods", index, "weights", value), f"unknown value '{value}'"
                if not weight > 0:
                    yield ("methods", index, "weights", value), "weights must be greater than 0"
            total = sum(method.weights.values())
            if not math.isclose(total, 1.0, abs_tol=WEIGHT_TOLERANCE):
                yield ("methods", index, "weights"), f"weights sum to {total:.4g}, not 1"
    for index, obstacle in enumerate(plan.obstacles):
        for j, method_id in enumerate(obstacle.methods):
            if method_id not in methods:
                yield ("obstacles", index, "methods", j), f"unknown method '{method_id}'"
    for index, measure in enumerate(plan.measures):
        if measure.value not in values:
            yield ("measures", index, "value"), f"unknown value '{measure.value}'"
    for index, rule in enumerate(plan.rules):
        if rule.method is not None and rule.method not in methods:
            yield ("rules", index, "method"), f"unknown method '{rule.method}'"
        if rule.value is not None and rule.value not in values:
            yield ("rules", index, "value"), f"unknown value '{rule.value}'"


def naming_problems(plan: Plan) -> Iterator[tuple[Loc, str]]:
    """Ids and names that would read as another value or method: a tag, a tracker option or a label
    names a value or method by its id or its name, ignoring case, so no two of them may share one (a
    value's own id and name may). Renaming a value to another's id would otherwise move every item
    holding its option to that other value. Checked on every new plan, not on stored ones (they were
    valid when saved, and must still load).
    """
    owners: dict[str, tuple[str, int, str]] = {}
    for section in ("values", "methods"):
        for index, item in enumerate(getattr(plan, section)):
            for field in ("id", "name"):
                text = getattr(item, field)
                owner = owners.setdefault(fold(text), (section, index, field))
                if owner[:2] == (section, index) or (owner[0], field, owner[2]) == (section, "id", "id"):
                    continue  # its own id and name; two equal ids in one section: a duplicate id
                other = getattr(plan, owner[0])[owner[1]]
                yield (
                    (section, index, field),
                    f"{field} '{text}' reads as the {owner[2]} of {owner[0][:-1]} '{other.id}'"
                    " (ids and names of values and methods must differ, ignoring case)",
                )


def check_plan(
    plan: Plan, source: str = "plan", node: yaml.Node | None = None, *, stored: bool = False
) -> Plan:
    """Raise MappingError-compatible ConfigError listing every cross-reference problem (and, unless
    the plan was ``stored`` before, every naming problem)."""
    problems = cross_reference_problems(plan)
    if not stored:
        problems = itertools.chain(problems, naming_problems(plan))
    raise_problems((problem_line(source, loc, msg, node) for loc, msg in problems), source)
    return plan.with_rule_ids()


def check_text(data: Any, source: str = "plan", node: yaml.Node | None = None) -> None:
    """ConfigError naming every place whose text cannot be stored as UTF-8 (a lone surrogate such
    as ``"\\ud800"``, which YAML and JSON escapes can spell): such a plan would save, then fail
    every read of it (plan, rules, audit log) for good."""
    raise_problems(
        (problem_line(source, loc, msg, node) for loc, msg in find_problems(data, unencodable)), source
    )


def load_plan(text: str, source: str = "plan.yaml") -> Plan:
    """Parse and fully validate a plan document; rules come back with ids assigned."""
    data, node = parse_yaml(text, source)
    check_text(data, source, node)
    plan = validate_model(Plan, data, source, node)
    return check_plan(plan, source, node)


def plan_from_data(data: Any, source: str = "plan", *, stored: bool = False) -> Plan:
    """Validate an already-parsed plan (from the API, or ``stored`` in the database: then the
    naming checks added since it was saved are not applied)."""
    check_text(data, source)
    plan = validate_model(Plan, data, source, None)
    return check_plan(plan, source, stored=stored)


def dump_plan(plan: Plan) -> str:
    """The plan as YAML, in the file's own order, omitting empty optional keys."""
    data = plan.model_dump(mode="json", exclude_none=True)
    for rule in data.get("rules", []):
        rule["when"] = {k: v for k, v in rule["when"].items() if v is not None}
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
