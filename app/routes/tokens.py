"""Token management for admins (``/api/admin/tokens``): list, create, revoke (both audited).

The same store calls as ``v2mom token list|create|revoke``. A token's secret is shown once, in the
answer that creates it; listings never carry it (only its hash is stored). Revoking takes effect
on the next request, sessions included, since a session is the token in a cookie.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from v2mom.app.auth import Admin, StoreDep
from v2mom.app.schemas.access import TokenCreated, TokenDocument, TokenList

router = APIRouter(prefix="/api/admin/tokens")
TokenName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]


class NewToken(BaseModel):
    """What a new token is for: its role and a label to recognise it by."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["viewer", "admin"]
    name: TokenName = Field(description="A label, such as the person or the job using it.")


@router.get("")
def list_tokens(store: StoreDep, admin: Admin) -> TokenList:
    """Every token, newest first, with its last use; never the secret."""
    return TokenList(tokens=[TokenDocument.from_info(info, admin.id) for info in store.tokens.list_all()])


@router.post("", status_code=201)
def create_token(store: StoreDep, admin: Admin, new: NewToken) -> TokenCreated:
    """Create a token; ``token`` in the answer is the only time its secret is shown."""
    secret = store.tokens.create(new.role, new.name, actor=f"token:{admin.name}")
    created = store.tokens.info(token=secret)
    if created is None:  # written a moment ago: only a concurrent database reset gets here
        raise HTTPException(409, detail="the token was not found after it was created")
    return TokenCreated(**TokenDocument.from_info(created, admin.id).model_dump(), token=secret)


# Token ids are 64-bit database keys: a bigger number is a client error, not a driver overflow.
TokenId = Annotated[int, Path(ge=1, le=2**63 - 1, description="the token's id, as listed")]


@router.delete("/{token_id}")
def revoke_token(token_id: TokenId, store: StoreDep, admin: Admin) -> TokenDocument:
    """Revoke a live token (404 when there is no live token with that id)."""
    if not store.tokens.revoke(token_id, actor=f"token:{admin.name}"):
        raise HTTPException(404, detail=f"no live token with id {token_id}")
    revoked = store.tokens.info(token_id=token_id)
    if revoked is None:  # tokens are revoked, never deleted: only a concurrent reset gets here
        raise HTTPException(404, detail=f"no token with id {token_id}")
    return TokenDocument.from_info(revoked, admin.id)
