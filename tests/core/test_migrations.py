"""The migrations build exactly the schema the code declares, and upgrade stored data in place."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import insert, select

from mapping.plan import Method, Plan, Rule, RuleWhen, Value, check_plan
from sync.plan_remap import remap_plan
from sync.remap import remap
from tests.factories import T0
from v2mom.db import schema as t
from v2mom.db.engine import make_engine
from v2mom.db.migrate import alembic_config, upgrade
from v2mom.store import Store


def test_migrated_schema_matches_the_declared_tables(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), t.metadata)
    engine.dispose()
    assert differences == []


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


def test_upgrade_from_0002_keeps_items_and_flags_blocked_ones(database_url: str) -> None:
    engine = make_engine(database_url)
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0002")
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
    store = Store.open(database_url)
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
        first = remap(store, plan)  # the first resolution after the upgrade
        assert remap_plan(store, plan) == first  # fills the signatures the upgrade left empty
        with store.engine.connect() as conn:
            assert conn.execute(select(t.items.c.tag_sig).where(t.items.c.tag_sig.is_(None))).first() is None
        assert first.untagged == 0
    finally:
        store.close()
