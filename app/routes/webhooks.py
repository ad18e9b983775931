"""``POST /webhooks/<tracker>``: verify the raw bytes, store the event, then acknowledge.

401 bad or missing signature (or no secret configured: fail closed), 400 malformed (naming the
field: not strict JSON, nested too deep, a field of the wrong shape, a value too long for the
inbox), 413 larger than the limit (1 MiB by default) — and nothing stored for any of them. Every
other validly signed event is acknowledged: events that change nothing v2mom reads are stored as
``ignored`` with the reason (``GET /api/admin/webhooks/ignored``), so the tracker never sees a
failed delivery for them. A duplicate delivery is acknowledged without being stored twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, Response

from v2mom.connectors.asana.webhook import SECRET_HEADER, parse_asana_events, verify_asana
from v2mom.connectors.jira.webhook import parse_jira_event, verify_jira
from v2mom.connectors.linear.webhook import parse_linear_event, verify_linear
from v2mom.errors import WebhookVerificationError
from v2mom.events import MalformedEvent, WebhookEvent
from v2mom.settings import Settings
from v2mom.store.inbox import Inbox
from v2mom.webhooks.hook_secrets import StoredHookSecrets
from v2mom.webhooks.ingest import GroupCommitter

log = logging.getLogger(__name__)
router = APIRouter(prefix="/webhooks")
DEFAULT_MAX_BYTES = 1024 * 1024

Verifier = Callable[[Mapping[str, str], bytes, Sequence[str]], None]
Parser = Callable[[Mapping[str, str], bytes], list[WebhookEvent]]


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


def linear_secrets(settings: Settings) -> list[str]:
    """The configured Linear webhook secrets (several during a rotation)."""
    linear = settings.trackers.linear
    return [s.get_secret_value() for s in linear.webhook_secrets] if linear else []


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
        events = parse(headers, body)
    except MalformedEvent as exc:
        raise HTTPException(400, detail=f"{tracker} webhook: {exc}") from None
    committer: GroupCommitter | None = getattr(request.app.state, "ingest", None)
    if committer is not None:
        outcomes = list(await asyncio.gather(*(committer.submit(e) for e in events)))
    else:
        inbox: Inbox = request.app.state.inbox
        outcomes = inbox.enqueue_many(events)
    stored = any(outcomes)
    to_apply = any(done and e.kind != "ignored" for e, done in zip(events, outcomes, strict=True))
    wake = getattr(request.app.state, "wake_worker", None)
    if to_apply and wake is not None:
        wake()
    status = "duplicate" if not stored else "stored" if to_apply else "ignored"
    return JSONResponse({"status": status}, status_code=202)


@router.post("/jira", status_code=202)
async def jira_webhook(request: Request) -> JSONResponse:
    """A Jira issue event (``X-Hub-Signature``, ``X-Atlassian-Webhook-Identifier``)."""
    return await receive(
        request,
        "jira",
        jira_secrets(request.app.state.settings),
        verify_jira,
        lambda headers, body: [parse_jira_event(headers, body)],
    )


@router.post("/linear", status_code=202)
async def linear_webhook(request: Request) -> JSONResponse:
    """A Linear Issue or Project event (``Linear-Signature``, ``Linear-Delivery``, fresh timestamp)."""
    hooks: StoredHookSecrets = request.app.state.linear_hooks
    configured = linear_secrets(request.app.state.settings)
    secrets = [*configured, *hooks.secrets()]
    verify = with_fresh_secrets(verify_linear, hooks, configured)
    return await receive(request, "linear", secrets, verify, parse_linear_event)


@router.post("/asana", status_code=202, response_model=None)
async def asana_webhook(request: Request) -> Response:
    """Asana: the ``X-Hook-Secret`` handshake, then deliveries signed with ``X-Hook-Signature``."""
    hooks: StoredHookSecrets = request.app.state.asana_hooks
    handshake = request.headers.get(SECRET_HEADER)
    if handshake is not None:
        if not hooks.accept_handshake(handshake):
            log.error(
                "asana webhook handshake refused: no registration is expected (v2mom webhooks register)"
            )
            raise HTTPException(401, detail="asana webhook: no webhook registration is expected")
        return Response(status_code=204, headers={"X-Hook-Secret": handshake})

    return await receive(
        request, "asana", hooks.secrets(), with_fresh_secrets(verify_asana, hooks), parse_asana_events
    )


def with_fresh_secrets(
    verify: Verifier, hooks: StoredHookSecrets, configured: Sequence[str] = ()
) -> Verifier:
    """``verify``, retried once against freshly read stored secrets (one learned by another replica)."""

    def verifying(headers: Mapping[str, str], body: bytes, secrets: Sequence[str]) -> None:
        try:
            verify(headers, body, secrets)
        except WebhookVerificationError:
            fresh = [*configured, *hooks.secrets(fresh=True)]
            if list(fresh) == list(secrets):
                raise
            verify(headers, body, fresh)

    return verifying
