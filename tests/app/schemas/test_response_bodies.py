"""Typed responses must not change a byte of what the API answered before they existed.

``response_bodies.json`` holds the bodies of representative calls as the untyped (``dict[str, Any]``)
routes answered them, recorded before the response models were introduced; every call is replayed here
and its raw body compared as text (key order, nulls, absent keys and number formatting included).
Only values that differ per run (times, token secrets) are masked. Re-record with
``V2MOM_RECORD_BODIES=1`` only for an intended change of the HTTP contract.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from tests.factories import T0, VALID, make_item
from tests.support import auth
from v2mom.app.factory import create_app
from v2mom.events import WebhookEvent
from v2mom.models import State
from v2mom.settings import Settings
from v2mom.store.database import Database
from v2mom.store.inbox import MAX_ATTEMPTS, InboxEntry
from v2mom.store.resolution.run import remap

GOLDEN = Path(__file__).with_name("response_bodies.json")
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?")
SECRET = re.compile(r"v2m_[A-Za-z0-9_\-]+")
# An item's people's time is over the last 90 days from today: its dates and working days move.
TODAYS_WINDOW = re.compile(r'"from":"\d{4}-\d{2}-\d{2}","to":"\d{4}-\d{2}-\d{2}","working_days":\d+')
PLAN: dict[str, object] = yaml.safe_load(VALID.replace("name: SLO program", "name: SLO programme"))
NEW_RULE = {"when": {"tracker": "jira", "key": "ONB-5"}, "value": "reliability"}
CALLS: list[tuple[str, str, str, dict[str, object] | None]] = [
    # (name, method, path with query, JSON body); run in order, against one evolving store.
    ("report", "GET", "/api/reports/effort-by-value", None),
    ("report done", "GET", "/api/reports/effort-by-value?state=done&measure=count", None),
    ("report range", "GET", "/api/reports/effort-by-value?from=2026-11-10&to=2026-12-31", None),
    ("report linear", "GET", "/api/reports/effort-by-value?tracker=linear&measure=hours", None),
    ("report csv", "GET", "/api/reports/effort-by-value.csv", None),
    ("trend", "GET", "/api/reports/trend", None),
    ("trend range", "GET", "/api/reports/trend?from=2026-10-01&to=2026-11-30&measure=count", None),
    ("obstacles", "GET", "/api/reports/obstacles", None),
    ("obstacles count", "GET", "/api/reports/obstacles?measure=count&tracker=jira", None),
    ("obstacles none blocked", "GET", "/api/reports/obstacles?tracker=linear", None),
    ("flags", "GET", "/api/reports/flags", None),
    ("flags page", "GET", "/api/reports/flags?kind=untagged&limit=1", None),
    ("flags conflict", "GET", "/api/reports/flags?kind=conflict", None),
    ("item inherited", "GET", "/api/items/jira/ONB-2", None),
    ("item orphaned", "GET", "/api/items/jira/onb-6", None),
    ("item deleted", "GET", "/api/items/jira/ONB-7", None),
    ("plan", "GET", "/api/plan", None),
    ("rules", "GET", "/api/rules", None),
    ("admin rules", "GET", "/api/admin/rules", None),
    ("rule preview", "POST", "/api/rules/preview", NEW_RULE),
    ("rule preview count", "POST", "/api/rules/preview?measure=count", NEW_RULE),
    ("admin rule dry run", "POST", "/api/admin/rules?dry_run=true", {"rule": NEW_RULE, "position": 0}),
    ("admin rule put dry run", "PUT", "/api/admin/rules/0?dry_run=true", {"rule": NEW_RULE}),
    ("admin reorder dry run", "POST", "/api/admin/rules/reorder?dry_run=true", {"order": [1, 0]}),
    ("admin rule add", "POST", "/api/admin/rules", {"rule": NEW_RULE}),
    ("admin rule delete", "DELETE", "/api/admin/rules/2?measure=hours", None),
    ("contract rule add", "POST", "/api/rules", NEW_RULE),
    ("contract rule delete", "DELETE", "/api/rules/r3", None),
    ("audit", "GET", "/api/admin/audit?limit=3", None),
    ("tokens", "GET", "/api/admin/tokens", None),
    ("token create", "POST", "/api/admin/tokens", {"role": "viewer", "name": "dashboard"}),
    ("token revoke", "DELETE", "/api/admin/tokens/2", None),
    ("parked", "GET", "/api/admin/webhooks/parked", None),
    ("session who", "GET", "/api/session", None),
    ("session log in", "POST", "/api/session", {"token": "<admin>"}),
    ("session log out", "DELETE", "/api/session", None),
    ("health", "GET", "/healthz", None),
]
# Calls whose body depends on the state left by the calls above, so they run after them.
LATE_CALLS: list[tuple[str, str, str, dict[str, object] | None]] = [
    ("admin plan dry run", "PUT", "/api/admin/plan?dry_run=true&measure=count", PLAN),
    ("plan put", "PUT", "/api/plan", PLAN),
    ("report after changes", "GET", "/api/reports/effort-by-value?measure=hours", None),
]


def _mask(text: str) -> str:
    text = TODAYS_WINDOW.sub('"from":"<day>","to":"<day>","working_days":<days>', text)
    return SECRET.sub("<secret>", TIMESTAMP.sub("<time>", text))


@pytest.fixture
def world(seeded: Database) -> Iterator[tuple[TestClient, str]]:
    """The API test store plus a blocked item (obstacles), a conflict, a deleted item, a parked event."""
    seeded.items.upsert(
        [
            make_item(
                "16",
                key="ONB-8",
                parent_id="10",
                labels=("blocked",),
                points=2.5,
                hours=1e-06,
                status_name="Blocked",
            ),
            make_item("17", key="ONB-7", points=4.0, state=State.DONE, completed_at=T0 + timedelta(days=3)),
        ]
    )
    seeded.items.mark_deleted("jira", ["17"])
    plan = seeded.plans.current()
    assert plan is not None
    remap(seeded, plan)
    inbox = seeded.inbox
    event = WebhookEvent("jira", "delivery-1", "refetch", "11", T0, {"issue": {"id": "11"}})
    assert inbox.enqueue(event)
    assert inbox.fail(InboxEntry(id=1, attempts=MAX_ATTEMPTS - 1, event=event), "boom: 503") == "parked"
    admin = seeded.tokens.create("admin", "alice")
    with TestClient(create_app(Settings(), seeded)) as client:
        yield client, admin


def _bodies(client: TestClient, admin: str) -> dict[str, str]:
    bodies: dict[str, str] = {}
    for name, method, path, body in [*CALLS, *LATE_CALLS]:
        if body == {"token": "<admin>"}:
            body = {"token": admin}
        answer = client.request(method, path, json=body, headers=auth(admin))
        if answer.status_code == 409 and "confirm" in answer.json():  # a big move: typed as asked
            confirmed = auth(admin) | {"X-Confirm-Move": answer.json()["confirm"]}
            answer = client.request(method, path, json=body, headers=confirmed)
        assert answer.status_code in (200, 201), f"{name}: {answer.status_code} {answer.text}"
        bodies[name] = f"{answer.status_code} {answer.headers['content-type']}\n{_mask(answer.text)}"
    return bodies


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_bodies_are_byte_for_byte_what_the_untyped_routes_answered(world: tuple[TestClient, str]) -> None:
    client, admin = world
    bodies = _bodies(client, admin)
    if os.environ.get("V2MOM_RECORD_BODIES") == "1":
        GOLDEN.write_text(json.dumps(bodies, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    recorded: dict[str, str] = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert list(bodies) == list(recorded)
    for name, body in bodies.items():
        assert body == recorded[name], f"{name}: the body changed"
