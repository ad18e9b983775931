"""Resolutions and their rollup on SQLite and PostgreSQL: shared allocation sets, and a partial
re-resolution that leaves the rollup equal to a full rebuild."""

from __future__ import annotations

from tests.factories import T0, make_item
from v2mom.mapping.plan import Method, Plan, Value, check_plan
from v2mom.models import State
from v2mom.store.database import Database
from v2mom.store.resolution.run import remap, remap_changed


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
