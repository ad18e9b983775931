"""Behind a load balancer any app instance may get any request: sessions and tokens live in the
database (hashed), never in one process, so a revocation on one instance holds on all at once."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.support import auth
from v2mom.app.auth import SESSION_COOKIE
from v2mom.app.factory import create_app
from v2mom.settings import Settings
from v2mom.store import schema as t
from v2mom.store.database import Database


@pytest.fixture
def two_instances(database_url: str) -> Iterator[tuple[TestClient, TestClient, Database]]:
    """Two apps, each with its own Database (pool), on one database, as two processes would be."""
    settings = Settings(database_url=database_url)
    stores = [Database.open(database_url), Database.open(database_url)]
    try:
        with (
            TestClient(create_app(settings, stores[0])) as first,
            TestClient(create_app(settings, stores[1])) as second,
        ):
            yield first, second, stores[0]
    finally:
        for store in stores:
            store.close()


def test_a_session_from_one_instance_works_on_another_until_revoked_anywhere(
    two_instances: tuple[TestClient, TestClient, Database],
) -> None:
    first, second, store = two_instances
    admin = store.tokens.create("admin", "ops")
    created = first.post("/api/admin/tokens", json={"role": "viewer", "name": "pm"}, headers=auth(admin))
    assert created.status_code == 201, created.text
    viewer, viewer_id = created.json()["token"], created.json()["id"]

    with store.engine.connect() as conn:  # stored in the shared database, and only as its hash
        row = conn.execute(select(t.api_tokens).where(t.api_tokens.c.id == viewer_id)).one()
    assert row.token_hash == hashlib.sha256(viewer.encode()).hexdigest()
    assert viewer not in repr(tuple(row))

    signed_in = first.post("/api/session", json={"token": viewer})
    assert signed_in.status_code == 200
    cookie = signed_in.cookies[SESSION_COOKIE]
    second.cookies.set(SESSION_COOKIE, cookie)
    assert second.get("/api/session").json() == {"name": "pm", "role": "viewer"}
    assert second.get("/api/reports/effort-by-value").status_code == 200

    revoked = second.delete(f"/api/admin/tokens/{viewer_id}", headers=auth(admin))  # revoked elsewhere
    assert revoked.status_code == 200
    first.cookies.set(SESSION_COOKIE, cookie)
    assert first.get("/api/session").status_code == 401  # no per-process cache keeps it alive
    assert second.get("/api/session").status_code == 401
    assert first.get("/api/reports/effort-by-value", headers=auth(viewer)).status_code == 401
