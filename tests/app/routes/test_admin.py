"""Admin routes and dashboard sessions over HTTP: validation, 401/403, dry runs that write nothing,
changes that apply atomically and land in the audit log, cookies that need the CSRF header."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import make_item
from tests.support import auth
from v2mom.app.auth import SESSION_COOKIE
from v2mom.app.factory import create_app
from v2mom.models import ItemTransition
from v2mom.settings import PersonSettings, Settings
from v2mom.store.database import Database

NEW_RULE = {"when": {"tracker": "jira", "key": "ONB-5"}, "value": "reliability"}
# NEW_RULE (and undoing it) moves ONB-5's 8 of the 19 points counted: more than a quarter.
CONFIRMED = {"X-Confirm-Move": "move 42%"}
LABEL = {"tracker": "jira", "label": "x"}
FIELD_ONLY = {"tracker": "jira", "custom_field": "Team Bet"}
BOTH = {"value": "reliability", "method": "slo-program"}
BAD_VALUE = {"id": "a", "name": "A", "target_share": 2}


@pytest.fixture
def world(seeded: Database) -> Iterator[tuple[TestClient, Database, str, str]]:
    admin = seeded.tokens.create("admin", "alice")
    viewer = seeded.tokens.create("viewer", "pm")
    with TestClient(create_app(Settings(), seeded)) as client:
        yield client, seeded, admin, viewer


ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/api/admin/rules", None),
    ("POST", "/api/admin/rules", {"rule": NEW_RULE}),
    ("PUT", "/api/admin/rules/0", {"rule": NEW_RULE}),
    ("DELETE", "/api/admin/rules/0", None),
    ("POST", "/api/admin/rules/reorder", {"order": [1, 0]}),
    ("PUT", "/api/admin/plan", {"vision": "x", "values": []}),
    ("GET", "/api/admin/audit", None),
    ("GET", "/api/admin/tokens", None),
    ("POST", "/api/admin/tokens", {"role": "admin", "name": "sneaky"}),
    ("DELETE", "/api/admin/tokens/1", None),
    ("GET", "/api/admin/people", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_admin_routes_need_an_admin(
    world: tuple[TestClient, Database, str, str], method: str, path: str, body: dict[str, Any] | None
) -> None:
    client, store, _admin, viewer = world
    version = store.plans.versions(1)[0]["version"]
    assert client.request(method, path, json=body).status_code == 401
    assert client.request(method, path, json=body, headers=auth("nope")).status_code == 401
    assert client.request(method, path, json=body, headers=auth(viewer)).status_code == 403
    assert store.plans.versions(1)[0]["version"] == version  # nothing written
    assert [(t.name, t.revoked_at) for t in store.tokens.list_all()] == [("pm", None), ("alice", None)]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "says"),
    [
        (
            "POST",
            "/api/admin/rules",
            {"rule": {"when": {"tracker": "jira", "label": "x"}, "method": "nope"}},
            422,
            "unknown method 'nope'",
        ),
        (
            "POST",
            "/api/admin/rules",
            {"rule": {"when": {"tracker": "jira", "custom_field": "Team Bet"}, "method": "slo-program"}},
            422,
            "equals",
        ),
        ("POST", "/api/admin/rules", {"rule": {"when": {}, "value": "reliability"}}, 422, "rules[2]"),
        (
            "POST",
            "/api/admin/rules",
            {"rule": {"when": {"label": "x"}, "value": "reliability", "method": "slo-program"}},
            422,
            "rules[2]",
        ),
        ("PUT", "/api/admin/rules/9", {"rule": NEW_RULE}, 404, "no rule at position 9"),
        ("DELETE", "/api/admin/rules/-1", None, 404, "no rule at position -1"),
        ("POST", "/api/admin/rules/reorder", {"order": [0, 0]}, 422, "permutation"),
        (
            "PUT",
            "/api/admin/plan",
            {"vision": "v", "values": [{"id": "a", "name": "A", "target_share": 2}]},
            422,
            "target_share",
        ),
        ("POST", "/api/admin/rules", {"nope": 1}, 422, "rule"),
        # Guardrails: an empty plan or an empty rule condition would move every number.
        (
            "PUT",
            "/api/admin/plan",
            {"vision": "v", "values": []},
            422,
            "plan: values: a plan needs at least one value",
        ),
        ("PUT", "/api/plan", {"vision": "v"}, 422, "plan: values: a plan needs at least one value"),
        (
            "POST",
            "/api/admin/rules",
            {"rule": {"when": {"tracker": "jira", "label": ""}, "value": "reliability"}},
            422,
            "plan: rules[2].when.label: a rule's condition needs a text to match",
        ),
        (
            "POST",
            "/api/rules",
            {"when": {"component": "  "}, "value": "reliability"},
            422,
            "plan: rules[2].when.component: a rule's condition needs a text to match",
        ),
    ],
)
def test_admin_validation_names_the_problem_and_writes_nothing(
    world: tuple[TestClient, Database, str, str],
    method: str,
    path: str,
    body: dict[str, Any] | None,
    status: int,
    says: str,
) -> None:
    client, store, admin, _viewer = world
    version = store.plans.versions(1)[0]["version"]
    answer = client.request(method, path, json=body, headers=auth(admin))
    assert answer.status_code == status, answer.text
    assert says in answer.text
    assert store.plans.versions(1)[0]["version"] == version


def report(client: TestClient, token: str) -> dict[str, Any]:
    answer: dict[str, Any] = client.get("/api/reports/effort-by-value", headers=auth(token)).json()
    return answer


def test_a_dry_run_previews_and_the_apply_matches_it(world: tuple[TestClient, Database, str, str]) -> None:
    client, store, admin, _viewer = world
    before = report(client, admin)
    version = store.plans.versions(1)[0]["version"]
    dry = client.post("/api/admin/rules?dry_run=true", json={"rule": NEW_RULE}, headers=auth(admin)).json()
    assert dry["dry_run"] is True
    assert store.plans.versions(1)[0]["version"] == version
    assert report(client, admin) == before  # nothing moved
    assert dry["preview"]["newly_tagged"] == 1
    assert dry["preview"]["deltas"] == {"reliability": 8.0, "untagged": -8.0}
    assert "moving 8 points from untagged (8) to reliability (8)" in dry["preview"]["summary"]
    assert (dry["preview"]["moved_share"], dry["preview"]["confirm"]) == (0.4211, "move 42%")

    applied = client.post("/api/admin/rules", json={"rule": NEW_RULE}, headers=auth(admin) | CONFIRMED).json()
    assert applied["version"] == version + 1
    after = report(client, admin)
    effort = {v["id"]: v["effort"] for v in after["values"]}
    was = {v["id"]: v["effort"] for v in before["values"]}
    assert effort["reliability"] - was["reliability"] == pytest.approx(8.0)
    assert after["untagged"]["effort"] == pytest.approx(before["untagged"]["effort"] - 8.0)
    assert [r["when"] for r in client.get("/api/admin/rules", headers=auth(admin)).json()["rules"]][
        -1
    ] == NEW_RULE["when"]


def test_edit_reorder_delete_and_the_audit_log(world: tuple[TestClient, Database, str, str]) -> None:
    client, _store, admin, _viewer = world
    confirmed = auth(admin) | CONFIRMED
    assert client.post("/api/admin/rules", json={"rule": NEW_RULE}, headers=confirmed).status_code == 200
    edited = {"when": {"tracker": "jira", "key": "ONB-5"}, "value": "customer-first"}
    assert client.put("/api/admin/rules/2", json={"rule": edited}, headers=confirmed).status_code == 200
    reordered = client.post("/api/admin/rules/reorder", json={"order": [2, 0, 1]}, headers=auth(admin)).json()
    assert next(r["when"] for r in reordered["rules"]) == edited["when"]
    assert client.delete("/api/admin/rules/0", headers=confirmed).status_code == 200
    rules = client.get("/api/admin/rules", headers=auth(admin)).json()["rules"]
    assert [r["position"] for r in rules] == [0, 1]
    assert all(r["when"] != edited["when"] for r in rules)
    audit = client.get("/api/admin/audit", headers=auth(admin)).json()["entries"]
    assert [(e["kind"], e["actor"]) for e in audit[:4]] == [("rule", "token:alice")] * 4
    deleted, reorder, replaced, added = (e["details"] for e in audit[:4])
    assert deleted["version"] > reorder["version"]
    assert any("rules: removed" in line for line in deleted["changes"])
    assert deleted["before"]["rules"] != deleted["after"]["rules"]
    assert (deleted["action"], deleted["position"], deleted["rule"]["when"]) == ("removed", 0, edited["when"])
    assert (reorder["action"], reorder["order"]) == ("reordered", [2, 0, 1])
    assert replaced["action"] == "replaced"
    assert (replaced["rule"]["value"], replaced["replaced"]["value"]) == ("customer-first", "reliability")
    assert (added["action"], added["position"], added["rule"]) == (
        "added",
        2,
        {"id": "r3", **NEW_RULE},
    )
    assert audit[3]["summary"] == (
        f"rule added: r3: tracker=jira, key=ONB-5 -> value reliability (plan v{added['version']})"
    )
    first = audit[-1]
    assert (first["kind"], first["actor"]) == ("plan", "test")
    assert first["details"]["before"] is None  # the first version has nothing before it
    assert first["details"]["changes"] == ["new plan: 2 values, 2 methods, 2 rules"]


AT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def test_the_audit_has_every_change_in_one_time_format_and_pages(
    world: tuple[TestClient, Database, str, str],
) -> None:
    client, _store, admin, _viewer = world
    plan = client.get("/api/plan", headers=auth(admin)).json()
    renamed = plan | {"vision": "A new vision."}
    assert client.put("/api/plan", json=renamed, headers=auth(admin)).status_code == 200
    created = client.post("/api/admin/tokens", json={"role": "viewer", "name": "ci"}, headers=auth(admin))
    assert client.delete(f"/api/admin/tokens/{created.json()['id']}", headers=auth(admin)).status_code == 200

    page = client.get("/api/admin/audit?limit=2", headers=auth(admin)).json()
    revoked, made = page["entries"]
    assert (revoked["kind"], revoked["actor"], revoked["details"]) == (
        "token",
        "token:alice",
        {"action": "revoked", "token": {"id": created.json()["id"], "name": "ci", "role": "viewer"}},
    )
    assert made["details"]["action"] == "created"
    assert made["summary"] == f"created viewer token 'ci' (id {created.json()['id']})"
    assert created.json()["token"] not in json.dumps(page)  # never the secret
    assert page["next_cursor"] == made["id"]

    rest = client.get(f"/api/admin/audit?limit=2&cursor={page['next_cursor']}", headers=auth(admin)).json()
    replaced = rest["entries"][0]
    assert (replaced["kind"], replaced["actor"]) == ("plan", "token:alice")
    assert replaced["details"]["changes"] == ["vision changed"]
    assert replaced["details"]["after"]["vision"] == "A new vision."
    assert replaced["summary"] == f"plan v{replaced['details']['version']}: vision changed"
    everything = [*page["entries"], *rest["entries"]]
    assert [int(e["id"]) for e in everything] == sorted((int(e["id"]) for e in everything), reverse=True)
    assert all(AT.match(e["at"]) for e in everything), [e["at"] for e in everything]

    plans = client.get("/api/admin/audit?kind=plan", headers=auth(admin)).json()
    assert [e["kind"] for e in plans["entries"]] == ["plan", "plan"]
    assert plans["next_cursor"] is None
    for bad in ("x", "0", "-1", "1.5", str(2**63)):
        refused = client.get(f"/api/admin/audit?cursor={bad}", headers=auth(admin))
        assert refused.status_code == 422, bad
        assert refused.json()["detail"][0]["loc"] == ["query", "cursor"]
    assert client.get("/api/admin/audit?kind=nope", headers=auth(admin)).status_code == 422


def test_a_change_moving_more_than_a_quarter_of_the_effort_needs_its_phrase_typed(
    world: tuple[TestClient, Database, str, str],
) -> None:
    client, store, admin, _viewer = world
    before = report(client, admin)
    version = store.plans.versions(1)[0]["version"]
    preview = client.post("/api/rules/preview", json=NEW_RULE, headers=auth(admin)).json()["preview"]
    assert (preview["moved_share"], preview["confirm"]) == (0.4211, "move 42%")
    small = {"when": {"tracker": "jira", "key": "ONB-6"}, "value": "reliability"}  # 1 of 19 points
    quiet = client.post("/api/rules/preview", json=small, headers=auth(admin)).json()["preview"]
    assert quiet["moved_share"] == 0.0526
    assert "confirm" not in quiet  # under the bar: nothing to type

    plan = client.get("/api/plan", headers=auth(admin)).json()
    unmethoded = plan | {"methods": plan["methods"][1:], "obstacles": [], "rules": plan["rules"][:1]}
    attempts = [
        ("POST", "/api/rules", NEW_RULE),
        ("POST", "/api/admin/rules", {"rule": NEW_RULE}),
        ("PUT", "/api/admin/rules/0", {"rule": NEW_RULE}),
        ("PUT", "/api/admin/plan", unmethoded),  # ONB-2 and ONB-3 lose their method: untagged
        ("PUT", "/api/plan", unmethoded),
    ]
    for method, path, body in attempts:
        for typed in (None, "move 40%", "42%"):
            headers = auth(admin) | ({"X-Confirm-Move": typed} if typed else {})
            refused = client.request(method, path, json=body, headers=headers)
            assert refused.status_code == 409, (path, typed, refused.text)
            answer = refused.json()
            assert set(answer) == {"detail", "confirm", "moved_share"}
            assert answer["moved_share"] > 0.25
            assert answer["confirm"] == f"move {round(answer['moved_share'] * 100)}%"
            assert "X-Confirm-Move" in answer["detail"]
    assert client.post("/api/rules", json=NEW_RULE, headers=auth(admin)).json() == {
        "detail": "this change moves 42% of the effort (8 of 19 points), more than the 25% a change may "
        "move unconfirmed; to apply it, send the header X-Confirm-Move: move 42%",
        "confirm": "move 42%",
        "moved_share": 0.4211,
    }
    assert store.plans.versions(1)[0]["version"] == version  # nothing written
    assert report(client, admin) == before
    assert [e.kind for e in store.audit.entries()] == ["token", "token", "plan"]

    assert client.post("/api/rules", json=small, headers=auth(admin)).status_code == 200  # under the bar
    typed = auth(admin) | {"X-Confirm-Move": "  Move 42% "}  # case and spaces aside, the phrase
    applied = client.post("/api/rules", json=NEW_RULE, headers=typed)
    assert applied.status_code == 200, applied.text
    assert applied.json()["preview"]["confirm"] == "move 42%"
    assert store.plans.versions(1)[0]["version"] == version + 2


def test_sessions_keep_the_token_in_an_http_only_cookie(world: tuple[TestClient, Database, str, str]) -> None:
    client, store, admin, viewer = world
    assert client.post("/api/session", json={"token": "wrong"}).status_code == 401
    answer = client.post("/api/session", json={"token": viewer})
    assert answer.json() == {"name": "pm", "role": "viewer"}
    cookie = answer.headers["set-cookie"]
    assert f"{SESSION_COOKIE}=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert client.get("/api/session").json()["role"] == "viewer"
    assert client.get("/api/reports/effort-by-value").status_code == 200
    assert (
        client.post("/api/admin/rules", json={"rule": NEW_RULE}, headers={"X-V2MOM-CSRF": "1"}).status_code
        == 403
    )

    client.post("/api/session", json={"token": admin})
    assert client.post("/api/admin/rules", json={"rule": NEW_RULE}).status_code == 403  # no CSRF header
    assert "x-v2mom-csrf" in client.post("/api/admin/rules", json={"rule": NEW_RULE}).text
    ok = client.post("/api/admin/rules?dry_run=true", json={"rule": NEW_RULE}, headers={"X-V2MOM-CSRF": "1"})
    assert ok.status_code == 200

    alice = next(t for t in store.tokens.list_all() if t.name == "alice")
    assert store.tokens.revoke(alice.id)
    assert client.get("/api/session").status_code == 401  # revoking the token ends its sessions
    client.delete("/api/session")
    assert client.get("/api/reports/effort-by-value").status_code == 401


def test_the_dashboard_page_and_its_assets_are_served_locally(
    world: tuple[TestClient, Database, str, str],
) -> None:
    client = world[0]
    page = client.get("/")
    assert page.status_code == 200
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert 'src="/static/app.js"' in page.text
    assert "http://" not in page.text
    assert "https://" not in page.text
    for asset in ("/static/app.js", "/static/app.css"):
        served = client.get(asset)
        assert served.status_code == 200
        assert "https://" not in served.text


def test_the_contract_rule_routes(world: tuple[TestClient, Database, str, str]) -> None:
    client, store, admin, viewer = world
    listed = client.get("/api/rules", headers=auth(viewer)).json()["rules"]
    assert [r["id"] for r in listed] == ["r1", "r2"]
    preview = client.post("/api/rules/preview", json=NEW_RULE, headers=auth(admin)).json()
    assert preview["dry_run"] is True
    assert preview["preview"]["newly_tagged"] == 1
    assert client.post("/api/rules/preview", json=NEW_RULE, headers=auth(viewer)).status_code == 403
    assert client.post("/api/rules", json=NEW_RULE, headers=auth(viewer)).status_code == 403
    created = client.post("/api/rules", json=NEW_RULE, headers=auth(admin) | CONFIRMED).json()
    assert created["rule"]["id"] == "r3"
    assert created["preview"]["deltas"] == preview["preview"]["deltas"]
    bad = client.post("/api/rules", json={"when": {"label": "x"}, "method": "nope"}, headers=auth(admin))
    assert bad.status_code == 422
    assert "unknown method 'nope'" in bad.text
    assert client.delete("/api/rules/r9", headers=auth(admin)).status_code == 404
    assert client.delete("/api/rules/r3", headers=auth(viewer)).status_code == 403
    assert client.delete("/api/rules/r3", headers=auth(admin) | CONFIRMED).status_code == 200
    assert [r["id"] for r in client.get("/api/rules", headers=auth(viewer)).json()["rules"]] == ["r1", "r2"]
    assert store.plans.versions(1)[0]["created_by"] == "token:alice"


def test_admins_list_create_and_revoke_tokens(world: tuple[TestClient, Database, str, str]) -> None:
    client, _store, admin, _viewer = world
    listed = client.get("/api/admin/tokens", headers=auth(admin))
    assert listed.status_code == 200
    tokens = listed.json()["tokens"]
    assert [(t["name"], t["role"], t["current"]) for t in tokens] == [
        ("pm", "viewer", False),
        ("alice", "admin", True),
    ]
    assert tokens[1]["last_used_at"] is not None  # this very request used it
    assert all(
        set(t) == {"id", "name", "role", "created_at", "last_used_at", "revoked_at", "current"}
        for t in tokens
    )

    created = client.post(
        "/api/admin/tokens", json={"role": "viewer", "name": " ci job "}, headers=auth(admin)
    )
    assert created.status_code == 201
    secret = created.json()["token"]
    assert created.json()["name"] == "ci job"
    assert client.get("/api/reports/effort-by-value", headers=auth(secret)).status_code == 200
    assert all(
        "token" not in t for t in client.get("/api/admin/tokens", headers=auth(admin)).json()["tokens"]
    )

    revoked = client.delete(f"/api/admin/tokens/{created.json()['id']}", headers=auth(admin))
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    assert client.get("/api/reports/effort-by-value", headers=auth(secret)).status_code == 401
    again = client.delete(f"/api/admin/tokens/{created.json()['id']}", headers=auth(admin))
    assert again.status_code == 404
    assert "no live token" in again.json()["detail"]
    for beyond in (0, 2**63):  # not a 64-bit key: refused before the database sees it
        refused = client.delete(f"/api/admin/tokens/{beyond}", headers=auth(admin))
        assert refused.status_code == 422
        assert refused.json()["detail"][0]["loc"] == ["path", "token_id"]


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"role": "owner", "name": "x"}, "role"),
        ({"role": "viewer", "name": "   "}, "name"),
        ({"role": "viewer"}, "name"),
        ({"role": "viewer", "name": "x", "token": "chosen"}, "token"),
    ],
)
def test_token_creation_is_validated(
    world: tuple[TestClient, Database, str, str], body: dict[str, Any], says: str
) -> None:
    client, store, admin, _viewer = world
    answer = client.post("/api/admin/tokens", json=body, headers=auth(admin))
    assert answer.status_code == 422
    assert says in str(answer.json()["detail"])
    assert len(store.tokens.list_all()) == 2


def test_a_refused_plan_change_with_teams_says_how_unaligned_effort_moves(
    world: tuple[TestClient, Database, str, str],
) -> None:
    client, _store, admin, _viewer = world
    plan = client.get("/api/plan", headers=auth(admin)).json()
    spike = {"id": "spike", "name": "Spike", "serves": {}}
    payments = {
        "id": "payments",
        "name": "Payments",
        "scope": {"jira": {"projects": ["ONB"]}},
        "methods": [spike],
    }
    teams = plan | {"teams": [payments]}
    teams["rules"] = [*plan["rules"], {"when": {"tracker": "jira", "key": "ONB-5"}, "method": "spike"}]
    refused = client.put("/api/plan", json=teams, headers=auth(admin))
    assert refused.status_code == 409, refused.text
    answer = refused.json()
    assert answer["unaligned"] == {"before": 0.0, "after": 8.0}  # ONB-5's 8 points leave untagged
    assert answer["confirm"] == "move 42%"
    applied = client.put("/api/plan", json=teams, headers=auth(admin) | {"X-Confirm-Move": "move 42%"})
    assert applied.status_code == 200, applied.text


ACCOUNTS = ("acc-ada-5b10ac8d", "acc-bob-77e1", "acc-cy-0f3a")  # ids no answer may carry


def test_the_people_page_counts_accounts_seen_and_mapped_and_never_names_them(store: Database) -> None:
    ada, bob, cy = ACCOUNTS
    store.items.upsert(
        [
            make_item("1", assignee=ada),
            make_item("2", assignee=bob),
            make_item("3", tracker="linear", key="ENG-3", container="ENG", assignee="lin-dee-4411"),
        ]
    )
    store.history.record(
        [
            ItemTransition(
                tracker="jira",
                item_id="1",
                event_id="1",
                at=datetime(2026, 11, 2, tzinfo=UTC),
                field="assignee",
                from_value=cy,
                to_value=ada,
            )
        ]
    )
    people = [
        PersonSettings(name="Ada Lovelace", accounts={"jira": ada, "asana": "asana-ada-19"}),
        PersonSettings(name="Dee Unseen", accounts={"jira": "acc-never-seen"}),
    ]
    admin = store.tokens.create("admin", "alice")
    viewer = store.tokens.create("viewer", "pm")
    with TestClient(create_app(Settings(people=people), store)) as client:
        answer = client.get("/api/admin/people", headers=auth(admin))
        assert answer.status_code == 200, answer.text
        assert answer.json() == {
            "trackers": {
                "asana": {"accounts": 0, "mapped": 0, "unmapped": 0},  # mapped, never seen
                "jira": {"accounts": 3, "mapped": 1, "unmapped": 2},
                "linear": {"accounts": 1, "mapped": 0, "unmapped": 1},
            },
            "people": 2,
        }
        for secret in (*ACCOUNTS, "lin-dee-4411", "asana-ada-19", "acc-never-seen", "Ada", "Dee"):
            assert secret not in answer.text
        assert client.get("/api/admin/people", headers=auth(viewer)).status_code == 403
