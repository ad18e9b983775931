"""The store on SQLite and PostgreSQL: upserts, ordering, deletions, cursors, tokens, units of work."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.factories import T0, make_item
from v2mom.models import State
from v2mom.store.database import Database
from v2mom.store.resolutions import ResolutionRow


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


def test_replace_resolutions_writes_allocation_sets_with_weights(store: Database) -> None:
    store.items.upsert([make_item("1", points=8.0), make_item("2", points=2.0)])
    pks = {s.item.id: s.pk for s in store.items.stream()}
    split = [("a", "m1", 0.75), ("b", "m1", 0.25)]
    row = _row(pks["1"], 8.0, split)
    assert store.resolutions.replace([row, _row(pks["2"], 2.0, split)]) == 2
    assert store.resolutions.replace([row], only=[pks["1"]]) == 1
    document = store.resolutions.for_item(pks["1"])
    assert document is not None
    assert document["effort"] == {"points": 8.0, "hours": 0.0, "count": 1.0}
    assert document["flags"] == []
    assert store.resolutions.allocation_set(row.set_key()) == split
    with store.engine.connect() as conn:
        stored_sets = conn.exec_driver_sql("SELECT COUNT(DISTINCT alloc_key) FROM allocation_sets").scalar()
    assert stored_sets == 1  # two items with the same split share one set
    # A full replace drops the sets no resolution names any more.
    assert store.resolutions.replace([_row(pks["1"], 8.0, [("a", None, 1.0)])]) == 1
    assert store.resolutions.allocation_set(row.set_key()) == []


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


def test_partial_replace_keeps_rollup_equal_to_full_rebuild(store: Database) -> None:
    store.items.upsert(
        [
            make_item("1", points=8.0, state=State.DONE, completed_at=T0),
            make_item("2", points=3.0),
            make_item("3", points=5.0),
        ]
    )
    pks = {s.item.id: s.pk for s in store.items.stream()}
    store.resolutions.replace(
        [
            _row(pks["1"], 8.0, [("a", "m", 0.5), ("b", "m", 0.5)]),
            _row(pks["2"], 3.0, [(None, None, 1.0)]),
            _row(pks["3"], 5.0, [("a", None, 1.0)]),
        ]
    )
    store.resolutions.replace([_row(pks["2"], 3.0, [("b", "m", 1.0)])], only=[pks["2"]])
    incremental = _rounded(store.resolutions.rollup_rows())
    store.resolutions.rebuild_rollup()
    rebuilt = _rounded(store.resolutions.rollup_rows())
    assert incremental == rebuilt
    untagged_set = _row(pks["2"], 3.0, [(None, None, 1.0)]).set_key()
    assert untagged_set not in {r["alloc_key"] for r in rebuilt}  # item 2 moved out of the untagged set
    assert sum(float(r["points"]) for r in rebuilt) == 16.0  # type: ignore[arg-type]
    assert sum(int(r["items"]) for r in rebuilt) == 3  # type: ignore[call-overload]


def test_a_unit_of_work_commits_every_repository_together(store: Database) -> None:
    with store.unit_of_work() as uow:
        uow.items.upsert([make_item("1")])
        uow.sync_state.set_cursor("jira", "default", T0)
        assert uow.items.count() == 1  # the unit reads its own uncommitted writes
    assert store.items.count() == 1
    assert store.sync_state.get_cursor("jira", "default") == T0


def test_a_unit_of_work_that_raises_writes_nothing(store: Database) -> None:
    store.items.upsert([make_item("1")])

    def fail_halfway() -> None:
        with store.unit_of_work() as uow:
            uow.items.upsert([make_item("2")])
            uow.items.mark_deleted("jira", ["1"])
            uow.tokens.create("viewer", "pm")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        fail_halfway()
    assert store.items.live_ids("jira") == {"1"}
    assert store.tokens.list_all() == []


def test_a_scratch_unit_of_work_always_rolls_back(store: Database) -> None:
    with store.unit_of_work(commit=False) as uow:
        uow.items.upsert([make_item("1")])
        assert uow.items.live_ids("jira") == {"1"}
    assert store.items.count() == 0


def test_commit_pages_writes_items_deletions_and_cursor_atomically(store: Database) -> None:
    store.items.upsert([make_item("1"), make_item("2")])
    written, deleted = store.sync_state.commit_pages(
        "jira", [make_item("3")], ["1"], cursor=("default", T0 + timedelta(hours=1))
    )
    assert (written, deleted) == (1, 1)
    assert store.items.live_ids("jira") == {"2", "3"}
    assert store.sync_state.get_cursor("jira", "default") == T0 + timedelta(hours=1)
