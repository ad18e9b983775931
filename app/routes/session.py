"""The dashboard's session: exchange an API token for an HTTP-only cookie, ask who is in, log out.

The cookie holds the token itself (tokens are revocable and stored hashed, so revoking one ends every
session that uses it): ``HttpOnly`` (no script reads it), ``SameSite=Strict``, ``Secure`` on HTTPS
and on loopback hosts (browsers treat those as secure), scoped to ``/``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, HTTPException, Request, Response

from v2mom.app.auth import SESSION_COOKIE, StoreDep, Viewer
from v2mom.app.schemas.access import SessionInfo, SignedOut

router = APIRouter(prefix="/api/session")
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
MAX_AGE = 12 * 3600


@router.post("")
def log_in(
    request: Request,
    response: Response,
    store: StoreDep,
    token: Annotated[str, Body(embed=True, min_length=1)],
) -> SessionInfo:
    """Check the token and keep it in the session cookie; 401 when it is not a live token."""
    info = store.tokens.authenticate(token.strip())
    if info is None:
        raise HTTPException(401, detail="not a valid API token (it may have been revoked)")
    secure = request.url.scheme == "https" or (request.url.hostname or "") in LOOPBACK
    response.set_cookie(
        SESSION_COOKIE,
        token.strip(),
        max_age=MAX_AGE,
        httponly=True,
        samesite="strict",
        secure=secure,
        path="/",
    )
    return SessionInfo(name=info.name, role=info.role)


@router.get("")
def who(viewer: Viewer) -> SessionInfo:
    """The signed-in token's name and role (401 when none)."""
    return SessionInfo(name=viewer.name, role=viewer.role)


@router.delete("")
def log_out(response: Response) -> SignedOut:
    """Forget the session cookie."""
    response.delete_cookie(SESSION_COOKIE, path="/")
    return SignedOut(status="signed out")
