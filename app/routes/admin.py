"""Admin API for mapping rules and the plan's history (``/api/admin``), admin tokens only.

Every change builds the whole proposed plan and validates it with the same code (and messages) as
``v2mom check``; a 422 lists every problem and nothing is written. ``?dry_run=true`` answers with
the preview (items re-tagged, effort moved per value, the share of the effort moved and, past a
quarter, the phrase that confirms it) and writes nothing; otherwise the plan is saved as a new
version and every item re-resolved, in that order, and the preview is returned with the new
version. A change moving more than a quarter of the effort is refused with 409 unless the
``X-Confirm-Move`` header carries its phrase. Rules are addressed by their position in the plan
(0-based).

Once the stored plan has a cycle every applied change needs a reason (a dry run does not): a
top-level ``reason`` key of the JSON body, beside the rule (``{"rule": ..., "reason": ...}``), the
order, the rule's own keys (``POST /api/rules``) or the plan's (``PUT /api/admin/plan``), or
``?reason=`` when deleting a rule. Without one the change is refused with 422 at ``reason`` and
nothing is written; the reason is kept with the new version.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, HTTPException, Query

from v2mom.app.auth import Admin, StoreDep, Viewer
from v2mom.app.http_errors import (
    REASON_DESCRIPTION,
    REASON_KEY,
    UNCONFIRMED,
    ConfirmMove,
    pop_reason,
    require_confirmed,
    require_reason,
    unprocessable,
)
from v2mom.app.schemas.audit import AuditLog, entry_document
from v2mom.app.schemas.plan import (
    PlanChangeApplied,
    PlanChangePreview,
    PositionedRuleList,
    RuleCreated,
    RuleList,
    why_and_closed,
)
from v2mom.app.services import SettingsDep
from v2mom.clock import today
from v2mom.errors import ConfigError
from v2mom.mapping.plan import Plan, plan_from_data
from v2mom.mapping.plan_changes import RuleChange, plan_changes
from v2mom.metrics import RERESOLVE_SECONDS
from v2mom.reports.reviews import apply_closing_cycle
from v2mom.store.audit import AuditKind
from v2mom.store.database import Database
from v2mom.store.resolution.preview import preview_plan
from v2mom.workdays import WorkCalendar

PreviewMeasure = Literal["points", "hours", "count"]

router = APIRouter(prefix="/api/admin")
DryRun = Annotated[bool, Query(description="Answer with the preview and write nothing.")]
MeasureQ = Annotated[PreviewMeasure, Query(description="The preview's measure.")]
ReasonBody = Annotated[str | None, Body(embed=True, description=REASON_DESCRIPTION)]
ReasonQ = Annotated[str | None, Query(description=REASON_DESCRIPTION)]
# A dry run answers the preview; an applied change adds the new version and the re-resolution's counts.
PlanChange = PlanChangePreview | PlanChangeApplied
# Rules send only the keys they set (as plan.yaml does), so these routes serialise without unset keys.
TYPED: dict[str, Any] = {"response_model_exclude_unset": True}


def _current(store: Database) -> Plan:
    return store.plans.current() or Plan()


def _rules_document(plan: Plan) -> list[dict[str, Any]]:
    document = plan.model_dump(mode="json", exclude_none=True)
    rules: list[dict[str, Any]] = document.get("rules", [])
    return rules


def _with_rules(plan: Plan, rules: list[dict[str, Any]]) -> Plan:
    """The plan with ``rules`` instead of its own, validated like ``v2mom check`` (422 otherwise)."""
    document = plan.model_dump(mode="json", exclude_none=True)
    document["rules"] = rules
    try:
        return plan_from_data(document, "plan")
    except ConfigError as exc:
        raise unprocessable(exc.problems) from None


def _index(rules: list[dict[str, Any]], index: int) -> int:
    if not 0 <= index < len(rules):
        raise HTTPException(404, detail=f"no rule at position {index} (the plan has {len(rules)} rules)")
    return index


def _answer(
    store: Database,
    admin_name: str,
    proposed: Plan,
    dry_run: bool,
    measure: PreviewMeasure,
    rule: RuleChange | None = None,
    confirm: str | None = None,
    reason: str | None = None,
    reason_in: tuple[str, ...] = ("body", REASON_KEY),
    calendar: WorkCalendar | None = None,
) -> dict[str, Any]:
    """The preview of ``proposed`` and, unless ``dry_run``, the change applied for ``reason``:
    refused (422 at ``reason_in``, nothing written) when the stored plan has a cycle and ``reason``
    is blank, and (409) when it moves more than a quarter of the effort and ``confirm`` is not its
    phrase. A new cycle closes the old one's reviews first, people's time counted in ``calendar``
    (the settings'; only a whole plan can change the cycle: rule changes keep it)."""
    current = _current(store)
    if not dry_run:
        require_reason(current, reason, location=reason_in)
    preview = preview_plan(store, proposed, measure)
    if not dry_run:
        require_confirmed(preview, confirm)
    answer: dict[str, Any] = {
        "dry_run": dry_run,
        "changes": plan_changes(current, proposed),
        "preview": preview.to_dict(),
        "rules": _rules_document(proposed),
    }
    if not dry_run:
        with RERESOLVE_SECONDS.labels(trigger="plan").time():
            closed, applied = apply_closing_cycle(
                store,
                proposed,
                actor=f"token:{admin_name}",
                today=today(),
                rule=rule,
                reason=reason,
                preview=preview,
                calendar=calendar,
            )
        answer["version"], stats = applied.version, applied.stats
        answer["resolved"] = {"items": stats.items, "untagged": stats.untagged, "orphaned": stats.orphaned}
        answer |= why_and_closed(reason, closed)
    return answer


def _apply(
    store: Database,
    admin_name: str,
    proposed: Plan,
    dry_run: bool,
    measure: PreviewMeasure,
    rule: RuleChange | None = None,
    confirm: str | None = None,
    reason: str | None = None,
    reason_in: tuple[str, ...] = ("body", REASON_KEY),
    calendar: WorkCalendar | None = None,
) -> PlanChange:
    """Preview ``proposed`` and, unless ``dry_run``, apply it for ``reason`` (audited as ``rule``
    when given; a big move only when ``confirm`` is its phrase); the answer as its response model."""
    answer = _answer(
        store, admin_name, proposed, dry_run, measure, rule, confirm, reason, reason_in, calendar=calendar
    )
    return PlanChangePreview.model_validate(answer) if dry_run else PlanChangeApplied.model_validate(answer)


@router.get("/rules", **TYPED)
def list_rules(store: StoreDep, _admin: Admin) -> PositionedRuleList:
    """The plan's rules in order, each with its position."""
    rules = _rules_document(_current(store))
    return PositionedRuleList.model_validate(
        {"rules": [{"position": i, **rule} for i, rule in enumerate(rules)]}
    )


@router.post("/rules", responses=UNCONFIRMED, **TYPED)
def create_rule(
    store: StoreDep,
    admin: Admin,
    rule: Annotated[dict[str, Any], Body(embed=True)],
    position: Annotated[int | None, Body(embed=True)] = None,
    reason: ReasonBody = None,
    dry_run: DryRun = False,
    measure: MeasureQ = "points",
    confirm: ConfirmMove = None,
) -> PlanChange:
    """Add a rule (at ``position``, default last); ``reason`` beside it says why."""
    plan = _current(store)
    rules = _rules_document(plan)
    at = len(rules) if position is None else max(0, min(position, len(rules)))
    rules.insert(at, rule)
    proposed = _with_rules(plan, rules)
    added = RuleChange("added", rule=_rules_document(proposed)[at], position=at)
    return _apply(store, admin.name, proposed, dry_run, measure, added, confirm, reason)


@router.put("/rules/{position}", responses=UNCONFIRMED, **TYPED)
def replace_rule(
    position: int,
    store: StoreDep,
    admin: Admin,
    rule: Annotated[dict[str, Any], Body(embed=True)],
    reason: ReasonBody = None,
    dry_run: DryRun = False,
    measure: MeasureQ = "points",
    confirm: ConfirmMove = None,
) -> PlanChange:
    """Replace the rule at ``position``; ``reason`` beside it says why."""
    plan = _current(store)
    rules = _rules_document(plan)
    old, rules[_index(rules, position)] = rules[_index(rules, position)], rule
    proposed = _with_rules(plan, rules)
    change = RuleChange("replaced", rule=_rules_document(proposed)[position], replaced=old, position=position)
    return _apply(store, admin.name, proposed, dry_run, measure, change, confirm, reason)


@router.delete("/rules/{position}", responses=UNCONFIRMED, **TYPED)
def delete_rule(
    position: int,
    store: StoreDep,
    admin: Admin,
    dry_run: DryRun = False,
    measure: MeasureQ = "points",
    confirm: ConfirmMove = None,
    reason: ReasonQ = None,
) -> PlanChange:
    """Remove the rule at ``position``; ``?reason=`` says why."""
    plan = _current(store)
    rules = _rules_document(plan)
    removed = RuleChange("removed", rule=rules.pop(_index(rules, position)), position=position)
    proposed = _with_rules(plan, rules)
    return _apply(
        store, admin.name, proposed, dry_run, measure, removed, confirm, reason, ("query", REASON_KEY)
    )


@router.post("/rules/reorder", responses=UNCONFIRMED, **TYPED)
def reorder_rules(
    store: StoreDep,
    admin: Admin,
    order: Annotated[
        list[int], Body(embed=True, description="Every current position, once, in the new order.")
    ],
    reason: ReasonBody = None,
    dry_run: DryRun = False,
    measure: MeasureQ = "points",
    confirm: ConfirmMove = None,
) -> PlanChange:
    """Put the rules in a new order (rules unite, so order changes explanations, not values)."""
    plan = _current(store)
    rules = _rules_document(plan)
    if sorted(order) != list(range(len(rules))):
        raise unprocessable(
            [f"order: expected a permutation of 0..{len(rules) - 1} (every position once), got {order}"],
            location=("body", "order"),
        )
    proposed = _with_rules(plan, [rules[i] for i in order])
    reordered = RuleChange("reordered", order=tuple(order))
    return _apply(store, admin.name, proposed, dry_run, measure, reordered, confirm, reason)


@router.put("/plan", responses=UNCONFIRMED, **TYPED)
def replace_plan(
    settings: SettingsDep,
    store: StoreDep,
    admin: Admin,
    document: Annotated[
        dict[str, Any],
        Body(description=f"The plan document, with an optional top-level 'reason' key: {REASON_DESCRIPTION}"),
    ],
    dry_run: DryRun = False,
    measure: MeasureQ = "points",
    confirm: ConfirmMove = None,
) -> PlanChange:
    """Replace the whole plan (values, methods with weights, obstacles, measures, rules); a
    top-level ``reason`` key beside the plan's says why (taken out before the plan is validated)."""
    reason = pop_reason(document)
    try:
        proposed = plan_from_data(document, "plan")
    except ConfigError as exc:
        raise unprocessable(exc.problems) from None
    return _apply(
        store,
        admin.name,
        proposed,
        dry_run,
        measure,
        confirm=confirm,
        reason=reason,
        calendar=settings.calendar(),
    )


AUDIT_CURSOR = "cursor: not a cursor this server issued"


def _audit_cursor(cursor: str | None) -> int | None:
    """The id an audit page starts below (a cursor is the id of the last entry of the page before)."""
    if cursor is None:
        return None
    if not cursor.isascii() or not cursor.isdigit() or not 0 < int(cursor) < 2**63:
        raise unprocessable([AUDIT_CURSOR], location=("query", "cursor"))
    return int(cursor)


@router.get("/audit", **TYPED)
def audit_log(
    store: StoreDep,
    _admin: Admin,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(description="next_cursor of the page before.")] = None,
    kind: Annotated[AuditKind | None, Query(description="Only entries of this kind.")] = None,
) -> AuditLog:
    """Every change, newest first: who, when, what (plan and rule changes, tokens, tags, provisioning
    and write-back runs)."""
    events = store.audit.entries(limit=limit + 1, before=_audit_cursor(cursor), kind=kind)
    page = events[:limit]
    return AuditLog.model_validate(
        {
            "entries": [entry_document(event) for event in page],
            "next_cursor": str(page[-1].id) if len(events) > limit else None,
        }
    )


# -- rule routes: rules by id, a rule object as the body --------------------------------------

rules_router = APIRouter(prefix="/api/rules")


def _position_of(rules: list[dict[str, Any]], rule_id: str) -> int:
    for position, rule in enumerate(rules):
        if rule.get("id") == rule_id:
            return position
    raise HTTPException(404, detail=f"no rule with id '{rule_id}'")


@rules_router.get("", **TYPED)
def contract_list_rules(store: StoreDep, _viewer: Viewer) -> RuleList:
    """The plan's rules in order, with their ids (viewers may read them)."""
    return RuleList.model_validate({"rules": _rules_document(_current(store))})


@rules_router.post("", responses=UNCONFIRMED, **TYPED)
def contract_create_rule(
    store: StoreDep,
    admin: Admin,
    rule: Annotated[
        dict[str, Any],
        Body(description=f"The rule, with an optional top-level 'reason' key: {REASON_DESCRIPTION}"),
    ],
    measure: MeasureQ = "points",
    confirm: ConfirmMove = None,
) -> RuleCreated:
    """Add a rule (the body is the rule: ``{"when": {...}, "method": ...}``, and ``"reason"`` beside
    its keys says why); answers with its id."""
    reason = pop_reason(rule)
    plan = _current(store)
    proposed = _with_rules(plan, [*_rules_document(plan), rule])
    new = _rules_document(proposed)
    added = RuleChange("added", rule=new[-1], position=len(new) - 1)
    answer = _answer(store, admin.name, proposed, False, measure, added, confirm, reason)
    answer["rule"] = answer["rules"][-1]
    return RuleCreated.model_validate(answer)


@rules_router.post("/preview", **TYPED)
def contract_preview_rule(
    store: StoreDep, _admin: Admin, rule: Annotated[dict[str, Any], Body()], measure: MeasureQ = "points"
) -> PlanChangePreview:
    """What adding ``rule`` would change, before saving it (nothing is written)."""
    plan = _current(store)
    proposed = _with_rules(plan, [*_rules_document(plan), rule])
    return PlanChangePreview.model_validate(_answer(store, "", proposed, True, measure))


@rules_router.delete("/{rule_id}", responses=UNCONFIRMED, **TYPED)
def contract_delete_rule(
    rule_id: str,
    store: StoreDep,
    admin: Admin,
    measure: MeasureQ = "points",
    confirm: ConfirmMove = None,
    reason: ReasonQ = None,
) -> PlanChangeApplied:
    """Remove the rule with ``rule_id``; ``?reason=`` says why."""
    plan = _current(store)
    rules = _rules_document(plan)
    position = _position_of(rules, rule_id)
    removed = RuleChange("removed", rule=rules.pop(position), position=position)
    proposed = _with_rules(plan, rules)
    return PlanChangeApplied.model_validate(
        _answer(store, admin.name, proposed, False, measure, removed, confirm, reason, ("query", REASON_KEY))
    )
