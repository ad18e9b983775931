"""API tokens: only a SHA-256 hash of each secret is stored; the plaintext is shown once."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Connection, and_, insert, select, update

from v2mom.clock import utcnow
from v2mom.store import schema as t
from v2mom.store.audit import record_event
from v2mom.store.transactions import Repository

Role = Literal["viewer", "admin"]
ROLES: tuple[Role, ...] = ("viewer", "admin")
USE_RECORDED_EVERY = timedelta(minutes=1)  # a token's last use is shown to the minute


def hash_token(token: str) -> str:
    """SHA-256 of an API token; only the hash is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class TokenInfo:
    """A stored API token, without its secret."""

    id: int
    name: str
    role: Role
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def _token_info(r: Any) -> TokenInfo:
    return TokenInfo(r.id, r.name, r.role, r.created_at, r.last_used_at, r.revoked_at)


class TokenRepository(Repository):
    """The ``api_tokens`` table."""

    def create(self, role: Role, name: str, *, actor: str = "system") -> str:
        """Create an API token and audit who did (never its secret, nor its hash); the plaintext is
        returned once and only its hash is stored."""
        if role not in ROLES:
            raise ValueError(f"unknown role '{role}' (expected viewer or admin)")
        token = "v2m_" + secrets.token_urlsafe(32)
        with self._tx.write() as conn:
            created = conn.execute(
                insert(t.api_tokens).values(
                    name=name, role=role, token_hash=hash_token(token), created_at=utcnow()
                )
            )
            (token_id,) = created.inserted_primary_key or (None,)
            _audit(conn, actor, "created", {"id": token_id, "name": name, "role": role})
        return token

    def authenticate(self, token: str, *, now: datetime | None = None) -> TokenInfo | None:
        """The live token matching ``token``, or None. Its use is recorded when the last one recorded
        is older than :data:`USE_RECORDED_EVERY`: most requests only read, and a write per request
        would queue every reader of an SQLite store behind its one writer."""
        digest = hash_token(token)
        now = now or utcnow()
        live = and_(t.api_tokens.c.token_hash == digest, t.api_tokens.c.revoked_at.is_(None))
        with self._tx.read() as conn:
            row = conn.execute(select(t.api_tokens).where(live)).first()
        if row is None:
            return None
        used = row.last_used_at
        if used is None or now - used >= USE_RECORDED_EVERY:
            with self._tx.write() as conn:
                conn.execute(update(t.api_tokens).where(t.api_tokens.c.id == row.id).values(last_used_at=now))
            used = now
        return replace(_token_info(row), last_used_at=used)

    def info(self, *, token: str | None = None, token_id: int | None = None) -> TokenInfo | None:
        """One token by its secret or its id, without recording a use (revoked ones too)."""
        query = select(t.api_tokens)
        if token is not None:
            query = query.where(t.api_tokens.c.token_hash == hash_token(token))
        if token_id is not None:
            query = query.where(t.api_tokens.c.id == token_id)
        with self._tx.read() as conn:
            r = conn.execute(query.limit(1)).first()
        return None if r is None else _token_info(r)

    def list_all(self) -> list[TokenInfo]:
        """Every token, newest first, without secrets."""
        with self._tx.read() as conn:
            rows = conn.execute(select(t.api_tokens).order_by(t.api_tokens.c.id.desc()))
            return [_token_info(r) for r in rows]

    def revoke(self, token_id: int, *, actor: str = "system") -> bool:
        """Revoke a token by id and audit who did; False when there is no such live token."""
        with self._tx.write() as conn:
            revoked = conn.execute(
                update(t.api_tokens)
                .where(t.api_tokens.c.id == token_id, t.api_tokens.c.revoked_at.is_(None))
                .values(revoked_at=utcnow())
                .returning(t.api_tokens.c.name, t.api_tokens.c.role)
            ).first()
            if revoked is None:
                return False
            _audit(conn, actor, "revoked", {"id": token_id, "name": revoked.name, "role": revoked.role})
            return True


def _audit(conn: Connection, actor: str, action: str, token: dict[str, Any]) -> None:
    """The audit entry of a token created or revoked: who, and which token (id, name, role)."""
    record_event(
        conn,
        kind="token",
        actor=actor,
        summary=f"{action} {token['role']} token '{token['name']}' (id {token['id']})",
        details={"action": action, "token": token},
    )
