"""``POST /webhooks/<tracker>``: verify the raw bytes, store the event, then acknowledge.

One route serves every tracker: what differs between them (secrets, signature, parsing, Asana's
handshake) is the tracker's :class:`~v2mom.webhooks.receivers.Receiver`. 404 for a tracker we do
not know, 401 bad or missing signature (or no secret configured: fail closed), 400 malformed
(naming the field: not strict JSON, nested too deep, a field of the wrong shape, a value too long
for the inbox), 413 larger than the limit (1 MiB by default) — and nothing stored for any of them.
Every other validly signed event is acknowledged: events that change nothing v2mom reads are stored
as ``ignored`` with the reason (``GET /api/admin/webhooks/ignored``), so the tracker never sees a
failed delivery for them. A duplicate delivery is acknowledged without being stored twice.
"""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, Response

from v2mom.app.services import Services, ServicesDep
from v2mom.errors import WebhookVerificationError
from v2mom.events import MalformedEvent, WebhookEvent
from v2mom.webhooks.receivers import Receiver

log = logging.getLogger(__name__)
router = APIRouter(prefix="/webhooks")


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


@router.post("/{tracker}", status_code=202, response_model=None)
async def receive_webhook(tracker: str, request: Request, services: ServicesDep) -> Response:
    """A tracker's delivery (Jira ``X-Hub-Signature``; Linear ``Linear-Signature`` with a fresh
    timestamp; Asana ``X-Hook-Signature``, after its ``X-Hook-Secret`` handshake)."""
    receiver = services.receivers.get(tracker)
    if receiver is None:
        raise HTTPException(404, detail=f"no webhook receiver for tracker {tracker!r}")
    headers = {k.lower(): v for k, v in request.headers.items()}
    echo = _handshake(receiver, headers)
    if echo is not None:
        return Response(status_code=204, headers={receiver.handshake_header or "": echo})
    body = await read_limited(request, services.webhook_max_bytes)
    events = _verified_events(receiver, headers, body, services)
    status = await _store(services, events)
    return JSONResponse({"status": status}, status_code=202)


def _handshake(receiver: Receiver, headers: dict[str, str]) -> str | None:
    """The secret to echo when the request is a handshake we expect; 401 when none is expected."""
    try:
        return receiver.handshake(headers)
    except WebhookVerificationError as exc:
        log.error("%s webhook handshake refused: %s", receiver.tracker, exc)
        raise HTTPException(401, detail=f"{receiver.tracker} webhook: {exc}") from None


def _verified_events(
    receiver: Receiver, headers: dict[str, str], body: bytes, services: Services
) -> list[WebhookEvent]:
    """The delivery's events, once its signature holds (401) and its body parses (400)."""
    if not receiver.secrets(services.settings):
        log.error("%s webhook refused: no webhook secret is configured (fail closed)", receiver.tracker)
    try:
        receiver.verify(headers, body, services.settings)
    except WebhookVerificationError as exc:
        raise HTTPException(401, detail=f"{receiver.tracker} webhook: {exc}") from None
    try:
        return receiver.parse(headers, body)
    except MalformedEvent as exc:
        raise HTTPException(400, detail=f"{receiver.tracker} webhook: {exc}") from None


async def _store(services: Services, events: list[WebhookEvent]) -> str:
    """Store the events durably (group commit while the app runs), wake the worker when one is to
    be applied; the acknowledgement's status."""
    if services.ingest is not None:
        committer = services.ingest
        outcomes = list(await asyncio.gather(*(committer.submit(e) for e in events)))
    else:
        outcomes = services.inbox.enqueue_many(events)
    stored = any(outcomes)
    to_apply = any(done and e.kind != "ignored" for e, done in zip(events, outcomes, strict=True))
    if to_apply and services.wake_worker is not None:
        services.wake_worker()
    return "duplicate" if not stored else "stored" if to_apply else "ignored"
