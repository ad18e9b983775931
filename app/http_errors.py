"""422 answers shaped like FastAPI's own validation errors, and the 409 of an unconfirmed big move.

Every route's OpenAPI declares ``422: HTTPValidationError`` (``detail``: a list of ``{loc, msg,
type}``), so our own validation failures use the same shape: each problem is one entry whose
``msg`` is exactly the line ``v2mom check`` prints.

A plan or rule change that moves more than a quarter of the effort is refused with 409
``{"detail", "confirm", "moved_share"}`` unless the request's ``X-Confirm-Move`` header carries the
``confirm`` phrase (``move 42%``), as its preview showed it.

Once the stored plan has a cycle, a plan or rule change also needs a reason: a top-level ``reason``
key of its JSON body (beside the plan's or the rule's own keys, taken out before they are
validated), or ``?reason=`` on the routes that take no body (deleting a rule). Without one the
change is refused with a 422 at ``reason`` and nothing is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import Header, HTTPException

from v2mom.app.schemas.plan import MoveNeedsConfirming
from v2mom.mapping.plan import Plan
from v2mom.mapping.plan_changes import reason_problem
from v2mom.settings import Settings
from v2mom.store.resolution.preview import PlanPreview

CONFIRM_HEADER = "X-Confirm-Move"
UNCONFIRMED: dict[int | str, dict[str, Any]] = {
    409: {
        "model": MoveNeedsConfirming,
        "description": "The change moves more than a quarter of the effort: send its 'confirm' phrase as "
        "the X-Confirm-Move header to apply it (nothing was written)",
    }
}
ConfirmMove = Annotated[
    str | None,
    Header(
        alias=CONFIRM_HEADER,
        description="The preview's 'confirm' phrase (move 42%): needed when the change moves more than "
        "a quarter of the effort.",
    ),
]


def unprocessable(problems: Sequence[str], *, location: Sequence[str | int] = ("body",)) -> HTTPException:
    """A 422 listing ``problems`` at ``location`` (``("query", "from")``, ``("body",)`` …)."""
    detail = [{"loc": list(location), "msg": problem, "type": "value_error"} for problem in problems]
    return HTTPException(422, detail=detail)


REASON_KEY = "reason"
REASON_DESCRIPTION = (
    "Why the plan changes: needed once the stored plan has a cycle (a 422 at 'reason' otherwise, "
    "nothing written); kept with the new version and listed by GET /api/plan/history."
)


def pop_reason(document: dict[str, Any]) -> str | None:
    """Take the top-level ``reason`` key out of a plan or rule ``document`` (it is not part of it);
    a 422 at ``reason`` when it is there and not text."""
    reason = document.pop(REASON_KEY, None)
    if reason is not None and not isinstance(reason, str):
        raise unprocessable(
            ["reason: expected text saying why the plan changes"], location=("body", REASON_KEY)
        )
    return reason


def require_reason(
    current: Plan | None, reason: str | None, *, location: Sequence[str | int] = ("body", REASON_KEY)
) -> None:
    """A 422 at ``location`` when ``current`` (the stored plan) has a cycle and ``reason`` is blank."""
    problem = reason_problem(current, reason)
    if problem is not None:
        raise unprocessable([problem], location=location)


def require_configured(settings: Settings, tracker: str | None) -> None:
    """A 422 at ``?tracker=`` when ``tracker`` is given and has no section in the settings."""
    if tracker is not None and tracker not in settings.trackers.configured():
        raise unprocessable([f"tracker: {tracker} is not configured"], location=("query", "tracker"))


class MoveNotConfirmed(Exception):
    """A change that moves more than a quarter of the effort, sent without its confirmation (409)."""

    def __init__(self, preview: PlanPreview) -> None:
        """Refuse the change ``preview`` describes."""
        self.phrase = preview.confirm_phrase() or ""
        self.moved_share = round(preview.moved_share(), 4)
        self.unaligned = preview.unaligned()
        self.detail = (
            f"{preview.needs_confirmation()}; to apply it, send the header {CONFIRM_HEADER}: {self.phrase}"
        )
        super().__init__(self.detail)

    def body(self) -> dict[str, Any]:
        """The 409 body: ``{"detail", "confirm", "moved_share"}``, and ``unaligned`` (``{"before",
        "after"}``) when either plan has teams."""
        body: dict[str, Any] = {
            "detail": self.detail,
            "confirm": self.phrase,
            "moved_share": self.moved_share,
        }
        if self.unaligned is not None:
            body["unaligned"] = {"before": round(self.unaligned[0], 6), "after": round(self.unaligned[1], 6)}
        return body


def require_confirmed(preview: PlanPreview, typed: str | None) -> None:
    """:class:`MoveNotConfirmed` unless ``typed`` confirms the change (or it needs no confirmation)."""
    if not preview.confirmed_by(typed):
        raise MoveNotConfirmed(preview)
