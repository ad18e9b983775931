"""The migrations build exactly the schema the code declares, and upgrade stored data in place."""

from __future__ import annotations

from datetime import timedelta

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import JSON, Date, Engine, column, func, insert, select, table
from sqlalchemy import inspect as sa_inspect

from tests.factories import T0, VALID
from tests.support import auth
from v2mom.app.factory import create_app
from v2mom.mapping.plan import Method, Plan, Rule, RuleWhen, Value, check_plan, load_plan
from v2mom.mapping.resolver import shares_key
from v2mom.models import ItemTransition
from v2mom.reports.effort import ReportQuery, build_report
from v2mom.settings import Settings
from v2mom.store import schema as t
from v2mom.store.database import Database
from v2mom.store.engine import make_engine
from v2mom.store.migrate import alembic_config, upgrade
from v2mom.store.resolution.run import remap
from v2mom.store.types import UTCDateTime


def test_migrated_schema_matches_the_declared_tables(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    upgrade(engine)
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), t.metadata)
    engine.dispose()
    assert differences == []


def _database_at(empty_database_url: str, revision: str) -> Engine:
    """An engine on a database migrated only up to ``revision``."""
    engine = make_engine(empty_database_url)
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
    return engine


def _legacy_item(pk: int, **fields: object) -> dict[str, object]:
    row: dict[str, object] = {
        "pk": pk,
        "tracker": "jira",
        "item_id": str(pk),
        "key": f"ONB-{pk}",
        "title": "x",
        "level": 0,
        "parent_id": None,
        "container": "ONB",
        "state": "in_progress",
        "status_name": "In Progress",
        "updated_at": T0,
        "points": 3.0,
        "labels": [],
        "components": [],
        "custom_fields": {},
        "deleted": False,
        "synced_at": T0,
    }
    row.update(fields)
    return row


def test_upgrade_from_0002_keeps_items_and_flags_blocked_ones(empty_database_url: str) -> None:
    engine = _database_at(empty_database_url, "0002")
    legacy_items = [
        _legacy_item(1, status_name="Blocked"),
        _legacy_item(2, labels=["blocked", "value:speed"]),
        _legacy_item(3, status_name="Unblocked", labels=["value:speed"]),
        _legacy_item(4, parent_id="2"),
    ]
    with engine.begin() as conn:
        # Only the columns 0002 has: neither tag_sig nor blocked is among them.
        conn.execute(insert(t.items), legacy_items)
    upgrade(engine)
    engine.dispose()
    store = Database.open(empty_database_url)
    try:
        with store.engine.connect() as conn:
            blocked = dict(conn.execute(select(t.items.c.pk, t.items.c.blocked)).all())
        assert blocked == {1: True, 2: True, 3: False, 4: False}
        plan = check_plan(
            Plan(
                values=(Value(id="speed", name="Speed"),),
                methods=(Method(id="m", name="M", values=("speed",)),),
                rules=(Rule(when=RuleWhen(key="ONB-1"), method="m"),),
            )
        )
        first = remap(store, plan)  # the first resolution after the upgrade fills the signatures
        assert remap(store, plan) == first
        with store.engine.connect() as conn:
            assert conn.execute(select(t.items.c.tag_sig).where(t.items.c.tag_sig.is_(None))).first() is None
        assert first.untagged == 0
    finally:
        store.close()


def _legacy_allocation(
    item_pk: int, value: str | None, weight: float, effort: float, **fields: object
) -> dict[str, object]:
    """An ``allocations`` row as revision 0003 stored it: the item's effort times the share's weight."""
    row: dict[str, object] = {
        "item_pk": item_pk,
        "tracker": "jira",
        "value_id": value,
        "method_id": "m" if value else None,
        "state": "in_progress",
        "completed_on": None,
        "orphaned": False,
        "first_of_item": 1,
        "first_of_value": 1,
        "points": effort * weight,
        "hours": 0.0,
        "count": (1.0 if effort else 0.0) * weight,
    }
    row.update(fields)
    return row


def test_upgrade_from_0003_turns_allocation_rows_into_sets_and_keeps_the_report(
    empty_database_url: str,
) -> None:
    engine = _database_at(empty_database_url, "0003")
    done = {"state": "done", "completed_on": T0.date()}
    split = [("speed", 0.75), ("care", 0.25)]
    legacy_allocations = [
        *(
            _legacy_allocation(1, v, w, 8.0, first_of_item=int(i == 0), **done)
            for i, (v, w) in enumerate(split)
        ),
        _legacy_allocation(2, None, 1.0, 3.0),
        # Counts nothing (a parent whose children carry the effort): its weights are not recoverable.
        *(_legacy_allocation(4, v, w, 0.0, first_of_item=int(i == 0)) for i, (v, w) in enumerate(split)),
    ]
    legacy_resolutions = [
        {"item_pk": pk, "untagged": pk == 2, "orphaned": False, "conflict": False, "points": points,
         "hours": 0.0, "count": 1.0 if points else 0.0, "alloc_key": 0, "resolved_at": T0}
        for pk, points in ((1, 8.0), (2, 3.0), (3, 5.0), (4, 0.0))
    ]  # fmt: skip
    resolutions = table(
        "resolutions", *(column(name) for name in legacy_resolutions[0] if name != "resolved_at"),
        column("resolved_at", UTCDateTime()),
    )  # fmt: skip
    allocations = table(
        "allocations", *(column(name) for name in legacy_allocations[0] if name != "completed_on"),
        column("completed_on", Date()),
    )  # fmt: skip
    with engine.begin() as conn:
        conn.execute(
            insert(t.items),
            [
                _legacy_item(1, state="done", completed_at=T0, points=8.0, tag_sig=1),
                _legacy_item(2, completed_at=None, tag_sig=1),
                _legacy_item(3, state="canceled", completed_at=None, tag_sig=1),
                _legacy_item(4, points=None, completed_at=None, tag_sig=1),
            ],
        )
        conn.execute(insert(resolutions), legacy_resolutions)
        conn.execute(insert(allocations), legacy_allocations)
    upgrade(engine)
    engine.dispose()
    store = Database.open(empty_database_url)
    try:
        r = t.resolutions.c
        with store.engine.connect() as conn:
            facts = {row.item_pk: row for row in conn.execute(select(t.resolutions))}
        shares = [("speed", "m", 0.75), ("care", "m", 0.25)]
        assert facts[1].alloc_key == shares_key(shares, conflict=False, untagged=False)
        assert store.resolutions.allocation_set(facts[1].alloc_key) == shares
        assert store.resolutions.allocation_set(facts[2].alloc_key) == [(None, None, 1.0)]
        assert store.resolutions.allocation_set(facts[4].alloc_key) == [
            ("speed", "m", 0.5),
            ("care", "m", 0.5),
        ]
        assert (facts[1].tracker, facts[1].state, facts[1].completed_on) == ("jira", "done", T0.date())
        assert facts[3].state == "canceled"
        # The migration's rollup is the one the code would build, group key for group key.
        migrated = store.resolutions.rollup_rows()
        store.resolutions.rebuild_rollup()
        assert migrated == store.resolutions.rollup_rows()
        assert sum(row["items"] for row in migrated) == 3  # the canceled item counts nothing
        plan = Plan(
            values=(Value(id="speed", name="Speed"), Value(id="care", name="Care")),
            methods=(Method(id="m", name="M", values=("speed", "care")),),
        )
        report = build_report(store, plan, ReportQuery(measure="points"))
        assert {v["id"]: v["effort"] for v in report["values"]} == {"speed": 6.0, "care": 2.0}
        assert report["untagged"]["effort"] == 3.0
        assert report["total"]["items"] == 3
        with store.engine.connect() as conn:
            assert conn.execute(select(func.count()).where(r.alloc_key == 0)).scalar_one() == 1  # canceled
    finally:
        store.close()


def test_upgrade_from_0004_adds_leases_and_the_next_run_interrupts_a_run_left_running(
    empty_database_url: str,
) -> None:
    engine = _database_at(empty_database_url, "0004")
    counters = ("items_upserted", "items_deleted", "api_calls")
    runs = table(
        "sync_runs", *(column(name) for name in ("tracker", "kind", "status", *counters)),
        column("started_at", UTCDateTime()),
    )  # fmt: skip
    with engine.begin() as conn:  # a sync killed while 0004 was current: no owner column yet
        conn.execute(
            insert(runs).values(
                tracker="jira", kind="full", status="running", started_at=T0, **dict.fromkeys(counters, 0)
            )
        )
    upgrade(engine)
    engine.dispose()
    store = Database.open(empty_database_url)
    try:
        assert store.workers.live() == set()
        store.sync_state.start_run("jira", "incremental", owner=store.workers.register("sync"))
        with store.engine.connect() as conn:
            statuses = conn.execute(select(t.sync_runs.c.status).order_by(t.sync_runs.c.id)).scalars().all()
        assert statuses == ["interrupted", "running"]
        assert store.sync_state.last_interrupted() == {"jira": T0}
    finally:
        store.close()


TAG_AUDIT = table(
    "tag_audit",
    *(column(name) for name in ("actor", "tracker", "item_id", "key", "kind", "plan_id")),
    column("before", JSON()),
    column("at", UTCDateTime()),
)


def test_upgrade_from_0009_moves_plan_versions_and_dashboard_tags_into_one_audit(
    empty_database_url: str,
) -> None:
    engine = _database_at(empty_database_url, "0009")
    first = load_plan(VALID).model_dump(mode="json", exclude_none=True)
    second = load_plan(VALID.replace("name: SLO program", "name: SLO programme")).model_dump(
        mode="json", exclude_none=True
    )
    with engine.begin() as conn:
        conn.execute(
            insert(t.plans),
            [
                {"version": 1, "document": first, "created_at": T0, "created_by": "cli"},
                {
                    "version": 2,
                    "document": second,
                    "created_at": T0 + timedelta(minutes=2),
                    "created_by": "token:a",
                },
            ],
        )
        conn.execute(
            insert(TAG_AUDIT).values(
                at=T0 + timedelta(minutes=1), actor="token:pm", tracker="jira", item_id="10005", key="ONB-5",
                kind="value", plan_id="reliability", before=["customer-first"],
            )
        )  # fmt: skip
    upgrade(engine)
    engine.dispose()
    store = Database.open(empty_database_url)
    try:
        admin = store.tokens.create("admin", "auditor")  # after the migration: numbered after its entries
        with TestClient(create_app(Settings(), store)) as client:
            answer = client.get("/api/admin/audit", headers=auth(admin))
        assert answer.status_code == 200, answer.text
        token, v2, tag, v1 = answer.json()["entries"]
        assert (token["kind"], v2["kind"], tag["kind"], v1["kind"]) == ("token", "plan", "tag", "plan")
        assert (v1["at"], tag["at"], v2["at"]) == (
            "2026-11-01T09:00:00Z",
            "2026-11-01T09:01:00Z",
            "2026-11-01T09:02:00Z",
        )
        assert (v1["actor"], tag["actor"], v2["actor"]) == ("cli", "token:pm", "token:a")
        assert v2["details"] == {
            "version": 2,
            "changes": ["methods: changed slo-program"],
            "before": first,
            "after": second,
        }
        assert v2["summary"] == "plan v2: methods: changed slo-program"
        assert v1["details"]["before"] is None
        assert tag["details"] == {
            "item": {"tracker": "jira", "id": "10005", "key": "ONB-5"},
            "tag": {"kind": "value", "id": "reliability", "name": None},
            "before": ["customer-first"],
        }
        assert tag["summary"] == "tagged jira:ONB-5 with value reliability"
        (logged,) = store.writebacks.tag_log()
        assert (logged["actor"], logged["key"], logged["plan_id"], logged["before"]) == (
            "token:pm", "ONB-5", "reliability", ["customer-first"],
        )  # fmt: skip
        with store.engine.connect() as conn:
            assert not sa_inspect(conn).has_table("tag_audit")  # one audit: the old table is gone
    finally:
        store.close()


def test_downgrade_to_0009_puts_the_tags_back(empty_database_url: str) -> None:
    store = Database.open(empty_database_url)
    store.audit.record(
        "tag",
        actor="token:pm",
        summary="tagged jira:ONB-5 with value reliability (Reliability)",
        details={
            "item": {"tracker": "jira", "id": "10005", "key": "ONB-5"},
            "tag": {"kind": "value", "id": "reliability", "name": "Reliability"},
            "before": [],
        },
    )
    store.close()
    engine = make_engine(empty_database_url)
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0009")
    with engine.connect() as conn:
        rows = conn.execute(select(TAG_AUDIT)).all()
        assert not sa_inspect(conn).has_table("audit_events")
    engine.dispose()
    assert [(r.actor, r.tracker, r.item_id, r.key, r.kind, r.plan_id, r.before) for r in rows] == [
        ("token:pm", "jira", "10005", "ONB-5", "value", "reliability", [])
    ]


def test_upgrade_from_0013_adds_empty_histories_and_downgrade_drops_them(empty_database_url: str) -> None:
    engine = _database_at(empty_database_url, "0013")
    with engine.begin() as conn:
        conn.execute(insert(t.items), [_legacy_item(1, member_of=None)])
        assert not sa_inspect(conn).has_table("item_transitions")
    upgrade(engine)
    engine.dispose()
    store = Database.open(empty_database_url)
    try:
        assert store.items.live_ids("jira") == {"1"}
        assert store.history.count() == 0
        assert store.history.unread("jira", {"1": T0}) == {"1"}  # the next full sync reads its history
        with store.engine.connect() as conn:
            indexes = {index["name"] for index in sa_inspect(conn).get_indexes("item_transitions")}
        assert {"ix_item_transitions_item_field_at", "ix_item_transitions_at"} <= indexes
        store.history.record(
            [
                ItemTransition(
                    tracker="jira", item_id="1", event_id="20001", at=T0, field="assignee", to_value="acc-1"
                )
            ]
        )
        store.history.mark_read("jira", {"1": T0})
    finally:
        store.close()
    engine = make_engine(empty_database_url)
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0013")
    with engine.connect() as conn:
        inspector = sa_inspect(conn)
        assert not inspector.has_table("item_transitions")
        assert not inspector.has_table("history_reads")
        assert conn.execute(select(func.count()).select_from(t.items)).scalar_one() == 1
    upgrade(engine)  # and up again: the tables come back empty
    engine.dispose()
    store = Database.open(empty_database_url)
    try:
        assert store.history.count() == 0
    finally:
        store.close()


def test_upgrade_from_0014_adds_an_empty_assignee_and_start_and_downgrade_drops_them(
    empty_database_url: str,
) -> None:
    engine = _database_at(empty_database_url, "0014")
    with engine.begin() as conn:
        conn.execute(insert(t.items), [_legacy_item(1, member_of=None)])
        assert "assignee" not in {c["name"] for c in sa_inspect(conn).get_columns("items")}
    upgrade(engine)
    engine.dispose()
    store = Database.open(empty_database_url)
    try:
        kept = store.items.by_id("jira", "1")
        assert kept is not None
        assert (kept.item.key, kept.item.assignee, kept.item.started_at) == ("ONB-1", None, None)
        changes = {"assignee": "acc-1", "started_at": T0, "updated_at": T0 + timedelta(days=1)}
        store.items.upsert([kept.item.model_copy(update=changes)])
        read = store.items.by_id("jira", "1")
        assert read is not None
        assert (read.item.assignee, read.item.started_at) == ("acc-1", T0)
    finally:
        store.close()
    engine = make_engine(empty_database_url)
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0014")
    with engine.connect() as conn:
        columns = {c["name"] for c in sa_inspect(conn).get_columns("items")}
        assert not {"assignee", "started_at"} & columns
        assert conn.execute(select(func.count()).select_from(t.items)).scalar_one() == 1
    upgrade(engine)  # and up again: the columns come back empty
    engine.dispose()
    store = Database.open(empty_database_url)
    try:
        again = store.items.by_id("jira", "1")
        assert again is not None
        assert (again.item.assignee, again.item.started_at) == (None, None)
    finally:
        store.close()


def test_upgrade_from_0018_empties_the_stored_peoples_time_and_adds_its_copied_columns(
    empty_database_url: str,
) -> None:
    """The stored shares are a cache: they are computed again, whole, with their items' resolutions."""
    engine = _database_at(empty_database_url, "0018")
    day = T0.date()
    with engine.begin() as conn:
        conn.execute(insert(t.people_shares).values(day=day, person="jira:acc-1", item_pk=1, share=1.0))
        conn.execute(insert(t.people_unheld).values(item_pk=2, first_day=day, last_day=day))
        conn.execute(
            insert(t.people_state).values(
                id=1, fingerprint="f", first_day=day, last_day=day, computed_at=T0, horizon=None
            )
        )
    upgrade(engine)
    copied = {"alloc_key", "orphaned", "team_id", "state", "tracker"}
    with engine.connect() as conn:
        assert copied <= {c["name"] for c in sa_inspect(conn).get_columns("people_shares")}
        for emptied in (t.people_shares, t.people_unheld, t.people_state):
            assert conn.execute(select(func.count()).select_from(emptied)).scalar_one() == 0
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0018")
    with engine.connect() as conn:
        assert not copied & {c["name"] for c in sa_inspect(conn).get_columns("people_shares")}
    engine.dispose()
