"""``GET|PUT /api/plan``: read the plan (viewer) or replace it atomically (admin), and
``GET /api/plan/history``: every version with who, when, why and what changed (viewer)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query

from v2mom.app.auth import Admin, StoreDep, Viewer
from v2mom.app.http_errors import (
    REASON_DESCRIPTION,
    UNCONFIRMED,
    ConfirmMove,
    pop_reason,
    require_confirmed,
    require_reason,
    unprocessable,
)
from v2mom.app.schemas.plan import PlanHistory, PlanReplaced, why_and_closed
from v2mom.app.services import SettingsDep
from v2mom.clock import today
from v2mom.errors import ConfigError
from v2mom.mapping.plan import Plan, plan_from_data
from v2mom.mapping.plan_changes import plan_changes
from v2mom.metrics import RERESOLVE_SECONDS
from v2mom.reports.reviews import apply_closing_cycle
from v2mom.store.resolution.preview import preview_plan

router = APIRouter(prefix="/api")
MeasureQ = Annotated[
    Literal["points", "hours", "count"], Query(description="The measure a big move is judged in.")
]


# The plan document leaves out what plan.yaml leaves out (no nulls): only the keys it has are sent.
@router.get("/plan", response_model=Plan, response_model_exclude_unset=True)
def get_plan(store: StoreDep, _viewer: Viewer) -> Plan:
    """The stored plan as JSON (the same document as plan.yaml)."""
    plan = store.plans.current() or Plan()
    return Plan.model_validate(plan.model_dump(mode="json", exclude_none=True))


@router.put("/plan", responses=UNCONFIRMED, response_model_exclude_unset=True)
def put_plan(
    settings: SettingsDep,
    store: StoreDep,
    admin: Admin,
    document: dict[str, Any] = Body(
        ...,
        description="The plan document (as plan.yaml), with an optional top-level 'reason' key beside "
        f"its own: {REASON_DESCRIPTION}",
    ),
    measure: MeasureQ = "points",
    confirm: ConfirmMove = None,
) -> PlanReplaced:
    """Validate and replace the plan, then re-resolve the items it moves; 422 lists every problem,
    409 a change that moves more than a quarter of the effort (in ``measure``) unconfirmed.

    Why the plan changes goes in the body as a top-level ``reason`` key beside the plan's keys
    (``{"reason": "...", "vision": ...}``; it is taken out before the plan is validated, so a bare
    plan document is still a valid body). Once the stored plan has a cycle a reason is needed: 422 at
    ``reason`` without one, and nothing is written. It is kept with the version.
    """
    reason = pop_reason(document)
    try:
        plan = plan_from_data(document, "plan")
    except ConfigError as exc:
        raise unprocessable(exc.problems) from None
    current = store.plans.current()
    require_reason(current, reason)
    preview = preview_plan(store, plan, measure)
    require_confirmed(preview, confirm)
    changes = plan_changes(current, plan)
    with RERESOLVE_SECONDS.labels(trigger="plan").time():
        closed, applied = apply_closing_cycle(
            store,
            plan,
            actor=f"token:{admin.name}",
            today=today(),
            reason=reason,
            preview=preview,
            calendar=settings.calendar(),
        )
    version, stats = applied.version, applied.stats
    return PlanReplaced.model_validate(
        {
            "version": version,
            "changes": changes,
            **why_and_closed(reason, closed),
            "resolved": {
                "items": stats.items,
                "untagged": stats.untagged,
                "orphaned": stats.orphaned,
                "conflict": stats.conflict,
            },
        }
    )


@router.get("/plan/history")
def plan_history(
    store: StoreDep,
    _viewer: Viewer,
    limit: Annotated[int, Query(ge=1, le=200, description="How many versions, newest first.")] = 50,
) -> PlanHistory:
    """The plan's versions, newest first: who applied each, when, why (null when no reason was given
    or it was applied before reasons were kept) and what it changed (null for those older versions)."""
    return PlanHistory.model_validate({"versions": store.plans.history(limit)})
