"""``POST /webhooks/<tracker>``: verify the raw bytes, store the event, then acknowledge.

401 bad or missing signature (or no secret configured: fail closed), 400 malformed, 413 larger than
the limit (1 MiB by default) — and nothing stored for any of them. A duplicate delivery is
acknowledged without being stored twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse

from connectors.jira.webhook import MalformedEvent, parse_jira_event, verify_jira
from v2mom.errors import WebhookVerificationError
from v2mom.events import WebhookEvent
from v2mom.inbox import Inbox
from v2mom.settings import Settings
from webhooks.ingest import GroupCommitter

log = logging.getLogger(__name__)
router = APIRouter(prefix="/webhooks")
DEFAULT_MAX_BYTES = 1024 * 1024

Verifier = Callable[[Mapping[str, str], bytes, Sequence[str]], None]
Parser = Callable[[Mapping[str, str], bytes], WebhookEvent]


async def read_limited(request: Request, limit: int) -> bytes:
    """The raw body, refusing (413) anything over ``limit`` bytes before reading it all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, detail=f"body larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, detail=f"body larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def jira_secrets(settings: Settings) -> list[str]:
    """The configured Jira webhook secrets (several during a rotation)."""
    jira = settings.trackers.jira
    return [s.get_secret_value() for s in jira.webhook_secrets] if jira else []


async def receive(
    request: Request, tracker: str, secrets: list[str], verify: Verifier, parse: Parser
) -> JSONResponse:
    """The shared receive path: limit, verify, parse, store durably, acknowledge."""
    limit = getattr(request.app.state, "webhook_max_bytes", DEFAULT_MAX_BYTES)
    body = await read_limited(request, limit)
    headers = {k.lower(): v for k, v in request.headers.items()}
    if not secrets:
        log.error("%s webhook refused: no webhook secret is configured (fail closed)", tracker)
    try:
        verify(headers, body, secrets)
    except WebhookVerificationError as exc:
        raise HTTPException(401, detail=f"{tracker} webhook: {exc}") from None
    try:
        event = parse(headers, body)
    except MalformedEvent as exc:
        raise HTTPException(400, detail=f"{tracker} webhook: {exc}") from None
    committer: GroupCommitter | None = getattr(request.app.state, "ingest", None)
    if committer is not None:
        stored = await committer.submit(event)
    else:
        inbox: Inbox = request.app.state.inbox
        stored = inbox.enqueue(event)
    wake = getattr(request.app.state, "wake_worker", None)
    if stored and wake is not None:
        wake()
    return JSONResponse({"status": "stored" if stored else "duplicate"}, status_code=202)


@router.post("/jira", status_code=202)
async def jira_webhook(request: Request) -> JSONResponse:
    """A Jira issue event (``X-Hub-Signature``, ``X-Atlassian-Webhook-Identifier``)."""
    return await receive(
        request, "jira", jira_secrets(request.app.state.settings), verify_jira, parse_jira_event
    )
