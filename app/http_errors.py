"""422 answers shaped like FastAPI's own validation errors.

Every route's OpenAPI declares ``422: HTTPValidationError`` (``detail``: a list of ``{loc, msg,
type}``), so our own validation failures use the same shape: each problem is one entry whose
``msg`` is exactly the line ``v2mom check`` prints.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import HTTPException


def unprocessable(problems: Sequence[str], *, location: Sequence[str | int] = ("body",)) -> HTTPException:
    """A 422 listing ``problems`` at ``location`` (``("query", "from")``, ``("body",)`` …)."""
    detail = [{"loc": list(location), "msg": problem, "type": "value_error"} for problem in problems]
    return HTTPException(422, detail=detail)
