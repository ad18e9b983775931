"""The inbox commit that precedes a webhook's 202 is durable: SQLite syncs it (``synchronous=FULL``),
PostgreSQL waits for the WAL flush even where the database was configured ``synchronous_commit=off``."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

from tests.webhooks.jira_signing import SECRET, delivery, sign
from v2mom.app.factory import create_app
from v2mom.settings import JiraSettings, Settings, TrackersSettings
from v2mom.store.database import Database

# PRAGMA synchronous: 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA
DURABLE = {"sqlite": {"2", "3"}, "postgresql": {"on", "remote_write", "remote_apply", "local"}}


def _commit_durability(database_url: str) -> list[str]:
    """Open the store as ``v2mom serve`` does, deliver one signed webhook, and record, at every
    commit, the durability setting of the connection committing."""
    if database_url.startswith("postgresql"):  # an operator's "faster" database default
        name = make_url(database_url).database
        admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
        admin.dispose()
    store = Database.open(database_url)
    seen: list[str] = []

    @event.listens_for(store.engine, "commit")
    def _record(conn: Any) -> None:
        cursor = conn.connection.dbapi_connection.cursor()
        cursor.execute("PRAGMA synchronous" if store.dialect == "sqlite" else "SHOW synchronous_commit")
        seen.append(str(cursor.fetchone()[0]))
        cursor.close()

    jira = JiraSettings(
        url="https://x.invalid", email="a@b.c", api_token="t", jql="x", webhook_secrets=[SECRET]
    )
    settings = Settings(database_url=database_url, trackers=TrackersSettings(jira=jira))
    try:
        with TestClient(create_app(settings, store)) as client:
            body = delivery({"id": "10001", "key": "ONB-1"})
            headers = {"X-Hub-Signature": sign(body), "X-Atlassian-Webhook-Identifier": "durable-1"}
            answer = client.post("/webhooks/jira", content=body, headers=headers)
            assert answer.status_code == 202, answer.text
            assert store.inbox.counts()["jira"] == {"pending": 1}
    finally:
        store.close()
    return seen


def test_the_inbox_commit_before_a_202_is_durable(database_url: str) -> None:
    seen = _commit_durability(database_url)
    dialect = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    assert seen  # the inbox commit was observed
    assert set(seen) <= DURABLE[dialect], seen
