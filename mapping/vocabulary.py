"""What a tracker must change to offer the plan's values and methods as choices (pure, no I/O).

Options are matched to the plan by the tracker id recorded when v2mom-sync last provisioned them,
else by name: an option named like the value (its ``name`` or its ``id``, case-insensitively) is
adopted, so a tracker that already follows the conventions, or a fresh database, creates no
duplicates. A matched option whose name differs is renamed, a disabled one enabled; an enabled
option that no value or method matches any more is disabled — never deleted, so the history that
names it keeps its meaning.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from v2mom.mapping.plan import Plan, fold
from v2mom.vocabulary import FIELD_NAMES, KINDS, Kind, TrackerOption, TrackerVocabulary, VocabularyChange


def choices(plan: Plan) -> dict[Kind, list[tuple[str, str]]]:
    """Per kind, the (plan id, name) pairs a tracker should offer, in plan order: the company's
    values and methods first, then each team's, teams in the order the plan lists them.

    Ids and names are unique across the whole cascade (the plan's naming checks), so one option per
    choice never clashes with another in the same field or label group.
    """
    return {
        "value": [(v.id, v.name) for v in plan.cascade_values()],
        "method": [(m.id, m.name) for m in plan.cascade_methods()],
    }


def choice_names(plan: Plan) -> dict[Kind, dict[str, str]]:
    """Per kind, the name of every choice :func:`choices` offers, by plan id."""
    return {kind: dict(pairs) for kind, pairs in choices(plan).items()}


@dataclass(frozen=True)
class VocabularyDiff:
    """The changes to make, and the options already offering a plan id (kind -> plan id -> option)."""

    changes: list[VocabularyChange]
    matched: dict[Kind, dict[str, str]]


def _match(
    plan_id: str, name: str, known_id: str | None, options: tuple[TrackerOption, ...], used: set[str]
) -> TrackerOption | None:
    free = [o for o in options if o.option_id not in used]
    if known_id is not None:
        for option in free:
            if option.option_id == known_id:
                return option
    by_name = next((o for o in free if fold(o.name) == fold(name)), None)  # the name wins over an
    return by_name or next((o for o in free if fold(o.name) == fold(plan_id)), None)  # id-named option


def vocabulary_diff(
    plan: Plan, current: TrackerVocabulary, known: Mapping[Kind, Mapping[str, str]] | None = None
) -> VocabularyDiff:
    """What to change in a tracker offering ``current`` so it offers ``plan``'s choices.

    ``known`` is, per kind, the option id recorded for each plan id by the last provisioning.
    """
    changes: list[VocabularyChange] = []
    matched: dict[Kind, dict[str, str]] = {"value": {}, "method": {}}
    wanted = choices(plan)
    for kind in KINDS:
        if current.containers.get(kind) is None:
            changes.append(VocabularyChange(kind, "create_container", FIELD_NAMES[kind]))
            changes += [VocabularyChange(kind, "create", name, plan_id=pid) for pid, name in wanted[kind]]
            continue
        options = current.options.get(kind, ())
        recorded = (known or {}).get(kind, {})
        used: set[str] = set()
        for plan_id, name in wanted[kind]:
            option = _match(plan_id, name, recorded.get(plan_id), options, used)
            if option is None:
                changes.append(VocabularyChange(kind, "create", name, plan_id=plan_id))
                continue
            used.add(option.option_id)
            matched[kind][plan_id] = option.option_id
            if option.name != name:
                changes.append(
                    VocabularyChange(
                        kind,
                        "rename",
                        name,
                        plan_id=plan_id,
                        option_id=option.option_id,
                        old_name=option.name,
                    )
                )
            if not option.enabled:
                changes.append(
                    VocabularyChange(kind, "enable", name, plan_id=plan_id, option_id=option.option_id)
                )
        for option in options:
            if option.option_id not in used and option.enabled:
                changes.append(VocabularyChange(kind, "disable", option.name, option_id=option.option_id))
    return VocabularyDiff(changes, matched)
