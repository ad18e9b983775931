"""The store on SQLite and PostgreSQL: upserts, ordering, deletions, cursors, tokens, units of work."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.dialects import sqlite

from tests.factories import T0, make_item
from v2mom.mapping.plan import Method, Plan, Value, check_plan
from v2mom.models import State
from v2mom.store import plans as plans_module
from v2mom.store import schema as t
from v2mom.store import tokens as tokens_module
from v2mom.store.database import Database
from v2mom.store.items import json_text, sqlite_datetime
from v2mom.store.resolution.run import remap, remap_changed


def test_upsert_is_idempotent_and_keyed_by_stable_id(store: Database) -> None:
    items = [make_item(str(i), minutes=i) for i in range(1, 6)]
    store.items.upsert(items)
    store.items.upsert(items)
    assert store.items.count() == 5
    moved = make_item("3", minutes=10, key="PLAT-99", container="PLAT")
    store.items.upsert([moved])
    assert store.items.count() == 5
    found = store.items.find("jira", "plat-99")
    assert found is not None
    assert found.item.id == "3"
    assert found.item.container == "PLAT"
    assert store.items.find("jira", "ONB-3") is None


def test_older_copy_never_overwrites_newer(store: Database) -> None:
    store.items.upsert([make_item("1", minutes=30, title="new", state=State.DONE)])
    store.items.upsert([make_item("1", minutes=5, title="stale")])
    stored = store.items.by_id("jira", "1")
    assert stored is not None
    assert stored.item.title == "new"
    assert stored.item.state is State.DONE


def test_same_id_twice_in_one_batch_keeps_newest(store: Database) -> None:
    store.items.upsert([make_item("1", minutes=9, title="newest"), make_item("1", minutes=1, title="older")])
    stored = store.items.by_id("jira", "1")
    assert stored is not None
    assert stored.item.title == "newest"


def test_round_trip_keeps_every_field(store: Database) -> None:
    item = make_item(
        "7",
        labels=("value:customer-first", "x"),
        components=("Billing",),
        custom_fields={"V2MOM Method": ("slo-program",)},
        points=3.5,
        hours=1.25,
        parent_id="1",
        completed_at=T0 + timedelta(days=2),
        created_at=T0 - timedelta(days=1),
        url="https://acme.atlassian.net/browse/ONB-7",
    )
    store.items.upsert([item])
    stored = store.items.by_id("jira", "7")
    assert stored is not None
    assert stored.item == item


def test_deletion_and_resurrection(store: Database) -> None:
    store.items.upsert([make_item("1"), make_item("2")])
    assert store.items.mark_deleted("jira", ["2", "404"]) == 1
    assert store.items.live_ids("jira") == {"1"}
    assert store.items.count(include_deleted=True) == 2
    store.items.upsert([make_item("2", minutes=1)])
    assert store.items.live_ids("jira") == {"1", "2"}


def test_cursor_never_moves_backwards(store: Database) -> None:
    assert store.sync_state.get_cursor("jira", "scope") is None
    store.sync_state.set_cursor("jira", "scope", T0 + timedelta(hours=2))
    store.sync_state.set_cursor("jira", "scope", T0)
    assert store.sync_state.get_cursor("jira", "scope") == T0 + timedelta(hours=2)
    store.sync_state.set_cursor("jira", "other", T0)
    assert store.sync_state.get_cursor("jira", "other") == T0


def weighted_plan(method_id: str, weights: dict[str, float]) -> Plan:
    """Values a and b, and one method splitting its effort across them by ``weights``."""
    values = (Value(id="a", name="A"), Value(id="b", name="B"))
    return check_plan(Plan(values=values, methods=(Method(id=method_id, name="M", weights=weights),)))


def test_resolutions_share_allocation_sets_and_a_full_pass_drops_unnamed_ones(store: Database) -> None:
    split = weighted_plan("m1", {"a": 0.75, "b": 0.25})
    store.items.upsert(
        [make_item("1", points=8.0, labels=("method:m1",)), make_item("2", points=2.0, labels=("method:m1",))]
    )
    pks = {s.item.id: s.pk for s in store.items.stream()}
    assert remap(store, split).items == 2
    document = store.resolutions.for_item(pks["1"])
    assert document == {"flags": [], "effort": {"points": 8.0, "hours": 0.0, "count": 1.0}}
    with store.engine.connect() as conn:
        keys = {row[0] for row in conn.exec_driver_sql("SELECT alloc_key FROM resolutions")}
    assert len(keys) == 1  # two items with the same split share one set
    (key,) = keys
    assert store.resolutions.allocation_set(key) == [("a", "m1", 0.75), ("b", "m1", 0.25)]
    plain = split.model_copy(update={"methods": (Method(id="m1", name="M1", values=("a",)),)})
    remap(store, check_plan(plain))  # a full pass drops the sets no resolution names any more
    assert store.resolutions.allocation_set(key) == []


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


def _rounded(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    return [{k: round(v, 9) if isinstance(v, float) else v for k, v in r.items()} for r in rows]


def test_re_resolving_one_tree_keeps_rollup_equal_to_full_rebuild(store: Database) -> None:
    plan = weighted_plan("m", {"a": 0.5, "b": 0.5})
    store.items.upsert(
        [
            make_item("1", points=8.0, state=State.DONE, completed_at=T0, labels=("method:m",)),
            make_item("2", points=3.0),
            make_item("3", points=5.0, labels=("value:a",)),
        ]
    )
    remap(store, plan)
    untagged = {r["alloc_key"] for r in store.resolutions.rollup_rows() if r["points"] == 3.0}
    store.items.upsert([make_item("2", points=3.0, labels=("method:m",))])
    remap_changed(store, {"jira": {"2"}}, plan, full_above=1.0)
    incremental = _rounded(store.resolutions.rollup_rows())
    store.resolutions.rebuild_rollup()
    rebuilt = _rounded(store.resolutions.rollup_rows())
    assert incremental == rebuilt
    assert untagged
    assert not untagged & {r["alloc_key"] for r in rebuilt}  # item 2 moved out of the untagged set
    assert sum(float(r["points"]) for r in rebuilt) == 16.0  # type: ignore[arg-type]
    assert sum(int(r["items"]) for r in rebuilt) == 3  # type: ignore[call-overload]


def test_the_sqlite_upsert_encodes_datetimes_as_it_always_stored_them() -> None:
    """Stored times are compared as text (an older copy never overwrites a newer one), so the fast
    encoder must write exactly what the upsert wrote before — the column's processor, then the
    sqlite3 module's datetime adapter (``isoformat(" ")``) — offsets and zero microseconds
    included; JSON may be formatted differently but must read back the same."""
    dialect = sqlite.dialect()
    column = t.items.c.updated_at.type
    generic = column.bind_processor(dialect)
    assert generic is not None
    east = timezone(timedelta(hours=5, minutes=30))
    for value in (
        datetime(2026, 11, 1, 9, 30, tzinfo=UTC),
        datetime(2026, 11, 1, 9, 30, 0, 123456, tzinfo=UTC),
        datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=east),
        datetime(2026, 1, 5, 8, 0, 0, 500, tzinfo=timezone(timedelta(hours=-8))),
        datetime(2026, 1, 5, 8, 0, tzinfo=timezone(timedelta(0), "Z")),  # UTC by another name
        datetime(2026, 1, 5, 8, 0, tzinfo=ZoneInfo("Europe/London")),  # a zone at offset zero
        datetime(2026, 7, 5, 8, 0, tzinfo=ZoneInfo("Europe/London")),  # the same zone in summer
        None,
    ):
        before = generic(value)
        assert sqlite_datetime(value) == (before.isoformat(" ") if before is not None else None)
    with pytest.raises(ValueError, match="naive"):
        sqlite_datetime(datetime(2026, 11, 1))
    with pytest.raises(ValueError, match="naive"):
        sqlite_datetime(datetime(2026, 11, 1, tzinfo=_NoOffset()))  # a tzinfo without an offset
    for value in (["a", "b é"], {"Team Bet": ["Yes"]}, []):
        assert json.loads(json_text(value) or "null") == value
    tuples = ((("a", "b é"), ["a", "b é"]), ((), []), ({"Team Bet": ("Yes",)}, {"Team Bet": ["Yes"]}))
    for held, read in tuples:  # as WorkItems hold them
        assert json.loads(json_text(held) or "null") == read


class _NoOffset(tzinfo):
    """A time zone that knows no offset: datetimes carrying it are naive."""

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return None


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
