"""Plan versions on SQLite and PostgreSQL: once the stored plan has a cycle a change needs a reason
(or nothing is written); each version keeps its reason and what it changed, listed newest first."""

from __future__ import annotations

import pytest
from sqlalchemy import insert

from tests.factories import VALID
from v2mom.clock import utcnow
from v2mom.errors import ConfigError
from v2mom.mapping.plan import load_plan
from v2mom.store import schema as t
from v2mom.store.database import Database
from v2mom.store.resolution.plan_change import apply_plan
from v2mom.store.resolution.preview import preview_plan

CYCLE = "cycle: {id: fy27, name: FY2027, start: 2026-02-01, end: 2027-01-31, periods: quarterly}\n"
TEAM = (
    "teams:\n  - {id: payments, name: Payments,"
    " methods: [{id: retries, name: Retries, serves: {slo-program: 1}}]}\n"
)
# ONB-5 (8 points, untagged in ``seeded``) is tagged by key: 8 points move from untagged to reliability.
KEY_RULE = "  - {when: {tracker: jira, key: ONB-5}, value: reliability}\n"


def _audit_ids(store: Database) -> list[int]:
    return [event.id for event in store.audit.entries(limit=200)]


def test_a_change_to_a_plan_in_a_cycle_without_a_reason_writes_nothing(store: Database) -> None:
    store.plans.save(load_plan(VALID + CYCLE), actor="test")  # the first plan needs no reason
    history, audit = store.plans.history(), _audit_ids(store)
    for blank in (None, "", "   \n"):
        with pytest.raises(ConfigError, match="reason: a reason is needed: the plan is in cycle fy27"):
            store.plans.save(load_plan(VALID + CYCLE + TEAM), actor="test", reason=blank)
    assert store.plans.history() == history
    assert _audit_ids(store) == audit
    assert store.plans.current() == load_plan(VALID + CYCLE)


def test_apply_plan_refuses_before_re_resolving(seeded: Database) -> None:
    seeded.plans.save(load_plan(VALID + CYCLE), actor="test", reason="the FY27 cycle starts")
    before = seeded.resolutions.rollup_rows()
    history, audit = seeded.plans.history(), _audit_ids(seeded)
    with pytest.raises(ConfigError, match="a reason is needed"):
        apply_plan(seeded, load_plan(VALID + KEY_RULE + CYCLE), actor="test")
    assert seeded.plans.history() == history
    assert _audit_ids(seeded) == audit
    assert seeded.resolutions.rollup_rows() == before  # ONB-5 stays untagged


def test_history_lists_who_when_why_and_what_changed_newest_first(seeded: Database) -> None:
    cycled = load_plan(VALID + KEY_RULE + CYCLE + TEAM)
    preview = preview_plan(seeded, cycled, "points")
    applied = apply_plan(seeded, cycled, actor="cli:ada", reason="  FY27 starts  ", preview=preview)
    renamed = load_plan((VALID + KEY_RULE + CYCLE + TEAM).replace("name: Retries", "name: Smart retries"))
    seeded.plans.save(renamed, actor="token:bo", reason="clearer name")
    history = seeded.plans.history()
    assert [v["version"] for v in history] == [applied.version + 1, applied.version, applied.version - 1]
    newest, applied_version, first = history
    assert (newest["created_by"], newest["reason"]) == ("token:bo", "clearer name")
    assert newest["changes"]["methods"]["renamed"] == [
        {"id": "retries", "from": "Retries", "to": "Smart retries"}
    ]
    assert "effort_moved" not in newest["changes"]  # saved without a preview: nothing measured
    assert (applied_version["created_by"], applied_version["reason"]) == ("cli:ada", "FY27 starts")
    summary = applied_version["changes"]
    assert summary["lines"] == ["cycle added", "rules: added r3", "teams: added payments"]
    assert summary["methods"]["added"] == ["retries"]
    assert summary["rules"]["added"] == ["r3: tracker=jira, key=ONB-5 -> value reliability"]
    assert summary["effort_moved"] == {
        "measure": "points",
        "moved": 8.0,
        "total": preview.total(),
        "share": round(8.0 / preview.total(), 4),
        "deltas": {"reliability": 8.0, "untagged": -8.0},
    }
    assert first["reason"] is None  # the seeded plan came with none, before any cycle
    assert first["created_at"].endswith("Z")
    assert [v["version"] for v in seeded.plans.history(limit=1)] == [applied.version + 1]
    audit = seeded.audit.entries(limit=2)
    assert audit[0].details["reason"] == "clearer name"
    assert audit[0].summary.endswith("; reason: clearer name")
    assert audit[1].details["reason"] == "FY27 starts"


def test_versions_stored_before_reasons_were_kept_read_as_null(store: Database) -> None:
    document = load_plan(VALID).model_dump(mode="json", exclude_none=True)
    with store.engine.begin() as conn:
        conn.execute(
            insert(t.plans).values(version=1, document=document, created_at=utcnow(), created_by="old")
        )
    store.plans.save(load_plan(VALID + CYCLE), actor="test")
    latest, old = store.plans.history()
    assert (old["version"], old["created_by"], old["reason"], old["changes"]) == (1, "old", None, None)
    assert latest["reason"] is None  # the stored plan had no cycle yet: a reason was optional
    assert latest["changes"]["lines"] == ["cycle added"]
