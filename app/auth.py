"""Token authentication and role checks, as FastAPI dependencies.

A token arrives as ``Authorization: Bearer <token>`` (scripts) or in the dashboard's HTTP-only
session cookie (set by ``POST /api/session``). 401 without a valid token, 403 for a viewer on an
admin route. A write authenticated by the cookie must also carry the ``X-V2MOM-CSRF`` header, which
a cross-site form cannot send (the cookie is ``SameSite=Strict`` as well). Tokens are compared by
their SHA-256 hash in the database; the plaintext is never stored or logged.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from v2mom.app.services import services_of
from v2mom.store.database import Database
from v2mom.store.tokens import TokenInfo


def get_store(request: Request) -> Database:
    """The process's Database, created by the app factory."""
    return services_of(request.app).store


StoreDep = Annotated[Database, Depends(get_store)]


SESSION_COOKIE = "v2mom_session"
CSRF_HEADER = "x-v2mom-csrf"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def request_token(request: Request) -> str | None:
    """The bearer token, else the session cookie's (a cookie write needs the CSRF header: 403)."""
    token = bearer_token(request)
    if token is not None:
        return token
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    if request.method not in SAFE_METHODS and not request.headers.get(CSRF_HEADER):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, detail=f"cookie-authenticated writes need the {CSRF_HEADER} header"
        )
    return cookie


def require_viewer(request: Request, store: StoreDep) -> TokenInfo:
    """Any valid token (viewer or admin)."""
    token = request_token(request)
    info = store.tokens.authenticate(token) if token else None
    if info is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="missing or invalid API token (Authorization: Bearer <token>)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return info


def require_admin(info: Annotated[TokenInfo, Depends(require_viewer)]) -> TokenInfo:
    """An admin token; 403 for a viewer."""
    if info.role != "admin":
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="this route needs an admin token")
    return info


Viewer = Annotated[TokenInfo, Depends(require_viewer)]
Admin = Annotated[TokenInfo, Depends(require_admin)]
