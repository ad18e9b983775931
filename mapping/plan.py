"""The plan file's schema (``plan.yaml``) and its cross-reference checks.

``load_plan`` is the one entry point for text: it reports every problem at once, each as
``plan.yaml: methods[1].values[0]: unknown value 'speed' (line 12)``: text that cannot be stored,
the schema's problems and the cross-references together (the last on the raw document as far as it
parses when the schema fails), so fixing one problem never reveals the next. New plans must also
pass the naming checks and the guardrails (at least one value, no empty rule condition); a plan
read back from the store skips those (it was valid when saved and must still load).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from v2mom.mapping.cascade import cascade_problems
from v2mom.mapping.cycle import Cycle, cycle_problems
from v2mom.models import TRACKERS
from v2mom.yamlio import (
    Loc,
    find_problems,
    parse_yaml,
    problem_line,
    raise_problems,
    unencodable,
    validation_problems,
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


class JiraScope(_Strict):
    """Jira work a team owns: whole projects (by key) and components (by name, in any project)."""

    projects: tuple[str, ...] = ()
    components: tuple[str, ...] = ()


class LinearScope(_Strict):
    """Linear work a team owns: whole Linear teams (by key)."""

    teams: tuple[str, ...] = ()


class AsanaScope(_Strict):
    """Asana work a team owns: whole projects (by gid)."""

    projects: tuple[str, ...] = ()


class Scope(_Strict):
    """Which tracker work belongs to a team: anything any of its entries names (OR)."""

    jira: JiraScope | None = None
    linear: LinearScope | None = None
    asana: AsanaScope | None = None


class TeamMethod(_Strict):
    """A team's method: it serves methods of the teams above it (or the company's) or values, each
    with a weight; the weights are relative (normalised by their sum), so ``{a: 2, b: 1}`` is two
    thirds ``a``. A method serving nothing is allowed: its work counts as unaligned."""

    id: Slug
    name: str
    serves: dict[str, float] = Field(default_factory=dict)


class Team(_Strict):
    """A team's own V2MOM under its parent team's (``parent: null``: under the company's, the file's
    top level). The company's values always apply to it; it may add values of its own."""

    id: Slug
    name: str
    parent: str | None = None
    scope: Scope = Scope()
    vision: str = ""
    values: tuple[Value, ...] = ()
    methods: tuple[TeamMethod, ...] = ()
    measures: tuple[Measure, ...] = ()
    obstacles: tuple[Obstacle, ...] = ()


class Plan(_Strict):
    """The whole V2MOM plus the mapping rules."""

    vision: str = ""
    values: tuple[Value, ...] = ()
    methods: tuple[Method, ...] = ()
    obstacles: tuple[Obstacle, ...] = ()
    measures: tuple[Measure, ...] = ()
    rules: tuple[Rule, ...] = ()
    # Optional, and None when absent so a plan without them dumps and stores exactly as before.
    cycle: Cycle | None = None
    teams: tuple[Team, ...] | None = None

    def value_ids(self) -> set[str]:
        """Ids of every value."""
        return {v.id for v in self.values}

    def method_ids(self) -> set[str]:
        """Ids of every method."""
        return {m.id for m in self.methods}

    def cascade_values(self) -> list[Value]:
        """Every value of the cascade: the company's, then each team's, in plan order."""
        return [*self.values, *(v for team in self.teams or () for v in team.values)]

    def cascade_methods(self) -> list[Method | TeamMethod]:
        """Every method of the cascade: the company's, then each team's, in plan order."""
        return [*self.methods, *(m for team in self.teams or () for m in team.methods)]

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


Found = Iterator[tuple[Loc, str]]


def _entries(document: Any, section: str) -> list[tuple[int, Mapping[str, Any]]]:
    """The entries of a section that are mappings, with their index (anything else is the schema's
    problem, reported by pydantic)."""
    items = document.get(section) if isinstance(document, Mapping) else None
    if not isinstance(items, list | tuple):
        return []
    return [(index, item) for index, item in enumerate(items) if isinstance(item, Mapping)]


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _known_ids(document: Any, section: str) -> set[str] | None:
    """The ids a section defines, or None when it does not parse far enough to say (not a list, or an
    entry without a text id): references into it are then not judged, so one broken entry is reported
    once, by the schema, and not again at every place that names it."""
    items = document.get(section, ()) if isinstance(document, Mapping) else None
    if not isinstance(items, list | tuple):
        return None
    ids = [_text(item.get("id")) if isinstance(item, Mapping) else None for item in items]
    return None if None in ids else {i for i in ids if i is not None}


def _cascade_ids(document: Any, section: str) -> set[str] | None:
    """The ids ``section`` defines at the company and in every team: what a rule may name (None, as
    for :func:`_known_ids`, when some of them do not parse far enough to say)."""
    known = _known_ids(document, section)
    teams = document.get("teams") if isinstance(document, Mapping) else None
    if known is None or teams is None:
        return known
    if not isinstance(teams, list | tuple):
        return None
    for team in teams:
        found = _known_ids(team, section) if isinstance(team, Mapping) else None
        if found is None:
            return None
        known |= found
    return known


def cross_reference_problems(document: Any) -> Found:
    """Every inconsistency between sections: duplicates, unknown ids, shares and weights.

    ``document`` is a plan as data: a validated plan's ``model_dump()``, or the raw document when it
    failed the schema, so these are found in the same pass as the schema's problems. What does not
    parse is skipped here (the schema reports it).
    """
    for section in ("values", "methods", "obstacles", "measures", "rules"):
        entries = [(index, _text(item.get("id"))) for index, item in _entries(document, section)]
        counts = Counter(item_id for _, item_id in entries if item_id)
        for index, item_id in entries:
            if item_id and counts[item_id] > 1:
                yield (section, index, "id"), f"duplicate id '{item_id}'"

    values, methods = _known_ids(document, "values"), _known_ids(document, "methods")
    targets = [_number(item.get("target_share")) for _, item in _entries(document, "values")]
    total_target = sum(share for share in targets if share is not None and 0.0 <= share <= 1.0)
    if total_target > 1.0 + WEIGHT_TOLERANCE:
        yield ("values",), f"target shares sum to {total_target:.4g}, more than 1"

    yield from _method_problems(document, values)
    for index, obstacle in _entries(document, "obstacles"):
        yield from _unknown(("obstacles", index, "methods"), obstacle.get("methods"), methods, "method")
    for index, measure in _entries(document, "measures"):
        value = _text(measure.get("value"))
        if value is not None and values is not None and value not in values:
            yield ("measures", index, "value"), f"unknown value '{value}'"
    # Rules may name any method or value of the cascade, a team's as well as the company's.
    rule_targets = (
        ("method", _cascade_ids(document, "methods")),
        ("value", _cascade_ids(document, "values")),
    )
    for index, rule in _entries(document, "rules"):
        for target, known in rule_targets:
            name = _text(rule.get(target))
            if name is not None and known is not None and name not in known:
                yield ("rules", index, target), f"unknown {target} '{name}'"
    yield from cycle_problems(document)
    yield from cascade_problems(document)


def _unknown(loc: Loc, refs: Any, known: set[str] | None, what: str) -> Found:
    """Each text of the list ``refs`` that is not among ``known`` (nothing when either is unknown)."""
    if known is None or not isinstance(refs, list | tuple):
        return
    for j, ref in enumerate(refs):
        if isinstance(ref, str) and ref not in known:
            yield (*loc, j), f"unknown {what} '{ref}'"


def _method_problems(document: Any, values: set[str] | None) -> Found:
    """Methods naming values the plan lacks, and weights that are not positive or do not sum to 1."""
    for index, method in _entries(document, "methods"):
        yield from _unknown(("methods", index, "values"), method.get("values"), values, "value")
        weights = method.get("weights")
        if not isinstance(weights, Mapping):
            continue
        numbers = {value: _number(weight) for value, weight in weights.items()}
        for value, weight in numbers.items():
            if values is not None and isinstance(value, str) and value not in values:
                yield ("methods", index, "weights", value), f"unknown value '{value}'"
            if weight is not None and not weight > 0:
                yield ("methods", index, "weights", value), "weights must be greater than 0"
        if None not in numbers.values():
            total = sum(weight for weight in numbers.values() if weight is not None)
            if not math.isclose(total, 1.0, abs_tol=WEIGHT_TOLERANCE):
                yield ("methods", index, "weights"), f"weights sum to {total:.4g}, not 1"


def _named_entries(document: Any) -> Iterator[tuple[Loc, str, Mapping[str, Any], bool]]:
    """(location, section, entry, in a team) of every value and method: the company's, then each
    team's, in file order."""
    for section in ("values", "methods"):
        for index, item in _entries(document, section):
            yield (section, index), section, item, False
    for team_index, team in _entries(document, "teams"):
        for section in ("values", "methods"):
            for index, item in _entries(team, section):
                yield ("teams", team_index, section, index), section, item, True


def naming_problems(document: Any) -> Found:
    """Ids and names that would read as another value or method: a tag, a tracker option or a label
    names a value or method by its id or its name, ignoring case, so no two of them may share one (a
    value's own id and name may). Renaming a value to another's id would otherwise move every item
    holding its option to that other value. Team values and methods are tagged the same way, so they
    take part too (an id used twice across the cascade is reported by the cascade's checks, once).
    Checked on every new plan, not on stored ones (they were valid when saved, and must still load).
    """
    owners: dict[str, tuple[Loc, str, str, str, bool]] = {}  # folded text -> loc, section, field, id, team
    for loc, section, item, in_team in _named_entries(document):
        item_id = _text(item.get("id")) or ""
        for field in ("id", "name"):
            text = _text(item.get(field))
            if text is None:
                continue
            owner = owners.setdefault(fold(text), (loc, section, field, item_id, in_team))
            if owner[0] == loc:
                continue  # its own id and name
            if field == "id" and owner[2] == "id" and (owner[1] == section or in_team or owner[4]):
                continue  # an id used twice: a duplicate id, reported where ids are checked
            yield (
                (*loc, field),
                f"{field} '{text}' reads as the {owner[2]} of {owner[1][:-1]} '{owner[3]}'"
                " (ids and names of values and methods must differ, ignoring case)",
            )


NO_VALUE = "a plan needs at least one value (every item's effort would count as untagged)"
EMPTY_CONDITION = "a rule's condition needs a text to match, not an empty one"
CONDITION_KEYS = tuple(key for key in RuleWhen.model_fields if key != "tracker")


def guardrail_problems(document: Any) -> Found:
    """What would move every number at once by mistake: a plan without values (everything untagged)
    and a rule condition that is empty text. Checked on every new plan, not on stored ones."""
    if not isinstance(document, Mapping):
        return
    values = document.get("values")
    if values is None or (isinstance(values, list | tuple) and not values):
        yield ("values",), NO_VALUE
    for index, rule in _entries(document, "rules"):
        when = rule.get("when")
        if not isinstance(when, Mapping):
            continue
        for key in CONDITION_KEYS:
            condition = when.get(key)
            if isinstance(condition, str) and not condition.strip():
                yield ("rules", index, "when", key), EMPTY_CONDITION


def plan_problems(document: Any, *, stored: bool = False) -> Found:
    """The cross-section problems of a plan as data; a ``stored`` plan skips the checks added since
    it may have been saved (naming, guardrails)."""
    yield from cross_reference_problems(document)
    if not stored:
        yield from naming_problems(document)
        yield from guardrail_problems(document)


def check_plan(
    plan: Plan, source: str = "plan", node: yaml.Node | None = None, *, stored: bool = False
) -> Plan:
    """Raise MappingError-compatible ConfigError listing every cross-reference problem (and, unless
    the plan was ``stored`` before, every naming and guardrail problem)."""
    problems = plan_problems(plan.model_dump(), stored=stored)
    raise_problems((problem_line(source, loc, msg, node) for loc, msg in problems), source)
    return plan.with_rule_ids()


def _validated(data: Any, source: str, node: yaml.Node | None, *, stored: bool) -> Plan:
    """Validate a parsed plan in one pass: the text, the schema and the cross-references together.

    When the schema fails, the cross-references are still checked on the raw document as far as it
    parses, so ``v2mom check`` and a 422 name every problem at once.
    """
    document = data if data is not None else {}
    problems = [problem_line(source, loc, msg, node) for loc, msg in find_problems(document, unencodable)]
    plan: Plan | None = None
    try:
        plan = Plan.model_validate(document)
    except ValidationError as exc:
        problems += validation_problems(exc, source, node)
    facts = plan.model_dump() if plan is not None else document
    for loc, msg in plan_problems(facts, stored=stored):
        line = problem_line(source, loc, msg, node)
        if line not in problems:
            problems.append(line)
    raise_problems(problems, source)
    assert plan is not None  # raise_problems raised for a plan the schema refused
    return plan.with_rule_ids()


def load_plan(text: str, source: str = "plan.yaml") -> Plan:
    """Parse and fully validate a plan document; rules come back with ids assigned."""
    data, node = parse_yaml(text, source)
    return _validated(data, source, node, stored=False)


def plan_from_data(data: Any, source: str = "plan", *, stored: bool = False) -> Plan:
    """Validate an already-parsed plan (from the API, or ``stored`` in the database: then the
    naming and guardrail checks added since it may have been saved are not applied)."""
    return _validated(data, source, None, stored=stored)


def dump_plan(plan: Plan) -> str:
    """The plan as YAML, in the file's own order, omitting empty optional keys."""
    data = plan.model_dump(mode="json", exclude_none=True)
    for rule in data.get("rules", []):
        rule["when"] = {k: v for k, v in rule["when"].items() if v is not None}
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
