"""API tokens on SQLite and PostgreSQL: hashed, revocable, use recorded; a change and its audit
entry commit together."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from v2mom.mapping.plan import Plan, Value, check_plan
from v2mom.store import plans as plans_module
from v2mom.store import tokens as tokens_module
from v2mom.store.database import Database


def test_tokens_are_hashed_revocable_and_record_use(store: Database) -> None:
    token = store.tokens.create("viewer", "pm")
    info = store.tokens.authenticate(token)
    assert info is not None
    assert info.role == "viewer"
    assert store.tokens.authenticate(token + "x") is None
    listed = store.tokens.list_all()
    assert listed[0].last_used_at is not None
    with store.engine.connect() as conn:
        stored_hashes = [r[0] for r in conn.exec_driver_sql("SELECT token_hash FROM api_tokens")]
    assert token not in stored_hashes
    assert store.tokens.revoke(info.id)
    assert store.tokens.authenticate(token) is None
    assert not store.tokens.revoke(info.id)


def test_a_tokens_use_is_written_at_most_once_a_minute(store: Database) -> None:
    """A request only reads the token: its use is written when the last one written is a minute old."""
    token = store.tokens.create("viewer", "pm")
    at = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
    first = store.tokens.authenticate(token, now=at)
    assert first is not None
    assert first.last_used_at == at
    within = store.tokens.authenticate(token, now=at + timedelta(seconds=59))
    assert within is not None
    assert within.last_used_at == at
    assert [i.last_used_at for i in store.tokens.list_all()] == [at]  # nothing written
    later = store.tokens.authenticate(token, now=at + timedelta(minutes=1))
    assert later is not None
    assert later.last_used_at == at + timedelta(minutes=1)
    assert [i.last_used_at for i in store.tokens.list_all()] == [at + timedelta(minutes=1)]
    assert store.tokens.revoke(later.id)
    assert store.tokens.authenticate(token, now=at + timedelta(minutes=1, seconds=1)) is None


def test_a_change_and_its_audit_entry_commit_together(
    store: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Plans and tokens write their audit entry in their own transaction: no change without its entry."""
    plan = check_plan(Plan(values=(Value(id="speed", name="Speed"),)))

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the audit cannot be written")

    monkeypatch.setattr(plans_module, "record_event", broken)
    monkeypatch.setattr(tokens_module, "record_event", broken)
    with pytest.raises(RuntimeError):
        store.plans.save(plan, actor="cli:ada")
    with pytest.raises(RuntimeError):
        store.tokens.create("admin", "ops", actor="cli:ada")
    assert store.plans.current() is None
    assert store.tokens.list_all() == []
    monkeypatch.undo()
    store.plans.save(plan, actor="cli:ada")
    token = store.tokens.create("admin", "ops", actor="cli:ada")
    info = store.tokens.info(token=token)
    assert info is not None
    assert store.tokens.revoke(info.id, actor="token:boss")
    assert not store.tokens.revoke(info.id, actor="token:boss")  # nothing revoked, nothing audited
    revoked, created, saved = store.audit.entries()
    assert (saved.kind, saved.actor, saved.details["version"]) == ("plan", "cli:ada", 1)
    assert (created.kind, created.actor, created.details["action"]) == ("token", "cli:ada", "created")
    assert (revoked.actor, revoked.details) == (
        "token:boss",
        {"action": "revoked", "token": {"id": info.id, "name": "ops", "role": "admin"}},
    )
