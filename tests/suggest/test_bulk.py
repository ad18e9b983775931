"""Accepting one suggestion for many items: the preview names exactly the untagged items whose best
suggestion it is at the confidence asked; the acceptance tags only what the admin confirmed and
still qualifies, through the tagging write (whose refusals it reports per item); bad requests are
4xx naming the problem. (The browser test writes a bulk acceptance into the Linear sandbox.)"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from v2mom.app.factory import create_app
from v2mom.mapping.plan import Plan
from v2mom.settings import Settings
from v2mom.store.database import Database
from v2mom.suggest.service import ModelCache, train_and_store, untagged_suggestions

BULK = "/api/admin/suggestions/bulk"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_preview_and_the_acceptance(store: Database, plan: Plan) -> None:
    viewer, admin = store.tokens.create("viewer", "pm"), store.tokens.create("admin", "ops")
    with TestClient(create_app(Settings(), store)) as client:
        assert (
            client.get("/api/admin/suggestions/bulk?value=reliability", headers=auth(admin)).status_code
            == 409
        )
        train_and_store(store, plan)
        model = ModelCache().current(store)
        assert model is not None
        offered = untagged_suggestions(store, plan, model, ["jira"], floor=0.5)  # Jira only was synced
        best = offered[0][1][0]
        kind, _, plan_id = best.tag.partition(":")
        expected = [item.ref for item, s in offered if s[0].tag == best.tag]
        url = f"{BULK}?{kind}={plan_id}&min_confidence=0.5"
        assert client.get(url, headers=auth(viewer)).status_code == 403
        preview = client.get(url, headers=auth(admin))
        assert preview.status_code == 200
        got = preview.json()
        refs = [f"{item['tracker']}:{item['key']}" for item in got["items"]]
        assert sorted(refs) == sorted(expected)
        assert got["count"] == len(refs) > 0
        confidences = [item["confidence"] for item in got["items"]]
        assert confidences == sorted(confidences, reverse=True)
        assert all(c >= 0.5 for c in confidences)
        surer = client.get(
            f"/api/admin/suggestions/bulk?{kind}={plan_id}&min_confidence=0.95", headers=auth(admin)
        )
        assert surer.json()["count"] <= got["count"]

        # Write-back is off for Jira here: the tracker write is refused per item, nothing is tagged;
        # an item that is not among the candidates is skipped, not written.
        body = {kind: plan_id, "min_confidence": 0.5, "items": [refs[0], "jira:NOPE-1"]}
        done = client.post(BULK, json=body, headers=auth(admin))
        assert done.status_code == 200
        result = done.json()
        assert result["tagged"] == []
        assert [s["item"] for s in result["skipped"]] == ["jira:NOPE-1"]
        assert [f["item"] for f in result["failed"]] == [refs[0]]
        assert "write-back is not enabled for jira" in result["failed"][0]["reason"]
        assert store.writebacks.tag_log() == []


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ("value=reliability&method=slo-program", "give exactly one of 'value' or 'method'"),
        ("", "give exactly one of 'value' or 'method'"),
        ("value=nope", "value: 'nope' is not a value id of the plan"),
        ("value=reliability&min_confidence=0.2", "greater than or equal to 0.5"),
    ],
)
def test_a_bad_bulk_request_is_a_422_naming_the_problem(
    store: Database, plan: Plan, query: str, problem: str
) -> None:
    admin = store.tokens.create("admin", "ops")
    with TestClient(create_app(Settings(), store)) as client:
        answer = client.get(f"{BULK}?{query}", headers=auth(admin))
        assert answer.status_code == 422
        assert problem in answer.text
        empty = client.post(
            "/api/admin/suggestions/bulk", json={"value": "reliability", "items": []}, headers=auth(admin)
        )
        assert empty.status_code == 422
