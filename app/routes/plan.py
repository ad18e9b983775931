"""``GET|PUT /api/plan``: read the plan (viewer) or replace it atomically (admin)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body

from v2mom.app.auth import Admin, StoreDep, Viewer
from v2mom.app.http_errors import unprocessable
from v2mom.errors import ConfigError
from v2mom.mapping.plan import Plan, plan_from_data
from v2mom.mapping.plan_changes import plan_changes
from v2mom.store.plan_remap import apply_plan

router = APIRouter(prefix="/api")


@router.get("/plan")
def get_plan(store: StoreDep, _viewer: Viewer) -> dict[str, Any]:
    """The stored plan as JSON (the same document as plan.yaml)."""
    plan = store.plans.current() or Plan()
    return plan.model_dump(mode="json", exclude_none=True)


@router.put("/plan")
def put_plan(store: StoreDep, admin: Admin, document: dict[str, Any] = Body(...)) -> dict[str, Any]:
    """Validate and replace the plan, then re-resolve every item; 422 lists every problem."""
    try:
        plan = plan_from_data(document, "plan")
    except ConfigError as exc:
        raise unprocessable(exc.problems) from None
    changes = plan_changes(store.plans.current(), plan)
    applied = apply_plan(store, plan, actor=f"token:{admin.name}")
    version, stats = applied.version, applied.stats
    return {
        "version": version,
        "changes": changes,
        "resolved": {
            "items": stats.items,
            "untagged": stats.untagged,
            "orphaned": stats.orphaned,
            "conflict": stats.conflict,
        },
    }
