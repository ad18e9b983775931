"""Response models of health, sessions, API tokens, parked webhook events and accounts seen."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from v2mom.app.schemas.common import ApiModel
from v2mom.app.schemas.reports import TrackerFreshness
from v2mom.store.tokens import TokenInfo

Role = Literal["viewer", "admin"]


class Health(ApiModel):
    """``GET /healthz``: ``details`` (per-tracker freshness) only for an admin token."""

    status: Literal["ok"]
    details: dict[str, TrackerFreshness] | None = None


class SessionInfo(ApiModel):
    """Who is signed in: the token's name and role."""

    name: str
    role: Role


class SignedOut(ApiModel):
    """``DELETE /api/session``."""

    status: Literal["signed out"]


class TokenDocument(ApiModel):
    """An API token as listed (never its secret); ``current`` marks the token asking."""

    id: int
    name: str
    role: Role
    created_at: str
    last_used_at: str | None
    revoked_at: str | None
    current: bool

    @classmethod
    def from_info(cls, info: TokenInfo, current_id: int | None) -> TokenDocument:
        """The listed fields of a stored token (times as ISO text, as they have always been sent)."""
        return cls(
            id=info.id,
            name=info.name,
            role=info.role,
            created_at=info.created_at.isoformat(),
            last_used_at=info.last_used_at.isoformat() if info.last_used_at else None,
            revoked_at=info.revoked_at.isoformat() if info.revoked_at else None,
            current=info.id == current_id,
        )


class TokenCreated(TokenDocument):
    """A new token: the only answer that carries its secret, ``token``."""

    token: str


class TokenList(ApiModel):
    """``GET /api/admin/tokens``: every token, newest first."""

    tokens: list[TokenDocument]


class ParkedEvent(ApiModel):
    """A webhook event that failed every retry, with its last error."""

    id: int
    tracker: str
    delivery_id: str
    kind: str
    item_ref: str | None
    attempts: int
    last_error: str | None
    received_at: str


class ParkedEvents(ApiModel):
    """``GET /api/admin/webhooks/parked``: newest first."""

    items: list[ParkedEvent]


class IgnoredEvent(ApiModel):
    """A validly signed webhook event that was acknowledged but applies nothing, and why."""

    id: int
    tracker: str
    delivery_id: str
    event_type: str
    reason: str
    received_at: str


class IgnoredEvents(ApiModel):
    """``GET /api/admin/webhooks/ignored``: how many per tracker, and the newest first."""

    counts: dict[str, int]
    items: list[IgnoredEvent]


class TrackerAccounts(ApiModel):
    """One tracker's accounts seen in the store (items' assignees, assignee changes): how many, and
    how many of them the settings' ``people:`` maps to a person."""

    accounts: int
    mapped: int
    unmapped: int = Field(description="accounts seen that no people: entry names: each a person of its own")


class PeopleAccounts(ApiModel):
    """``GET /api/admin/people``: counts only, never an account id or a name."""

    trackers: dict[str, TrackerAccounts] = Field(
        description="per tracker seen or named in people:, its accounts seen, mapped and unmapped"
    )
    people: int = Field(description="the entries of the settings' people: list")
