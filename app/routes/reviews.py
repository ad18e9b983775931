"""``/api/reviews``: the closed review periods (viewer) and closing them (admin)."""

from __future__ import annotations

from fastapi import APIRouter, Body, HTTPException

from v2mom.app.auth import Admin, StoreDep, Viewer
from v2mom.app.http_errors import unprocessable
from v2mom.app.schemas.reviews import (
    CloseRequest,
    ReviewList,
    ReviewsClosed,
    ReviewSnapshot,
    closed_document,
    review_list,
)
from v2mom.app.services import SettingsDep
from v2mom.clock import today
from v2mom.mapping.plan import Plan
from v2mom.reports.periods import PeriodError, plan_periods
from v2mom.reports.reviews import close_ended_periods, close_reference

router = APIRouter(prefix="/api")


@router.get("/reviews")
def list_reviews(store: StoreDep, _viewer: Viewer) -> ReviewList:
    """Every closed period: cycle, period, dates, when and by whom it was closed, its plan version;
    and the plan's cycle with each of its periods, whether it has ended and whether it is closed."""
    plan = store.plans.current() or Plan()
    return review_list(store.reviews.list(), plan, plan_periods(store, plan, today()))


@router.get("/reviews/{cycle}/{period}")
def get_review(cycle: str, period: str, store: StoreDep, _viewer: Viewer) -> ReviewSnapshot:
    """The whole review snapshot of one period; 404 naming it when that period was never closed."""
    review = store.reviews.get(cycle, period)
    if review is None:
        raise HTTPException(404, detail=f"no review of {cycle}/{period}: that period has not been closed")
    return ReviewSnapshot.model_validate(review.document)


@router.post("/reviews/close")
def close_reviews(
    settings: SettingsDep, store: StoreDep, admin: Admin, request: CloseRequest | None = Body(None)
) -> ReviewsClosed:
    """Close ``period`` (``{"period": "fy27/q1"}``), or every ended period of the plan's cycle that has
    no review yet. A period closed before stays as it was and is listed under ``already_closed``;
    422 for a plan without a cycle, an unknown period or one that has not ended."""
    plan = store.plans.current() or Plan()
    actor = f"token:{admin.name}"
    reference = request.period if request is not None else None
    calendar = settings.calendar()
    try:
        if reference is not None:
            results = [close_reference(store, plan, reference, actor, today(), calendar=calendar)]
        elif plan.cycle is None:
            raise PeriodError("the plan has no cycle, so it has no periods to close")
        else:
            results = close_ended_periods(store, plan, actor, today(), calendar=calendar)
    except PeriodError as exc:
        location = ("body", "period") if reference is not None else ("body",)
        raise unprocessable([str(exc)], location=location) from None
    return closed_document(results)
