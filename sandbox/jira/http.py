"""What every route of the fake Jira answers with: Jira's ErrorCollection, and the JSON body it reads."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

__all__ = ["error", "jira_time", "json_body", "request_id_headers"]


def jira_time(moment: datetime | None) -> str | None:
    """Jira's timestamp format: ``2026-11-23T10:00:00.000+0000``."""
    if moment is None:
        return None
    # isoformat ends "+00:00" in UTC: Jira writes the offset without its colon
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "+0000"


def request_id_headers() -> dict[str, str]:
    """The ``X-Arequestid`` header Jira puts on every answer."""
    return {"X-Arequestid": uuid.uuid4().hex[:12]}


def error(status: int, *messages: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """A Jira-style error body, with a request id header."""
    all_headers = {**request_id_headers(), **(headers or {})}
    return JSONResponse(
        {"errorMessages": list(messages), "errors": {}}, status_code=status, headers=all_headers
    )


async def json_body(request: Request) -> dict[str, Any] | Response:
    """The request's JSON object, or the 400 Jira answers for anything else."""
    try:
        body = await request.json()
    except json.JSONDecodeError:
        return error(400, "Request body is not valid JSON.")
    if not isinstance(body, dict):
        return error(400, "Request body must be a JSON object.")
    return body
