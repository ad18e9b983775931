"""422 answers shaped like FastAPI's own validation errors.

Every route's OpenAPI declares ``422: HTTPValidationError`` (``detail``: a list of ``{loc, msg,
type}``), so our own validation failures use the same shape: each problem is one entry whose
``msg`` is exactly the line ``v2mom check`` prints.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import HTTPException

from v2mom.settings import Settings


def unprocessable(problems: Sequence[str], *, location: Sequence[str | int] = ("body",)) -> HTTPException:
    """A 422 listing ``problems`` at ``location`` (``("query", "from")``, ``("body",)`` …)."""
    detail = [{"loc": list(location), "msg": problem, "type": "value_error"} for problem in problems]
    return HTTPException(422, detail=detail)


def require_configured(settings: Settings, tracker: str | None) -> None:
    """A 422 at ``?tracker=`` when ``tracker`` is given and has no section in the settings."""
    if tracker is not None and tracker not in settings.trackers.configured():
        raise unprocessable([f"tracker: {tracker} is not configured"], location=("query", "tracker"))
