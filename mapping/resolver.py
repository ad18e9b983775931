"""The pure resolver: ``(WorkItem, parent's Resolution, Plan) -> Resolution``, with reasons.

No I/O. Precedence:

1. Tags on the item itself: conventions (a label/tag ``value:<ref>`` or ``method:<ref>``; a Linear
   label group ``Value/<ref>`` or ``Method/<ref>``; a custom field ``V2MOM Value`` or
   ``V2MOM Method``) united with *every* matching item-level rule, in plan order. ``<ref>`` is an id
   or a name, compared case-insensitively.
2. Otherwise the tags of the nearest ancestor that has its own or inherited tags.
3. Otherwise every matching container rule (rules whose ``when`` names only tracker/project/team).

Decisions where the contract is silent:

- Rules are united, not first-match: two rules that both match both apply, and the explanation lists
  them in plan order.
- ``epic: KEY`` matches the item whose key is KEY (the epic itself); its descendants then inherit
  through step 2, so a child's own tag still wins over its epic's rule.
- ``project`` and ``team`` both compare with the item's container (Jira project key, Asana project,
  Linear team key).
- A project that is itself an item (``Level.CONTAINER``: an Asana or Linear project) is tagged by
  the project rules naming its id, key or name, as its *own* tag; its tasks and issues then inherit
  through step 2, so "a project's issues inherit its tags" and a Linear project rule may name the
  project by name or id.
- A tag naming an id or name the plan lacks is not a tag: it flags ``orphaned``.

Values are the explicit values when the item has any, else its methods' values. Weights: explicit
values share equally; each shares among the item's methods that serve it (else no method);
without explicit values each method gets an equal share, split by its own weights.

A team's method or value is tagged like the company's (by id or name). A team method's weights are
what it serves, rolled up the cascade (``mapping.cascade.method_weights``). The part of its share
that reaches no value (it, or a method it serves, serves nothing) stays with the method as a share
with no value and flags the item ``unaligned``, one reason per method serving nothing; such an
item is not untagged, and its lost effort counts toward no value. A company method naming no value
is still an orphan, and counts nothing.

Visibility: an item belongs to the deepest team whose scope holds it (``team``; None: the company).
It may name the company's methods and values and those of its team and the teams above; a team's
method or value named on other work is not a tag there: it flags ``orphaned`` with the reason
(which team it belongs to) and counts nothing, as an unknown name does.

It is one module of ~440 lines on purpose: the precedence above is one algorithm, read top to
bottom in ``Resolver``; the set-based engine in ``v2mom.store`` is tested against it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from v2mom.mapping.cascade import MethodWeights, ancestor_ids, method_weights, team_of_scope
from v2mom.mapping.plan import Plan, Rule, fold
from v2mom.models import Level, WorkItem

Flag = Literal["untagged", "orphaned", "conflict", "unaligned"]
Source = Literal["own", "inherited", "container", "none"]
VALUE_FIELD = "v2mom value"
METHOD_FIELD = "v2mom method"


@dataclass(frozen=True)
class Allocation:
    """A share of an item's effort: to a value through a method (or directly).

    No value and no method: the item is untagged. No value through a method: the share of a team
    method that reaches no value (unaligned).
    """

    value_id: str | None
    method_id: str | None
    weight: float


@dataclass(frozen=True)
class Tags:
    """What one step found: value and method ids, unknown references, and how each was found."""

    values: tuple[str, ...] = ()
    methods: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()
    because: tuple[str, ...] = ()

    @property
    def found(self) -> bool:
        """True when the step found at least one valid value or method."""
        return bool(self.values or self.methods)


@dataclass(frozen=True)
class Outcome:
    """What a set of chosen tags yields: value weights, allocations and the tag-level flags."""

    values: dict[str, float]
    allocations: tuple[Allocation, ...]
    method_orphans: tuple[str, ...]
    conflict: str | None
    untagged: bool
    unaligned: tuple[str, ...] = ()  # why some effort reaches no value (empty: none is lost)

    @property
    def key(self) -> int:
        """The fingerprint of what the report counts from these tags (:func:`allocation_key`)."""
        return allocation_key(self.allocations, conflict=self.conflict is not None, untagged=self.untagged)


def allocation_key(allocations: tuple[Allocation, ...], *, conflict: bool, untagged: bool) -> int:
    """A stable, odd 63-bit fingerprint of an item's allocations and its tag-level flags.

    Stored with each resolution, so a set-based re-resolution rewrites only the items whose
    fingerprint (or orphaned flag) changed. Odd, so the 0 of a never-fingerprinted row never equals it.
    """
    return shares_key(as_shares(allocations), conflict=conflict, untagged=untagged)


Share = tuple[str | None, str | None, float]


def as_shares(allocations: Iterable[Allocation]) -> list[Share]:
    """Allocations as plain (value, method, weight) tuples, the form sets are stored and keyed in."""
    return [(a.value_id, a.method_id, a.weight) for a in allocations]


def shares_key(shares: list[Share], *, conflict: bool, untagged: bool) -> int:
    """:func:`allocation_key` of (value, method, weight) shares: the key of a stored allocation set."""
    text = repr((shares, conflict, untagged))
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big") >> 1 | 1


@dataclass(frozen=True)
class Resolution:
    """The answer for one item: values with weights, methods, flags, reasons and the explanation."""

    values: dict[str, float]
    methods: tuple[str, ...]
    explicit_values: tuple[str, ...]
    allocations: tuple[Allocation, ...]
    source: Source
    inherited_from: str | None
    flags: tuple[Flag, ...]
    reasons: tuple[str, ...]
    explanation: tuple[str, ...]
    own_tags: Tags = field(default_factory=Tags)

    @property
    def alloc_key(self) -> int:
        """The fingerprint of what the report counts for this item (:func:`allocation_key`)."""
        return allocation_key(
            self.allocations, conflict="conflict" in self.flags, untagged="untagged" in self.flags
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready document (lists, not tuples)."""
        return {
            "values": dict(self.values),
            "methods": list(self.methods),
            "explicit_values": list(self.explicit_values),
            "allocations": [[a.value_id, a.method_id, a.weight] for a in self.allocations],
            "source": self.source,
            "inherited_from": self.inherited_from,
            "flags": list(self.flags),
            "reasons": list(self.reasons),
            "explanation": list(self.explanation),
            "own_tags": {
                "values": list(self.own_tags.values),
                "methods": list(self.own_tags.methods),
                "unknown": list(self.own_tags.unknown),
                "because": list(self.own_tags.because),
            },
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Resolution:
        """Inverse of :meth:`to_dict`."""
        own = data.get("own_tags") or {}
        return cls(
            values=dict(data["values"]),
            methods=tuple(data["methods"]),
            explicit_values=tuple(data.get("explicit_values", ())),
            allocations=tuple(Allocation(v, m, w) for v, m, w in data["allocations"]),
            source=data["source"],
            inherited_from=data.get("inherited_from"),
            flags=tuple(data["flags"]),
            reasons=tuple(data["reasons"]),
            explanation=tuple(data["explanation"]),
            own_tags=Tags(
                values=tuple(own.get("values", ())),
                methods=tuple(own.get("methods", ())),
                unknown=tuple(own.get("unknown", ())),
                because=tuple(own.get("because", ())),
            ),
        )


def conventions(item: WorkItem) -> Iterator[tuple[str, str, str]]:
    """(kind, reference, origin) of each tag convention on the item: a label ``value:<ref>`` or
    ``method:<ref>``, a Linear group label ``Value/<ref>``, a ``V2MOM Value`` / ``V2MOM Method`` field."""
    for label in item.labels:
        prefix, sep, ref = label.partition(":")
        if not sep:
            prefix, sep, ref = label.partition("/")  # Linear label group "Value/<child>"
        kind = fold(prefix)
        if sep and kind in ("value", "method") and ref.strip():
            yield kind, ref, f"label '{label}'"
    for name, options in item.custom_fields.items():
        folded = fold(name)
        if folded in (VALUE_FIELD, METHOD_FIELD):
            kind = "value" if folded == VALUE_FIELD else "method"
            for option in options:
                yield kind, option, f"field '{name}' = '{option}'"


def _describe(rule: Rule) -> str:
    conditions = ", ".join(f"{k}={v}" for k, v in rule.when.model_dump(exclude_none=True).items())
    target = f"method {rule.method}" if rule.method else f"value {rule.value}"
    return f"rule {rule.id} ({conditions}) → {target}"


class Resolver:
    """A plan compiled for fast, repeated resolution."""

    def __init__(self, plan: Plan) -> None:
        """Index values and methods by id and name; split rules into item and container rules."""
        self.plan = plan
        teams = plan.teams or ()
        values = plan.cascade_values()
        methods = plan.cascade_methods()
        self._values = {fold(v.id): v.id for v in values} | {fold(v.name): v.id for v in values}
        self._methods = {fold(m.id): m.id for m in methods} | {fold(m.name): m.id for m in methods}
        for v in values:  # ids win over names that happen to equal another id
            self._values[fold(v.id)] = v.id
        for m in methods:
            self._methods[fold(m.id)] = m.id
        self._value_ids = {v.id for v in values}
        self._owner = {v.id: team.id for team in teams for v in team.values} | {
            m.id: team.id for team in teams for m in team.methods
        }
        self._team_owned = frozenset(self._owner)
        parents = {team.id: team.parent for team in teams}
        self._sees = {team.id: {team.id, *ancestor_ids(team.id, parents)} for team in teams}
        self._methods_weights: dict[str, MethodWeights] = method_weights(plan)
        self._weights = {method: found.values for method, found in self._methods_weights.items()}
        self._item_rules = [r for r in plan.rules if r.when.is_item_level]
        self._container_rules = [r for r in plan.rules if not r.when.is_item_level]
        self._keyed_rules = [r for r in self._item_rules if r.when.key is not None or r.when.epic is not None]
        self._signature_rules = [r for r in self._item_rules if r not in self._keyed_rules]
        self._project_rules = [
            r for r in self._container_rules if r.when.project is not None and r.when.team is None
        ]

    # -- step 1 and 3: finding tags --------------------------------------------------------------

    def own_tags(self, item: WorkItem) -> Tags:
        """Conventions on the item plus every matching item-level rule, in plan order."""
        return self._collect(item, self._item_rules, with_conventions=True, projects=True)

    def person_tags(self, item: WorkItem) -> Tags:
        """The tags a person set on the item: its labels and V2MOM fields only, no rule (an item as
        stored holds no tag v2mom-sync wrote: :func:`v2mom.mapping.writeback.strip_written`)."""
        return self._collect(item, [], with_conventions=True, projects=False)

    def signature_tags(self, item: WorkItem) -> Tags:
        """The part of :meth:`own_tags` that every item with the same tag signature shares.

        Conventions and the item rules that name no key: they read only tracker, container,
        labels, components and custom fields (see ``mapping.signature``).
        """
        return self._collect(item, self._signature_rules, with_conventions=True, projects=False)

    def specific_tags(self, item: WorkItem) -> Tags:
        """The part of :meth:`own_tags` that depends on the item's own key, id or title."""
        return self._collect(item, self._keyed_rules, with_conventions=False, projects=True)

    @property
    def has_keyed_rules(self) -> bool:
        """True when some rule looks at an item's key (``key`` or ``epic``)."""
        return bool(self._keyed_rules)

    @property
    def has_project_rules(self) -> bool:
        """True when some project rule could name a project item (Asana/Linear projects)."""
        return bool(self._project_rules)

    @property
    def rule_keys(self) -> set[str]:
        """The folded keys that ``key``/``epic`` rules name."""
        return {fold(r.when.key or r.when.epic or "") for r in self._keyed_rules}

    def _collect(self, item: WorkItem, rules: list[Rule], *, with_conventions: bool, projects: bool) -> Tags:
        values: list[str] = []
        methods: list[str] = []
        unknown: list[str] = []
        because: list[str] = []

        def tag(kind: str, ref: str, origin: str) -> None:
            table = self._values if kind == "value" else self._methods
            found = table.get(fold(ref))
            if found is None:
                unknown.append(f"{origin} names no {kind} in the plan")
                return
            (values if kind == "value" else methods).append(found)
            because.append(f"{origin} → {kind} {found}")

        if with_conventions:
            for kind, ref, origin in conventions(item):
                tag(kind, ref, origin)
        for rule in rules:
            if self._matches(rule, item):
                self._apply(rule, values, methods, because)
        if projects and item.level is Level.CONTAINER:
            for rule in self._project_rules:
                if self._names_project(rule, item):
                    self._apply(rule, values, methods, because)
        return Tags(_unique(values), _unique(methods), tuple(unknown), tuple(because))

    @staticmethod
    def convention_kinds(item: WorkItem) -> set[str]:
        """The kinds (``value``, ``method``) the item's own labels and fields name, known or not."""
        return {kind for kind, _, _ in conventions(item)}

    def container_tags(self, item: WorkItem) -> Tags:
        """Every matching container rule (tracker / project / team only)."""
        values: list[str] = []
        methods: list[str] = []
        because: list[str] = []
        for rule in self._container_rules:
            if self._matches(rule, item):
                self._apply(rule, values, methods, because, container=True)
        return Tags(_unique(values), _unique(methods), (), tuple(because))

    @staticmethod
    def _apply(
        rule: Rule, values: list[str], methods: list[str], because: list[str], *, container: bool = False
    ) -> None:
        if rule.method is not None:
            methods.append(rule.method)
        if rule.value is not None:
            values.append(rule.value)
        because.append(("container " if container else "") + _describe(rule))

    @staticmethod
    def _names_project(rule: Rule, item: WorkItem) -> bool:
        """True when a project rule names this project item by id, key or name."""
        when = rule.when
        if when.project is None or when.team is not None:
            return False
        if when.tracker is not None and when.tracker != item.tracker:
            return False
        return fold(when.project) in {fold(item.id), fold(item.key), fold(item.title)}

    @staticmethod
    def _matches(rule: Rule, item: WorkItem) -> bool:
        when = rule.when
        if when.tracker is not None and when.tracker != item.tracker:
            return False
        container = fold(item.container or "")
        for wanted in (when.project, when.team):
            if wanted is not None and fold(wanted) != container:
                return False
        if when.key is not None and fold(when.key) != fold(item.key):
            return False
        if when.epic is not None and fold(when.epic) != fold(item.key):
            return False
        if when.label is not None and fold(when.label) not in {fold(x) for x in item.labels}:
            return False
        if when.component is not None and fold(when.component) not in {fold(x) for x in item.components}:
            return False
        if when.custom_field is not None:
            wanted_field = fold(when.custom_field)
            options = next((v for k, v in item.custom_fields.items() if fold(k) == wanted_field), ())
            if fold(when.equals or "") not in {fold(o) for o in options}:
                return False
        return True

    # -- the whole resolution ------------------------------------------------------------------

    def resolve(
        self,
        item: WorkItem,
        parent: Resolution | None,
        *,
        parent_ref: str | None,
        parent_missing: bool,
        team: str | None = None,
    ) -> Resolution:
        """Resolve ``item`` given its parent's finished resolution (callers go top-down); ``team``:
        the team whose scope holds the item (:meth:`team_of`), None for the company's own work."""
        reasons: list[str] = []
        orphaned = False
        if parent_missing:
            orphaned = True
            reasons.append(
                f"parent {item.parent_key or item.parent_id} is not in v2mom-sync"
                " (deleted, outside the synced scope, not synced yet, or no access)"
            )
        own = self.own_tags(item)
        if own.unknown:
            orphaned = True
            reasons.extend(own.unknown)

        source: Source
        inherited_from: str | None = None
        if own.found:
            source, chosen, explanation = "own", own, list(own.because)
        elif (
            parent is not None and parent.source in ("own", "inherited") and (parent.values or parent.methods)
        ):
            source = "inherited"
            inherited_from = parent_ref if parent.source == "own" else parent.inherited_from
            chosen = Tags(parent.explicit_values, parent.methods)
            explanation = [f"inherited from {inherited_from}"]
        else:
            container = self.container_tags(item)
            if container.found:
                source, chosen, explanation = "container", container, list(container.because)
            else:
                source, chosen, explanation = "none", Tags(), ["no tag, no inherited tag, no container rule"]

        outcome = self.outcome(chosen, team)
        if outcome.method_orphans:
            orphaned = True
            reasons.extend(outcome.method_orphans)
        flags: list[Flag] = []
        if outcome.conflict is not None:
            flags.append("conflict")
            reasons.append(outcome.conflict)
        if orphaned:
            flags.append("orphaned")
        if outcome.untagged:
            flags.append("untagged")
            reasons.append("no value resolved")
        if outcome.unaligned:
            flags.append("unaligned")
            reasons.extend(outcome.unaligned)
        values, allocations = outcome.values, outcome.allocations
        return Resolution(
            values=values,
            methods=chosen.methods,
            explicit_values=chosen.values,
            allocations=allocations,
            source=source,
            inherited_from=inherited_from,
            flags=tuple(sorted(flags)),
            reasons=tuple(reasons),
            explanation=tuple(explanation),
            own_tags=own,
        )

    @property
    def team_owned(self) -> frozenset[str]:
        """The ids of every team's own values and methods: the tags whose meaning depends on the team."""
        return self._team_owned

    def team_of(self, item: WorkItem, parent_container: str | None = None) -> str | None:
        """The deepest team whose scope holds ``item`` (None: the company's own work): by its
        container, else the configured project it is a member of, else its parent's container
        (an Asana subtask names only its parent)."""
        container = item.container or item.member_of or parent_container
        return team_of_scope(self.plan, item.tracker, container, item.components)

    def outcome(self, chosen: Tags, team: str | None = None) -> Outcome:
        """What a chosen set of tags yields under this plan for work of ``team`` (None: the company)."""
        hidden = [ref for ref in (*chosen.values, *chosen.methods) if not self._visible(ref, team)]
        if hidden:
            chosen = Tags(
                tuple(v for v in chosen.values if v not in hidden),
                tuple(m for m in chosen.methods if m not in hidden),
            )
        allocations, method_values = self._allocate(chosen)
        method_orphans = tuple(self._hidden_reason(ref, team) for ref in hidden) + tuple(
            f"method {method} serves no value in the plan"
            for method in chosen.methods
            if not self._weights.get(method) and not self._unaligned(method)
        )
        conflict: str | None = None
        explicit = set(chosen.values)
        if explicit and chosen.methods and not explicit & method_values:
            conflict = (
                f"explicit values {', '.join(sorted(explicit))} share nothing with the values of "
                f"methods {', '.join(chosen.methods)} ({', '.join(sorted(method_values)) or 'none'})"
            )
        values: dict[str, float] = {}
        for allocation in allocations:
            if allocation.value_id is not None:
                values[allocation.value_id] = values.get(allocation.value_id, 0.0) + allocation.weight
        lost = [a.method_id for a in allocations if a.value_id is None and a.method_id is not None]
        unaligned = tuple(
            f"method {method} serves no parent method or value"
            for method in sorted({root for m in lost for root in self._methods_weights[m].serving_nothing})
        )
        if not allocations:
            allocations = (Allocation(None, None, 1.0),)
        return Outcome(
            values,
            allocations,
            method_orphans,
            conflict,
            untagged=not values and not lost,
            unaligned=unaligned,
        )

    def _hidden_reason(self, ref: str, team: str | None) -> str:
        """Why ``ref``, a team's value or method, is no tag on work of ``team``."""
        kind = "value" if ref in self._value_ids else "method"
        work = f"work of team {team}" if team is not None else "the company's own work"
        return f"{kind} {ref} belongs to team {self._owner[ref]}, and {work} cannot name it"

    def _visible(self, ref: str, team: str | None) -> bool:
        """Whether work of ``team`` may name the value or method ``ref``: the company's always."""
        owner = self._owner.get(ref)
        return owner is None or (team is not None and owner in self._sees.get(team, ()))

    def _unaligned(self, method: str) -> float:
        """The share of ``method``'s effort that reaches no value (team methods only)."""
        found = self._methods_weights.get(method)
        return found.unaligned if found is not None else 0.0

    def _allocate(self, tags: Tags) -> tuple[tuple[Allocation, ...], set[str]]:
        """Split 1.0 across (value, method) pairs; also return every value the methods serve."""
        method_values = {v for m in tags.methods for v in self._weights.get(m, {})}
        shares: dict[tuple[str | None, str | None], float] = {}
        if tags.values:
            each = 1.0 / len(tags.values)
            for value in tags.values:
                serving = [m for m in tags.methods if value in self._weights.get(m, {})]
                if serving:
                    for method in serving:
                        key = (value, method)
                        shares[key] = shares.get(key, 0.0) + each / len(serving)
                else:
                    shares[(value, None)] = shares.get((value, None), 0.0) + each
        else:
            useful = [m for m in tags.methods if self._weights.get(m) or self._unaligned(m)]
            for method in useful:
                for value, weight in self._weights[method].items():
                    key = (value, method)
                    shares[key] = shares.get(key, 0.0) + weight / len(useful)
            for method in useful:
                if lost := self._unaligned(method):
                    shares[(None, method)] = shares.get((None, method), 0.0) + lost / len(useful)
        return tuple(Allocation(v, m, w) for (v, m), w in shares.items()), method_values


def _unique(items: list[str]) -> tuple[str, ...]:
    return tuple(sorted(set(items)))
