"""The store on SQLite and PostgreSQL: idempotent upserts, ordering, deletions, cursors, tokens."""

from __future__ import annotations

from datetime import timedelta

from tests.factories import T0, make_item
from v2mom.models import State
from v2mom.store.store import ResolutionRow, Store


def test_upsert_is_idempotent_and_keyed_by_stable_id(store: Store) -> None:
    items = [make_item(str(i), minutes=i) for i in range(1, 6)]
    store.upsert_items(items)
    store.upsert_items(items)
    assert store.count_items() == 5
    moved = make_item("3", minutes=10, key="PLAT-99", container="PLAT")
    store.upsert_items([moved])
    assert store.count_items() == 5
    found = store.find_item("jira", "plat-99")
    assert found is not None
    assert found.item.id == "3"
    assert found.item.container == "PLAT"
    assert store.find_item("jira", "ONB-3") is None


def test_older_copy_never_overwrites_newer(store: Store) -> None:
    store.upsert_items([make_item("1", minutes=30, title="new", state=State.DONE)])
    store.upsert_items([make_item("1", minutes=5, title="stale")])
    stored = store.get_item_by_id("jira", "1")
    assert stored is not None
    assert stored.item.title == "new"
    assert stored.item.state is State.DONE


def test_same_id_twice_in_one_batch_keeps_newest(store: Store) -> None:
    store.upsert_items([make_item("1", minutes=9, title="newest"), make_item("1", minutes=1, title="older")])
    stored = store.get_item_by_id("jira", "1")
    assert stored is not None
    assert stored.item.title == "newest"


def test_round_trip_keeps_every_field(store: Store) -> None:
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
    store.upsert_items([item])
    stored = store.get_item_by_id("jira", "7")
    assert stored is not None
    assert stored.item == item


def test_deletion_and_resurrection(store: Store) -> None:
    store.upsert_items([make_item("1"), make_item("2")])
    assert store.mark_deleted("jira", ["2", "404"]) == 1
    assert store.live_ids("jira") == {"1"}
    assert store.count_items(include_deleted=True) == 2
    store.upsert_items([make_item("2", minutes=1)])
    assert store.live_ids("jira") == {"1", "2"}


def test_cursor_never_moves_backwards(store: Store) -> None:
    assert store.get_cursor("jira", "scope") is None
    store.set_cursor("jira", "scope", T0 + timedelta(hours=2))
    store.set_cursor("jira", "scope", T0)
    assert store.get_cursor("jira", "scope") == T0 + timedelta(hours=2)
    store.set_cursor("jira", "other", T0)
    assert store.get_cursor("jira", "other") == T0


def test_replace_resolutions_writes_allocation_sets_with_weights(store: Store) -> None:
    store.upsert_items([make_item("1", points=8.0), make_item("2", points=2.0)])
    pks = {s.item.id: s.pk for s in store.iter_items()}
    split = [("a", "m1", 0.75), ("b", "m1", 0.25)]
    row = _row(pks["1"], 8.0, split)
    assert store.replace_resolutions([row, _row(pks["2"], 2.0, split)]) == 2
    assert store.replace_resolutions([row], only=[pks["1"]]) == 1
    document = store.resolution_of(pks["1"])
    assert document is not None
    assert document["effort"] == {"points": 8.0, "hours": 0.0, "count": 1.0}
    assert document["flags"] == []
    assert store.allocation_set(row.set_key()) == split
    with store.engine.connect() as conn:
        stored_sets = conn.exec_driver_sql("SELECT COUNT(DISTINCT alloc_key) FROM allocation_sets").scalar()
    assert stored_sets == 1  # two items with the same split share one set
    # A full replace drops the sets no resolution names any more.
    assert store.replace_resolutions([_row(pks["1"], 8.0, [("a", None, 1.0)])]) == 1
    assert store.allocation_set(row.set_key()) == []


def test_tokens_are_hashed_revocable_and_record_use(store: Store) -> None:
    token = store.create_token("viewer", "pm")
    info = store.authenticate(token)
    assert info is not None
    assert info.role == "viewer"
    assert store.authenticate(token + "x") is None
    listed = store.list_tokens()
    assert listed[0].last_used_at is not None
    with store.engine.connect() as conn:
        stored_hashes = [r[0] for r in conn.exec_driver_sql("SELECT token_hash FROM api_tokens")]
    assert token not in stored_hashes
    assert store.revoke_token(info.id)
    assert store.authenticate(token) is None
    assert not store.revoke_token(info.id)


def _row(pk: int, points: float, allocations: list[tuple[str | None, str | None, float]]) -> ResolutionRow:
    return ResolutionRow(
        item_pk=pk,
        untagged=allocations[0][0] is None,
        orphaned=False,
        conflict=False,
        points=points,
        hours=0.0,
        count=1.0,
        allocations=allocations,
    )


def _rounded(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    return [{k: round(v, 9) if isinstance(v, float) else v for k, v in r.items()} for r in rows]


def test_partial_replace_keeps_rollup_equal_to_full_rebuild(store: Store) -> None:
    store.upsert_items(
        [
            make_item("1", points=8.0, state=State.DONE, completed_at=T0),
            make_item("2", points=3.0),
            make_item("3", points=5.0),
        ]
    )
    pks = {s.item.id: s.pk for s in store.iter_items()}
    store.replace_resolutions(
        [
            _row(pks["1"], 8.0, [("a", "m", 0.5), ("b", "m", 0.5)]),
            _row(pks["2"], 3.0, [(None, None, 1.0)]),
            _row(pks["3"], 5.0, [("a", None, 1.0)]),
        ]
    )
    store.replace_resolutions([_row(pks["2"], 3.0, [("b", "m", 1.0)])], only=[pks["2"]])
    incremental = _rounded(store.rollup_rows())
    store.rebuild_rollup()
    rebuilt = _rounded(store.rollup_rows())
    assert incremental == rebuilt
    untagged_set = _row(pks["2"], 3.0, [(None, None, 1.0)]).set_key()
    assert untagged_set not in {r["alloc_key"] for r in rebuilt}  # item 2 moved out of the untagged set
    assert sum(float(r["points"]) for r in rebuilt) == 16.0  # type: ignore[arg-type]
    assert sum(int(r["items"]) for r in rebuilt) == 3  # type: ignore[call-overload]
